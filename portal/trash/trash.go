// Package trash serves org.freedesktop.portal.Trash on a sandbox bus: a
// sandbox may move a file the user granted it, writable, to the user's
// trash (the freedesktop.org trash specification's home trash), and loses
// the grant with it. Nothing else of the host can be trashed: the file is
// named by a descriptor that must be the grant's own (grants.ByFD).
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

// Dir is the user's home trash: $XDG_DATA_HOME/Trash, by default
// ~/.local/share/Trash.
func Dir() (string, error) {
	if d := os.Getenv("XDG_DATA_HOME"); filepath.IsAbs(d) {
		return filepath.Join(d, "Trash"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("cannot find the trash: %w", err)
	}
	return filepath.Join(home, ".local", "share", "Trash"), nil
}

// MoveAt moves the regular file name in the folder dirfd to the trash at
// dir, with an info file recording origPath (where it was) and now: the
// info file is created first, exclusively, which reserves the name
// (specification: "the implementation should create the info file first").
// The move is a rename, never a copy: a file on another file system than
// the trash fails with EXDEV (trashing there needs that file system's own
// $topdir/.Trash-UID, not made here).
func MoveAt(dir string, dirfd int, name, origPath string, now time.Time) (string, error) {
	var st unix.Stat_t
	if err := unix.Fstatat(dirfd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return "", fmt.Errorf("cannot trash %q: %w", origPath, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return "", fmt.Errorf("cannot trash %q: not a regular file", origPath)
	}
	files, info := filepath.Join(dir, "files"), filepath.Join(dir, "info")
	for _, d := range []string{files, info} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return "", fmt.Errorf("cannot make the trash: %w", err)
		}
	}
	filesFD, err := unix.Open(files, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return "", fmt.Errorf("cannot open the trash: %w", err)
	}
	defer unix.Close(filesFD)
	body := infoFile(origPath, now)
	for i := 1; i <= maxTries; i++ {
		cand := name
		if i > 1 {
			cand = name + "." + strconv.Itoa(i)
		}
		if len(cand)+len(".trashinfo") > 255 {
			return "", fmt.Errorf("cannot trash %q: name too long", origPath)
		}
		infoPath := filepath.Join(info, cand+".trashinfo")
		f, err := os.OpenFile(infoPath, os.O_WRONLY|os.O_CREATE|os.O_EXCL|unix.O_NOFOLLOW, 0o600)
		if errors.Is(err, os.ErrExist) {
			continue
		}
		if err != nil {
			return "", fmt.Errorf("cannot write the trash's info file: %w", err)
		}
		_, werr := f.WriteString(body)
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			os.Remove(infoPath)
			return "", fmt.Errorf("cannot write the trash's info file: %w", werr)
		}
		// RENAME_NOREPLACE: a file left in files/ without its info file
		// (another trasher's crash) is never overwritten.
		err = unix.Renameat2(dirfd, name, filesFD, cand, unix.RENAME_NOREPLACE)
		if errors.Is(err, unix.EEXIST) {
			os.Remove(infoPath)
			continue
		}
		if err != nil {
			os.Remove(infoPath)
			return "", fmt.Errorf("cannot move %q to the trash: %w", origPath, err)
		}
		return filepath.Join(files, cand), nil
	}
	return "", fmt.Errorf("cannot trash %q: no free name in the trash", origPath)
}

// infoFile is the .trashinfo content: Path is URL-escaped (specification:
// "the value of Path is a URL-escaped absolute path"), the date is local
// time without a zone, as the specification's example.
func infoFile(origPath string, now time.Time) string {
	u := url.URL{Path: origPath}
	return "[Trash Info]\nPath=" + u.EscapedPath() + "\nDeletionDate=" + now.Format("2006-01-02T15:04:05") + "\n"
}
