package sandbox

// IMPORTANT: the mounter thread started here keeps init's capabilities in
// the sandbox's user namespace for the sandbox's whole life and carries no
// seccomp filter; with the host-view process (hostview_linux.go) it is the
// trusted companion (gVisor's gofer plays the same role) that makes a host
// file appear in a running sandbox at native speed. It acts only on requests
// from the launcher, over the control socket that nothing in the sandbox
// holds; init is non-dumpable, so no process in the sandbox can reach its
// memory, and the application is forked from the main thread, which dropped
// everything.

import (
	"fmt"
	"io"
	"os"
	"runtime"

	"golang.org/x/sys/unix"
)

type mountReq struct {
	fd     int // -1 to unbind
	inside string
	reply  chan error
}

// binder owns the host-view process and the mounter thread.
type binder struct {
	hv     *hostViewClient
	mounts chan mountReq
}

// startHostView starts, before the sandbox's root is built, the host-view
// process: a mount namespace of its own, created at clone time as a copy of
// init's (still the host's view) and owned by the sandbox's user namespace,
// where open_tree(2) can clone a host file into a detached mount.
func startHostView() (*binder, error) {
	hv, err := startHostViewProcess()
	if err != nil {
		return nil, err
	}
	return &binder{hv: hv, mounts: make(chan mountReq)}, nil
}

// cloneFile clones one regular host file as a detached, read-only, nosuid,
// nodev mount. The last component is not followed: the broker resolved the
// path when the user picked it.
func cloneFile(path string) (int, error) {
	// No symlink anywhere on the way: the broker resolved the path when
	// the user picked it, and a link there now was planted since (by a
	// sandbox that can write one of those folders).
	how := unix.OpenHow{Flags: unix.O_PATH | unix.O_CLOEXEC, Resolve: unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS}
	pfd, err := unix.Openat2(unix.AT_FDCWD, path, &how)
	if err != nil {
		return -1, fmt.Errorf("cannot open %s: %w", path, err)
	}
	defer unix.Close(pfd)
	fd, err := unix.OpenTree(pfd, "", unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC|unix.AT_EMPTY_PATH)
	if err != nil {
		return -1, fmt.Errorf("cannot clone %s: %w", path, err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
		unix.Close(fd)
		return -1, fmt.Errorf("%s is not a regular file", path)
	}
	attr := unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV | unix.MOUNT_ATTR_NOEXEC}
	if err := unix.MountSetattr(fd, "", unix.AT_EMPTY_PATH, &attr); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("cannot make %s read-only: %w", path, err)
	}
	return fd, nil
}

// startMounter starts, after the sandbox's root is built and before the
// main thread drops its capabilities, the thread that attaches cloned files
// in the sandbox's own mount namespace.
func (b *binder) startMounter() {
	go func() {
		runtime.LockOSThread()
		for r := range b.mounts {
			r.reply <- mountOnto(r.fd, r.inside)
		}
	}()
}

// mountOnto attaches a detached mount over inside, or (fd < 0) removes what
// is mounted there. The target is resolved without following any symlink:
// nothing in the sandbox can redirect the mount elsewhere.
func mountOnto(fd int, inside string) error {
	how := unix.OpenHow{Flags: unix.O_PATH | unix.O_CLOEXEC | unix.O_NOFOLLOW, Resolve: unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS}
	if fd < 0 {
		return unix.Unmount(inside, unix.MNT_DETACH|unix.UMOUNT_NOFOLLOW)
	}
	defer unix.Close(fd)
	t, err := unix.Openat2(unix.AT_FDCWD, inside, &how)
	if err != nil {
		return fmt.Errorf("cannot open %s: %w", inside, err)
	}
	defer unix.Close(t)
	if err := unix.MoveMount(fd, "", t, "", unix.MOVE_MOUNT_F_EMPTY_PATH|unix.MOVE_MOUNT_T_EMPTY_PATH); err != nil {
		return fmt.Errorf("cannot attach %s: %w", inside, err)
	}
	return nil
}

// handle serves one request of the launcher.
func (b *binder) handle(m message) error {
	reply := make(chan error, 1)
	switch m.Type {
	case msgBind:
		fd, err := b.hv.clone(m.Host)
		if err != nil {
			return err
		}
		b.mounts <- mountReq{fd: fd, inside: m.Inside, reply: reply}
	case msgUnbind:
		b.mounts <- mountReq{fd: -1, inside: m.Inside, reply: reply}
	}
	return <-reply
}

// serveControl answers the launcher's requests until it goes away or breaks
// the protocol; either ends the exchange (the application keeps running,
// with the grants it has).
func (b *binder) serveControl(control int) {
	// Shut down, not closed: the descriptor belongs to an os.File.
	defer unix.Shutdown(control, unix.SHUT_RDWR)
	for {
		m, err := recv(control, msgBind, msgUnbind)
		if err != nil {
			if err != io.EOF {
				fmt.Fprintf(os.Stderr, "airlock: init: %v\n", err)
			}
			return
		}
		if err := answer(control, b.handle(m)); err != nil {
			return
		}
	}
}
