package docstore

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// Modes through the store (issue 8, item 6). The app runs as the user, so
// without a rule a chmod through the store lands on the user's own host
// file as the user asked: `chmod 0777` on a granted folder left it writable
// by every account on the machine, and a new file created 0666 was writable
// by the user's group. The store therefore decides every mode it sets:
//
//   - a chmod may change the owner's bits freely and may clear group and
//     other bits, but never add one: a bit the host file does not have is
//     dropped silently (the result shows in stat). Silently rather than
//     EPERM because programs that copy modes (GIO's atomic save, tar, cp -p)
//     treat a failed chmod as a failed save; the masked mode is never wider
//     than what the user had;
//   - setuid, setgid and sticky bits the file does not already have are
//     refused with EPERM (the store's mount is nosuid inside, but the host
//     file is not: a setuid program the app writes must never appear);
//   - new files get the owner's read and write bits plus what the app asked
//     among 0644, new folders 0700 plus what it asked among 0755: never
//     group- or other-writable whatever the broker's umask. No execute bit
//     at creation, as for new files beside a granted file (newfile.go): an
//     app that means a file to be run says so with a chmod of the owner's
//     bits, which the rule above allows;
//   - a file renamed over an existing one (an atomic save) takes at most the
//     group and other bits of the file it replaces, so that a save never
//     widens a file the user kept private; and the temporary of a save may
//     be given the granted file's own group and other bits (GIO copies the
//     original's mode onto it), so that a group-writable document stays so.

// specialBits are setuid, setgid and sticky.
const specialBits = unix.S_ISUID | unix.S_ISGID | unix.S_ISVTX

// chmodMode is the mode a chmod to req sets on a host file whose mode is
// cur: owner bits as asked, group and other bits at most those of cur.
func chmodMode(req, cur uint32) (uint32, syscall.Errno) {
	if req&specialBits&^cur != 0 {
		return 0, syscall.EPERM
	}
	return req&(specialBits|0o700) | req&cur&0o077, 0
}

// newFileMode is the mode of a file the app creates with mode req.
func newFileMode(req uint32) uint32 { return 0o600 | req&0o644 }

// newDirMode is the mode of a folder the app creates with mode req.
func newDirMode(req uint32) uint32 { return 0o700 | req&0o755 }

// narrowOnto drops the group and other bits of the regular file srcName (in
// sdfd) that the regular file dstName (in ddfd) does not have, before the
// first is renamed over the second. A missing destination, or one that is
// not a regular file, leaves the source as it is.
func narrowOnto(sdfd int, srcName string, ddfd int, dstName string) syscall.Errno {
	var dst unix.Stat_t
	if err := unix.Fstatat(ddfd, dstName, &dst, unix.AT_SYMLINK_NOFOLLOW); err != nil || dst.Mode&unix.S_IFMT != unix.S_IFREG {
		return 0
	}
	fd, err := unix.Openat(sdfd, srcName, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0 // the rename reports it
	}
	defer unix.Close(fd)
	var src unix.Stat_t
	if err := unix.Fstat(fd, &src); err != nil || src.Mode&unix.S_IFMT != unix.S_IFREG {
		return 0
	}
	cur := src.Mode & 0o7777
	want := cur &^ (0o077 &^ dst.Mode)
	if want == cur {
		return 0
	}
	if err := unix.Chmod("/proc/self/fd/"+itoa(fd), want); err != nil {
		return syscall.Errno(err.(unix.Errno))
	}
	return 0
}
