package display_test

import (
	"os"
	"strings"
	"testing"

	"airlock/tests/harness"
)

// TestGeditDialog: real gedit with the shipped text-editor profile on a
// small screen (800x600: the nested screen is capped to the host's). Its
// window and its Open dialog are wholly on the screen, the dialog is not
// exactly on the window, and it has the focus.
func TestGeditDialog(t *testing.T) {
	t.Parallel()
	e := harness.Get(t)
	needBins(t, "Xvfb", "Xephyr", "xdotool", "xwininfo", "xprop", "gedit")
	x := e.StartXvfbScreen(t, "800x600x24")
	env := append(x.Env(), "XDG_RUNTIME_DIR="+privateRuntimeDir(t, e))
	script := listWindows + `gedit --standalone >/dev/null 2>&1 & app=$!
for i in $(seq 600); do w=$(xdotool search --onlyvisible --class gedit | head -1); [ -n "$w" ] && break; sleep 0.1; done
xdotool windowfocus --sync "$w"; xdotool key --clearmodifiers ctrl+o
for i in $(seq 600); do d=$(xdotool search --onlyvisible --name '^Open Files$' | head -1); [ -n "$d" ] && break; sleep 0.1; done
echo "DIALOG $d"
list open
echo "ACTIVE $(xprop -root _NET_ACTIVE_WINDOW | awk '{print $NF}')"
kill $app`
	s := start(t, e, env, "run", "--profile", "text-editor", "--name", uniq("gedit"), "--", "/bin/sh", "-c", script)
	if code := s.wait(t); code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, s.output(), s.errOut.String())
	}
	out := s.output()
	ws := windows(t, out, "open")
	assertOnScreen(t, "gedit", ws, 800, 600)
	d, ok := find(ws, "Open Files")
	var main win
	for _, w := range ws {
		if strings.HasSuffix(w.title, " - gedit") {
			main = w
		}
	}
	if !ok || main.id == "" {
		t.Fatalf("want gedit's window and its Open dialog mapped: %v\n%s", ws, out)
	}
	if d.x == main.x && d.y == main.y {
		t.Errorf("the dialog %v is exactly on gedit's window %v", d, main)
	}
	if !strings.Contains(out, "ACTIVE "+d.id+"\n") {
		t.Errorf("the dialog %s does not have the focus:\n%s", d.id, out)
	}
}

// TestLibreOfficeOptions: real LibreOffice Writer (GTK 3) with the shipped
// office profile on an 800x600 screen: its Options dialog (Alt+F12) is
// wholly on the screen, with the focus, and so are all its other windows.
// Without a window manager the dialog opens at 983x624 (measured on a
// 1024x768 screen, where it fits): larger than this screen.
func TestLibreOfficeOptions(t *testing.T) {
	t.Parallel()
	e := harness.Get(t)
	needBins(t, "Xvfb", "Xephyr", "xdotool", "xwininfo", "xprop", "soffice")
	if _, err := os.Stat("/usr/lib/libreoffice/program/libvclplug_gtk3lo.so"); err != nil {
		t.Skip("libreoffice-gtk3 is not installed")
	}
	x := e.StartXvfbScreen(t, "800x600x24")
	env := append(x.Env(), "XDG_RUNTIME_DIR="+privateRuntimeDir(t, e))
	script := listWindows + `soffice --writer --norestore -env:UserInstallation=file:///tmp/lo-profile >/dev/null 2>&1 &
for i in $(seq 1200); do w=$(xdotool search --onlyvisible --name 'LibreOffice Writer$' | head -1); [ -n "$w" ] && break; sleep 0.1; done
# The first start shows a tip of the day, which has the focus.
for i in $(seq 50); do t=$(xdotool search --onlyvisible --name '^Tip of the Day' | head -1); [ -n "$t" ] && break; sleep 0.1; done
[ -n "$t" ] && xdotool key Escape
for i in $(seq 100); do xdotool search --onlyvisible --name '^Tip of the Day' >/dev/null || break; sleep 0.1; done
xdotool windowfocus --sync "$w"; xdotool key --clearmodifiers alt+F12
for i in $(seq 600); do d=$(xdotool search --onlyvisible --name '^Options - ' | head -1); [ -n "$d" ] && break; sleep 0.1; done
echo "DIALOG $d"
list options
echo "ACTIVE $(xprop -root _NET_ACTIVE_WINDOW | awk '{print $NF}')"
xdotool key Escape
for i in $(seq 100); do xdotool search --onlyvisible --name '^Options - ' >/dev/null || break; sleep 0.1; done
xdotool windowfocus --sync "$w"; xdotool key --clearmodifiers ctrl+q`
	s := start(t, e, env, "run", "--profile", "office", "--name", uniq("writer"), "--", "/bin/sh", "-c", script)
	if code := s.wait(t); code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, s.output(), s.errOut.String())
	}
	out := s.output()
	ws := windows(t, out, "options")
	assertOnScreen(t, "LibreOffice", ws, 800, 600)
	var d win
	for _, w := range ws {
		if strings.HasPrefix(w.title, "Options - ") {
			d = w
		}
	}
	if d.id == "" {
		t.Fatalf("no Options dialog mapped: %v\n%s", ws, out)
	}
	if !strings.Contains(out, "ACTIVE "+d.id+"\n") {
		t.Errorf("the Options dialog %s does not have the focus:\n%s", d.id, out)
	}
}
