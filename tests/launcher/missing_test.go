package launcher_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"airlock/tests/harness"
)

// TestMissingAppNamesPackage: `airlock run PROFILE` whose application is not
// installed says which Debian packages to install, in the user's language,
// exits 127 (command not found) and creates nothing: not the profile's
// persistent folder, not a sandbox record.
func TestMissingAppNamesPackage(t *testing.T) {
	t.Parallel()
	e := harness.Get(t)
	d := e.UserDir(t)
	persist := filepath.Join(d, "state", "missing")
	runtime := privateRuntime(t, e)
	p := writeProfile(t, e, "missing", fmt.Sprintf(`command = ["/usr/bin/airlock-no-such-app"]
packages = ["airlock-no-such-app", "airlock-no-such-plugin"]
[[persist]]
host = %q
sandbox = "~/.config"
`, persist))
	env := []string{"XDG_RUNTIME_DIR=" + runtime}
	r := runEnv(t, e, env, "run", p)
	if r.Code != 127 || !strings.Contains(r.Stderr, "/usr/bin/airlock-no-such-app is not installed (profile missing runs it)") ||
		!strings.Contains(r.Stderr, "sudo apt install airlock-no-such-app airlock-no-such-plugin\n") {
		t.Errorf("missing application: want status 127 and the packages to install, got %v", r)
	}
	if _, err := os.Lstat(filepath.Join(d, "state")); !os.IsNotExist(err) {
		t.Errorf("the failed start created the persistent folder's parent: %v", err)
	}
	if ents, _ := os.ReadDir(runtime); len(ents) != 0 {
		t.Errorf("the failed start left %v in XDG_RUNTIME_DIR", ents)
	}

	// The same in German.
	if _, err := exec.LookPath("msgfmt"); err != nil {
		t.Skip("msgfmt is missing: install the Debian package gettext")
	}
	r = runEnv(t, e, append(env, "LANGUAGE=de", "AIRLOCK_LOCALEDIR="+localeDir(t, e, "de")), "run", p)
	if r.Code != 127 || !strings.Contains(r.Stderr, "ist nicht installiert") || !strings.Contains(r.Stderr, "sudo apt install airlock-no-such-app airlock-no-such-plugin\n") {
		t.Errorf("missing application, in German: %v", r)
	}

	// Without a packages key, it still says what is missing.
	p = writeProfile(t, e, "nopkg", "command = [\"/usr/bin/airlock-no-such-app\"]\n")
	r = runEnv(t, e, env, "run", p)
	if r.Code != 127 || !strings.Contains(r.Stderr, "/usr/bin/airlock-no-such-app is not installed (profile nopkg runs it)") || strings.Contains(r.Stderr, "apt") {
		t.Errorf("missing application, no packages key: %v", r)
	}
}

// TestFailedStartRemovesNewPersistFolders: a start that fails after the
// persistent folders were made (the command is missing inside, or the
// profile exposes a path that does not exist) removes the folders this run
// created, parents included, and keeps every folder that was there before
// or holds anything.
func TestFailedStartRemovesNewPersistFolders(t *testing.T) {
	t.Parallel()
	e := harness.Get(t)
	d := e.UserDir(t)
	existing := filepath.Join(d, "existing")
	full := filepath.Join(d, "full")
	parent := filepath.Join(d, "parent")
	for _, p := range []string{existing, full, parent} {
		os.Mkdir(p, 0o700)
		os.Chown(p, e.UID, e.GID)
	}
	e.WriteUserFile(t, filepath.Join(full, "data"), "user data\n", 0o600)
	profileText := fmt.Sprintf(`[[persist]]
host = %q
sandbox = "~/a"
[[persist]]
host = %q
sandbox = "~/b"
[[persist]]
host = %q
sandbox = "~/c"
[[persist]]
host = %q
sandbox = "~/d"
`, filepath.Join(d, "new", "deep", "app"), existing, full, filepath.Join(parent, "inner"))
	want := []string{"existing", "full", "parent"}

	// The command is not found by the sandbox's init.
	p := writeProfile(t, e, "failing", profileText)
	r := e.Run(t, "run", "--profile", p, "--", "/usr/bin/airlock-no-such-command")
	if r.Code != 127 {
		t.Fatalf("want status 127 for a command missing inside, got %v", r)
	}
	checkFolders(t, d, want)

	// Set-up fails: an exposed path is missing.
	p = writeProfile(t, e, "badexpose", fmt.Sprintf("expose_ro = [%q]\n", filepath.Join(d, "absent"))+profileText)
	r = e.Run(t, "run", "--profile", p, "--", "/bin/true")
	if r.Code == 0 || !strings.Contains(r.Stderr, "cannot expose") {
		t.Fatalf("want a refused start for a missing exposed path, got %v", r)
	}
	checkFolders(t, d, want)

	// A start that works keeps them.
	p = writeProfile(t, e, "working", profileText)
	if r := e.Run(t, "run", "--profile", p, "--", "/bin/true"); r.Code != 0 {
		t.Fatalf("run: %v", r)
	}
	if _, err := os.Stat(filepath.Join(d, "new", "deep", "app")); err != nil {
		t.Errorf("a working start did not keep its persistent folder: %v", err)
	}
	if _, err := os.Stat(filepath.Join(parent, "inner")); err != nil {
		t.Errorf("a working start did not keep its persistent folder: %v", err)
	}
}

// checkFolders checks that d holds exactly names and that the user's data
// and the folders that were there before are intact.
func checkFolders(t *testing.T, d string, names []string) {
	t.Helper()
	ents, _ := os.ReadDir(d)
	var got []string
	for _, e := range ents {
		got = append(got, e.Name())
	}
	if !reflect.DeepEqual(got, names) {
		t.Errorf("after the failed start %s holds %v, want %v", d, got, names)
	}
	for _, n := range []string{"existing", "parent"} {
		if ents, _ := os.ReadDir(filepath.Join(d, n)); len(ents) != 0 {
			t.Errorf("after the failed start %s holds %v, want it empty", n, ents)
		}
	}
	if b, err := os.ReadFile(filepath.Join(d, "full", "data")); err != nil || string(b) != "user data\n" {
		t.Errorf("the user's data changed: %q %v", b, err)
	}
}

// localeDir compiles po/LANG.po into a folder the test user can read and
// returns it (for AIRLOCK_LOCALEDIR).
func localeDir(t *testing.T, e *harness.Env, lang string) string {
	t.Helper()
	dir := e.UserDir(t)
	lc := filepath.Join(dir, lang, "LC_MESSAGES")
	if err := os.MkdirAll(lc, 0o755); err != nil {
		t.Fatal(err)
	}
	mo := filepath.Join(lc, "airlock.mo")
	if out, err := exec.Command("msgfmt", "--check", "-o", mo, filepath.Join(e.Root, "po", lang+".po")).CombinedOutput(); err != nil {
		t.Fatalf("msgfmt po/%s.po: %v\n%s", lang, err, out)
	}
	for _, d := range []string{dir, filepath.Join(dir, lang), lc} {
		os.Chmod(d, 0o755)
	}
	os.Chmod(mo, 0o644)
	return dir
}
