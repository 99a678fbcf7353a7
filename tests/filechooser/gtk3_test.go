package filechooser_test

import (
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"airlock/tests/harness"
)

// TestGTK3SaveWritable: a GTK 3 editor (tests/demo/notes.py) opens a file
// through Gtk.FileChooserNative; the user unticks "Open read-only" in
// Airlock's chooser; the editor appends a line and saves with
// Gio.File.replace_contents (a temporary file beside the target, then a
// rename). The line reaches the host file and no temporary file is left in
// the host folder.
func TestGTK3SaveWritable(t *testing.T) {
	t.Parallel()
	s := newSession(t, true)
	content := randomText("notes rw")
	dir := hostFiles(t, map[string]string{"notes.txt": content})
	notes := userScript(t, "tests/demo/notes.py")
	const line = "appended from the sandbox"
	a := s.sandbox(t, []string{"--display", "xephyr", "--name", "notesrw", "--ro", notes},
		"/usr/bin/python3", notes, "--open", "--append", line, "--quit-after")

	wid := s.dialog(t, a, "notesrw wants to open a file")
	s.untickReadOnly(t, wid)
	s.typeLocation(t, dir+"/notes.txt")

	res := a.Wait(t)
	if res.Code != 0 || !strings.Contains(res.Stdout, "\nsave: /run/user/") {
		t.Fatalf("the editor did not save: %v\nportal log:\n%s", res, s.portalLog())
	}
	if got, want := readFile(t, dir+"/notes.txt"), content+line+"\n"; got != want {
		t.Errorf("host file after the save:\n%q\nwant\n%q", got, want)
	}
	if got := listDir(t, dir); len(got) != 1 || got[0] != "notes.txt" {
		t.Errorf("host folder after the save holds %v, want only notes.txt (no temporary file left)", got)
	}
}

// TestGTK3SaveReadOnlyRefused: the same editor, with "Open read-only" left
// ticked as the default profile has it: the save fails with a read-only
// error and the host file keeps its bytes.
func TestGTK3SaveReadOnlyRefused(t *testing.T) {
	t.Parallel()
	s := newSession(t, true)
	content := randomText("notes ro")
	dir := hostFiles(t, map[string]string{"notes.txt": content})
	notes := userScript(t, "tests/demo/notes.py")
	a := s.sandbox(t, []string{"--display", "xephyr", "--name", "notesro", "--ro", notes},
		"/usr/bin/python3", notes, "--open", "--append", "must not arrive", "--quit-after")

	s.dialog(t, a, "notesro wants to open a file")
	s.typeLocation(t, dir+"/notes.txt")

	res := a.Wait(t)
	if !strings.Contains(res.Stdout, "\nopen: /run/user/") {
		t.Fatalf("the editor did not open the file: %v\nportal log:\n%s", res, s.portalLog())
	}
	i := strings.Index(res.Stdout, "save: ")
	if i < 0 {
		t.Fatalf("the editor did not try to save: %v", res)
	}
	msg, _, _ := strings.Cut(res.Stdout[i:], "\n")
	t.Logf("the editor reports: %s", msg)
	if !strings.HasPrefix(msg, "save: error ") || !strings.Contains(strings.ToLower(msg), "read-only") {
		t.Errorf("saving a read-only grant: %q, want a read-only error", msg)
	}
	if got := readFile(t, dir+"/notes.txt"); got != content {
		t.Errorf("host file changed through a read-only grant:\n%q\nwant\n%q", got, content)
	}
	if got := listDir(t, dir); len(got) != 1 || got[0] != "notes.txt" {
		t.Errorf("host folder holds %v, want only notes.txt", got)
	}
}

// untickReadOnly clicks the "Open read-only" check box, as a person does,
// and checks from the screen that it was ticked before and is not after.
// The box is Airlock's own: it sits in the header, under the bold line that
// names the sandbox, apart from the application's choices.
func (s *session) untickReadOnly(t *testing.T, wid string) {
	t.Helper()
	x, y := s.readOnlyBox(t, wid)
	// The box's left edge: Adwaita's selected blue when ticked, grey when
	// not. Polled: the limit only guards against a box that never shows.
	ticked := func() bool {
		r, g, b := s.pixel(t, x-6, y)
		return b > r+80 && b > g+40
	}
	waitScreen(t, s, ticked, "a ticked read-only check box at the bottom left of the chooser")
	xdo(t, s.x, "mousemove", "--window", wid, strconv.Itoa(x), strconv.Itoa(y))
	xdo(t, s.x, "click", "1")
	waitScreen(t, s, func() bool { return !ticked() }, "the read-only check box unticked by the click")
}

func waitScreen(t *testing.T, s *session, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			s.screenshot(t)
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// readOnlyBox is where the check box is, in window coordinates: its tick
// at 24,70 from the top left, under the header's 32-pixel icon row (measured
// on a screenshot of GTK 3.24's Adwaita file chooser, which has no
// client-side decorations here).
func (s *session) readOnlyBox(t *testing.T, wid string) (int, int) {
	t.Helper()
	out := xdo(t, s.x, "getwindowgeometry", "--shell", wid)
	h := 0
	for _, l := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(l, "HEIGHT="); ok {
			h, _ = strconv.Atoi(v)
		}
	}
	if h < 200 {
		t.Fatalf("chooser window geometry: %q", out)
	}
	return 24, 70
}

// pixel is the colour of the screen at window coordinates x,y of the
// chooser (which GTK places at the origin: no window manager).
func (s *session) pixel(t *testing.T, x, y int) (r, g, b int) {
	t.Helper()
	out, err := s.x.Host("import", "-window", "root", "-crop", "1x1+"+strconv.Itoa(x)+"+"+strconv.Itoa(y), "-depth", "8", "txt:-")
	if err != nil {
		t.Fatalf("import: %v %s", err, out)
	}
	// "0,0: (82,150,232)  #5296E8  srgb(82,150,232)"
	m := regexp.MustCompile(`\n0,0: \((\d+),(\d+),(\d+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("import: cannot read a pixel from %q", out)
	}
	r, _ = strconv.Atoi(m[1])
	g, _ = strconv.Atoi(m[2])
	b, _ = strconv.Atoi(m[3])
	return r, g, b
}

// TestGTK3SaveWritableProfile: the same save, from a sandbox whose profile
// file says default_grant = "rw": the chooser's read-only switch starts
// unticked, so the user only picks the file, and the save reaches the host.
func TestGTK3SaveWritableProfile(t *testing.T) {
	t.Parallel()
	s := newSession(t, true)
	e := harness.Get(t)
	content := randomText("notes profile rw")
	dir := hostFiles(t, map[string]string{"notes.txt": content})
	prof := filepath.Join(e.UserDir(t), "notes-rw.toml")
	e.WriteUserFile(t, prof, "display_name = \"Notes RW\"\ndisplay = \"xephyr\"\ndefault_grant = \"rw\"\n", 0o644)
	notes := userScript(t, "tests/demo/notes.py")
	const line = "appended under a rw profile"
	a := s.sandbox(t, []string{"--profile", prof, "--ro", notes},
		"/usr/bin/python3", notes, "--open", "--append", line, "--quit-after")

	s.dialog(t, a, "Notes RW wants to open a file")
	s.typeLocation(t, dir+"/notes.txt")

	res := a.Wait(t)
	if res.Code != 0 || !strings.Contains(res.Stdout, "\nsave: /run/user/") {
		t.Fatalf("the editor did not save: %v\nportal log:\n%s", res, s.portalLog())
	}
	if got, want := readFile(t, dir+"/notes.txt"), content+line+"\n"; got != want {
		t.Errorf("host file after the save:\n%q\nwant\n%q", got, want)
	}
	if got := listDir(t, dir); len(got) != 1 || got[0] != "notes.txt" {
		t.Errorf("host folder after the save holds %v, want only notes.txt", got)
	}
}
