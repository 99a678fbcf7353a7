package filechooser_test

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"airlock/tests/harness"
)

// The saves in these tests run in a real sandbox (testdata/saves.py) on a
// writable grant served by the real document store; the "Keep it?"
// question is Airlock's chooser on the host display, answered with xdotool.

// do sends one command to saves.py and waits for its answer.
func (a *app) do(t *testing.T, n int, cmd string) {
	t.Helper()
	a.Send(t, fmt.Sprintf("%d %s", n, cmd))
	m := a.WaitOutput(t, fmt.Sprintf(`^== (done|error) %d(.*)$`, n))
	if m[1] != "done" {
		t.Fatalf("%s failed in the sandbox:%s", cmd, m[2])
	}
}

// question waits for the "Keep it?" dialog of sandbox name and answers it
// with keys ("alt+k" Keep, "alt+d" Discard).
func (s *session) question(t *testing.T, a *app, name string, keys ...string) {
	t.Helper()
	s.dialog(t, a, name+" saved a new file")
	s.screenshot(t)
	s.key(t, keys...)
	eventually(t, s, func() bool { return len(chooserWindows(s.x)) == 0 }, "the question to close")
}

// eventually polls cond; the limit only guards against hangs.
func eventually(t *testing.T, s *session, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s\nportal log:\n%s", what, s.portalLog())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// hostHolds waits until the host file p holds content.
func hostHolds(t *testing.T, s *session, p, content string) {
	t.Helper()
	eventually(t, s, func() bool {
		b, err := os.ReadFile(p)
		return err == nil && string(b) == content
	}, p+" to hold "+fmt.Sprintf("%q", content))
}

// noQuestion checks that no chooser window shows up for a while (longer
// than the store's settle delay).
func (s *session) noQuestion(t *testing.T, what string) {
	t.Helper()
	deadline := time.Now().Add(4 * time.Second)
	for time.Now().Before(deadline) {
		if w := chooserWindows(s.x); len(w) != 0 {
			t.Fatalf("%s: a question appeared: %v\nportal log:\n%s", what, w, s.portalLog())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (s *session) grantRW(t *testing.T, sandbox, host string) string {
	t.Helper()
	r := s.airlock(t, "grant", "--rw", sandbox, host)
	f := strings.Fields(r.Stdout)
	if r.Code != 0 || len(f) != 2 {
		t.Fatalf("airlock grant --rw: %v\nportal log:\n%s", r, s.portalLog())
	}
	return f[1]
}

// TestSavesBesideGrant: GIO's replace, LibreOffice's and QSaveFile's saves
// of the granted file ask nothing and land on the host; a Save As to a new
// name beside it is asked about, kept on Keep (on the host, with its bytes,
// after the sandbox ended) and gone on Discard; lock files never reach the
// host.
func TestSavesBesideGrant(t *testing.T) {
	t.Parallel()
	s := newSession(t, true)
	dir := hostFiles(t, map[string]string{"report.odt": "version 1"})
	host := filepath.Join(dir, "report.odt")
	py := userScript(t, "tests/filechooser/testdata/saves.py")
	a := s.sandbox(t, []string{"--name", "saver", "--ro", py}, "/usr/bin/python3", py)
	a.waitRegistered(t, s, "saver")
	a.Send(t, s.grantRW(t, "saver", host))

	a.do(t, 1, "gio by GIO")
	if got := readFile(t, host); got != "by GIO" {
		t.Errorf("after GIO's save the host file holds %q", got)
	}
	a.do(t, 2, "libreoffice by LibreOffice")
	if got := readFile(t, host); got != "by LibreOffice" {
		t.Errorf("after LibreOffice's save the host file holds %q", got)
	}
	a.do(t, 3, "qt by Qt")
	if got := readFile(t, host); got != "by Qt" {
		t.Errorf("after QSaveFile's save the host file holds %q", got)
	}
	s.noQuestion(t, "the granted file's own saves")

	kept := strings.ReplaceAll(randomText("kept"), "\n", " ")
	a.do(t, 4, "saveas report-v2.odt "+strings.TrimSpace(kept))
	if l := visibleDir(t, dir); !reflect.DeepEqual(l, []string{"report.odt"}) {
		t.Errorf("before the answer the host folder shows %v", l)
	}
	s.question(t, a, "saver", "alt+k")
	hostHolds(t, s, filepath.Join(dir, "report-v2.odt"), strings.TrimSpace(kept))

	a.do(t, 5, "saveas draft.odt not wanted")
	s.question(t, a, "saver", "alt+d")

	a.do(t, 6, "lock")
	a.do(t, 7, "exit")
	if res := a.Wait(t); res.Code != 0 {
		t.Errorf("sandbox: %v", res)
	}
	s.noQuestion(t, "a lock file left at the end")
	if l := listDir(t, dir); !reflect.DeepEqual(l, []string{"report-v2.odt", "report.odt"}) {
		t.Errorf("after the sandbox ended the host folder holds %v, want report-v2.odt and report.odt only", l)
	}
	if got := readFile(t, filepath.Join(dir, "report-v2.odt")); got != strings.TrimSpace(kept) {
		t.Errorf("kept file after the end holds %q", got)
	}
}

// TestNewFileAskedAtSandboxEnd: a file saved just before the sandbox ends
// is asked about after it ended, and kept.
func TestNewFileAskedAtSandboxEnd(t *testing.T) {
	t.Parallel()
	s := newSession(t, true)
	dir := hostFiles(t, map[string]string{"notes.txt": "notes"})
	py := userScript(t, "tests/filechooser/testdata/saves.py")
	// The profile's colour marks the question (issue 13 item 6).
	const hex = "#c03a7e"
	prof := filepath.Join(harness.Get(t).UserDir(t), "quitter.toml")
	harness.Get(t).WriteUserFile(t, prof, "color = \""+hex+"\"\n", 0o644)
	a := s.sandbox(t, []string{"--profile", prof, "--name", "quitter", "--ro", py}, "/usr/bin/python3", py)
	a.waitRegistered(t, s, "quitter")
	a.Send(t, s.grantRW(t, "quitter", filepath.Join(dir, "notes.txt")))
	a.do(t, 1, "saveas last-minute.txt written just before quitting")
	a.do(t, 2, "exit")
	if res := a.Wait(t); res.Code != 0 {
		t.Errorf("sandbox: %v", res)
	}
	wid := s.dialog(t, nil, "quitter saved a new file")
	if n, err := harness.AwaitColor(s.x.Env(), wid, hex, 200, 20*time.Second); err != nil || n < 200 {
		t.Errorf("the question shows %d pixels of the profile's colour %s (%v), want its bar", n, hex, err)
	}
	s.key(t, "alt+k")
	hostHolds(t, s, filepath.Join(dir, "last-minute.txt"), "written just before quitting")
}

// visibleDir lists a host folder without the store's hidden files.
func visibleDir(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	for _, n := range listDir(t, dir) {
		if !strings.HasPrefix(n, ".airlock-") {
			out = append(out, n)
		}
	}
	return out
}

// TestQuestionWithdrawnBySlowSave: an app that closes its temporary and
// renames it over the granted file only later (after the question showed)
// gets its save, and the question goes away unanswered.
func TestQuestionWithdrawnBySlowSave(t *testing.T) {
	t.Parallel()
	s := newSession(t, true)
	dir := hostFiles(t, map[string]string{"slow.txt": "version 1"})
	host := filepath.Join(dir, "slow.txt")
	py := userScript(t, "tests/filechooser/testdata/saves.py")
	a := s.sandbox(t, []string{"--name", "slowpoke", "--ro", py}, "/usr/bin/python3", py)
	a.waitRegistered(t, s, "slowpoke")
	a.Send(t, s.grantRW(t, "slowpoke", host))
	a.do(t, 1, "saveas slow.txt.part version 2")
	s.dialog(t, a, "slowpoke saved a new file")
	a.do(t, 2, "rename slow.txt.part")
	eventually(t, s, func() bool { return len(chooserWindows(s.x)) == 0 }, "the question to be withdrawn")
	if got := readFile(t, host); got != "version 2" {
		t.Errorf("granted file holds %q", got)
	}
	a.do(t, 3, "exit")
	a.Wait(t)
	if l := listDir(t, dir); !reflect.DeepEqual(l, []string{"slow.txt"}) {
		t.Errorf("host folder holds %v", l)
	}
}
