package filechooser_test

import (
	"strconv"
	"strings"
	"testing"
	"time"
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

	res := a.wait(t)
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

	res := a.wait(t)
	if !strings.Contains(res.Stdout, "\nopen: /run/user/") {
		t.Fatalf("the editor did not open the file: %v\nportal log:\n%s", res, s.portalLog())
	}
	i := strings.Index(res.Stdout, "save: ")
	if i < 0 {
		t.Fatalf("the editor did not try to save: %v", res)
	}
	msg, _, _ := strings.Cut(res.Stdout[i:], "\n")
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
// and checks from a pixel of the screen that it is no longer ticked. The
// box sits at the bottom left of the dialog, in the row of the
// application's choices, above the buttons.
func (s *session) untickReadOnly(t *testing.T, wid string) {
	t.Helper()
	x, y := s.readOnlyBox(t, wid)
	before := s.pixel(t, x, y)
	s.x.xdo(t, "mousemove", "--window", wid, strconv.Itoa(x), strconv.Itoa(y))
	s.x.xdo(t, "click", "1")
	// Poll for the redraw; the limit only guards against a miss.
	deadline := time.Now().Add(10 * time.Second)
	for s.pixel(t, x, y) == before {
		if time.Now().After(deadline) {
			s.screenshot(t)
			t.Fatalf("the read-only check box at %d,%d did not change (colour %s) after a click", x, y, before)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// readOnlyBox is where the check box is, in window coordinates: 18 pixels
// from the left edge, 64 from the bottom (measured on a screenshot of GTK
// 3.24's Adwaita file chooser, which has no client-side decorations here).
func (s *session) readOnlyBox(t *testing.T, wid string) (int, int) {
	t.Helper()
	out := s.x.xdo(t, "getwindowgeometry", "--shell", wid)
	h := 0
	for _, l := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(l, "HEIGHT="); ok {
			h, _ = strconv.Atoi(v)
		}
	}
	if h < 200 {
		t.Fatalf("chooser window geometry: %q", out)
	}
	return 18, h - 64
}

// pixel is the colour of the screen at window coordinates x,y of the
// chooser (which GTK places at the origin: no window manager).
func (s *session) pixel(t *testing.T, x, y int) string {
	t.Helper()
	out, err := s.x.host("import", "-window", "root", "-crop", "1x1+"+strconv.Itoa(x)+"+"+strconv.Itoa(y), "txt:-")
	if err != nil {
		t.Fatalf("import: %v %s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	return lines[len(lines)-1]
}
