package sandbox

// IMPORTANT: the code in this file runs in the init stage, inside the new user
// namespace with every capability of that namespace and before seccomp. It
// must only touch paths under the staging root it builds.

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// lockedFlags maps statfs flags to the mount flags that a user namespace must
// keep when remounting: the kernel refuses (EPERM) to clear nosuid, nodev,
// noexec or the atime flags of a mount that came from a more privileged
// namespace (fs/namespace.c, can_change_locked_flags).
func lockedFlags(path string) (uintptr, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return 0, err
	}
	var f uintptr
	for _, m := range []struct {
		st int64
		ms uintptr
	}{
		{unix.ST_NOSUID, unix.MS_NOSUID},
		{unix.ST_NODEV, unix.MS_NODEV},
		{unix.ST_NOEXEC, unix.MS_NOEXEC},
		{unix.ST_NOATIME, unix.MS_NOATIME},
		{unix.ST_NODIRATIME, unix.MS_NODIRATIME},
		{unix.ST_RELATIME, unix.MS_RELATIME},
	} {
		if st.Flags&m.st != 0 {
			f |= m.ms
		}
	}
	return f, nil
}

// bindMount binds src onto dst (which must exist) and remounts it, and every
// mount below it, nosuid (always), nodev (unless dev) and read-only (unless rw).
func bindMount(src, dst string, rw, dev bool) error {
	return bindMountFrom(src, src, dst, rw, dev)
}

// bindMountFrom binds mountSrc (a path, or a /proc/self/fd magic link) onto
// dst; src is the same place by its path, to find the mounts below it.
func bindMountFrom(mountSrc, src, dst string, rw, dev bool) error {
	if err := unix.Mount(mountSrc, dst, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("cannot bind %s on %s: %w", src, dst, err)
	}
	// A recursive bind brings the mounts below src along, with their own
	// flags: each must be made read-only too, or a writable submount of a
	// read-only folder would stay writable.
	targets := []string{dst}
	prefix := strings.TrimSuffix(src, "/") + "/"
	for _, mp := range hostMounts {
		if strings.HasPrefix(mp, prefix) {
			targets = append(targets, dst+mp[len(prefix)-1:])
		}
	}
	for _, t := range targets {
		if err := remount(t, rw, dev); err != nil {
			return err
		}
	}
	return nil
}

// hostMounts are the host's mount points as init sees them after the first
// pivot (under /oldroot), read once: one read of mountinfo instead of one per
// bind keeps the start-up short.
var hostMounts []string

func remount(path string, rw, dev bool) error {
	locked, err := lockedFlags(path)
	if err != nil {
		return fmt.Errorf("cannot statfs %s: %w", path, err)
	}
	flags := unix.MS_BIND | unix.MS_REMOUNT | unix.MS_NOSUID | locked
	if !dev {
		flags |= unix.MS_NODEV
	}
	if !rw {
		flags |= unix.MS_RDONLY
	}
	if err := unix.Mount("", path, "", flags, ""); err != nil {
		return fmt.Errorf("cannot remount %s: %w", path, err)
	}
	return nil
}

// readMounts lists the mount points in a mountinfo file. While building, only
// the host's /proc is mounted (at /oldroot/proc); its "self" still names this
// process, and paths are relative to the current root.
func readMounts(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 {
			continue
		}
		out = append(out, unescapeMountinfo(fields[4]))
	}
	return out, sc.Err()
}

// unescapeMountinfo undoes the octal escapes (\040 and friends) of mountinfo.
func unescapeMountinfo(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			var v int
			if _, err := fmt.Sscanf(s[i+1:i+4], "%03o", &v); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// ensureTargetKind creates dst as an empty folder (dir) or file, with its
// parents, unless something is there already.
func ensureTargetKind(dir bool, dst string) error {
	err := withParents(dst, func() error {
		if dir {
			return unix.Mkdir(dst, 0o755)
		}
		fd, err := unix.Open(dst, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o644)
		if err != nil {
			return err
		}
		return unix.Close(fd)
	})
	if err == unix.EEXIST {
		return nil
	}
	return err
}

// withParents runs create, and once more after creating dst's parent
// folders if they were missing. Trying first saves a stat of every parent
// on each op: system calls are most of what building the root costs.
func withParents(dst string, create func() error) error {
	err := create()
	if errors.Is(err, unix.ENOENT) {
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		err = create()
	}
	return err
}

func mountTmpfs(dst string, mode Mode, extra uintptr) error {
	if err := ensureTargetKind(true, dst); err != nil {
		return err
	}
	opts := "mode=" + mode.String()
	if err := unix.Mount("tmpfs", dst, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|extra, opts); err != nil {
		return fmt.Errorf("cannot mount tmpfs on %s: %w", dst, err)
	}
	return nil
}
