package filechooser_test

import (
	"path/filepath"
	"reflect"
	"testing"

	"airlock/tests/harness"
)

// TestSaveOverExistingConfirms: a GTK 4 application saves under the name
// of a file that exists on the host; Airlock's chooser asks whether to
// replace it, the user confirms (Alt+R, "_Replace"), and the host file then
// holds the new bytes.
func TestSaveOverExistingConfirms(t *testing.T) {
	t.Parallel()
	s := newSession(t, true)
	old := randomText("old bytes")
	dir := hostFiles(t, map[string]string{"exists.txt": old})
	host := filepath.Join(dir, "exists.txt")
	fresh := randomText("new bytes")
	py := userScript(t, "tests/filechooser/testdata/gtk4_files.py")
	a := s.sandbox(t, []string{"--display", "xephyr", "--name", "overwriter", "--ro", py},
		"/usr/bin/python3", py, "save:exists.txt:"+fresh)

	wid := s.dialog(t, a, "overwriter wants to save a file")
	// The name entry has the keyboard; a full path there names the folder
	// too.
	s.enterPath(t, host, "")
	confirm := ""
	for _, w := range s.waitChooser(t, a, 2) {
		if w != wid {
			confirm = w
		}
	}
	if got := readFile(t, host); got != old {
		t.Fatalf("the host file changed before the replacement was confirmed: %q", got)
	}
	s.focus(t, confirm)
	s.key(t, "alt+r")

	r := waitStep(t, a, "save")
	if r["saved"] != true || !insideDoc(harness.Get(t).UID, "exists.txt").MatchString(r["path"].(string)) {
		t.Fatalf("save: %v, want saved at /run/user/UID/doc/<id>/exists.txt", r)
	}
	if got := readFile(t, host); got != fresh {
		t.Errorf("host file after the confirmed replacement: %q, want %q", got, fresh)
	}
	if l := listDir(t, dir); !reflect.DeepEqual(l, []string{"exists.txt"}) {
		t.Errorf("host folder holds %v after the save, want only exists.txt", l)
	}
	if res := a.Wait(t); res.Code != 0 {
		t.Errorf("application: %v", res)
	}
}
