package filechooser_test

import (
	"path/filepath"
	"reflect"
	"testing"
)

// geditSaveAs runs in the sandbox: gedit opens the granted file, and "Save
// As" in gedit's own dialog (AIRLOCK_GTK_DIALOG=app: the dialog of the app, not
// Airlock's) saves it under a new name typed as a full path into the
// granted file's folder inside; then gedit quits. xdotool inside drives the
// nested display as the user would.
const geditSaveAs = `read p; new="$(dirname "$p")/report-v2.txt"
export GTK_USE_PORTAL=0 AIRLOCK_GTK_DIALOG=app GSETTINGS_BACKEND=memory NO_AT_BRIDGE=1
gedit --standalone "$p" >/tmp/gedit.log 2>&1 &
w=$(findwin --class gedit)
xdotool windowfocus --sync "$w"; sleep 1
xdotool key --clearmodifiers ctrl+shift+s
d=$(findwin --name '^Save As$')
xdotool windowfocus --sync "$d"; sleep 1
xdotool key --clearmodifiers ctrl+a; xdotool type --delay 20 "$new"; sleep 0.5; xdotool key Return
for i in $(seq 100); do [ -e "$new" ] && break; sleep 0.1; done
sleep 1; ls -A "$(dirname "$p")"; echo "== saved"
read x; xdotool windowfocus --sync "$w"; xdotool key --clearmodifiers ctrl+q; wait; echo "== end"`

// TestGeditSaveAsBesideGrant: a real gedit "Save As" to a new name beside
// the granted file. Before the fix the new file was deleted when the sandbox
// ended; now Airlock asks, and on Keep it is on the host, with gedit's bytes,
// after the sandbox ended.
func TestGeditSaveAsBesideGrant(t *testing.T) {
	needBins(t, "gedit")
	t.Parallel()
	s := newSession(t, true)
	content := randomText("report")
	dir := hostFiles(t, map[string]string{"report.txt": content})
	a := s.appScript(t, []string{"--display", "xephyr", "--name", "gedit"}, geditSaveAs)
	a.waitRegistered(t, s, "gedit")
	a.Send(t, s.grantRW(t, "gedit", filepath.Join(dir, "report.txt")))
	a.WaitOutput(t, `^== saved$`)
	if l := visibleDir(t, dir); !reflect.DeepEqual(l, []string{"report.txt"}) {
		t.Errorf("before the answer the host folder shows %v", l)
	}
	s.question(t, a, "gedit", "alt+k")
	hostHolds(t, s, filepath.Join(dir, "report-v2.txt"), content)
	a.Send(t, "quit")
	a.WaitOutput(t, `^== end$`)
	a.Wait(t)
	if l := listDir(t, dir); !reflect.DeepEqual(l, []string{"report-v2.txt", "report.txt"}) {
		t.Errorf("after the sandbox ended the host folder holds %v", l)
	}
	if got := readFile(t, filepath.Join(dir, "report-v2.txt")); got != content {
		t.Errorf("report-v2.txt holds %q, want %q", got, content)
	}
}
