package docstore

import (
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"airlock/portal/docpath"
	"airlock/portal/grant"
	"airlock/tests/asuser"

	"golang.org/x/sys/unix"
)

// TestMain runs the whole suite as an ordinary user when started as root:
// the broker mounts the store unprivileged, through fusermount3, and so must
// the tests (runc's libcontainer/integration/init_test.go dispatches the
// same way).
func TestMain(m *testing.M) {
	if os.Getuid() == 0 && !asuser.IsChild() {
		var args []string
		for _, a := range os.Args[1:] {
			// Files go test asks for live in root-only directories.
			if strings.HasPrefix(a, "-test.testlogfile") || strings.HasPrefix(a, "-test.gocoverdir") ||
				strings.HasPrefix(a, "-test.coverprofile") || strings.HasPrefix(a, "-test.outputdir") {
				continue
			}
			args = append(args, a)
		}
		code, err := asuser.Run(args)
		if err != nil {
			fmt.Fprintln(os.Stderr, "cannot run the tests as an ordinary user:", err)
			os.Exit(1)
		}
		os.Exit(code)
	}
	os.Exit(m.Run())
}

type env struct {
	s    *Store
	host string // a host folder owned by the test user
}

func setup(t *testing.T) *env {
	t.Helper()
	host := t.TempDir()
	base := os.Getenv("XDG_RUNTIME_DIR")
	if base == "" {
		base = t.TempDir()
	}
	mnt := filepath.Join(base, "airlock", "doc")
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	s, err := Mount(mnt, log)
	if err != nil {
		t.Fatalf("Mount: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return &env{s: s, host: host}
}

func (e *env) write(t *testing.T, rel, content string) string {
	t.Helper()
	p := filepath.Join(e.host, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func (e *env) sandbox(t *testing.T, id string) string {
	t.Helper()
	v, err := e.s.AddSandbox(id, Label{Name: id})
	if err != nil {
		t.Fatalf("AddSandbox: %v", err)
	}
	return v
}

// add serves host in sandbox sb as the registry (portal/grants) would: the
// store is handed a descriptor, the folder for a folder grant, the folder
// holding the file for a file grant.
func (e *env) add(sb, host string, writable, dir bool) (grant.Grant, error) {
	if real, err := filepath.EvalSymlinks(host); err == nil {
		host = real
	} else {
		// A new file: its folder exists.
		parent, err2 := filepath.EvalSymlinks(filepath.Dir(host))
		if err2 != nil {
			return grant.Grant{}, err2
		}
		host = filepath.Join(parent, filepath.Base(host))
	}
	anchor := filepath.Dir(host)
	if dir {
		anchor = host
	}
	how := unix.OpenHow{Flags: unix.O_PATH | unix.O_DIRECTORY | unix.O_CLOEXEC, Resolve: unix.RESOLVE_NO_SYMLINKS}
	fd, err := unix.Openat2(unix.AT_FDCWD, anchor, &how)
	if err != nil {
		return grant.Grant{}, err
	}
	id := strings.ToLower(rand.Text()[:8])
	g := grant.Grant{Sandbox: sb, DocID: id, HostPath: host, Inside: docpath.Inside(os.Getuid(), id, filepath.Base(host)), Writable: writable, Dir: dir}
	return g, e.s.Add(g, fd)
}

func (e *env) grant(t *testing.T, sb, host string, writable, dir bool) grant.Grant {
	t.Helper()
	g, err := e.add(sb, host, writable, dir)
	if err != nil {
		t.Fatalf("Add: %v", err)
	}
	return g
}

func inside(view string, g grant.Grant) string { return filepath.Join(view, g.DocID, g.Name()) }

func readString(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("read %s: %v", p, err)
	}
	return string(b)
}

func wantErrno(t *testing.T, what string, err error, want syscall.Errno) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s: got %v, want %v", what, err, want)
	}
}

func listNames(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("readdir %s: %v", dir, err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	slices.Sort(names)
	return names
}

func hidden(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	for _, n := range listNames(t, dir) {
		if strings.HasPrefix(n, hiddenPrefix) {
			out = append(out, n)
		}
	}
	return out
}

func TestRunsAsOrdinaryUser(t *testing.T) {
	if os.Getuid() == 0 {
		t.Fatal("the store must be tested unprivileged, as the broker runs")
	}
}

func TestReadOnlyGrantRefusesEveryChange(t *testing.T) {
	e := setup(t)
	host := e.write(t, "a.txt", "hello")
	view := e.sandbox(t, "s1")
	g := e.grant(t, "s1", host, false, false)
	p := inside(view, g)

	if got := readString(t, p); got != "hello" {
		t.Fatalf("read = %q", got)
	}
	if got := listNames(t, filepath.Join(view, g.DocID)); !slices.Equal(got, []string{"a.txt"}) {
		t.Errorf("doc dir lists %v", got)
	}
	st, err := os.Stat(p)
	if err != nil || st.Mode().Perm()&0o222 != 0 {
		t.Errorf("stat: %v, mode %v: want no write bits", err, st.Mode())
	}
	_, err = os.OpenFile(p, os.O_WRONLY, 0)
	wantErrno(t, "open O_WRONLY", err, syscall.EROFS)
	_, err = os.OpenFile(p, os.O_RDWR, 0)
	wantErrno(t, "open O_RDWR", err, syscall.EROFS)
	_, err = os.OpenFile(p, os.O_RDONLY|os.O_TRUNC, 0)
	wantErrno(t, "open O_TRUNC", err, syscall.EROFS)
	wantErrno(t, "truncate", os.Truncate(p, 0), syscall.EROFS)
	wantErrno(t, "chmod", os.Chmod(p, 0o666), syscall.EROFS)
	wantErrno(t, "utimes", os.Chtimes(p, time.Now(), time.Now()), syscall.EROFS)
	wantErrno(t, "unlink", os.Remove(p), syscall.EROFS)
	wantErrno(t, "rename", os.Rename(p, p+".bak"), syscall.EROFS)
	_, err = os.OpenFile(filepath.Join(view, g.DocID, "new"), os.O_CREATE|os.O_WRONLY, 0o644)
	wantErrno(t, "create", err, syscall.EROFS)
	wantErrno(t, "mkdir", os.Mkdir(filepath.Join(view, g.DocID, "d"), 0o755), syscall.EROFS)
	wantErrno(t, "symlink", os.Symlink("/etc/passwd", filepath.Join(view, g.DocID, "l")), syscall.EROFS)
	wantErrno(t, "access W_OK", unix.Access(p, unix.W_OK), syscall.EROFS)
	if err := unix.Access(p, unix.R_OK); err != nil {
		t.Errorf("access R_OK: %v", err)
	}
	if got := readString(t, host); got != "hello" {
		t.Errorf("host file changed: %q", got)
	}
}

func TestInPlaceSave(t *testing.T) {
	e := setup(t)
	host := e.write(t, "doc.txt", "original content, long")
	view := e.sandbox(t, "s1")
	g := e.grant(t, "s1", host, true, false)
	p := inside(view, g)

	readString(t, p) // warm the cache first: the save must replace it
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		t.Fatalf("open O_TRUNC: %v", err)
	}
	if _, err := f.WriteString("saved"); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if got := readString(t, host); got != "saved" {
		t.Errorf("host = %q, want %q", got, "saved")
	}
	if got := readString(t, p); got != "saved" {
		t.Errorf("inside = %q, want %q", got, "saved")
	}
	wantErrno(t, "unlink granted file", os.Remove(p), syscall.EPERM)
	wantErrno(t, "mkdir beside it", os.Mkdir(filepath.Join(view, g.DocID, "d"), 0o755), syscall.EPERM)
}

func TestAtomicSave(t *testing.T) {
	e := setup(t)
	host := e.write(t, "doc.txt", "version 1")
	var before unix.Stat_t
	if err := unix.Stat(host, &before); err != nil {
		t.Fatal(err)
	}
	view := e.sandbox(t, "s1")
	g := e.grant(t, "s1", host, true, false)
	p := inside(view, g)
	docdir := filepath.Join(view, g.DocID)
	readString(t, p)

	// What GIO's g_file_replace does: temporary file beside the target,
	// write, fsync, rename over.
	tmp := filepath.Join(docdir, ".goutputstream-ABC123")
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatalf("create temporary file: %v", err)
	}
	if _, err := f.WriteString("version 2 is longer"); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	if got := listNames(t, docdir); !slices.Equal(got, []string{".goutputstream-ABC123", "doc.txt"}) {
		t.Errorf("doc dir during save lists %v", got)
	}
	if h := hidden(t, e.host); len(h) != 1 || !strings.HasPrefix(h[0], hiddenPrefix+g.DocID+"-") {
		t.Errorf("host temporary files during save: %v", h)
	}
	if got := readString(t, host); got != "version 1" {
		t.Errorf("host changed before rename: %q", got)
	}
	if err := os.Rename(tmp, p); err != nil {
		t.Fatalf("rename over target: %v", err)
	}
	f.Close()

	if got := readString(t, host); got != "version 2 is longer" {
		t.Errorf("host = %q", got)
	}
	var after unix.Stat_t
	if err := unix.Stat(host, &after); err != nil {
		t.Fatal(err)
	}
	if after.Ino == before.Ino {
		t.Errorf("host file was rewritten in place, not replaced by rename")
	}
	if h := hidden(t, e.host); len(h) != 0 {
		t.Errorf("temporary files left on the host: %v", h)
	}
	if got := listNames(t, docdir); !slices.Equal(got, []string{"doc.txt"}) {
		t.Errorf("doc dir after save lists %v", got)
	}
	if got := readString(t, p); got != "version 2 is longer" {
		t.Errorf("inside = %q", got)
	}
	// A second save through the node that the rename moved.
	if err := os.WriteFile(tmp, []byte("version 3"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, p); err != nil {
		t.Fatalf("second rename: %v", err)
	}
	if got := readString(t, host); got != "version 3" {
		t.Errorf("host after second save = %q", got)
	}
	// Keeping a backup by renaming the original away is refused.
	wantErrno(t, "rename target away", os.Rename(p, p+"~"), syscall.EPERM)
}

func TestFailedSaveLeavesOriginal(t *testing.T) {
	e := setup(t)
	host := e.write(t, "doc.txt", "original")
	view := e.sandbox(t, "s1")
	g := e.grant(t, "s1", host, true, false)
	tmp := filepath.Join(view, g.DocID, "doc.txt~")
	if err := os.WriteFile(tmp, []byte("half a sa"), 0o644); err != nil {
		t.Fatalf("write temporary file: %v", err)
	}
	// The app dies here: no rename.
	if got := readString(t, host); got != "original" {
		t.Errorf("host = %q", got)
	}
	if h := hidden(t, e.host); len(h) != 1 {
		t.Fatalf("host temporary files: %v, want one", h)
	}
	asked := e.asker(t)
	e.s.RemoveSandbox("s1")
	// Not deleted unasked: the user is asked, and discards it.
	n := asked.next(t)
	if n.Name != "doc.txt~" || n.Size != int64(len("half a sa")) {
		t.Errorf("asked about %q (%d bytes), want doc.txt~", n.Name, n.Size)
	}
	if err := n.Discard(); err != nil {
		t.Fatalf("Discard: %v", err)
	}
	if h := hidden(t, e.host); len(h) != 0 {
		t.Errorf("temporary files left after RemoveSandbox and Discard: %v", h)
	}
	if got := readString(t, host); got != "original" {
		t.Errorf("host after RemoveSandbox = %q", got)
	}
	_, err := os.Stat(view)
	wantErrno(t, "stat removed view", err, syscall.ENOENT)
	if _, err := e.add("s1", host, true, false); err == nil {
		t.Errorf("a removed sandbox was served a grant")
	}
}

func TestGrantNew(t *testing.T) {
	e := setup(t)
	view := e.sandbox(t, "s1")

	// In place: open with O_CREAT.
	host := filepath.Join(e.host, "new.txt")
	g := e.grant(t, "s1", host, true, false)
	p := inside(view, g)
	_, err := os.Stat(p)
	wantErrno(t, "stat before creation", err, syscall.ENOENT)
	if _, err := os.Stat(host); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("host file exists before the app saved: %v", err)
	}
	if err := os.WriteFile(p, []byte("created"), 0o644); err != nil {
		t.Fatalf("create through the store: %v", err)
	}
	if got := readString(t, host); got != "created" {
		t.Errorf("host = %q", got)
	}

	// Atomically: temporary file renamed onto the new name.
	host2 := filepath.Join(e.host, "new2.txt")
	g2 := e.grant(t, "s1", host2, true, false)
	tmp := filepath.Join(view, g2.DocID, ".new2.txt.tmp")
	if err := os.WriteFile(tmp, []byte("renamed in"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, inside(view, g2)); err != nil {
		t.Fatalf("rename onto new name: %v", err)
	}
	if got := readString(t, host2); got != "renamed in" {
		t.Errorf("host2 = %q", got)
	}
	if h := hidden(t, e.host); len(h) != 0 {
		t.Errorf("temporary files left: %v", h)
	}
}

func TestFolderGrantIsConfined(t *testing.T) {
	e := setup(t)
	e.write(t, "outside.txt", "secret")
	proj := filepath.Join(e.host, "proj")
	e.write(t, "proj/a.txt", "a")
	e.write(t, "proj/sub/b.txt", "b")
	for name, target := range map[string]string{
		"link-abs": "/etc/passwd",
		"link-rel": "../outside.txt",
		"dirlink":  "..",
	} {
		if err := os.Symlink(target, filepath.Join(proj, name)); err != nil {
			t.Fatal(err)
		}
	}
	view := e.sandbox(t, "s1")
	g := e.grant(t, "s1", proj, true, true)
	root := inside(view, g)

	if got := listNames(t, root); !slices.Equal(got, []string{"a.txt", "dirlink", "link-abs", "link-rel", "sub"}) {
		t.Errorf("folder lists %v", got)
	}
	if got := readString(t, filepath.Join(root, "sub", "b.txt")); got != "b" {
		t.Errorf("sub/b.txt = %q", got)
	}
	// ".." from the folder stays in the view: the doc dir, then the view.
	if got := listNames(t, filepath.Join(root, "..")); !slices.Equal(got, []string{"proj"}) {
		t.Errorf("folder/.. lists %v", got)
	}
	if got := listNames(t, filepath.Join(root, "..", "..")); !slices.Equal(got, []string{g.DocID}) {
		t.Errorf("folder/../.. lists %v", got)
	}
	// Symlinks are shown as they are...
	if tgt, err := os.Readlink(filepath.Join(root, "link-abs")); err != nil || tgt != "/etc/passwd" {
		t.Errorf("readlink = %q, %v", tgt, err)
	}
	if st, err := os.Lstat(filepath.Join(root, "link-abs")); err != nil || st.Mode()&os.ModeSymlink == 0 {
		t.Errorf("lstat link-abs: %v, %v", st, err)
	}
	// ...never followed by the store: O_NOFOLLOW gets ELOOP...
	_, err := os.OpenFile(filepath.Join(root, "link-abs"), os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	wantErrno(t, "open link-abs O_NOFOLLOW", err, syscall.ELOOP)
	// ...and a relative link out of the folder resolves inside the view,
	// where there is nothing above the folder. (An absolute link resolves
	// against the caller's root: inside the sandbox, the sandbox's own.)
	_, err = os.ReadFile(filepath.Join(root, "link-rel"))
	wantErrno(t, "read link-rel", err, syscall.ENOENT)
	_, err = os.ReadFile(filepath.Join(root, "dirlink", "outside.txt"))
	wantErrno(t, "read dirlink/outside.txt", err, syscall.ENOENT)

	// Server side: resolution never follows a symlink nor leaves the folder.
	dfd, err := unix.Open(proj, unix.O_PATH|unix.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(dfd)
	for _, c := range []struct {
		rel  string
		want syscall.Errno
	}{
		{"link-abs", syscall.ELOOP},
		{"link-rel", syscall.ELOOP},
		{"dirlink/outside.txt", syscall.ELOOP},
		{"../outside.txt", syscall.EXDEV},
		{"/etc/passwd", syscall.EXDEV},
	} {
		fd, err := openBeneath(dfd, c.rel, unix.O_RDONLY, 0)
		if err == nil {
			unix.Close(fd)
		}
		wantErrno(t, "openBeneath "+c.rel, err, c.want)
	}

	// Writable folder: a loopback of the subtree.
	if err := os.WriteFile(filepath.Join(root, "sub", "c.txt"), []byte("c"), 0o644); err != nil {
		t.Fatalf("create in folder: %v", err)
	}
	if err := os.Mkdir(filepath.Join(root, "newdir"), 0o755); err != nil {
		t.Fatalf("mkdir: %v", err)
	}
	if err := os.Rename(filepath.Join(root, "sub", "c.txt"), filepath.Join(root, "newdir", "c2.txt")); err != nil {
		t.Fatalf("rename: %v", err)
	}
	if got := readString(t, filepath.Join(proj, "newdir", "c2.txt")); got != "c" {
		t.Errorf("host newdir/c2.txt = %q", got)
	}
	if err := os.Remove(filepath.Join(root, "newdir", "c2.txt")); err != nil {
		t.Errorf("unlink: %v", err)
	}
	wantErrno(t, "symlink in folder", os.Symlink("/etc/shadow", filepath.Join(root, "evil")), syscall.EPERM)
	wantErrno(t, "hard link in folder", os.Link(filepath.Join(root, "a.txt"), filepath.Join(root, "a2")), syscall.EPERM)
	wantErrno(t, "rename folder itself", os.Rename(root, root+"2"), syscall.EPERM)
	if got := readString(t, filepath.Join(e.host, "outside.txt")); got != "secret" {
		t.Errorf("outside changed: %q", got)
	}

	// A read-only folder grant refuses changes with EROFS.
	g2 := e.grant(t, "s1", proj, false, true)
	root2 := inside(view, g2)
	wantErrno(t, "create in read-only folder", os.WriteFile(filepath.Join(root2, "x"), nil, 0o644), syscall.EROFS)
	wantErrno(t, "unlink in read-only folder", os.Remove(filepath.Join(root2, "a.txt")), syscall.EROFS)
	_, err = os.OpenFile(filepath.Join(root2, "a.txt"), os.O_WRONLY, 0)
	wantErrno(t, "open for writing in read-only folder", err, syscall.EROFS)
}

func TestRevokeIsImmediate(t *testing.T) {
	e := setup(t)
	host := e.write(t, "doc.txt", "content")
	view := e.sandbox(t, "s1")
	g := e.grant(t, "s1", host, true, false)
	p := inside(view, g)
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := os.Stat(p); err != nil { // cached for the entry timeout
		t.Fatal(err)
	}
	if err := e.s.Revoke("s1", g.DocID); err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	_, err = os.Stat(p)
	wantErrno(t, "stat right after revoke", err, syscall.ENOENT)
	_, err = os.Stat(filepath.Join(view, g.DocID))
	wantErrno(t, "stat doc dir after revoke", err, syscall.ENOENT)
	_, err = f.ReadAt(make([]byte, 4), 0)
	wantErrno(t, "read on a descriptor opened before revoke", err, syscall.EIO)
	if err := e.s.Revoke("s1", g.DocID); err == nil {
		t.Errorf("second revoke succeeded")
	}
	if got := listNames(t, view); len(got) != 0 {
		t.Errorf("view lists %v", got)
	}
}

// TestRevokeDropsCachedPages: a file read once through the store has its
// pages in the kernel's cache, which answers later reads without asking the
// store. Revoking drops them, for a file grant and for every file of a
// folder grant, so that a descriptor opened before reads nothing more, not
// even its size, and cannot be reopened through /proc/self/fd.
func TestRevokeDropsCachedPages(t *testing.T) {
	for _, dir := range []bool{false, true} {
		t.Run(fmt.Sprintf("dir=%v", dir), func(t *testing.T) {
			e := setup(t)
			host := e.write(t, "project/sub/doc.txt", "cached content")
			view := e.sandbox(t, "s1")
			var g grant.Grant
			p := ""
			if dir {
				g = e.grant(t, "s1", filepath.Join(e.host, "project"), false, true)
				p = filepath.Join(inside(view, g), "sub", "doc.txt")
			} else {
				g = e.grant(t, "s1", host, false, false)
				p = inside(view, g)
			}
			f, err := os.Open(p)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			for range 2 { // the second read comes from the cache
				if b := make([]byte, 14); func() error { _, err := f.ReadAt(b, 0); return err }() != nil || string(b) != "cached content" {
					t.Fatalf("read before revoke: %q", b)
				}
			}
			if err := e.s.Revoke("s1", g.DocID); err != nil {
				t.Fatalf("Revoke: %v", err)
			}
			_, err = f.ReadAt(make([]byte, 4), 0)
			wantErrno(t, "read of cached pages on a descriptor opened before revoke", err, syscall.EIO)
			_, err = f.Stat()
			wantErrno(t, "fstat on a descriptor opened before revoke", err, syscall.EIO)
			_, err = os.ReadFile(fmt.Sprintf("/proc/self/fd/%d", f.Fd()))
			if err == nil {
				t.Errorf("reopen through /proc/self/fd after revoke succeeded")
			}
		})
	}
}

func TestOtherSandboxDoesNotSeeGrant(t *testing.T) {
	e := setup(t)
	host := e.write(t, "doc.txt", "content")
	v1 := e.sandbox(t, "s1")
	v2 := e.sandbox(t, "s2")
	g := e.grant(t, "s1", host, false, false)
	if got := listNames(t, v1); !slices.Equal(got, []string{g.DocID}) {
		t.Errorf("s1 lists %v", got)
	}
	if got := listNames(t, v2); len(got) != 0 {
		t.Errorf("s2 lists %v", got)
	}
	_, err := os.Stat(filepath.Join(v2, g.DocID))
	wantErrno(t, "stat s1's doc in s2", err, syscall.ENOENT)
	if _, err := e.add("nosuch", host, false, false); err == nil {
		t.Errorf("grant to a sandbox without a view succeeded")
	}
}

func TestHostChangeSeenInside(t *testing.T) {
	e := setup(t)
	host := e.write(t, "doc.txt", "version 1")
	view := e.sandbox(t, "s1")
	g := e.grant(t, "s1", host, false, false)
	p := inside(view, g)
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	readAll := func() string {
		buf := make([]byte, 64)
		n, err := f.ReadAt(buf, 0)
		if err != nil && n == 0 {
			t.Fatalf("read: %v", err)
		}
		return string(buf[:n])
	}
	// Warm: the second open keeps the cache.
	readString(t, p)
	if got := readAll(); got != "version 1" {
		t.Fatalf("read = %q", got)
	}

	cases := []struct{ how, content string }{
		{"rewrite in place", "version 2, longer than before"},
		{"same size", "version 3, longer than before"},
		{"atomic replace", "v4"},
	}
	for _, c := range cases {
		if c.how == "atomic replace" {
			tmp := host + ".new"
			if err := os.WriteFile(tmp, []byte(c.content), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(tmp, host); err != nil {
				t.Fatal(err)
			}
		} else if err := os.WriteFile(host, []byte(c.content), 0o644); err != nil {
			t.Fatal(err)
		}
		if c.how != "atomic replace" {
			// The same open descriptor sees the change once fsnotify has
			// invalidated the kernel's cache: well before the attribute
			// timeout, which would otherwise be the only bound (and with
			// which this check would fail). An atomic replace leaves the
			// open descriptor on the old file, as on any file system.
			start := time.Now()
			got := readAll()
			for got != c.content && time.Since(start) < 2*cacheTimeout {
				time.Sleep(5 * time.Millisecond)
				got = readAll()
			}
			if d := time.Since(start); got != c.content || d >= cacheTimeout {
				t.Errorf("%s: open descriptor reads %q after %v, want %q before the %v timeout", c.how, got, d, c.content, cacheTimeout)
			} else {
				t.Logf("%s: seen through the open descriptor after %v", c.how, d)
			}
		}
		// A new open always sees the new version.
		if got := readString(t, p); got != c.content {
			t.Errorf("%s: new open reads %q, want %q", c.how, got, c.content)
		}
	}
}
