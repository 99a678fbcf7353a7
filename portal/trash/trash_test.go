package trash

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestMoveAt(t *testing.T) {
	home := t.TempDir()
	dir := filepath.Join(home, "Trash")
	docs := filepath.Join(home, "Docs")
	os.MkdirAll(docs, 0o700)
	now := time.Date(2026, 11, 30, 18, 5, 1, 0, time.Local)
	dfd, err := unix.Open(docs, unix.O_PATH|unix.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(dfd)
	for i, want := range []string{"a b%.txt", "a b%.txt.2"} {
		os.WriteFile(filepath.Join(docs, "a b%.txt"), []byte{byte('0' + i)}, 0o600)
		got, err := MoveAt(dir, dfd, "a b%.txt", filepath.Join(docs, "a b%.txt"), now)
		if err != nil {
			t.Fatal(err)
		}
		if got != filepath.Join(dir, "files", want) {
			t.Errorf("moved to %q, want %q", got, want)
		}
		b, _ := os.ReadFile(got)
		if string(b) != string(rune('0'+i)) {
			t.Errorf("trashed content %q", b)
		}
		info, err := os.ReadFile(filepath.Join(dir, "info", want+".trashinfo"))
		if err != nil {
			t.Fatal(err)
		}
		wantInfo := "[Trash Info]\nPath=" + strings.ReplaceAll(docs, " ", "%20") + "/a%20b%25.txt\nDeletionDate=2026-11-30T18:05:01\n"
		if string(info) != wantInfo {
			t.Errorf("info file:\n%s\nwant:\n%s", info, wantInfo)
		}
	}
	if _, err := os.Stat(filepath.Join(docs, "a b%.txt")); !os.IsNotExist(err) {
		t.Errorf("the file is still in its folder: %v", err)
	}
	// Not a regular file: refused, nothing written.
	os.Symlink("/etc/passwd", filepath.Join(docs, "link"))
	if _, err := MoveAt(dir, dfd, "link", filepath.Join(docs, "link"), now); err == nil {
		t.Error("a symbolic link was trashed")
	}
	if _, err := os.Stat(filepath.Join(dir, "info", "link.trashinfo")); !os.IsNotExist(err) {
		t.Error("an info file was left for a refused trash")
	}
}

// TestTrashIsNotAPlantedLink: a trash folder that is a symbolic link (one a
// sandbox with a writable folder could plant) is refused, nothing moves.
func TestTrashIsNotAPlantedLink(t *testing.T) {
	root := t.TempDir()
	docs, elsewhere := filepath.Join(root, "docs"), filepath.Join(root, "elsewhere")
	os.MkdirAll(docs, 0o700)
	os.MkdirAll(filepath.Join(elsewhere, "files"), 0o700)
	os.Symlink(elsewhere, filepath.Join(root, ".Trash-1"))
	os.WriteFile(filepath.Join(docs, "a"), []byte("a"), 0o600)
	dfd, err := unix.Open(docs, unix.O_PATH|unix.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(dfd)
	if _, err := MoveAt(filepath.Join(root, ".Trash-1"), dfd, "a", filepath.Join(docs, "a"), time.Now()); err == nil {
		t.Error("moved into a trash that is a symbolic link")
	}
	if _, err := os.Stat(filepath.Join(docs, "a")); err != nil {
		t.Errorf("the file left its folder: %v", err)
	}
}

// TestDirFor: the home trash on its own file system, $topdir/.Trash-UID on
// another (a rename cannot cross file systems).
func TestDirFor(t *testing.T) {
	home := filepath.Join(t.TempDir(), "Trash")
	same := t.TempDir()
	fd, err := unix.Open(same, unix.O_PATH|unix.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	if d, err := DirFor(home, fd); err != nil || d != home {
		t.Errorf("same file system: %q %v", d, err)
	}
	var a, b unix.Stat_t
	if unix.Stat("/dev/shm", &a) != nil || unix.Stat(same, &b) != nil || a.Dev == b.Dev {
		t.Skip("no /dev/shm on a file system of its own")
	}
	other, err := os.MkdirTemp("/dev/shm", "trash-test-")
	if err != nil {
		t.Skip(err)
	}
	defer os.RemoveAll(other)
	ofd, err := unix.Open(other, unix.O_PATH|unix.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(ofd)
	want := "/dev/shm/.Trash-" + strconv.Itoa(os.Getuid())
	if d, err := DirFor(home, ofd); err != nil || d != want {
		t.Errorf("other file system: %q %v, want %q", d, err, want)
	}
}
