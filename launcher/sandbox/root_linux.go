package sandbox

// IMPORTANT: this code runs in the init stage before seccomp, with the new
// user namespace's capabilities. Host paths are reached only as
// /oldroot/<path>, and /oldroot is detached before the application starts.

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

const (
	stage   = "/tmp" // any existing folder: the tmpfs on it is private to this mount namespace
	oldroot = "/oldroot"
	newroot = "/newroot"
)

// buildRoot builds the sandbox's file system from the plan's ops and pivots
// into it.
func buildRoot(ops []Op) error {
	// Nothing mounted here may propagate back to the host.
	if err := unix.Mount("", "/", "", unix.MS_SLAVE|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("cannot make / a slave mount: %w", err)
	}
	if err := mountTmpfs(stage, 0o755, 0); err != nil {
		return err
	}
	for _, d := range []string{stage + oldroot, stage + newroot} {
		if err := os.Mkdir(d, 0o755); err != nil {
			return err
		}
	}
	if err := unix.PivotRoot(stage, stage+oldroot); err != nil {
		return fmt.Errorf("cannot pivot into the staging root: %w", err)
	}
	if err := os.Chdir("/"); err != nil {
		return err
	}
	var err error
	if hostMounts, err = readMounts(oldroot + "/proc/self/mountinfo"); err != nil {
		return fmt.Errorf("cannot read the host's mounts: %w", err)
	}
	if err := setup(ops); err != nil {
		return err
	}
	// The host's root goes away for good: from here on nothing in this
	// mount namespace can name a host path that was not bound in.
	if err := unix.Unmount(oldroot, unix.MNT_DETACH); err != nil {
		return fmt.Errorf("cannot detach the host root: %w", err)
	}
	if err := os.Chdir(newroot); err != nil {
		return err
	}
	if err := unix.PivotRoot(".", "."); err != nil {
		return fmt.Errorf("cannot pivot into the sandbox root: %w", err)
	}
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		return fmt.Errorf("cannot detach the staging root: %w", err)
	}
	return os.Chdir("/")
}

// setup runs the ops in order, on the new root (bubblewrap's setup_newroot).
// The first op must mount the new root itself (tmpfs /).
func setup(ops []Op) error {
	if len(ops) == 0 || ops[0].Kind != OpTmpfs || ops[0].Dst != "/" {
		return errors.New("the plan does not start with tmpfs /")
	}
	// Where a symbolic link can be: at or below what a bind brought from
	// the host (a persistent folder the sandbox wrote in a past run), a
	// symlink op, or proc (/proc/self). Everything else is a folder init
	// created.
	var linky []string
	for i, op := range ops {
		if err := checkDst(op.Dst); err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		if slices.ContainsFunc(linky, func(d string) bool { return op.Dst == d || strings.HasPrefix(op.Dst, d+"/") }) {
			// A symlink planted there could point back into the host's
			// tree (still at /oldroot here): the existing part of the path
			// is walked without following any.
			if err := noSymlinks(in(op.Dst)); err != nil {
				return fmt.Errorf("%s %s: %w", op.Kind, op.Dst, err)
			}
		}
		if err := op.apply(i); err != nil {
			return fmt.Errorf("%s %s: %w", op.Kind, op.Dst, err)
		}
		if op.IsBind() || op.Kind == OpSymlink || op.Kind == OpProc {
			linky = append(linky, op.Dst)
		}
	}
	return nil
}

// checkDst refuses a destination that is not an absolute, clean path: a ".."
// could climb out of the new root into /oldroot.
func checkDst(p string) error {
	if !filepath.IsAbs(p) || filepath.Clean(p) != p || strings.Contains(p, "..") {
		return fmt.Errorf("bad sandbox path %q", p)
	}
	return nil
}

func host(p string) string { return oldroot + p }

func in(p string) string {
	if p == "/" {
		return newroot
	}
	return newroot + p
}

func (o Op) apply(i int) error {
	dst := in(o.Dst)
	switch o.Kind {
	case OpTmpfs:
		var extra uintptr
		if o.NoExec {
			extra = unix.MS_NOEXEC
		}
		return mountTmpfs(dst, o.Mode, extra)
	case OpROBind, OpBind, OpDevBind:
		return bindHost(o, dst)
	case OpSymlink:
		return withParents(dst, func() error { return unix.Symlink(o.Src, dst) })
	case OpFile:
		return withParents(dst, func() error { return writeNew(dst, o.Data, os.FileMode(o.Mode)) })
	case OpROBindData:
		// The file lives on the staging tmpfs, which the mount keeps alive.
		data := "/data-" + strconv.Itoa(i)
		if err := writeNew(data, o.Data, 0o444); err != nil {
			return err
		}
		if err := ensureTargetKind(false, dst); err != nil {
			return err
		}
		return bindMount(data, dst, false, false)
	case OpProc:
		if err := os.MkdirAll(dst, 0o555); err != nil {
			return err
		}
		return unix.Mount("proc", dst, "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "hidepid=invisible")
	case OpDevpts:
		if err := os.MkdirAll(dst, 0o755); err != nil {
			return err
		}
		return unix.Mount("devpts", dst, "devpts", unix.MS_NOSUID|unix.MS_NOEXEC, "newinstance,ptmxmode=0666,mode=620")
	case OpRemountRO:
		var st unix.Statx_t
		if err := unix.Statx(unix.AT_FDCWD, dst, unix.AT_SYMLINK_NOFOLLOW, 0, &st); err != nil {
			if o.Try && err == unix.ENOENT {
				return nil
			}
			return err
		}
		if st.Attributes_mask&unix.STATX_ATTR_MOUNT_ROOT != 0 && st.Attributes&unix.STATX_ATTR_MOUNT_ROOT != 0 {
			return remount(dst, false, false)
		}
		return bindMount(dst, dst, false, false)
	}
	return fmt.Errorf("unknown op %q", o.Kind)
}

// writeNew creates path, which must not exist, with data.
func writeNew(path, data string, mode os.FileMode) error {
	fd, err := unix.Open(path, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, uint32(mode.Perm()))
	if err != nil {
		return err
	}
	n, err := unix.Write(fd, []byte(data))
	if err == nil && n != len(data) {
		err = io.ErrShortWrite
	}
	if cerr := unix.Close(fd); err == nil {
		err = cerr
	}
	return err
}

// bindHost binds a host path.
//
// The launcher resolved every source's symlinks. Some sources sit in folders
// a sandbox can write (a persistent folder of the same profile, an exposed
// one): a symlink planted there since would redirect the bind, so each source
// is opened without following any symlink, and bound from that descriptor.
func bindHost(o Op, dst string) error {
	src := host(o.Src)
	how := unix.OpenHow{Flags: unix.O_PATH | unix.O_CLOEXEC, Resolve: unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS}
	fd, err := unix.Openat2(unix.AT_FDCWD, src, &how)
	if err != nil {
		if o.Try && (err == unix.ENOENT || o.Exact && err == unix.ELOOP) {
			return nil
		}
		return fmt.Errorf("cannot share %s: %w", o.Src, err)
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return fmt.Errorf("cannot share %s: %w", o.Src, err)
	}
	if err := ensureTargetKind(st.Mode&unix.S_IFMT == unix.S_IFDIR, dst); err != nil {
		return fmt.Errorf("cannot create %s: %w", o.Dst, err)
	}
	// The host's /proc (still at /oldroot/proc) names this process's
	// descriptors: mounting its magic link binds exactly what was opened.
	return bindMountFrom(fmt.Sprintf("%s/proc/self/fd/%d", oldroot, fd), src, dst, o.Kind != OpROBind, o.Kind == OpDevBind)
}

// noSymlinks fails when the longest existing prefix of path (below the new
// root) goes through a symbolic link, the last component included.
func noSymlinks(path string) error {
	how := unix.OpenHow{Flags: unix.O_PATH | unix.O_CLOEXEC | unix.O_NOFOLLOW, Resolve: unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS}
	for p := path; p != newroot && p != "/" && p != "."; p = filepath.Dir(p) {
		fd, err := unix.Openat2(unix.AT_FDCWD, p, &how)
		if err == nil {
			// O_PATH|O_NOFOLLOW opens a trailing symlink itself rather
			// than failing (openat2(2)): look at what was opened.
			var st unix.Stat_t
			err = unix.Fstat(fd, &st)
			unix.Close(fd)
			if err == nil && st.Mode&unix.S_IFMT == unix.S_IFLNK {
				err = unix.ELOOP
			}
			return err
		}
		if err != unix.ENOENT {
			return err
		}
	}
	return nil
}
