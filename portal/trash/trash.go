// Package trash serves org.freedesktop.portal.Trash on a sandbox bus: a
// sandbox may move a file the user granted it, writable, to the user's
// trash (the freedesktop.org trash specification), and loses the grant
// with it. Nothing else of the host can be trashed: the file is named by a
// descriptor that must be the grant's own (grants.ByFD).
package trash

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

// maxTries bounds the search for a free name in the trash ("name",
// "name.2", ... "name.99").
const maxTries = 99

// HomeDir is the user's home trash: $XDG_DATA_HOME/Trash, by default
// ~/.local/share/Trash.
func HomeDir() (string, error) {
	if d := os.Getenv("XDG_DATA_HOME"); filepath.IsAbs(d) {
		return filepath.Join(d, "Trash"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("cannot find the trash: %w", err)
	}
	return filepath.Join(home, ".local", "share", "Trash"), nil
}

// DirFor is the trash for a file in the folder dirfd: the home trash when
// the file is on the home trash's file system, otherwise
// $topdir/.Trash-UID at the top of the file's own (a file is trashed by a
// rename, never a copy: Tails' Persistent folder and a USB stick are other
// file systems than ~/.local/share).
func DirFor(home string, dirfd int) (string, error) {
	var fst unix.Stat_t
	if err := unix.Fstat(dirfd, &fst); err != nil {
		return "", err
	}
	// The home trash's file system: its nearest existing folder's.
	for p := home; ; p = filepath.Dir(p) {
		var st unix.Stat_t
		if unix.Stat(p, &st) == nil {
			if st.Dev == fst.Dev {
				return home, nil
			}
			break
		}
		if p == "/" {
			break
		}
	}
	// The folder's path as this process sees it (the broker's own mount
	// namespace; the descriptor was opened by the broker), then up to the
	// top of its file system.
	top, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(dirfd))
	if err != nil || !filepath.IsAbs(top) {
		return "", fmt.Errorf("cannot find the file's folder: %v", err)
	}
	for top != "/" {
		var st unix.Stat_t
		if unix.Lstat(filepath.Dir(top), &st) != nil || st.Dev != fst.Dev {
			break
		}
		top = filepath.Dir(top)
	}
	return filepath.Join(top, ".Trash-"+strconv.Itoa(os.Getuid())), nil
}

// openDir makes (0700) and opens the folder name in parent without
// following a symbolic link, and insists on a folder of this user that
// others cannot write: a trash someone else prepared (a symbolic link to
// elsewhere, a folder of theirs) would receive the user's file (the
// specification: "check that it is a directory, not a symbolic link, and
// owned by the user").
func openDir(parent int, name string) (int, error) {
	if err := unix.Mkdirat(parent, name, 0o700); err != nil && !errors.Is(err, unix.EEXIST) {
		return -1, err
	}
	fd, err := unix.Openat(parent, name, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || int(st.Uid) != os.Getuid() || st.Mode&0o022 != 0 {
		unix.Close(fd)
		return -1, fmt.Errorf("%s is not a folder of this user only", name)
	}
	return fd, nil
}

// MoveAt moves the regular file name in the folder dirfd to the trash at
// dir (made if missing), with an info file recording origPath (where it
// was) and now: the info file is created first, exclusively, which
// reserves the name (specification: "the implementation should create the
// info file first"). The move is a rename, never a copy: a file on another
// file system than dir fails with EXDEV (DirFor picks the right one).
func MoveAt(dir string, dirfd int, name, origPath string, now time.Time) (string, error) {
	var st unix.Stat_t
	if err := unix.Fstatat(dirfd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return "", fmt.Errorf("cannot trash %q: %w", origPath, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return "", fmt.Errorf("cannot trash %q: not a regular file", origPath)
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o700); err != nil {
		return "", fmt.Errorf("cannot make the trash: %w", err)
	}
	parent, err := unix.Open(filepath.Dir(dir), unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return "", fmt.Errorf("cannot open the trash: %w", err)
	}
	defer unix.Close(parent)
	trash, err := openDir(parent, filepath.Base(dir))
	if err != nil {
		return "", fmt.Errorf("cannot use the trash %s: %w", dir, err)
	}
	defer unix.Close(trash)
	files, err := openDir(trash, "files")
	if err != nil {
		return "", fmt.Errorf("cannot use the trash %s: %w", dir, err)
	}
	defer unix.Close(files)
	info, err := openDir(trash, "info")
	if err != nil {
		return "", fmt.Errorf("cannot use the trash %s: %w", dir, err)
	}
	defer unix.Close(info)
	body := infoFile(origPath, now)
	for i := 1; i <= maxTries; i++ {
		cand := name
		if i > 1 {
			cand = name + "." + strconv.Itoa(i)
		}
		if len(cand)+len(".trashinfo") > 255 {
			return "", fmt.Errorf("cannot trash %q: name too long", origPath)
		}
		fd, err := unix.Openat(info, cand+".trashinfo", unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
		if errors.Is(err, unix.EEXIST) {
			continue
		}
		if err != nil {
			return "", fmt.Errorf("cannot write the trash's info file: %w", err)
		}
		f := os.NewFile(uintptr(fd), cand+".trashinfo")
		_, werr := f.WriteString(body)
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			unix.Unlinkat(info, cand+".trashinfo", 0)
			return "", fmt.Errorf("cannot write the trash's info file: %w", werr)
		}
		// RENAME_NOREPLACE: a file left in files/ without its info file
		// (another trasher's crash) is never overwritten.
		err = unix.Renameat2(dirfd, name, files, cand, unix.RENAME_NOREPLACE)
		if errors.Is(err, unix.EEXIST) {
			unix.Unlinkat(info, cand+".trashinfo", 0)
			continue
		}
		if err != nil {
			unix.Unlinkat(info, cand+".trashinfo", 0)
			return "", fmt.Errorf("cannot move %q to the trash: %w", origPath, err)
		}
		return filepath.Join(dir, "files", cand), nil
	}
	return "", fmt.Errorf("cannot trash %q: no free name in the trash", origPath)
}

// infoFile is the .trashinfo content: Path is URL-escaped and absolute
// (specification: "the value of Path is a URL-escaped absolute path", also
// allowed in a $topdir trash), the date local time without a zone, as the
// specification's example.
func infoFile(origPath string, now time.Time) string {
	u := url.URL{Path: origPath}
	return "[Trash Info]\nPath=" + u.EscapedPath() + "\nDeletionDate=" + now.Format("2006-01-02T15:04:05") + "\n"
}
