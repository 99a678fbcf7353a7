package sandbox

// IMPORTANT: the host-view process keeps CAP_SYS_ADMIN of the sandbox's user
// namespace and carries no seccomp filter, in a mount namespace that still
// shows the host's tree. It does one thing: on init's request, clone one host
// file into a detached read-only mount with open_tree(2) and hand the mount
// back. Its namespace is created at clone time by a re-exec of this binary,
// like the sandbox's own (STYLE.md); it is non-dumpable, so nothing in the
// sandbox can reach its root, memory or descriptors through /proc, and it
// talks only to init, over a socket pair nothing else holds.

import (
	"fmt"
	"io"
	"os"
	"syscall"

	"golang.org/x/sys/unix"

	"airlock/launcher/seccomp"
)

// HostViewArg0 is argv[0] of the host-view process; main dispatches on it.
const HostViewArg0 = "airlock-hostview"

// fdHostView is the host-view process's end of its socket pair with init.
const fdHostView = 3

// HostViewMain is the host-view process. It never returns.
func HostViewMain() {
	if err := hostView(); err != nil {
		fmt.Fprintf(os.Stderr, "airlock: host view: %v\n", err)
		os.Exit(ExitSetup)
	}
	os.Exit(0)
}

func hostView() error {
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0); err != nil {
		return err
	}
	// Host mounts made later (a USB stick) still show up here; nothing
	// done here reaches the host.
	if err := unix.Mount("", "/", "", unix.MS_SLAVE|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("cannot make the host view a slave: %w", err)
	}
	// Only CAP_SYS_ADMIN is needed (open_tree's OPEN_TREE_CLONE and
	// mount_setattr): every other capability goes from every set, the
	// ambient ones it inherited from init included.
	if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0); err != nil {
		return fmt.Errorf("cannot clear ambient capabilities: %w", err)
	}
	for c := 0; c <= lastCap(); c++ {
		if c != unix.CAP_SYS_ADMIN {
			unix.Prctl(unix.PR_CAPBSET_DROP, uintptr(c), 0, 0, 0)
		}
	}
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	data[0].Effective = 1 << unix.CAP_SYS_ADMIN
	data[0].Permitted = 1 << unix.CAP_SYS_ADMIN
	if err := unix.Capset(&hdr, &data[0]); err != nil {
		return fmt.Errorf("cannot narrow capabilities: %w", err)
	}
	// The sandbox's filter, but for the two calls this process exists to
	// make, on every thread: nothing else of the kernel's attack surface
	// (ptrace, bpf, user namespaces, keyrings...) is open to it either.
	var rules []seccomp.Rule
	for _, r := range seccomp.DefaultRules() {
		if r.Nr != unix.SYS_OPEN_TREE && r.Nr != unix.SYS_MOUNT_SETATTR {
			rules = append(rules, r)
		}
	}
	prog, err := seccomp.Compile(rules)
	if err != nil {
		return err
	}
	if err := seccomp.Install(prog); err != nil {
		return err
	}
	for {
		m, err := recv(fdHostView, msgClone)
		if err == io.EOF {
			return nil // init is gone
		}
		if err != nil {
			return err
		}
		fd, err := cloneFile(m.Host)
		if err != nil {
			if err := answer(fdHostView, err); err != nil {
				return err
			}
			continue
		}
		err = send(fdHostView, message{Type: msgMount, FDs: []int{fd}})
		unix.Close(fd)
		if err != nil {
			return err
		}
	}
}

// hostViewClient is init's side of the host-view process.
type hostViewClient struct {
	fd int
}

// startHostViewProcess starts the host-view process as init's child, in a
// new mount namespace copied from init's own before init builds the
// sandbox's root: a copy of the host's view, owned by the sandbox's user
// namespace.
func startHostViewProcess() (*hostViewClient, error) {
	// The helper inherits init's ambient capabilities across exec: keep
	// only CAP_SYS_ADMIN there. Init keeps using the others through its
	// effective set (ambient only matters at exec).
	for _, c := range []uintptr{unix.CAP_NET_ADMIN, unix.CAP_SETPCAP} {
		if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_LOWER, c, 0, 0); err != nil {
			return nil, fmt.Errorf("cannot lower ambient capabilities: %w", err)
		}
	}
	pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer unix.Close(pair[1])
	null, err := os.Open(os.DevNull)
	if err != nil {
		unix.Close(pair[0])
		return nil, err
	}
	defer null.Close()
	_, err = syscall.ForkExec("/proc/self/exe", []string{HostViewArg0}, &syscall.ProcAttr{
		Env:   []string{},
		Files: []uintptr{null.Fd(), null.Fd(), 2, uintptr(pair[1])},
		Sys: &syscall.SysProcAttr{
			Cloneflags: unix.CLONE_NEWNS,
			// Init is not root inside: exec would clear its
			// capabilities but for the ambient one it needs.
			AmbientCaps: []uintptr{unix.CAP_SYS_ADMIN},
			Pdeathsig:   syscall.SIGKILL,
		},
	})
	if err != nil {
		unix.Close(pair[0])
		return nil, fmt.Errorf("cannot start the host view: %w", err)
	}
	return &hostViewClient{fd: pair[0]}, nil
}

// clone asks the host-view process for a detached read-only mount of path.
func (h *hostViewClient) clone(path string) (int, error) {
	m, err := call(h.fd, message{Type: msgClone, payload: payload{Host: path}}, msgMount)
	if err != nil {
		return -1, fmt.Errorf("the host view cannot clone %s: %w", path, err)
	}
	return m.FDs[0], nil
}
