package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"golang.org/x/sys/unix"
)

// probePassthrough answers, for the user running it, whether an unprivileged
// FUSE server can use FUSE passthrough (kernel 6.9+): it mounts an empty
// go-fuse file system the way the document store mounts (fusermount3), reads
// whether the kernel offered FUSE_PASSTHROUGH in INIT, and asks it to
// register a backing file (FUSE_DEV_IOC_BACKING_OPEN), which is what every
// passthrough open needs. The kernel checks CAP_SYS_ADMIN in the initial
// user namespace there (fs/fuse/backing.c, fuse_backing_open), so an
// ordinary user's server gets EPERM.
func probePassthrough(dir string) error {
	mnt := filepath.Join(dir, "probe-mnt")
	if err := os.MkdirAll(mnt, 0o700); err != nil {
		return err
	}
	root := &fs.Inode{}
	server, err := fs.Mount(mnt, root, &fs.Options{MountOptions: fuse.MountOptions{FsName: "airlock-probe", Name: "airlock-probe"}})
	if err != nil {
		return fmt.Errorf("cannot mount the probe: %w", err)
	}
	defer server.Unmount()
	offered := server.KernelSettings().Flags64()&fuse.CAP_PASSTHROUGH != 0
	backing := filepath.Join(dir, "probe-backing")
	if err := os.WriteFile(backing, []byte("x"), 0o600); err != nil {
		return err
	}
	fd, err := unix.Open(backing, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	id, errno := server.RegisterBackingFd(&fuse.BackingMap{Fd: int32(fd)})
	if errno == 0 {
		server.UnregisterBackingFd(id)
	}
	var caps unix.CapUserData
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_1}
	_ = unix.Capget(&hdr, &caps)
	var uts unix.Utsname
	_ = unix.Uname(&uts)
	fmt.Printf("passthrough kernel=%s uid=%d cap_sys_admin=%v offered_in_init=%v backing_open=%v\n",
		unix.ByteSliceToString(uts.Release[:]), os.Getuid(), caps.Effective&(1<<unix.CAP_SYS_ADMIN) != 0, offered, errnoText(errno))
	return nil
}

func errnoText(e unix.Errno) string {
	if e == 0 {
		return "ok"
	}
	return unix.ErrnoName(e)
}
