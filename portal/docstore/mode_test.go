package docstore

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

func TestChmodMode(t *testing.T) {
	for _, c := range []struct {
		req, cur, want uint32
		errno          syscall.Errno
	}{
		{0o777, 0o755, 0o755, 0},    // group/other write not added
		{0o777, 0o700, 0o700, 0},    // private stays private
		{0o600, 0o644, 0o600, 0},    // narrowing is fine
		{0o744, 0o644, 0o744, 0},    // owner bits as asked
		{0o000, 0o644, 0o000, 0},    // owner may lock itself out
		{0o4755, 0o755, 0, 1},       // setuid added: refused
		{0o2755, 0o755, 0, 1},       // setgid added: refused
		{0o1777, 0o777, 0, 1},       // sticky added: refused
		{0o2775, 0o2775, 0o2775, 0}, // a setgid folder keeps its bit
		{0o0775, 0o2775, 0o0775, 0}, // and may drop it
	} {
		got, errno := chmodMode(c.req, c.cur)
		if c.errno != 0 {
			if errno != syscall.EPERM {
				t.Errorf("chmodMode(%04o, %04o) = %04o, %v; want EPERM", c.req, c.cur, got, errno)
			}
			continue
		}
		if errno != 0 || got != c.want {
			t.Errorf("chmodMode(%04o, %04o) = %04o, %v; want %04o", c.req, c.cur, got, errno, c.want)
		}
	}
	for _, c := range []struct{ req, file, dir uint32 }{
		{0o777, 0o644, 0o755}, {0o666, 0o644, 0o744}, {0o000, 0o600, 0o700}, {0o7777, 0o644, 0o755}, {0o640, 0o640, 0o740},
	} {
		if got := newFileMode(c.req); got != c.file {
			t.Errorf("newFileMode(%04o) = %04o, want %04o", c.req, got, c.file)
		}
		if got := newDirMode(c.req); got != c.dir {
			t.Errorf("newDirMode(%04o) = %04o, want %04o", c.req, got, c.dir)
		}
	}
}

func hostMode(t *testing.T, p string) uint32 {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Lstat(p, &st); err != nil {
		t.Fatal(err)
	}
	return st.Mode & 0o7777
}

// TestModesNeverWiden: chmod, create, mkdir and save by rename through a
// writable folder grant and a writable file grant never leave a host file
// wider than it was, nor with a set-id bit (issue 8, item 6).
func TestModesNeverWiden(t *testing.T) {
	old := unix.Umask(0) // the broker's umask must not be what protects
	defer unix.Umask(old)
	e := setup(t)
	proj := filepath.Join(e.host, "proj")
	if err := os.Mkdir(proj, 0o750); err != nil {
		t.Fatal(err)
	}
	os.Chmod(proj, 0o750)
	f := e.write(t, "proj/a.txt", "a")
	os.Chmod(f, 0o640)
	view := e.sandbox(t, "s1")
	root := inside(view, e.grant(t, "s1", proj, true, true))

	for _, c := range []struct {
		in, host string
		want     uint32
	}{{root, proj, 0o750}, {filepath.Join(root, "a.txt"), f, 0o740}} { // owner bits as asked
		if err := os.Chmod(c.in, 0o777); err != nil {
			t.Errorf("chmod 0777 %s: %v", c.in, err)
		}
		if got := hostMode(t, c.host); got != c.want {
			t.Errorf("host %s after chmod 0777: %04o, want %04o", c.host, got, c.want)
		}
		wantErrno(t, "chmod setuid "+c.in, unix.Chmod(c.in, 0o4700), syscall.EPERM)
		wantErrno(t, "chmod setgid "+c.in, unix.Chmod(c.in, 0o2700), syscall.EPERM)
	}
	if err := os.Chmod(filepath.Join(root, "a.txt"), 0o600); err != nil {
		t.Errorf("narrowing chmod: %v", err)
	}
	if got := hostMode(t, f); got != 0o600 {
		t.Errorf("host a.txt after chmod 0600: %04o", got)
	}
	nf := filepath.Join(root, "new.txt")
	if err := os.WriteFile(nf, []byte("n"), 0o777); err != nil {
		t.Fatal(err)
	}
	if got := hostMode(t, filepath.Join(proj, "new.txt")); got != 0o644 {
		t.Errorf("new file created 0777: host %04o, want 0644", got)
	}
	if err := os.Mkdir(filepath.Join(root, "d"), 0o777); err != nil {
		t.Fatal(err)
	}
	if got := hostMode(t, filepath.Join(proj, "d")); got != 0o755 {
		t.Errorf("new folder created 0777: host %04o, want 0755", got)
	}
	// Save by rename over the private a.txt: stays private.
	if err := os.Rename(nf, filepath.Join(root, "a.txt")); err != nil {
		t.Fatal(err)
	}
	if got := hostMode(t, f); got != 0o600 {
		t.Errorf("a.txt (0600) replaced by a 0644 file: host %04o", got)
	}

	// A writable file grant: the atomic save's temporary file.
	doc := e.write(t, "doc.txt", "v1")
	os.Chmod(doc, 0o600)
	g := e.grant(t, "s1", doc, true, false)
	p := inside(view, g)
	tmp := filepath.Join(view, g.DocID, ".goutputstream-XYZ")
	if err := os.WriteFile(tmp, []byte("v2"), 0o666); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(tmp, 0o666); err != nil {
		t.Errorf("chmod temporary: %v", err)
	}
	if err := os.Rename(tmp, p); err != nil {
		t.Fatal(err)
	}
	if got := hostMode(t, doc); got != 0o600 {
		t.Errorf("granted 0600 file after a save: host %04o", got)
	}
	if err := os.Chmod(p, 0o666); err != nil {
		t.Errorf("chmod granted file: %v", err)
	}
	if got := hostMode(t, doc); got != 0o600 {
		t.Errorf("granted 0600 file after chmod 0666: host %04o", got)
	}
	wantErrno(t, "chmod setuid on granted file", unix.Chmod(p, 0o4600), syscall.EPERM)
}

// TestAtomicSaveKeepsMode: GIO's g_file_replace creates its temporary with
// the original's mode and chmods it to that mode again; a group-writable
// document stays group-writable after the save, and no wider.
func TestAtomicSaveKeepsMode(t *testing.T) {
	old := unix.Umask(0)
	defer unix.Umask(old)
	e := setup(t)
	doc := e.write(t, "shared.txt", "v1")
	os.Chmod(doc, 0o664)
	view := e.sandbox(t, "s1")
	g := e.grant(t, "s1", doc, true, false)
	tmp := filepath.Join(view, g.DocID, ".goutputstream-KEEP")
	if err := os.WriteFile(tmp, []byte("v2"), 0o664); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(tmp, 0o666); err != nil {
		t.Errorf("chmod temporary 0666: %v", err)
	}
	var st unix.Stat_t
	if err := unix.Stat(tmp, &st); err != nil || st.Mode&0o777 != 0o664 {
		t.Errorf("temporary after chmod 0666: %04o (%v), want 0664 (the granted file's bits at most)", st.Mode&0o777, err)
	}
	if err := os.Rename(tmp, inside(view, g)); err != nil {
		t.Fatal(err)
	}
	if got := hostMode(t, doc); got != 0o664 {
		t.Errorf("granted 0664 file after an atomic save: host %04o, want 0664", got)
	}
}
