package trash

import (
	"os"
	"path/filepath"
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
