package grants

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"airlock/portal/docpath"
	"airlock/portal/docstore"
	"airlock/portal/grant"
)

type env struct {
	r    *Registry
	host string // a host folder for the test's files
	log  *bytes.Buffer
}

// setup mounts a real document store (as root the kernel mounts FUSE
// directly; as an ordinary user fusermount3 does) and a registry over it.
func setup(t *testing.T) *env {
	t.Helper()
	if _, err := os.Stat("/dev/fuse"); err != nil {
		t.Skip("no /dev/fuse: the registry is tested with a real document store")
	}
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	store, err := docstore.Mount(filepath.Join(t.TempDir(), "doc"), nil)
	if err != nil {
		t.Fatalf("Mount: %v", err)
	}
	t.Cleanup(func() {
		if err := store.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&syncWriter{w: &buf}, nil))
	return &env{r: New(log, store), host: t.TempDir(), log: &buf}
}

type syncWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
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

func (e *env) sandbox(t *testing.T, s Sandbox) string {
	t.Helper()
	view, err := e.r.AddSandbox(s)
	if err != nil {
		t.Fatalf("AddSandbox: %v", err)
	}
	return view
}

func (e *env) grant(t *testing.T, sb, path string, mode Mode, writable bool) grant.Grant {
	t.Helper()
	g, err := e.r.Grant(sb, path, mode, writable)
	if err != nil {
		t.Fatalf("Grant %s: %v", path, err)
	}
	return g
}

// seen is where the grant shows in the view, on the host.
func seen(view string, g grant.Grant) string { return filepath.Join(view, g.DocID, g.Name()) }

func TestGrantKinds(t *testing.T) {
	e := setup(t)
	file := e.write(t, "notes.txt", "notes")
	e.write(t, "proj/a.txt", "a")
	proj := filepath.Join(e.host, "proj")
	view := e.sandbox(t, Sandbox{ID: "s1", Profile: "p"})
	uid := os.Getuid()

	g := e.grant(t, "s1", file, Open, false)
	if g.Dir || g.Writable || g.Sandbox != "s1" || g.HostPath != file || g.Inside != docpath.Inside(uid, g.DocID, "notes.txt") {
		t.Errorf("file grant = %+v", g)
	}
	if !regexp.MustCompile(`^[a-z2-7]{8}$`).MatchString(g.DocID) {
		t.Errorf("doc id %q", g.DocID)
	}
	if b, err := os.ReadFile(seen(view, g)); err != nil || string(b) != "notes" {
		t.Errorf("read through the store: %q, %v", b, err)
	}

	d := e.grant(t, "s1", proj, Open, true)
	if !d.Dir || !d.Writable || d.Name() != "proj" {
		t.Errorf("folder grant = %+v", d)
	}
	if b, err := os.ReadFile(filepath.Join(seen(view, d), "a.txt")); err != nil || string(b) != "a" {
		t.Errorf("read in the folder: %q, %v", b, err)
	}

	// A save of a name that does not exist: writable, nothing created.
	n := e.grant(t, "s1", filepath.Join(e.host, "new.txt"), Save, false)
	if n.Dir || !n.Writable {
		t.Errorf("new file grant = %+v", n)
	}
	if _, err := os.Stat(filepath.Join(e.host, "new.txt")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the new file exists before the application wrote it: %v", err)
	}
	if err := os.WriteFile(seen(view, n), []byte("saved"), 0o644); err != nil {
		t.Fatalf("create through the store: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(e.host, "new.txt")); string(b) != "saved" {
		t.Errorf("host file = %q", b)
	}
	// A save over an existing file is a file grant too.
	if s := e.grant(t, "s1", file, Save, false); s.Dir || !s.Writable {
		t.Errorf("save over a file = %+v", s)
	}

	for _, c := range []struct {
		path string
		mode Mode
	}{
		{filepath.Join(e.host, "missing.txt"), Open}, // Open needs it to exist
		{proj, Save},           // a folder is no file to save
		{"relative.txt", Open}, // not absolute
		{"/", Open},            // no name
		{filepath.Join(e.host, "nodir", "x.txt"), Save},
		{"/dev/null", Open}, // neither a regular file nor a folder
	} {
		if g, err := e.r.Grant("s1", c.path, c.mode, false); err == nil {
			t.Errorf("Grant(%q, %v) = %+v, want an error", c.path, c.mode, g)
		}
	}
	if _, err := e.r.Grant("nosuch", file, Open, false); err == nil {
		t.Errorf("grant to an unknown sandbox succeeded")
	}
}

// TestSymlinks: a grant is (resolved folder, name), never through a final
// symbolic link: one planted by a sandbox in a folder it can write, named
// like a photo and pointing at a key, would grant what the user never saw.
func TestSymlinks(t *testing.T) {
	e := setup(t)
	secret := e.write(t, "id_rsa", "key")
	e.write(t, "real/doc.txt", "doc")
	bait := filepath.Join(e.host, "photo.jpg")
	if err := os.Symlink(secret, bait); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("real", filepath.Join(e.host, "linkdir")); err != nil {
		t.Fatal(err)
	}
	e.sandbox(t, Sandbox{ID: "s1"})
	for _, mode := range []Mode{Open, Save} {
		if g, err := e.r.Grant("s1", bait, mode, false); err == nil || !strings.Contains(err.Error(), "symbolic link") {
			t.Errorf("Grant of a symlink (mode %v) = %+v, %v; want refused", mode, g, err)
		}
	}
	if g, err := e.r.Grant("s1", filepath.Join(e.host, "linkdir"), Open, false); err == nil {
		t.Errorf("Grant of a symlink to a folder = %+v", g)
	}
	// The folders on the way are resolved on the user's behalf.
	g := e.grant(t, "s1", filepath.Join(e.host, "linkdir", "doc.txt"), Open, false)
	if want := filepath.Join(e.host, "real", "doc.txt"); g.HostPath != want {
		t.Errorf("HostPath = %q, want the resolved %q", g.HostPath, want)
	}
	if gs := e.r.Grants("s1"); len(gs) != 1 {
		t.Errorf("grants %v, want the one", gs)
	}
}

func TestRevoke(t *testing.T) {
	e := setup(t)
	file := e.write(t, "doc.txt", "doc")
	view := e.sandbox(t, Sandbox{ID: "s1"})
	g := e.grant(t, "s1", file, Open, true)
	if native, err := e.r.Revoke("s1", g.DocID); err != nil || native {
		t.Fatalf("Revoke = %v, %v; want a grant of the store only", native, err)
	}
	if _, err := os.Stat(seen(view, g)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stat after revoke: %v, want ENOENT", err)
	}
	if gs := e.r.Grants("s1"); len(gs) != 0 {
		t.Errorf("grants after revoke: %v", gs)
	}
	if _, err := e.r.Revoke("s1", g.DocID); err == nil {
		t.Errorf("second revoke succeeded")
	}
	if _, ok := resolveHost(e.r, "s1", g.Inside); ok {
		t.Errorf("a revoked grant still resolves")
	}
}

func TestGrantsBySandbox(t *testing.T) {
	e := setup(t)
	file := e.write(t, "doc.txt", "doc")
	view2 := e.sandbox(t, Sandbox{ID: "b"})
	e.sandbox(t, Sandbox{ID: "a"})
	ga := e.grant(t, "a", file, Open, false)
	gb := e.grant(t, "b", file, Open, false)
	gb2 := e.grant(t, "b", e.host, Open, false)
	if got := e.r.Grants("a"); !slices.Equal(got, []grant.Grant{ga}) {
		t.Errorf("Grants(a) = %v", got)
	}
	all := e.r.Grants("")
	if len(all) != 3 || all[0] != ga || all[1].Sandbox != "b" || all[2].Sandbox != "b" || all[1].DocID > all[2].DocID {
		t.Errorf("Grants() = %v, want a's then b's, by doc id", all)
	}
	if !slices.Contains(all, gb) || !slices.Contains(all, gb2) {
		t.Errorf("Grants() = %v, missing b's", all)
	}
	// a's document is not in b's view.
	if _, err := os.Stat(filepath.Join(view2, ga.DocID)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a's grant in b's view: %v", err)
	}
	e.r.RemoveSandbox("a")
	if got := e.r.Grants(""); len(got) != 2 {
		t.Errorf("Grants() after a ended = %v", got)
	}
}

func resolveHost(r *Registry, sb, inside string) (string, bool) {
	hp, _, ok := r.Resolve(sb, inside)
	return hp, ok
}

func TestResolve(t *testing.T) {
	e := setup(t)
	file := e.write(t, "doc.txt", "doc")
	e.write(t, "proj/a.txt", "a")
	e.write(t, "proj/sub/b.txt", "b")
	e.write(t, "outside.txt", "secret")
	proj := filepath.Join(e.host, "proj")
	e.sandbox(t, Sandbox{ID: "s1"})
	e.sandbox(t, Sandbox{ID: "s2"})
	f := e.grant(t, "s1", file, Open, false)
	d := e.grant(t, "s1", proj, Open, false)
	other := e.grant(t, "s2", file, Open, false)

	for _, c := range []struct {
		inside, host string
		dir, ok      bool
	}{
		{f.Inside, file, false, true},
		{f.Inside + "/", file, false, true},
		{d.Inside, proj, true, true},
		{d.Inside + "/sub", filepath.Join(proj, "sub"), true, true},
		{d.Inside + "/sub/b.txt", filepath.Join(proj, "sub", "b.txt"), false, true},
		{d.Inside + "/sub/../a.txt", filepath.Join(proj, "a.txt"), false, true},
		// ".." cannot climb out of the grant: these name the document's
		// own folder, the doc folder, or a name the grant does not have.
		{d.Inside + "/..", "", false, false},
		{d.Inside + "/../../outside.txt", "", false, false},
		{d.Inside + "/../outside.txt", "", false, false},
		{d.Inside + "/sub/../../../" + d.DocID + "/proj/../../../../../etc/passwd", "", false, false},
		{docpath.Root(os.Getuid()) + "/" + d.DocID, "", false, false},
		{f.Inside + "/x", "", false, false},               // below a file
		{other.Inside, "", false, false},                  // another sandbox's
		{"doc/" + f.DocID + "/doc.txt", "", false, false}, // not absolute
		{"/etc/passwd", "", false, false},
	} {
		hp, dir, ok := e.r.Resolve("s1", c.inside)
		if hp != c.host || dir != c.dir || ok != c.ok {
			t.Errorf("Resolve(%q) = %q, %v, %v; want %q, %v, %v", c.inside, hp, dir, ok, c.host, c.dir, c.ok)
		}
	}
}

func TestPersistence(t *testing.T) {
	e := setup(t)
	file := e.write(t, "doc.txt", "doc")
	e.write(t, "proj/a.txt", "a")
	proj := filepath.Join(e.host, "proj")
	e.sandbox(t, Sandbox{ID: "s1", Profile: "keep", Persistent: true})
	g1 := e.grant(t, "s1", file, Open, true)
	g2 := e.grant(t, "s1", proj, Open, false)
	e.grant(t, "s1", filepath.Join(e.host, "never-saved.txt"), Save, true)
	e.grant(t, "s1", e.write(t, "swapped.txt", "x"), Open, false)
	// Amnesic profiles keep nothing.
	e.sandbox(t, Sandbox{ID: "s9", Profile: "amnesic"})
	e.grant(t, "s9", file, Open, false)
	e.r.RemoveSandbox("s9")

	e.r.RemoveSandbox("s1")
	f, err := grantsFile("keep")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(f)
	if err != nil {
		t.Fatalf("saved grants: %v", err)
	}
	var saved []grant.Grant
	if err := json.Unmarshal(raw, &saved); err != nil || len(saved) != 3 {
		t.Fatalf("saved grants %s (%v): want 3, the save that never happened left out", raw, err)
	}
	if strings.Contains(string(raw), `"Inside"`) || !strings.Contains(string(raw), `"doc_id"`) {
		t.Errorf("saved form %s", raw)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(f), "amnesic.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("an amnesic profile's grants were saved: %v", err)
	}

	// Between the runs, something swaps a saved file for a symbolic link.
	swapped := filepath.Join(e.host, "swapped.txt")
	os.Remove(swapped)
	if err := os.Symlink(file, swapped); err != nil {
		t.Fatal(err)
	}

	view := e.sandbox(t, Sandbox{ID: "s2", Profile: "keep", Persistent: true})
	got := e.r.Grants("s2")
	if len(got) != 2 {
		t.Fatalf("restored %v, want the file and the folder", got)
	}
	for i, want := range []grant.Grant{g1, g2} {
		if g1.DocID > g2.DocID {
			want = []grant.Grant{g2, g1}[i]
		}
		want.Sandbox = "s2"
		if got[i] != want {
			t.Errorf("restored %+v, want %+v", got[i], want)
		}
	}
	if b, err := os.ReadFile(filepath.Join(view, g1.DocID, "doc.txt")); err != nil || string(b) != "doc" {
		t.Errorf("restored file reads %q, %v", b, err)
	}
	if !strings.Contains(e.log.String(), "saved grant not restored") {
		t.Errorf("the grant swapped for a link was not logged as dropped:\n%s", e.log)
	}
}

func TestPersistenceThroughSymlinkedFolder(t *testing.T) {
	e := setup(t)
	e.write(t, "real/doc.txt", "doc")
	e.sandbox(t, Sandbox{ID: "s1", Profile: "keep", Persistent: true})
	e.grant(t, "s1", filepath.Join(e.host, "real", "doc.txt"), Open, false)
	e.r.RemoveSandbox("s1")
	// The folder is now a link to another: strict restore refuses it.
	os.Rename(filepath.Join(e.host, "real"), filepath.Join(e.host, "elsewhere"))
	if err := os.Symlink("elsewhere", filepath.Join(e.host, "real")); err != nil {
		t.Fatal(err)
	}
	e.sandbox(t, Sandbox{ID: "s2", Profile: "keep", Persistent: true})
	if got := e.r.Grants("s2"); len(got) != 0 {
		t.Errorf("restored through a symlinked folder: %v", got)
	}
}

// TestSaveErrorLogged: a grants file that cannot be written is said in the
// log, with the error; the grant itself stands.
func TestSaveErrorLogged(t *testing.T) {
	e := setup(t)
	file := e.write(t, "doc.txt", "doc")
	// $XDG_STATE_HOME/airlock is a file: the grants folder cannot be made
	// (even by root).
	if err := os.WriteFile(filepath.Join(os.Getenv("XDG_STATE_HOME"), "airlock"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	e.sandbox(t, Sandbox{ID: "s1", Profile: "keep", Persistent: true})
	g := e.grant(t, "s1", file, Open, false)
	if gs := e.r.Grants("s1"); len(gs) != 1 || gs[0] != g {
		t.Errorf("grants %v", gs)
	}
	out := e.log.String()
	if !strings.Contains(out, "cannot save the profile's grants") || !strings.Contains(out, "err=") || !strings.Contains(out, "not a directory") {
		t.Errorf("the failed write is not in the log:\n%s", out)
	}
}

type fakeBinder struct {
	mu             sync.Mutex
	bound, unbound []string
}

func (f *fakeBinder) Bind(g grant.Grant) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.bound = append(f.bound, g.DocID)
	return nil
}

func (f *fakeBinder) Unbind(g grant.Grant) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.unbound = append(f.unbound, g.DocID)
	return nil
}

// TestNativeBind: once attached, read-only file grants are bound natively;
// writable ones and folders stay in the store. Read-only files granted
// before (the launcher bound them as it started) count as bound too. A
// revoke unbinds first, and says the grant was native.
func TestNativeBind(t *testing.T) {
	e := setup(t)
	file := e.write(t, "doc.txt", "doc")
	e.sandbox(t, Sandbox{ID: "s1"})
	before := e.grant(t, "s1", file, Open, false)  // not attached yet
	beforeRW := e.grant(t, "s1", file, Open, true) // not attached yet
	b := &fakeBinder{}
	e.r.Attach("s1", b)
	ro := e.grant(t, "s1", file, Open, false)
	rw := e.grant(t, "s1", file, Open, true)
	dir := e.grant(t, "s1", e.host, Open, false)
	if !slices.Equal(b.bound, []string{ro.DocID}) {
		t.Errorf("bound %v, want only %s", b.bound, ro.DocID)
	}
	var native []string
	for _, g := range e.r.Grants("s1") {
		if g.Native {
			native = append(native, g.DocID)
		}
	}
	slices.Sort(native)
	if want := slices.Sorted(slices.Values([]string{before.DocID, ro.DocID})); !slices.Equal(native, want) {
		t.Errorf("listed as native: %v, want %v", native, want)
	}
	for _, tc := range []struct {
		g      grant.Grant
		native bool
	}{{before, true}, {beforeRW, false}, {ro, true}, {rw, false}, {dir, false}} {
		if native, err := e.r.Revoke("s1", tc.g.DocID); err != nil || native != tc.native {
			t.Errorf("Revoke(%+v) = %v, %v; want native %v", tc.g, native, err, tc.native)
		}
	}
	if !slices.Equal(b.unbound, []string{before.DocID, ro.DocID}) {
		t.Errorf("unbound %v, want %s and %s", b.unbound, before.DocID, ro.DocID)
	}
}

func TestRefusedSandboxes(t *testing.T) {
	r := New(nil, nil)
	if view, err := r.AddSandbox(Sandbox{ID: "s1"}); err != nil || view != "" {
		t.Fatalf("AddSandbox without a store = %q, %v", view, err)
	}
	if _, err := r.Grant("s1", "/etc/hostname", Open, false); !errors.Is(err, ErrNoStore) {
		t.Errorf("Grant without a store: %v, want ErrNoStore", err)
	}
	if gs := r.Grants(""); gs == nil || len(gs) != 0 {
		t.Errorf("Grants without a store = %#v, want an empty list", gs)
	}

	e := setup(t)
	file := e.write(t, "doc.txt", "doc")
	if view := e.sandbox(t, Sandbox{ID: "old", Resumed: true}); view != "" {
		t.Errorf("a resumed sandbox got a view %q", view)
	}
	if _, err := e.r.Grant("old", file, Open, false); !errors.Is(err, ErrResumed) {
		t.Errorf("Grant to a resumed sandbox: %v, want ErrResumed", err)
	}
	if _, err := e.r.AddSandbox(Sandbox{ID: "old"}); err == nil {
		t.Errorf("a sandbox was added twice")
	}
}

func TestDocIDs(t *testing.T) {
	taken := map[string]*entry{}
	for range 200 {
		id := newDocID(taken)
		if !validDocID(id) || taken[id] != nil {
			t.Fatalf("doc id %q: invalid or taken", id)
		}
		taken[id] = &entry{}
	}
	for _, id := range []string{"", "abcd234", "abcd23456", "ABCD2345", "abcd2301", "../abcde"} {
		if validDocID(id) {
			t.Errorf("validDocID(%q) = true", id)
		}
	}
}

// TestChangesAndSince: every grant, revocation and sandbox end is told to
// the change hook (the broker's GrantsChanged signal), and each grant says
// when it was made (the grant manager's "since").
func TestChangesAndSince(t *testing.T) {
	e := setup(t)
	var mu sync.Mutex
	var changes []string
	e.r.SetOnChange(func(id string) { mu.Lock(); changes = append(changes, id); mu.Unlock() })
	file := e.write(t, "doc.txt", "doc")
	e.sandbox(t, Sandbox{ID: "s1"})
	before := time.Now().Add(-time.Second)
	g := e.grant(t, "s1", file, Open, false)
	since := e.r.Since("s1")
	if at, ok := since[g.DocID]; !ok || at.Before(before) || at.After(time.Now()) || len(since) != 1 {
		t.Errorf("Since = %v", since)
	}
	if _, err := e.r.Revoke("s1", g.DocID); err != nil {
		t.Fatal(err)
	}
	if len(e.r.Since("s1")) != 0 {
		t.Errorf("Since after revoke = %v", e.r.Since("s1"))
	}
	e.r.RemoveSandbox("s1")
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(changes, " ") != "s1 s1 s1" {
		t.Errorf("changes %q, want the grant, the revocation and the end of s1", changes)
	}
}
