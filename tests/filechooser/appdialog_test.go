package filechooser_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"airlock/chooser-ui/protocol"
	"airlock/tests/harness"
)

// pressOpenUntilTold is where each application script waits for the test:
// each time the test says "open" it presses Ctrl+O in the application's
// window $w (found again by the script's findw at each press), waits until the application has handled every event sent
// before (xidle: the application answers _NET_WM_PING from its event loop,
// after the key) and says "== pressed N"; it goes on at any other line
// (firstDialog).
const pressOpenUntilTold = `n=0; while read c && [ "$c" = open ]; do n=$((n+1)); w=$(findw); xdotool windowfocus --sync "$w"; xdotool key --clearmodifiers ctrl+o; "$XIDLE" "$w" 120s; echo "== pressed $n rc=$?"; done`

// findWindow defines findwin ARGS...: the first visible window xdotool
// search ARGS finds that answers _NET_WM_PING (xidle), so that keys go to a
// window that is there and has handled what was sent before. A window can
// vanish between search and use (an application replacing its first
// window, a transient one): xdotool then dies of BadWindow, and findwin
// searches again.
const findWindow = `findwin() { for i in $(seq 600); do x=$(xdotool search --sync --onlyvisible "$@" 2>/dev/null | head -1); [ -n "$x" ] && "$XIDLE" "$x" 60s 2>/dev/null && { echo "$x"; return 0; }; sleep 0.2; done; return 1; }
`

// appScript runs an application script in a sandbox with xidle (see
// pressOpenUntilTold) as $XIDLE, findwin (findWindow) defined, and args as
// its $1, $2, ...
func (s *session) appScript(t *testing.T, flags []string, script string, args ...string) *app {
	t.Helper()
	xidle := s.e.Tool(t, "./tests/harness/xidle")
	return s.sandbox(t, append(append([]string(nil), flags...), "--ro", xidle), append([]string{"/bin/sh", "-c", `XIDLE="$1"; shift
` + findWindow + script, "sh", xidle}, args...)...)
}

// chooserRequests counts the file chooser requests in the broker's log.
func (s *session) chooserRequests() int {
	return strings.Count(s.portalLog(), `msg="file chooser requested"`)
}

// firstDialog has the application's Open shortcut pressed until Airlock's
// chooser shows, as a person presses it again when nothing happened: an
// application whose window is up may not take keys yet (LibreOffice drops
// them while it starts). It presses again only when the application has
// handled the press (pressOpenUntilTold) and asked for no chooser within
// 10 s after: an application that is only slow (GNOME Text Editor on a
// loaded machine) would otherwise open one dialog per press. Then it checks
// the chooser's title.
func (s *session) firstDialog(t *testing.T, a *app, title string) string {
	t.Helper()
	for try := 1; try <= 15; try++ {
		before := s.chooserRequests()
		a.Send(t, "open")
		switch m := a.WaitOutput(t, fmt.Sprintf(`^== pressed %d rc=(\d+)$`, try)); m[1] {
		case "0":
		case "2":
			// The window went away under the press (LibreOffice replaces
			// its first window as it starts); the key may still have
			// reached the new one: wait for a request as after any press,
			// and the script finds the window again for the next.
			t.Logf("the window of Ctrl+O %d is gone (xidle exit 2)", try)
		default:
			t.Fatalf("the application did not answer _NET_WM_PING within 120 s of Ctrl+O (xidle exit %s)", m[1])
		}
		asked := false
		for deadline := time.Now().Add(10 * time.Second); asked || time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			if len(chooserWindows(s.x)) > 0 {
				a.Send(t, "go on")
				return s.dialog(t, a, title)
			}
			if a.Exited() {
				t.Fatalf("the application ended before its dialog: %v", a.Res)
			}
			if !asked && s.chooserRequests() > before {
				asked = true // the chooser is on its way: wait for it (waitChooser's bound)
				deadline = time.Now().Add(120 * time.Second)
			} else if asked && time.Now().After(deadline) {
				t.Fatalf("a chooser was requested but none showed in 120 s\nportal log:\n%s", s.portalLog())
			}
		}
		t.Logf("Ctrl+O %d handled, no chooser asked for in 10 s: pressing it again", try)
	}
	t.Fatalf("no chooser after pressing Ctrl+O 15 times\nstdout:\n%s\nportal log:\n%s", a.Out.String(), s.portalLog())
	return ""
}

// geditOwnDialogs runs in the sandbox with the shipped text-editor profile:
// gedit, started with no file, opens one with Ctrl+O (gedit 44 shows its
// own GtkFileChooserDialog, never the portal: the preloaded library shows
// Airlock's chooser instead), appends a word and saves in place (Ctrl+S),
// then saves a copy under a new name (Ctrl+Shift+S, Airlock's chooser again).
// xdotool inside drives the nested display; gedit's title says what it has
// open ("*" first while modified).
const geditOwnDialogs = `export GSETTINGS_BACKEND=memory NO_AT_BRIDGE=1 G_MESSAGES_DEBUG=airlock-gtkdialog
title() { xdotool getwindowname "$w"; }
until_title() { for i in $(seq 1200); do title | grep -q "$1" && return 0; sleep 0.1; done; echo "== timeout waiting for title $1: $(title)"; cat /tmp/gedit.log; exit 1; }
gedit --standalone >/tmp/gedit.log 2>&1 &
findw() { findwin --class gedit; }
w=$(findw)
` + pressOpenUntilTold + `
until_title '^report.txt '; echo "== opened $(title)"
xdotool windowfocus --sync "$w"; "$XIDLE" "$w" 120s; xdotool key --clearmodifiers ctrl+End; xdotool type --delay 20 " EDITED"
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
	a := s.appScript(t, []string{"--profile", "text-editor", "--display", "xephyr", "--name", "gedit"}, geditOwnDialogs)

	s.firstDialog(t, a, "gedit wants to open files")
	s.typeLocation(t, filepath.Join(dir, "report.txt"))
	out := a.WaitOutput(t, `^== opened (.*)$`)
	if !strings.Contains(out[1], "/run/user/") {
		t.Errorf("gedit's title %q: want the file's document folder inside", out[1])
	}
	a.WaitOutput(t, `^== saved$`)
	edited := strings.TrimSuffix(content, "\n") + " EDITED\n"
	if got := readFile(t, filepath.Join(dir, "report.txt")); got != edited {
		t.Errorf("host file after Ctrl+S: %q, want %q", got, edited)
	}

	a.WaitOutput(t, `^== save as$`)
	s.lastFolder(t, "text-editor", dir)
	wid := s.dialog(t, a, "gedit wants to save a file")
	// gedit's suggested name, shown in the chooser's Name field.
	s.waitEntry(t, "gedit's name report.txt", func(e protocol.TraceEntry) bool { return e.Text == "report.txt" })
	s.focus(t, wid)
	s.enterPath(t, "copy.txt", "")
	a.WaitOutput(t, `^== saved as copy.txt `)
	hostHolds(t, s, filepath.Join(dir, "copy.txt"), edited)
	a.Send(t, "quit")
	a.WaitOutput(t, `^== end$`)
	a.Wait(t)
	if l := listDir(t, dir); !reflect.DeepEqual(l, []string{"copy.txt", "report.txt"}) {
		t.Errorf("after the sandbox ended the host folder holds %v", l)
	}
	if got := readFile(t, filepath.Join(dir, "copy.txt")); got != edited {
		t.Errorf("copy.txt holds %q, want %q", got, edited)
	}
}

// writerOwnDialogs runs in the sandbox with the shipped office profile
// (LibreOffice's gtk3 plugin, whose file picker is a GtkFileChooserDialog
// run with gtk_dialog_run): Writer opens a host document with Ctrl+O,
// types a line into it, saves it in place (Ctrl+S), then saves a copy in
// ODF under a new name (Ctrl+Shift+S). Both dialogs are Airlock's chooser.
const writerOwnDialogs = `export GSETTINGS_BACKEND=memory NO_AT_BRIDGE=1 G_MESSAGES_DEBUG=airlock-gtkdialog
title() { xdotool getwindowname "$(xdotool getactivewindow 2>/dev/null || echo "$w")" 2>/dev/null; }
until_title() { for i in $(seq 1200); do title | grep -q "$1" && return 0; sleep 0.1; done; echo "== timeout waiting for title $1: $(title)"; cat /tmp/lo.log; exit 1; }
# A profile that has seen its first start: no "Tip of the Day" taking the keyboard.
mkdir -p /tmp/lo-profile/user; cat >/tmp/lo-profile/user/registrymodifications.xcu <<'XCU'
<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Common/Misc"><prop oor:name="ShowTipOfTheDay" oor:op="fuse"><value>false</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Misc"><prop oor:name="FirstRun" oor:op="fuse"><value>false</value></prop></item>
</oor:items>
XCU
soffice --writer --norestore -env:UserInstallation=file:///tmp/lo-profile >/tmp/lo.log 2>&1 &
findw() { findwin --name 'LibreOffice Writer$'; }
w=$(findw)
` + pressOpenUntilTold + `
until_title '^memo.fodt - '
w=$(xdotool search --onlyvisible --name '^memo.fodt - ' | head -1); echo "== opened"
xdotool windowfocus --sync "$w"; "$XIDLE" "$w" 120s; sleep 1; xdotool key --clearmodifiers ctrl+Home; xdotool type --delay 30 "typed in writer. "
sleep 1; xdotool key --clearmodifiers ctrl+s
sleep 2; d=$(xdotool search --onlyvisible --name '^Keep current format' | head -1); [ -n "$d" ] && { xdotool windowfocus --sync "$d"; xdotool key --clearmodifiers Return; }
for x in $(xdotool search --onlyvisible --name .); do echo "window: $(xdotool getwindowname $x)"; done
echo "== saved"
read x; xdotool windowfocus --sync "$w"; xdotool key --clearmodifiers ctrl+shift+s; echo "== save as"
until_title '^letter.odt - '; echo "== saved as"
read x; xdotool key --clearmodifiers ctrl+q; wait; echo "== end"`

// memoFODT is a flat ODF text document (one XML file), which Writer opens
// without a filter dialog.
const memoFODT = `<?xml version="1.0" encoding="UTF-8"?>
<office:document xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2" office:mimetype="application/vnd.oasis.opendocument.text">
<office:body><office:text><text:p>memo written on the host</text:p></office:text></office:body>
</office:document>
`

// xmlTag matches one XML tag, for reading the text of an ODF document.
var xmlTag = regexp.MustCompile(`<[^>]*>`)

// hasTypedLine says whether ODF XML holds the host's line and each word
// writerOwnDialogs types, whatever spans Writer splits them into and in
// any letter case (autocorrect capitalises a sentence's first letter) or
// order: Writer still loading a document moves the cursor back to its
// start once, which a loaded CI machine showed mid-line ("In writer.
// typed"). What is checked is that the edit reached the host.
func hasTypedLine(xml string) bool {
	text := strings.ToLower(xmlTag.ReplaceAllString(xml, " "))
	for _, w := range []string{"typed", "writer.", "memo written on the host"} {
		if !strings.Contains(text, w) {
			return false
		}
	}
	return true
}

// TestWriterOwnDialogsUseAirlockChooser: LibreOffice Writer's own Open and
// Save As dialogs show Airlock's chooser; the opened host document gets the
// typed line, and the copy saved under a new name is on the host, an ODF
// zip holding the line, after the sandbox ended; the host folder holds no
// lock or temporary file.
func TestWriterOwnDialogsUseAirlockChooser(t *testing.T) {
	needBins(t, "soffice")
	if _, err := os.Stat("/usr/lib/libreoffice/program/libvclplug_gtk3lo.so"); err != nil {
		t.Skip("LibreOffice's gtk3 plugin (libreoffice-gtk3) is not installed")
	}
	t.Parallel()
	s := newSession(t, true)
	dir := hostFiles(t, map[string]string{"memo.fodt": memoFODT})
	a := s.appScript(t, []string{"--profile", "office", "--name", "writer"}, writerOwnDialogs)
	t.Cleanup(func() {
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(dir, "memo.fodt"))
			body := string(b)
			if i := strings.Index(body, "<office:body"); i >= 0 {
				body = body[i:]
			}
			t.Logf("the sandbox printed:\n%s\nmemo.fodt on the host, its body:\n%.3000s\nhost folder: %v", a.Out.String(), body, listDir(t, dir))
		}
	})

	s.firstDialog(t, a, "writer wants to open files")
	s.typeLocation(t, filepath.Join(dir, "memo.fodt"))
	a.WaitOutput(t, `^== opened$`)
	a.WaitOutput(t, `^== saved$`)
	eventually(t, s, func() bool {
		return hasTypedLine(readFile(t, filepath.Join(dir, "memo.fodt")))
	}, "memo.fodt on the host with the typed line")

	s.lastFolder(t, "office", dir)
	a.Send(t, "save as")
	a.WaitOutput(t, `^== save as$`)
	wid := s.dialog(t, a, "writer wants to save a file")
	s.focus(t, wid)
	s.enterPath(t, "letter.odt", "")
	a.WaitOutput(t, `^== saved as$`)
	a.Send(t, "quit")
	a.WaitOutput(t, `^== end$`)
	a.Wait(t)
	if l := listDir(t, dir); !reflect.DeepEqual(l, []string{"letter.odt", "memo.fodt"}) {
		t.Errorf("after the sandbox ended the host folder holds %v", l)
	}
	out, err := exec.Command("unzip", "-p", filepath.Join(dir, "letter.odt"), "content.xml").CombinedOutput()
	if err != nil || !hasTypedLine(string(out)) {
		t.Errorf("letter.odt's content.xml (unzip: %v) lacks the typed line:\n%.2000s", err, out)
	}
}

// evinceDialogs runs in the sandbox with the shipped document-viewer
// profile: evince (GtkFileChooserNative, which reaches the portal itself
// with GTK_USE_PORTAL=1) opens a host PDF with Ctrl+O, then saves a copy
// (Ctrl+S, "Save a Copy").
const evinceDialogs = `export GSETTINGS_BACKEND=memory NO_AT_BRIDGE=1
title() { xdotool getwindowname "$w"; }
until_title() { for i in $(seq 1200); do title | grep -q "$1" && return 0; sleep 0.1; done; echo "== timeout waiting for title $1: $(title)"; cat /tmp/evince.log; exit 1; }
evince >/tmp/evince.log 2>&1 &
findw() { findwin --class evince; }
w=$(findw)
` + pressOpenUntilTold + `
until_title '^paper.pdf'; echo "== opened"
xdotool windowfocus --sync "$w"; xdotool key --clearmodifiers ctrl+s; echo "== save a copy"
read x; xdotool windowfocus --sync "$w"; xdotool key --clearmodifiers ctrl+w; wait; echo "== end"`

// TestEvinceOpensAndSavesCopy: evince opens a host PDF through Airlock's
// chooser, read-only as the document-viewer profile grants, and "Save a
// Copy" writes the copy the user named on the host; the original is
// untouched.
func TestEvinceOpensAndSavesCopy(t *testing.T) {
	needBins(t, "evince")
	t.Parallel()
	s := newSession(t, true)
	pdf := onePagePDF("Airlock")
	dir := hostFiles(t, map[string]string{"paper.pdf": pdf})
	a := s.appScript(t, []string{"--profile", "document-viewer", "--name", "viewer"}, evinceDialogs)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the sandbox printed:\n%s\nhost folder: %v", a.Out.String(), listDir(t, dir))
		}
	})

	s.firstDialog(t, a, "viewer wants to open files")
	s.typeLocation(t, filepath.Join(dir, "paper.pdf"))
	a.WaitOutput(t, `^== opened$`)
	a.WaitOutput(t, `^== save a copy$`)
	s.lastFolder(t, "document-viewer", dir)
	wid := s.dialog(t, a, "viewer wants to save a file")
	s.focus(t, wid)
	s.enterPath(t, "copy.pdf", "")
	hostHolds(t, s, filepath.Join(dir, "copy.pdf"), pdf)
	a.Send(t, "quit")
	a.WaitOutput(t, `^== end$`)
	a.Wait(t)
	if l := listDir(t, dir); !reflect.DeepEqual(l, []string{"copy.pdf", "paper.pdf"}) {
		t.Errorf("after the sandbox ended the host folder holds %v", l)
	}
	if got := readFile(t, filepath.Join(dir, "paper.pdf")); got != pdf {
		t.Errorf("the opened PDF changed")
	}
}

// textEditorDialogs runs in the sandbox: GNOME Text Editor 43 (GTK 4,
// GtkFileChooserNative, which reaches the portal with GDK_DEBUG=portals)
// opens a host file with Ctrl+O, appends a word, saves (Ctrl+S), and saves
// a copy under a new name (Ctrl+Shift+S).
const textEditorDialogs = `export GSETTINGS_BACKEND=memory NO_AT_BRIDGE=1 GTK_A11Y=none GSK_RENDERER=cairo
title() { xdotool getwindowname "$w"; }
until_title() { for i in $(seq 1200); do title | grep -q "$1" && return 0; sleep 0.1; done; echo "== timeout waiting for title $1: $(title)"; cat /tmp/te.log; exit 1; }
gnome-text-editor --standalone >/tmp/te.log 2>&1 &
findw() { findwin --class gnome-text-editor; }
w=$(findw)
` + pressOpenUntilTold + `
until_title '^report.txt'; echo "== opened $(title)"
xdotool windowfocus --sync "$w"; "$XIDLE" "$w" 120s; sleep 1; xdotool key --clearmodifiers ctrl+End; xdotool type --delay 30 " EDITED"
sleep 1; echo "== modified $(title)"; xdotool key --clearmodifiers ctrl+s; echo "== saved"
read x; xdotool windowfocus --sync "$w"; xdotool key --clearmodifiers ctrl+shift+s; echo "== save as"
until_title '^copy.txt'; echo "== saved as"
read x; xdotool windowfocus --sync "$w"; xdotool key --clearmodifiers ctrl+q; wait; echo "== end"`

// TestGTK4TextEditorDialogs: a real GTK 4 application through Airlock's
// chooser: open a host file, save in place, save a copy under a new name;
// both reach the host and stay after the sandbox ended.
func TestGTK4TextEditorDialogs(t *testing.T) {
	needBins(t, "gnome-text-editor")
	t.Parallel()
	s := newSession(t, true)
	content := randomText("report")
	dir := hostFiles(t, map[string]string{"report.txt": content})
	a := s.appScript(t, []string{"--profile", "text-editor", "--name", "editor"}, textEditorDialogs)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the sandbox printed:\n%s\nhost folder: %v", a.Out.String(), listDir(t, dir))
		}
	})

	s.firstDialog(t, a, "editor wants to open files")
	s.typeLocation(t, filepath.Join(dir, "report.txt"))
	a.WaitOutput(t, `^== saved$`)
	edited := strings.TrimSuffix(content, "\n") + " EDITED\n"
	hostHolds(t, s, filepath.Join(dir, "report.txt"), edited)

	s.lastFolder(t, "text-editor", dir)
	a.Send(t, "save as")
	a.WaitOutput(t, `^== save as$`)
	wid := s.dialog(t, a, "editor wants to save a file")
	s.focus(t, wid)
	s.enterPath(t, "copy.txt", "")
	a.WaitOutput(t, `^== saved as$`)
	hostHolds(t, s, filepath.Join(dir, "copy.txt"), edited)
	a.Send(t, "quit")
	a.WaitOutput(t, `^== end$`)
	a.Wait(t)
	if l := listDir(t, dir); !reflect.DeepEqual(l, []string{"copy.txt", "report.txt"}) {
		t.Errorf("after the sandbox ended the host folder holds %v", l)
	}
}

// gtk3Dialog builds tests/filechooser/testdata/gtk3dialog.c, a GTK 3
// program with its own gtk_dialog_run file dialog, into a file the test
// user owns (granted read-only to run it inside).
func gtk3Dialog(t *testing.T) string {
	t.Helper()
	e := harness.Get(t)
	out := filepath.Join(e.UserDir(t), "gtk3dialog")
	args := []string{"-O2", "-Wall", "-o", out, filepath.Join(e.Root, "tests/filechooser/testdata/gtk3dialog.c")}
	flags, err := exec.Command("pkg-config", "--cflags", "--libs", "gtk+-3.0").Output()
	if err != nil {
		t.Skipf("pkg-config gtk+-3.0: %v (libgtk-3-dev not installed)", err)
	}
	if b, err := exec.Command("gcc", append(args, strings.Fields(string(flags))...)...).CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, b)
	}
	os.Chmod(out, 0o755)
	os.Chown(out, e.UID, e.GID)
	return out
}

// TestGTK3OwnDialogModes: a GTK 3 program's own dialog, run with
// gtk_dialog_run, in each mode, answered through Airlock's chooser: several
// files picked at once, a folder, and a save under the name the program
// suggested; gtk_file_chooser_get_filenames and _get_current_folder answer
// with the granted paths, and the saved file is on the host afterwards.
func TestGTK3OwnDialogModes(t *testing.T) {
	t.Parallel()
	s := newSession(t, true)
	prog := gtk3Dialog(t)
	dir := hostFiles(t, map[string]string{"a.txt": "a\n", "b.txt": "b\n"})
	run := func(name string, args ...string) *app {
		return s.sandbox(t, []string{"--display", "xephyr", "--name", name, "--ro", prog}, append([]string{prog}, args...)...)
	}

	a := run("pickmany", "open-multiple")
	s.lastFolder(t, "default", dir)
	s.dialog(t, a, "pickmany wants to open files")
	s.selectAll(t, 2)
	s.pressReturn(t)
	res := a.Wait(t)
	files := regexp.MustCompile(`(?m)^file (/run/user/\d+/doc/[^/]+/[ab]\.txt)$`).FindAllStringSubmatch(res.Stdout, -1)
	if !strings.Contains(res.Stdout, "response -5\n") || len(files) != 2 || !regexp.MustCompile(`(?m)^folder /run/user/\d+/doc/`).MatchString(res.Stdout) {
		t.Errorf("open-multiple answered:\n%s%s", res.Stdout, res.Stderr)
	}

	a = run("pickdir", "folder")
	s.dialog(t, a, "pickdir wants to choose a folder")
	s.key(t, "ctrl+l")
	s.enterPath(t, dir, "/")
	res = a.Wait(t)
	if !strings.Contains(res.Stdout, "response -5\n") || !regexp.MustCompile(`(?m)^file /run/user/\d+/doc/[^/]+/`+regexp.QuoteMeta(filepath.Base(dir))+`$`).MatchString(res.Stdout) {
		t.Errorf("folder answered:\n%s%s", res.Stdout, res.Stderr)
	}

	a = run("picksave", "save", "suggested.txt")
	wid := s.dialog(t, a, "picksave wants to save a file")
	s.waitEntry(t, "the program's name suggested.txt", func(e protocol.TraceEntry) bool { return e.Text == "suggested.txt" })
	s.focus(t, wid)
	// The broker remembers the folder picked before (dir's parent): the
	// folder is typed with the name.
	s.enterPath(t, filepath.Join(dir, "suggested.txt"), "")
	res = a.Wait(t)
	if !strings.Contains(res.Stdout, "response -5\n") || strings.Contains(res.Stdout, "save failed") {
		t.Errorf("save answered:\n%s%s", res.Stdout, res.Stderr)
	}
	if got := readFile(t, filepath.Join(dir, "suggested.txt")); got != "saved by gtk3dialog\n" {
		t.Errorf("suggested.txt on the host holds %q", got)
	}

	// Cancel answers the program's cancel id, and nothing is granted.
	a = run("pickcancel", "open")
	s.dialog(t, a, "pickcancel wants to open a file")
	s.key(t, "Escape")
	if res = a.Wait(t); !strings.Contains(res.Stdout, "response -6\n") || strings.Contains(res.Stdout, "file ") {
		t.Errorf("cancel answered:\n%s%s", res.Stdout, res.Stderr)
	}
}
