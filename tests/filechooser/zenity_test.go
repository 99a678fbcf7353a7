package filechooser_test

import (
	"path/filepath"
	"strings"
	"testing"

	"airlock/tests/harness"
)

// TestZenityOpen: zenity --file-selection (GTK 3, sent to the portal by
// GTK_USE_PORTAL=1) inside a sandbox; the user types a host path into
// Airlock's chooser; zenity prints the path inside the sandbox, and reading
// that path in the same sandbox gives the host file's bytes.
func TestZenityOpen(t *testing.T) {
	t.Parallel()
	needBins(t, "zenity", "import")
	s := newSession(t, true)
	content := randomText("zenity")
	dir := hostFiles(t, map[string]string{"letter.txt": content, "other.txt": "not chosen\n"})
	a := s.sandbox(t, []string{"--display", "xephyr", "--name", "zen"},
		"/bin/sh", "-c", `p=$(zenity --file-selection); echo "rc=$?"; echo "path=$p"; echo "== content"; cat "$p"`)

	s.dialog(t, a, "zen wants to open a file")
	s.screenshot(t)
	s.typeLocation(t, filepath.Join(dir, "letter.txt"))

	res := a.Wait(t)
	if res.Code != 0 {
		t.Fatalf("sandbox: %v\nportal log:\n%s", res, s.portalLog())
	}
	if !strings.Contains(res.Stdout, "rc=0\n") {
		t.Fatalf("zenity did not succeed: %v", res)
	}
	path, _, _ := strings.Cut(strings.SplitN(res.Stdout, "path=", 2)[1], "\n")
	if !insideDoc(harness.Get(t).UID, "letter.txt").MatchString(path) {
		t.Errorf("zenity printed %q, want /run/user/UID/doc/<id>/letter.txt", path)
	}
	_, got, _ := strings.Cut(res.Stdout, "== content\n")
	if got != content {
		t.Errorf("inside the sandbox %s reads %q, want the host file's %q", path, got, content)
	}
}

// TestZenityCancel: Escape in the chooser makes zenity exit 1 and grants
// nothing.
func TestZenityCancel(t *testing.T) {
	t.Parallel()
	needBins(t, "zenity")
	s := newSession(t, true)
	// The sandbox stays up after zenity (until its stdin closes), so that
	// its grants can be listed while it runs.
	a := s.sandbox(t, []string{"--display", "xephyr", "--name", "zencancel"},
		"/bin/sh", "-c", `p=$(zenity --file-selection); echo "rc=$? path=$p"; read x || true`)
	s.dialog(t, a, "zencancel wants to open a file")
	s.key(t, "Escape")
	m := a.WaitOutput(t, `^rc=(\d+) path=(.*)$`)
	if m[1] != "1" || m[2] != "" {
		t.Errorf("after Escape zenity exited %s and printed %q, want 1 and nothing", m[1], m[2])
	}
	if g := s.grants(t, "zencancel"); len(g) != 0 {
		t.Errorf("a cancelled chooser granted %v", g)
	}
	if g := s.grants(t, ""); len(g) != 0 {
		t.Errorf("a cancelled chooser granted %v", g)
	}
	a.Stdin.Close()
	if res := a.Wait(t); res.Code != 0 {
		t.Errorf("sandbox: %v", res)
	}
}
