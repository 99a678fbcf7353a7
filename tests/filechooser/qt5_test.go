package filechooser_test

import (
	"path/filepath"
	"reflect"
	"testing"

	"airlock/chooser-ui/protocol"
	"airlock/tests/harness"
)

// TestQt5SaveName: a real Qt 5.15 application (PyQt5 with the
// xdgdesktopportal platform theme) asks to save "~/report.txt" of the
// sandbox's home; Qt sends only current_file. Airlock's chooser shows
// "report.txt" in its Name field (read from the chooser's trace, as a
// person reads the screen), the user presses Return, and the app writes
// through the grant with QSaveFile (temporary file, rename): the bytes are
// on the host after the sandbox ended, and nothing else is.
func TestQt5SaveName(t *testing.T) {
	needBins(t, "Xephyr")
	if m, _ := filepath.Glob("/usr/lib/*/qt5/plugins/platformthemes/libqxdgdesktopportal.so"); len(m) == 0 {
		t.Skip("qt5-xdgdesktopportal-platformtheme is not installed")
	}
	if m, _ := filepath.Glob("/usr/lib/python3/dist-packages/PyQt5/QtWidgets*.so"); len(m) == 0 {
		t.Skip("python3-pyqt5 is not installed")
	}
	t.Parallel()
	s := newSession(t, true)
	dir := hostFiles(t, map[string]string{})
	s.lastFolder(t, "default", dir)
	content := randomText("qt5 report")
	py := userScript(t, "tests/filechooser/testdata/qt5_save.py")
	a := s.sandbox(t, []string{"--display", "xephyr", "--name", "qtsaver", "--ro", py},
		"/usr/bin/python3", py, content)

	s.dialog(t, a, "qtsaver wants to save a file")
	s.waitEntry(t, `"report.txt" in the Name field`, func(e protocol.TraceEntry) bool { return e.Text == "report.txt" })
	s.screenshot(t)
	s.pressReturn(t)

	m := a.WaitOutput(t, `^== (saved (.*)|cancelled|error.*)$`)
	if !insideDoc(harness.Get(t).UID, "report.txt").MatchString(m[2]) {
		t.Fatalf("the app answered %q, want saved at /run/user/UID/doc/<id>/report.txt\nportal log:\n%s", m[1], s.portalLog())
	}
	if res := a.Wait(t); res.Code != 0 {
		t.Errorf("application: %v", res)
	}
	if got := readFile(t, filepath.Join(dir, "report.txt")); got != content {
		t.Errorf("host report.txt holds %q, want %q", got, content)
	}
	if l := listDir(t, dir); !reflect.DeepEqual(l, []string{"report.txt"}) {
		t.Errorf("host folder holds %v after the sandbox ended, want only report.txt", l)
	}
}
