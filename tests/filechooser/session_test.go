package filechooser_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"airlock/tests/harness"
)

// These tests run real GNOME applications in sandboxes of their shipped
// profiles and read what they print on standard error: every line a missing
// desktop service made them log (dconf, evince's daemon, a portal) is a
// failure. The patterns are the failures seen before the session served
// them; Gtk-CRITICAL lines of the applications' own (gnome-text-editor 43's
// EditorSidebarModel template) are not the session's and are not counted.
var probeFailure = regexp.MustCompile(`(?m)^.*(dconf|GDBus\.Error|ServiceUnknown|Failed to|WARNING|Error registering|[Pp]ortal).*$`)

// notServed are failures of services the session does not offer, on
// purpose, each with its reason; the README says what the user loses.
var notServed = []string{
	// GIO's metadata:: attributes need gvfs (org.gtk.vfs.Daemon and
	// gvfsd-metadata on the session bus), a host daemon that would hand
	// the sandbox the metadata of every file: GNOME Text Editor forgets
	// the cursor position of a file between runs.
	"Setting attribute metadata::gte-cursor not supported",
}

// noProbeFailures fails the test for each line of out that shows a failed
// probe, and for each call the broker refused to an unknown name.
func noProbeFailures(t *testing.T, s *session, app, out string) {
	t.Helper()
next:
	for _, l := range probeFailure.FindAllString(out, -1) {
		for _, n := range notServed {
			if strings.Contains(l, n) {
				t.Logf("%s logged (a service not offered): %s", app, l)
				continue next
			}
		}
		t.Errorf("%s logged: %s", app, l)
	}
	for _, l := range strings.Split(s.portalLog(), "\n") {
		if strings.Contains(l, "refused call to unknown name") {
			t.Errorf("%s called a name the sandbox's bus does not serve: %s", app, l)
		}
	}
}

// typeAndSave types a word into the file an editor opened ($p, window $w)
// and saves it: only once the window's title names the file (the editors
// load it after their window shows: keys typed before can be lost) and the
// editor has handled every event before each step (xidle).
const typeAndSave = `for i in $(seq 1200); do xdotool getwindowname "$w" | grep -q "^$(basename "$p")" && break; sleep 0.1; done
echo "== title $(xdotool getwindowname "$w")"
xdotool windowfocus --sync "$w"; "$XIDLE" "$w" 120s; sleep 1
xdotool type --delay 60 "typed "; "$XIDLE" "$w" 120s; xdotool key --clearmodifiers ctrl+s`

// geditRun runs in a text-editor sandbox: gedit opens the granted file, the
// user types and saves (gedit holds an inhibition while it saves), a second
// "gedit FILE" reaches the running instance over the sandbox's bus and
// ends, a setting is changed, then gedit quits; its standard error is
// printed between markers. GSETTINGS_BACKEND comes from the first argument
// ("" keeps the sandbox's).
const geditRun = `read p
[ -n "$1" ] && export GSETTINGS_BACKEND="$1"
gedit "$p" 2>/tmp/gedit.err &
w=$(findwin --class gedit)
` + typeAndSave + `
for i in $(seq 300); do [ "$(cat "$p")" != "first line" ] && break; sleep 0.1; done
echo "== saved"
timeout 60 gedit "$p" 2>/tmp/gedit2.err; echo "== second launch $?"
gsettings set org.gnome.gedit.preferences.editor tabs-size 7
xdotool windowfocus --sync "$w"; xdotool key --clearmodifiers ctrl+q; wait
echo "== gedit stderr"; cat /tmp/gedit.err /tmp/gedit2.err; echo "== end"`

// TestGeditSessionLooksLikeADesktop: real gedit in the text-editor profile
// logs nothing about dconf or a missing service, its save holds an
// inhibition through the Inhibit portal, a second launch reaches the running
// instance, and its settings (GSettings' keyfile backend, in the profile's
// persistent ~/.config) survive to the next run. The same gedit with the
// host's default backend (dconf) logs the warnings this replaced: the
// check can fail.
func TestGeditSessionLooksLikeADesktop(t *testing.T) {
	needBins(t, "gedit", "gsettings")
	t.Parallel()
	e := harness.Get(t)
	keyfile := filepath.Join(e.Home, ".local/share/airlock/text-editor/config/glib-2.0/settings/keyfile")
	os.RemoveAll(filepath.Dir(keyfile))
	s := newSession(t, true)
	s.e = s.e.WithEnv("GSETTINGS_BACKEND=keyfile", "AIRLOCK_LOG=debug")
	dir := hostFiles(t, map[string]string{"notes.txt": "first line\n"})
	host := filepath.Join(dir, "notes.txt")

	a := s.appScript(t, []string{"--profile", "text-editor", "--name", "ed"}, geditRun, "")
	a.waitRegistered(t, s, "ed")
	a.Send(t, s.grantRW(t, "ed", host))
	a.WaitOutput(t, `^== end$`)
	a.Wait(t)
	// What was typed may come out mangled on a busy machine (xdotool into
	// a nested display); that the save reached the host is what counts.
	if b, _ := os.ReadFile(host); string(b) == "first line\n" || !strings.Contains(string(b), "first line") {
		t.Errorf("gedit's save did not reach the host: %q", b)
	}
	if m := a.WaitOutput(t, `^== second launch (\d+)$`); m[1] != "0" {
		t.Errorf("a second gedit did not hand the file to the running one: exit %s", m[1])
	}
	log := s.portalLog()
	if !strings.Contains(log, "inhibition held") || !strings.Contains(log, "inhibition released") {
		t.Errorf("gedit's save held no inhibition through the portal:\n%s", log)
	}
	noProbeFailures(t, s, "gedit", section(a.Out.String(), "gedit stderr", "end"))
	kf, err := os.ReadFile(keyfile)
	if err != nil || !strings.Contains(string(kf), "tabs-size=") {
		t.Fatalf("no setting in the profile's persistent keyfile %s: %v\n%s", keyfile, err, kf)
	}

	// The next run of the profile reads it back.
	b := s.sandbox(t, []string{"--profile", "text-editor", "--name", "ed2"}, "/bin/sh", "-c", "gsettings get org.gnome.gedit.preferences.editor tabs-size")
	if r := b.Wait(t); r.Code != 0 || strings.TrimSpace(r.Stdout) != "uint32 7" {
		t.Errorf("the setting did not survive to the next run: %v", r)
	}

	// Before: GSettings' default backend inside (dconf) logs its warnings.
	os.WriteFile(host, []byte("first line\n"), 0o644)
	c := s.appScript(t, []string{"--profile", "text-editor", "--name", "ed3"}, geditRun, "dconf")
	c.waitRegistered(t, s, "ed3")
	c.Send(t, s.grantRW(t, "ed3", host))
	c.WaitOutput(t, `^== end$`)
	c.Wait(t)
	if n := strings.Count(section(c.Out.String(), "gedit stderr", "end"), "dconf"); n == 0 {
		t.Errorf("gedit with the dconf backend logged nothing about dconf: the check above cannot fail\n%s", c.Out.String())
	} else {
		t.Logf("with dconf inside, gedit logged %d dconf lines; with the keyfile backend, none", n)
	}
}

// TestEvinceSecondLaunch: real evince in the document-viewer profile
// registers its document with the sandbox's own evince daemon (served by
// the broker), logs nothing, and a second "evince FILE" hands over to the
// running instance and ends.
func TestEvinceSecondLaunch(t *testing.T) {
	needBins(t, "evince")
	src := onePagePDF("Airlock")
	t.Parallel()
	s := newSession(t, true)
	s.e = s.e.WithEnv("GSETTINGS_BACKEND=keyfile", "AIRLOCK_LOG=debug")
	dir := hostFiles(t, map[string]string{"spec.pdf": string(src)})
	script := `read p
evince "$p" 2>/tmp/ev.err & pid=$!
xdotool search --sync --onlyvisible --class evince >/dev/null
timeout 60 evince "$p" 2>/tmp/ev2.err; echo "== second launch $?"
kill $pid; wait
echo "== stderr"; cat /tmp/ev.err /tmp/ev2.err; echo "== end"`
	a := s.sandbox(t, []string{"--profile", "document-viewer", "--name", "ev"}, "/bin/sh", "-c", script)
	a.waitRegistered(t, s, "ev")
	a.Send(t, s.grantRO(t, "ev", filepath.Join(dir, "spec.pdf")))
	a.WaitOutput(t, `^== end$`)
	a.Wait(t)
	if m := a.WaitOutput(t, `^== second launch (\d+)$`); m[1] != "0" {
		t.Errorf("a second evince did not hand the document to the running one: exit %s", m[1])
	}
	noProbeFailures(t, s, "evince", section(a.Out.String(), "stderr", "end"))
}

// TestGnomeTextEditorSession: real GNOME Text Editor (GTK 4) opens a
// granted file, saves it (holding an inhibition through the portal) and
// logs no failed probe; a second launch reaches the running instance.
func TestGnomeTextEditorSession(t *testing.T) {
	needBins(t, "gnome-text-editor")
	t.Parallel()
	s := newSession(t, true)
	s.e = s.e.WithEnv("GSETTINGS_BACKEND=keyfile", "AIRLOCK_LOG=debug")
	dir := hostFiles(t, map[string]string{"notes.txt": "first line\n"})
	host := filepath.Join(dir, "notes.txt")
	script := `read p
gnome-text-editor "$p" 2>/tmp/te.err & pid=$!
w=$(findwin --class gnome-text-editor)
` + typeAndSave + `
for i in $(seq 300); do [ "$(cat "$p")" != "first line" ] && break; sleep 0.1; done
echo "== saved"
timeout 60 gnome-text-editor "$p" 2>/tmp/te2.err; echo "== second launch $?"
kill $pid; wait
echo "== stderr"; cat /tmp/te.err /tmp/te2.err; echo "== end"`
	a := s.appScript(t, []string{"--profile", "text-editor", "--name", "te"}, script)
	a.waitRegistered(t, s, "te")
	a.Send(t, s.grantRW(t, "te", host))
	a.WaitOutput(t, `^== end$`)
	a.Wait(t)
	if b, _ := os.ReadFile(host); string(b) == "first line\n" || !strings.Contains(string(b), "first line") {
		t.Errorf("the save did not reach the host: %q\nthe sandbox printed:\n%s", b, a.Out.String())
	}
	if m := a.WaitOutput(t, `^== second launch (\d+)$`); m[1] != "0" {
		t.Errorf("a second gnome-text-editor did not reach the running one: exit %s", m[1])
	}
	if log := s.portalLog(); !strings.Contains(log, "inhibition held") {
		t.Errorf("no inhibition held through the portal:\n%s", log)
	}
	noProbeFailures(t, s, "gnome-text-editor", section(a.Out.String(), "stderr", "end"))
}

// grantRO grants host read-only to the sandbox and returns its inside path.
func (s *session) grantRO(t *testing.T, sandbox, host string) string {
	t.Helper()
	return s.grantAs(t, sandbox, host)
}

// grantAs runs airlock grant [flags...] sandbox host and returns the inside
// path (which may hold spaces: the line is DOC, a tab, PATH).
func (s *session) grantAs(t *testing.T, sandbox, host string, flags ...string) string {
	t.Helper()
	r := s.airlock(t, append(append([]string{"grant"}, flags...), sandbox, host)...)
	f := strings.SplitN(strings.TrimSpace(r.Stdout), "\t", 2)
	if r.Code != 0 || len(f) != 2 {
		t.Fatalf("airlock grant: %v\nportal log:\n%s", r, s.portalLog())
	}
	return f[1]
}

// TestFirefoxSecondLaunch: a second "firefox-esr URL" in the same sandbox
// reaches the running Firefox over the sandbox's bus (its OpenURL on
// org.mozilla.firefox.PROFILE), which opens the page; the second process
// ends.
func TestFirefoxSecondLaunch(t *testing.T) {
	needBins(t, "firefox-esr")
	t.Parallel()
	s := newSession(t, true)
	s.e = s.e.WithEnv("AIRLOCK_LOG=debug")
	// MOZ_DBUS_REMOTE: the D-Bus remote (org.mozilla.firefox.PROFILE, the
	// default under Wayland) also under X11, where Firefox 115 would
	// otherwise use X11 properties.
	script := `export MOZ_DBUS_REMOTE=1; mkdir -p /tmp/ffp
firefox-esr --profile /tmp/ffp about:blank >/tmp/ff.err 2>&1 & pid=$!
xdotool search --sync --onlyvisible --class firefox >/dev/null; sleep 3
gdbus call --session --dest org.freedesktop.DBus --object-path /org/freedesktop/DBus --method org.freedesktop.DBus.ListNames | grep -o "org\.mozilla\.[A-Za-z0-9_.]*" | sed 's/^/== name /'
timeout 90 firefox-esr --profile /tmp/ffp about:robots >/tmp/ff2.err 2>&1; echo "== second launch $?"
for i in $(seq 300); do xdotool search --onlyvisible --name 'Gort' >/dev/null && break; sleep 0.1; done
xdotool search --onlyvisible --name 'Gort' >/dev/null && echo "== page shown" || echo "== page missing"
kill $pid; wait
echo "== stderr"; cat /tmp/ff.err /tmp/ff2.err; echo "== end"`
	a := s.sandbox(t, []string{"--display", "xephyr", "--name", "ff"}, "/bin/sh", "-c", script)
	a.WaitOutput(t, `^== end$`)
	a.Wait(t)
	if !regexp.MustCompile(`(?m)^== name org\.mozilla\.firefox`).MatchString(a.Out.String()) {
		t.Errorf("Firefox owns no org.mozilla.firefox.* name on the sandbox's bus:\n%s", a.Out.String())
	}
	if m := a.WaitOutput(t, `^== second launch (\d+)$`); m[1] != "0" {
		t.Errorf("a second firefox-esr did not reach the running one: exit %s\n%s", m[1], a.Out.String())
	}
	if !strings.Contains(a.Out.String(), "== page shown\n") {
		t.Errorf("the running Firefox did not open the page\n%s\nportal log:\n%s", a.Out.String(), s.portalLog())
	}
}

// onePagePDF is a minimal valid PDF showing text: a document of the test's
// own, not one of a package's documentation that a slim system leaves out.
func onePagePDF(text string) string {
	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 200] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
		"",
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
	}
	stream := "BT /F1 24 Tf 40 100 Td (" + text + ") Tj ET"
	objs[3] = fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(stream), stream)
	var b strings.Builder
	b.WriteString("%PDF-1.4\n")
	offs := make([]int, len(objs))
	for i, o := range objs {
		offs[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, o := range offs {
		fmt.Fprintf(&b, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, xref)
	return b.String()
}
