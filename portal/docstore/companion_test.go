package docstore

import (
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
)

// A page saved "complete": the save grant of page.html lets the app create
// page_files beside it, fill it (files, a folder, a rename inside), and all
// of it is on the host; no other folder, no second one, no link or special
// file; the folder ends with the grant and stays on the host.
func TestCompanionFolder(t *testing.T) {
	e := setup(t)
	view := e.sandbox(t, "s1")
	host := filepath.Join(e.host, "page.html")
	g := e.grant(t, "s1", host, true, false)
	e.s.AllowFolderBeside("s1", g.DocID)
	doc := filepath.Join(view, g.DocID)

	if _, err := os.Lstat(filepath.Join(doc, "page_files")); !os.IsNotExist(err) {
		t.Fatalf("page_files before it was made: %v", err)
	}
	for _, name := range []string{"other_files", "page", "page_files2", ".page_files"} {
		wantErrno(t, "mkdir "+name, os.Mkdir(filepath.Join(doc, name), 0o755), syscall.EPERM)
	}
	// What Firefox's "Web Page, complete" does (firefox-esr 153 in
	// TestFirefoxSavePageComplete): the folder, the page's files in it,
	// and the page; a file written under a temporary name and renamed, as
	// downloads do, is covered too.
	files := filepath.Join(doc, "page_files")
	if err := os.Mkdir(files, 0o755); err != nil {
		t.Fatalf("mkdir page_files: %v", err)
	}
	for name, content := range map[string]string{"logo.png.part": "png", "style.css": "css", "sub/frame.html": "frame"} {
		p := filepath.Join(files, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatalf("write %s: %v", name, err)
		}
	}
	if err := os.Rename(filepath.Join(files, "logo.png.part"), filepath.Join(files, "logo.png")); err != nil {
		t.Fatalf("rename inside page_files: %v", err)
	}
	if err := os.WriteFile(filepath.Join(doc, "page.html"), []byte("<html>"), 0o644); err != nil {
		t.Fatalf("write page.html: %v", err)
	}
	wantErrno(t, "second mkdir", os.Mkdir(files, 0o755), syscall.EEXIST)
	wantErrno(t, "symlink inside", os.Symlink("/etc/passwd", filepath.Join(files, "link")), syscall.EPERM)
	wantErrno(t, "fifo inside", syscall.Mkfifo(filepath.Join(files, "fifo"), 0o644), syscall.EPERM)
	wantErrno(t, "hard link inside", os.Link(filepath.Join(files, "style.css"), filepath.Join(files, "hard")), syscall.EPERM)
	wantErrno(t, "rename out of page_files", os.Rename(filepath.Join(files, "style.css"), filepath.Join(doc, "style.css")), syscall.EXDEV)
	// ".." is resolved by the kernel in the sandbox's view, never by the
	// store: two levels up is the view itself, read-only.
	if err := os.WriteFile(filepath.Join(files, "..", "..", "x"), nil, 0o644); err == nil {
		t.Errorf("wrote two levels above page_files")
	}

	ents, _ := os.ReadDir(doc)
	var names []string
	for _, en := range ents {
		names = append(names, en.Name())
	}
	if !slices.Equal(names, []string{"page.html", "page_files"}) {
		t.Errorf("inside the document folder: %v", names)
	}
	if got := listNames(t, e.host); !slices.Equal(got, []string{"page.html", "page_files"}) {
		t.Errorf("host folder: %v, want page.html and page_files", got)
	}
	hostFiles := filepath.Join(e.host, "page_files")
	for name, want := range map[string]string{"logo.png": "png", "style.css": "css", "sub/frame.html": "frame"} {
		if got := readString(t, filepath.Join(hostFiles, name)); got != want {
			t.Errorf("host page_files/%s = %q, want %q", name, got, want)
		}
	}
	if err := e.s.Revoke("s1", g.DocID); err != nil {
		t.Fatal(err)
	}
	if _, err := os.ReadDir(files); err == nil {
		t.Errorf("page_files still readable inside after the grant ended")
	}
	if got := listNames(t, hostFiles); !slices.Equal(got, []string{"logo.png", "style.css", "sub"}) {
		t.Errorf("host page_files after the grant ended: %v", got)
	}
}

// A folder of that name already on the host is never merged into: not
// shown, and making it fails with EEXIST; its contents stay as they were.
// An open grant, or a save of another kind of file, makes no folder.
func TestCompanionFolderRefused(t *testing.T) {
	e := setup(t)
	view := e.sandbox(t, "s1")
	e.write(t, "old_files/mine.txt", "mine")
	g := e.grant(t, "s1", filepath.Join(e.host, "old.html"), true, false)
	e.s.AllowFolderBeside("s1", g.DocID)
	doc := filepath.Join(view, g.DocID)
	if _, err := os.Lstat(filepath.Join(doc, "old_files")); !os.IsNotExist(err) {
		t.Errorf("the host's own old_files shows inside: %v", err)
	}
	wantErrno(t, "mkdir over the host's folder", os.Mkdir(filepath.Join(doc, "old_files"), 0o755), syscall.EEXIST)
	if got := listNames(t, filepath.Join(e.host, "old_files")); !slices.Equal(got, []string{"mine.txt"}) {
		t.Errorf("the host's old_files now holds %v", got)
	}

	// Opened writable, not saved: no folder.
	open := e.grant(t, "s1", e.write(t, "open.html", "x"), true, false)
	wantErrno(t, "mkdir beside an opened page", os.Mkdir(filepath.Join(view, open.DocID, "open_files"), 0o755), syscall.EPERM)
	// Saved, but not a page.
	odt := e.grant(t, "s1", filepath.Join(e.host, "report.odt"), true, false)
	e.s.AllowFolderBeside("s1", odt.DocID)
	wantErrno(t, "mkdir beside a saved report", os.Mkdir(filepath.Join(view, odt.DocID, "report_files"), 0o755), syscall.EPERM)
}

// The folder is bounded: at most companionMaxEntries files and folders, and
// names must be printable.
func TestCompanionFolderBounded(t *testing.T) {
	e := setup(t)
	view := e.sandbox(t, "s1")
	g := e.grant(t, "s1", filepath.Join(e.host, "big.htm"), true, false)
	e.s.AllowFolderBeside("s1", g.DocID)
	files := filepath.Join(view, g.DocID, "big_files")
	if err := os.Mkdir(files, 0o755); err != nil {
		t.Fatal(err)
	}
	wantErrno(t, "control character", os.WriteFile(filepath.Join(files, "a\x01b"), nil, 0o644), syscall.EINVAL)
	for i := 0; i < companionMaxEntries; i++ {
		f, err := os.Create(filepath.Join(files, itoa(i)))
		if err != nil {
			t.Fatalf("file %d: %v", i, err)
		}
		f.Close()
	}
	f, err := os.Create(filepath.Join(files, "one-too-many"))
	if err == nil {
		f.Close()
	}
	wantErrno(t, "one entry too many", err, syscall.EDQUOT)
	wantErrno(t, "one folder too many", os.Mkdir(filepath.Join(files, "dir"), 0o755), syscall.EDQUOT)
}
