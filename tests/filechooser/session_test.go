package filechooser_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// geditSession runs in a text-editor sandbox: gedit opens the granted
// file, the user types and saves (gedit holds an inhibition while it
// saves), a second "gedit FILE" reaches the running instance over the
// sandbox's bus, then gedit quits; its standard error is printed between
// markers for the test to read.
const geditSession = `read p
gedit "$p" 2>/tmp/gedit.err &
w=$(xdotool search --sync --onlyvisible --class gedit | head -1)
xdotool windowfocus --sync "$w"; sleep 1
xdotool type --delay 20 "typed "; xdotool key --clearmodifiers ctrl+s
for i in $(seq 200); do grep -q typed "$p" && break; sleep 0.1; done
echo "== saved"
gedit "$p" 2>/tmp/gedit2.err; echo "== second launch $?"
read x; xdotool windowfocus --sync "$w"; xdotool key --clearmodifiers ctrl+q; wait
echo "== gedit stderr"; cat /tmp/gedit.err /tmp/gedit2.err; echo "== end"`

func TestGeditSession(t *testing.T) {
	needBins(t, "gedit")
	t.Parallel()
	s := newSession(t, true)
	s.e = s.e.WithEnv("GSETTINGS_BACKEND=keyfile", "AIRLOCK_LOG=debug")
	dir := hostFiles(t, map[string]string{"notes.txt": "first line\n"})
	a := s.sandbox(t, []string{"--profile", "text-editor", "--name", "ed"}, "/bin/sh", "-c", geditSession)
	a.waitRegistered(t, s, "ed")
	a.send(t, s.grantRW(t, "ed", filepath.Join(dir, "notes.txt")))
	a.waitOutput(t, `^== saved$`)
	a.waitOutput(t, `^== second launch`)
	a.send(t, "quit")
	a.waitOutput(t, `^== end$`)
	a.wait(t)
	errOut := section(a.out.String(), "gedit stderr", "end")
	t.Logf("stdout:\n%s\nstderr:\n%s", a.out.String(), a.errOut.String())
	t.Logf("gedit stderr:\n%s", errOut)
	t.Logf("portal log:\n%s", s.portalLog())
	b, _ := os.ReadFile(filepath.Join(dir, "notes.txt"))
	if !strings.Contains(string(b), "typed") {
		t.Errorf("host file: %q", b)
	}
}
