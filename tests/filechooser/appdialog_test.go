package filechooser_test

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"airlock/chooser-ui/protocol"
)

// geditOwnDialogs runs in the sandbox with the shipped text-editor profile:
// gedit, started with no file, opens one with Ctrl+O (gedit 44 shows its
// own GtkFileChooserDialog, never the portal: the preloaded library shows
// Airlock's chooser instead), appends a word and saves in place (Ctrl+S),
// then saves a copy under a new name (Ctrl+Shift+S, Airlock's chooser again).
// xdotool inside drives the nested display; gedit's title says what it has
// open ("*" first while modified).
const geditOwnDialogs = `export GSETTINGS_BACKEND=memory NO_AT_BRIDGE=1 G_MESSAGES_DEBUG=airlock-gtkdialog
title() { xdotool getwindowname "$w"; }
until_title() { for i in $(seq 300); do title | grep -q "$1" && return 0; sleep 0.1; done; echo "== timeout waiting for title $1: $(title)"; cat /tmp/gedit.log; exit 1; }
gedit --standalone >/tmp/gedit.log 2>&1 &
w=$(xdotool search --sync --onlyvisible --class gedit | head -1)
xdotool windowfocus --sync "$w"; sleep 1
xdotool key --clearmodifiers ctrl+o; echo "== open"
until_title '^report.txt '; echo "== opened $(title)"
xdotool windowfocus --sync "$w"; xdotool key --clearmodifiers ctrl+End; xdotool type --delay 20 " EDITED"
until_title '^\*report.txt '
xdotool key --clearmodifiers ctrl+s
until_title '^report.txt '; echo "== saved"
xdotool key --clearmodifiers ctrl+shift+s; echo "== save as"
until_title '^copy.txt '; echo "== saved as $(title)"
read x; xdotool windowfocus --sync "$w"; xdotool key --clearmodifiers ctrl+q; wait; echo "== end"`

// TestGeditOwnDialogsUseAirlockChooser: gedit's own Open and Save As
// dialogs show Airlock's chooser on the host; the file picked there opens,
// saves in place, and a copy saved under a new name reaches the host, with
// gedit's bytes, and stays after the sandbox ended. Before the library, the
// dialog listed the sandbox's empty home and no chooser ever showed.
func TestGeditOwnDialogsUseAirlockChooser(t *testing.T) {
	needBins(t, "gedit")
	t.Parallel()
	s := newSession(t, true)
	content := randomText("report")
	dir := hostFiles(t, map[string]string{"report.txt": content})
	a := s.sandbox(t, []string{"--profile", "text-editor", "--display", "xephyr", "--name", "gedit"}, "/bin/sh", "-c", geditOwnDialogs)

	a.waitOutput(t, `^== open$`)
	s.dialog(t, a, "gedit wants to open files")
	s.typeLocation(t, filepath.Join(dir, "report.txt"))
	out := a.waitOutput(t, `^== opened (.*)$`)
	if !strings.Contains(out[1], "/run/user/") {
		t.Errorf("gedit's title %q: want the file's document folder inside", out[1])
	}
	a.waitOutput(t, `^== saved$`)
	edited := strings.TrimSuffix(content, "\n") + " EDITED\n"
	if got := readFile(t, filepath.Join(dir, "report.txt")); got != edited {
		t.Errorf("host file after Ctrl+S: %q, want %q", got, edited)
	}

	a.waitOutput(t, `^== save as$`)
	s.lastFolder(t, "text-editor", dir)
	wid := s.dialog(t, a, "gedit wants to save a file")
	// gedit's suggested name, shown in the chooser's Name field.
	s.waitEntry(t, "gedit's name report.txt", func(e protocol.TraceEntry) bool { return e.Text == "report.txt" })
	s.focus(t, wid)
	s.enterPath(t, "copy.txt", "")
	a.waitOutput(t, `^== saved as copy.txt `)
	hostHolds(t, s, filepath.Join(dir, "copy.txt"), edited)
	a.send(t, "quit")
	a.waitOutput(t, `^== end$`)
	a.wait(t)
	if l := listDir(t, dir); !reflect.DeepEqual(l, []string{"copy.txt", "report.txt"}) {
		t.Errorf("after the sandbox ended the host folder holds %v", l)
	}
	if got := readFile(t, filepath.Join(dir, "copy.txt")); got != edited {
		t.Errorf("copy.txt holds %q, want %q", got, edited)
	}
}
