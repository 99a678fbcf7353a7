package sandbox

// IMPORTANT: all the code in this file runs as the sandbox's init (pid 1),
// with every capability of the new user namespace and before seccomp is
// installed. It reads only the Plan that the launcher wrote, and touches host
// paths only through /oldroot while building the new root.

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"airlock/launcher/seccomp"
)

// Exit statuses of init's own failures (the application's statuses pass through).
const (
	ExitSetup      = 125 // the sandbox could not be built
	ExitNoExec     = 126 // the command exists but cannot be run
	ExitNotFound   = 127 // the command does not exist in the sandbox
	exitSignalBase = 128
)

// InitMain is the init stage. It never returns.
func InitMain() {
	// Namespaces, credentials and the seccomp filter are per thread: keep
	// this goroutine on the main thread, from which the application is forked.
	runtime.LockOSThread()
	code, err := initStage()
	if err != nil {
		fmt.Fprintf(os.Stderr, "airlock: %v\n", err)
	}
	os.Exit(code)
}

func initStage() (int, error) {
	// Non-dumpable: no process in the sandbox may ptrace init or read its
	// memory through /proc (init holds the namespace's capabilities until
	// it drops them, and the control socket after).
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0); err != nil {
		return ExitSetup, fmt.Errorf("cannot make init non-dumpable: %w", err)
	}
	var plan Plan
	if err := json.Unmarshal([]byte(os.Getenv(envPlan)), &plan); err != nil {
		return ExitSetup, fmt.Errorf("cannot read the sandbox's plan: %w", err)
	}
	os.Unsetenv(envPlan)
	if plan.DryRun {
		return ExitSetup, errors.New("a dry run's plan cannot run")
	}
	// A raw descriptor, not an os.File: no finalizer may close it while
	// the grant thread serves it.
	ctl := fdControl

	// The host view is taken before the host's tree leaves this mount
	// namespace.
	var binds *binder
	if plan.NativeGrants {
		var err error
		if binds, err = startHostView(); err != nil {
			return ExitSetup, err
		}
	}
	// The reaper is opened while the host's tree is still this mount
	// namespace's root, and exec'd by descriptor once the sandbox is built:
	// nothing of it is bound into the sandbox.
	reaper := -1
	if plan.Reaper != "" && !plan.NativeGrants {
		how := unix.OpenHow{Flags: unix.O_PATH | unix.O_CLOEXEC, Resolve: unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS}
		fd, err := unix.Openat2(unix.AT_FDCWD, plan.Reaper, &how)
		if err != nil {
			return ExitSetup, fmt.Errorf("cannot open %s: %w", plan.Reaper, err)
		}
		reaper = fd
	}
	if err := buildRoot(plan.Ops); err != nil {
		return ExitSetup, fmt.Errorf("cannot set up sandbox %s: %w", plan.Name, err)
	}
	if err := unix.Sethostname([]byte(plan.Hostname)); err != nil {
		return ExitSetup, fmt.Errorf("cannot set host name: %w", err)
	}
	if err := unix.Setdomainname([]byte("(none)")); err != nil {
		return ExitSetup, fmt.Errorf("cannot set domain name: %w", err)
	}
	if !plan.ShareNet {
		if err := loopbackUp(); err != nil {
			return ExitSetup, fmt.Errorf("cannot bring up loopback: %w", err)
		}
	}
	if plan.TorListener {
		fd, err := listenTCP4([4]byte{127, 0, 0, 1}, 9050)
		if err != nil {
			return ExitSetup, fmt.Errorf("cannot listen on 127.0.0.1:9050 for Tor: %w", err)
		}
		err = send(ctl, message{Type: msgTorSocket, FDs: []int{fd}})
		unix.Close(fd)
		if err != nil {
			return ExitSetup, err
		}
	}
	if plan.BusSocket {
		fd, err := listenUnix(filepath.Join("/run/user", strconv.Itoa(plan.UID), "bus"))
		if err != nil {
			return ExitSetup, fmt.Errorf("cannot create the sandbox's bus socket: %w", err)
		}
		err = send(ctl, message{Type: msgBusSocket, FDs: []int{fd}})
		unix.Close(fd)
		if err != nil {
			return ExitSetup, err
		}
	}
	if binds != nil {
		binds.startMounter()
	}
	if err := dropPrivileges(); err != nil {
		return ExitSetup, err
	}
	prog, err := seccomp.Compile(seccomp.DefaultRules())
	if err != nil {
		return ExitSetup, err
	}
	// This thread only: the grant threads keep mount(2) and friends. The
	// application is forked from this thread and inherits the filter.
	if err := seccomp.InstallThread(prog); err != nil {
		return ExitSetup, err
	}
	if plan.Handshake {
		if err := send(ctl, message{Type: msgReady}); err != nil {
			return ExitSetup, err
		}
		// Wait for the launcher's go-ahead: it registers the sandbox first.
		m, err := recv(ctl, msgGo, msgAbort)
		switch {
		case err == io.EOF:
			return ExitSetup, errors.New("launcher went away before the sandbox started")
		case err != nil:
			return ExitSetup, fmt.Errorf("cannot start: %w", err)
		case m.Type == msgAbort:
			return ExitSetup, errors.New("the launcher gave up starting the sandbox")
		}
	}
	if reaper >= 0 {
		return execReaper(&plan, reaper)
	}
	return runApp(&plan, ctl, binds)
}

// execReaper replaces init with airlock-reaper (launcher/reaper/reaper.c),
// which starts the application and stays pid 1 until it exits: a Go init
// would hold 7-8 MB for the sandbox's whole life. Only this thread runs on
// through execve, with what it has: no capabilities, locked securebits,
// no_new_privs, the seccomp filter and Landlock's scope (both kept across
// execve), RLIMIT_NOFILE, and descriptors 0, 1 and 2 (dropPrivileges
// marked every other one close-on-exec, the control socket included).
// The application does not exist yet, so nothing inside can reach the
// reaper before it makes itself non-dumpable (execve resets the flag).
func execReaper(plan *Plan, reaper int) (int, error) {
	path, code, err := lookApp(plan)
	if err != nil {
		return code, err
	}
	if err := limitOpenFiles(plan.MaxOpenFiles); err != nil {
		return ExitSetup, err
	}
	err = execveatFD(reaper, append([]string{ReaperName, path, plan.Cwd}, plan.Args...), plan.Env)
	return ExitSetup, fmt.Errorf("cannot start %s: %w", ReaperName, err)
}

// lookApp finds the application's program on the PATH of its environment.
func lookApp(plan *Plan) (string, int, error) {
	for _, e := range plan.Env {
		if v, ok := strings.CutPrefix(e, "PATH="); ok {
			os.Setenv("PATH", v)
		}
	}
	path, err := exec.LookPath(plan.Args[0])
	if err != nil {
		if errors.Is(err, exec.ErrNotFound) || errors.Is(err, os.ErrNotExist) {
			return "", ExitNotFound, fmt.Errorf("%s: command not found in the sandbox", plan.Args[0])
		}
		return "", ExitNoExec, fmt.Errorf("%s: %w", plan.Args[0], err)
	}
	return path, 0, nil
}

// runApp starts the application as init's child in a new session and reaps
// every process until the application exits, forwarding signals to it.
func runApp(plan *Plan, control int, binds *binder) (int, error) {
	env := plan.Env
	path, code, err := lookApp(plan)
	if err != nil {
		return code, err
	}
	if err := limitOpenFiles(plan.MaxOpenFiles); err != nil {
		return ExitSetup, err
	}
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, unix.SIGINT, unix.SIGTERM, unix.SIGHUP, unix.SIGQUIT, unix.SIGUSR1, unix.SIGUSR2)
	// syscall.ForkExec rather than os/exec: os.StartProcess first forks a
	// throw-away child to probe for pidfd support, which every launch
	// would pay for.
	pid, err := syscall.ForkExec(path, plan.Args, &syscall.ProcAttr{
		Dir:   plan.Cwd,
		Env:   env,
		Files: []uintptr{0, 1, 2},
		// A new session: the application has no controlling terminal to
		// push input into (CVE-2017-5226, bwrap --new-session).
		Sys: &syscall.SysProcAttr{Setsid: true},
	})
	if err != nil {
		return ExitNoExec, fmt.Errorf("cannot run %s: %w", plan.Args[0], err)
	}
	if binds != nil {
		go binds.serveControl(control)
	}
	go func() {
		for s := range sigs {
			unix.Kill(pid, s.(syscall.Signal))
		}
	}()
	for {
		var ws unix.WaitStatus
		wpid, err := unix.Wait4(-1, &ws, 0, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return ExitSetup, fmt.Errorf("wait: %w", err)
		}
		if wpid != pid {
			continue // an orphan, reaped
		}
		// The application is gone: init exits and the kernel kills every
		// process left in the pid namespace.
		switch {
		case ws.Exited():
			return ws.ExitStatus(), nil
		case ws.Signaled():
			return exitSignalBase + int(ws.Signal()), nil
		}
	}
}

// limitOpenFiles sets RLIMIT_NOFILE, soft and hard, for init and so for the
// application it starts. The hard limit too: raising it needs
// CAP_SYS_RESOURCE in the initial user namespace, which nothing inside has.
//
// Why: the kernel counts the descriptors a user has in flight over unix
// sockets (sent, not yet received) in user->unix_inflight, shared by every
// process of that uid, sandboxed or not, and refuses SCM_RIGHTS with
// ETOOMANYREFS once that count exceeds the SENDER's RLIMIT_NOFILE
// (too_many_unix_fds, called from unix_attach_fds: net/unix/scm.c, moved
// to net/unix/af_unix.c in later kernels). A
// sandbox left with the user's limit could queue thousands of descriptors in
// its own socketpair and make descriptor passing fail for the user's other
// programs (a GLib application lost its bus, issue 8 item 7). With the
// limit, a sender inside stops once the count passes max_open_files, so the
// count stays below max_open_files plus one message's 253 (SCM_MAX_FD).
func limitOpenFiles(n uint64) error {
	if n == 0 {
		return nil
	}
	// syscall.Setrlimit, not unix.Setrlimit: it also tells the runtime not
	// to restore the limit it found at start-up in the children it forks.
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &syscall.Rlimit{Cur: n, Max: n}); err != nil {
		return fmt.Errorf("cannot limit open files to %d: %w", n, err)
	}
	return nil
}

// dropPrivileges leaves the calling thread, from which the application is
// forked, with no capability in any set and no way to regain one.
func dropPrivileges() error {
	// Every descriptor but 0, 1 and 2 is closed at exec: the application
	// inherits nothing it was not meant to (the control socket included).
	if err := unix.CloseRange(3, ^uint(0), unix.CLOSE_RANGE_CLOEXEC); err != nil {
		return fmt.Errorf("cannot mark descriptors close-on-exec: %w", err)
	}
	if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0); err != nil {
		return fmt.Errorf("cannot clear ambient capabilities: %w", err)
	}
	last := lastCap()
	for c := 0; c <= last; c++ {
		if err := unix.Prctl(unix.PR_CAPBSET_DROP, uintptr(c), 0, 0, 0); err != nil && err != unix.EINVAL {
			return fmt.Errorf("cannot drop capability %d from the bounding set: %w", c, err)
		}
	}
	// Locked securebits: even uid 0 inside could not regain capabilities
	// at exec (nobody is root inside, this is a second wall).
	const (
		secbitNoroot             = 1 << 0
		secbitNorootLocked       = 1 << 1
		secbitNoSetuidFixup      = 1 << 2
		secbitNoSetuidFixupLock  = 1 << 3
		secbitKeepCapsLocked     = 1 << 5
		secbitNoCapAmbientRaise  = 1 << 6
		secbitNoCapAmbientLocked = 1 << 7
		secure                   = secbitNoroot | secbitNorootLocked | secbitNoSetuidFixup | secbitNoSetuidFixupLock | secbitKeepCapsLocked | secbitNoCapAmbientRaise | secbitNoCapAmbientLocked
	)
	if err := unix.Prctl(unix.PR_SET_SECUREBITS, secure, 0, 0, 0); err != nil {
		return fmt.Errorf("cannot lock securebits: %w", err)
	}
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capset(&hdr, &data[0]); err != nil {
		return fmt.Errorf("cannot drop capabilities: %w", err)
	}
	if err := scopeAbstractSockets(); err != nil {
		return err
	}
	return nil
}

func lastCap() int {
	b, err := os.ReadFile("/proc/sys/kernel/cap_last_cap")
	if err == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
			return n
		}
	}
	return 63
}

func loopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return err
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	return unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr)
}

func listenTCP4(addr [4]byte, port int) (int, error) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
	if err := unix.Bind(fd, &unix.SockaddrInet4{Port: port, Addr: addr}); err != nil {
		unix.Close(fd)
		return -1, err
	}
	if err := unix.Listen(fd, 128); err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

func listenUnix(path string) (int, error) {
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	if err := unix.Bind(fd, &unix.SockaddrUnix{Name: path}); err != nil {
		unix.Close(fd)
		return -1, err
	}
	if err := unix.Listen(fd, 128); err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}
