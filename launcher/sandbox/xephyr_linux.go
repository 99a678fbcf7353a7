package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime"

	"golang.org/x/sys/unix"

	"airlock/launcher/seccomp"
)

// XephyrArg0 is argv[0] of the re-executed stage that confines the nested X
// server (main dispatches on it, like InitArg0).
const XephyrArg0 = "airlock-xephyr"

// Where the nested server finds its files inside its own root.
const (
	xephyrRun       = "/run/xephyr"
	xephyrAuthIn    = xephyrRun + "/auth"            // its own cookie (-auth)
	xephyrHostAuth  = xephyrRun + "/host-xauthority" // the host display's cookie, to reach it
	xephyrSocketDir = "/tmp/.X11-unix"
)

// xephyrEtc is what Xephyr and the xkbcomp it runs read from /etc.
var xephyrEtc = []string{"ld.so.cache", "ld.so.conf", "ld.so.conf.d", "alternatives", "fonts", "X11", "locale.alias", "localtime"}

// xephyrPlan is the nested X server's own sandbox: new user, mount, pid, ipc,
// uts, net and cgroup namespaces (Run's set, the network always new), a root
// with the host's programs and libraries read-only and nothing of $HOME,
// /tmp/.X11-unix holding only the host display's socket (hostDisplay) and
// socketDir (a host folder where the server's own socket, X<nested>, appears
// for the launcher to bind into the application's sandbox). It runs args
// with env and nothing else of the launcher's environment.
func xephyrPlan(acct Account, hostDisplay int, socketDir, auth, hostAuth string, args, env []string) Plan {
	h := hostPaths{}
	ops := []Op{{Kind: OpTmpfs, Dst: "/", Mode: 0o755}}
	ops = h.bind(ops, "/usr")
	for _, d := range []string{"/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"} {
		ops = h.linkOrBind(ops, d, true)
	}
	for _, e := range xephyrEtc {
		ops = h.linkOrBind(ops, "/etc/"+e, false)
	}
	ops = append(ops,
		Op{Kind: OpFile, Dst: "/etc/passwd", Mode: 0o644, Data: fmt.Sprintf("%s:x:%d:%d:%s:/nonexistent:/usr/sbin/nologin\n", acct.Name, acct.UID, acct.GID, acct.Name)},
		Op{Kind: OpFile, Dst: "/etc/group", Mode: 0o644, Data: fmt.Sprintf("%s:x:%d:\n", acct.Name, acct.GID)},
		Op{Kind: OpProc, Dst: "/proc"},
		Op{Kind: OpTmpfs, Dst: "/dev", Mode: 0o755, NoExec: true},
	)
	for _, n := range []string{"null", "zero", "full", "random", "urandom"} {
		ops = append(ops, Op{Kind: OpDevBind, Src: "/dev/" + n, Dst: "/dev/" + n})
	}
	sock := fmt.Sprintf("/tmp/.X11-unix/X%d", hostDisplay)
	ops = append(ops,
		// xkbcomp writes the compiled keymap to /tmp; the lock file of the
		// nested display goes there too.
		Op{Kind: OpTmpfs, Dst: "/tmp", Mode: 0o1777},
		Op{Kind: OpBind, Src: socketDir, Dst: xephyrSocketDir},
		// The host display by its path: the server connects there once its
		// abstract socket (@/tmp/.X11-unix/X<n>, in the host's network
		// namespace) turns out unreachable.
		Op{Kind: OpBind, Src: sock, Dst: sock},
		Op{Kind: OpROBind, Src: auth, Dst: xephyrAuthIn},
	)
	if hostAuth != "" {
		ops = append(ops, Op{Kind: OpROBind, Src: hostAuth, Dst: xephyrHostAuth})
	}
	ops = append(ops, Op{Kind: OpRemountRO, Dst: "/"})
	return Plan{Name: "xephyr", Profile: "xephyr", UID: acct.UID, GID: acct.GID, Hostname: "xephyr", Net: "none",
		Ops: ops, Args: args, Env: env, Cwd: "/"}
}

// XephyrMain is the stage that confines the nested X server, then becomes
// it. It never returns.
//
// IMPORTANT: this runs with every capability of the new user namespace until
// dropPrivileges, like init.
func XephyrMain() {
	runtime.LockOSThread()
	err := confinedStage(false)
	fmt.Fprintf(os.Stderr, "airlock: cannot confine the nested X server: %v\n", err)
	os.Exit(ExitSetup)
}

// confinedStage builds the root of a display helper's plan (the nested X
// server's, or its window manager's), drops every privilege, installs the
// sandbox's seccomp filter and executes the plan's command, or this very
// binary again when self is set (argv from the plan). Descriptor 3 (the
// server's -displayfd, the window manager's ready pipe) is kept open
// across exec when present.
//
// IMPORTANT: this runs with every capability of the new user namespace until
// dropPrivileges, like init.
func confinedStage(self bool) error {
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0); err != nil {
		return err
	}
	var plan Plan
	if err := json.Unmarshal([]byte(os.Getenv(envPlan)), &plan); err != nil {
		return fmt.Errorf("cannot read the plan: %w", err)
	}
	if len(plan.Args) == 0 {
		return errors.New("no command")
	}
	if err := buildRoot(plan.Ops); err != nil {
		return err
	}
	if err := unix.Sethostname([]byte(plan.Hostname)); err != nil {
		return err
	}
	if err := dropPrivileges(); err != nil {
		return err
	}
	// The one descriptor the program keeps besides 0, 1, 2
	// (dropPrivileges marked every other close-on-exec).
	if _, err := unix.FcntlInt(uintptr(helperFD), unix.F_SETFD, 0); err != nil && err != unix.EBADF {
		return fmt.Errorf("cannot pass descriptor %d: %w", helperFD, err)
	}
	prog, err := seccomp.Compile(seccomp.DefaultRules())
	if err != nil {
		return err
	}
	if err := seccomp.Install(prog); err != nil {
		return err
	}
	if err := os.Chdir(plan.Cwd); err != nil {
		return err
	}
	if self {
		// /proc/self/exe is a magic link: it reaches this binary even
		// though the new root does not hold it (the plan mounts /proc).
		return unix.Exec("/proc/self/exe", plan.Args, plan.Env)
	}
	return unix.Exec(plan.Args[0], plan.Args, plan.Env)
}

// helperFD is descriptor 3 of a display helper: Xephyr's -displayfd, the
// window manager's ready pipe.
const helperFD = 3

const xephyrDisplayFD = helperFD

// nestedDisplay is the nested server's display number inside its own
// namespaces: any number but the host display's, which shares its socket
// folder there.
func nestedDisplay(host int) int {
	if host == 0 {
		return 1
	}
	return 0
}
