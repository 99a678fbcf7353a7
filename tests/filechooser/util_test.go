// Package filechooser_test runs real GTK applications (zenity, python3-gi
// GTK 3 and GTK 4 programs) inside real sandboxes, lets them ask
// org.freedesktop.portal.FileChooser for files, drives Airlock's own chooser
// on the host display with xdotool as a person would, and checks the bytes
// on the host.
package filechooser_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"airlock/chooser-ui/protocol"
	"airlock/tests/harness"
)

// screenshotPath is where a run leaves a picture of the chooser, for
// visual review.
var screenshotPath = filepath.Join(os.TempDir(), "airlock-filechooser-screenshot.png")

// session is one test's private world: its session bus (and so its own
// broker), its own XDG_RUNTIME_DIR and XDG_STATE_HOME, and its own host
// X display on which the broker shows the chooser.
type session struct {
	e       *harness.Env
	runtime string        // XDG_RUNTIME_DIR of the test user for this test
	x       *harness.Xvfb // nil for a session without a display
	// state is the broker's XDG_STATE_HOME (it remembers the chooser's
	// last folder per profile there).
	state string
	// trace is the file where the chooser writes what its focused entry
	// shows (AIRLOCK_CHOOSER_TRACE): the test's eyes on the dialog.
	trace string
}

// newSession starts a private session bus; withDisplay adds a host Xvfb.
func newSession(t *testing.T, withDisplay bool) *session {
	t.Helper()
	if withDisplay {
		needBins(t, "Xvfb", "Xephyr", "xdotool")
	}
	if err := os.Chmod("/dev/fuse", 0o666); err != nil && os.Geteuid() == 0 {
		t.Fatalf("chmod /dev/fuse: %v", err)
	}
	base := harness.Get(t)
	if base.Chooser == "" {
		t.Fatal("airlock-chooser was not built")
	}
	e := base.SessionBus(t)
	rt := base.UserDir(t)
	if err := os.Chmod(rt, 0o700); err != nil {
		t.Fatal(err)
	}
	// A state folder of its own: the broker remembers the last folder per
	// profile there, and parallel tests must not see each other's.
	state := base.UserDir(t)
	e = e.WithEnv("XDG_RUNTIME_DIR="+rt, "XDG_STATE_HOME="+state)
	s := &session{e: e, runtime: rt, state: state}
	if withDisplay {
		s.x = e.StartXvfb(t)
		s.trace = filepath.Join(base.UserDir(t), "chooser-entries")
		s.e = s.e.WithEnv(append(s.x.Env(), protocol.EnvTrace+"="+s.trace)...)
	}
	return s
}

// portalLog is what this session's broker has logged.
func (s *session) portalLog() string {
	b, _ := os.ReadFile(filepath.Join(s.runtime, "airlock", "portal.log"))
	return string(b)
}

// airlock runs `airlock args...` as the test user, bounded against hangs.
func (s *session) airlock(t *testing.T, args ...string) harness.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	return harness.RunCmd(s.e.Airlock(ctx, args...))
}

// grant is one line of `airlock grants`.
type grant struct {
	Sandbox, Doc, Mode, Host, Inside string
}

// grants lists the broker's grants (of one sandbox when key is not "").
func (s *session) grants(t *testing.T, key string) []grant {
	t.Helper()
	args := []string{"grants"}
	if key != "" {
		args = append(args, key)
	}
	r := s.airlock(t, args...)
	if r.Code != 0 {
		t.Fatalf("airlock %v: %v\nportal log:\n%s", args, r, s.portalLog())
	}
	lines := strings.Split(strings.TrimSpace(r.Stdout), "\n")
	if len(lines) == 0 || !strings.HasPrefix(lines[0], "SANDBOX") {
		t.Fatalf("airlock grants: no header: %v", r)
	}
	var out []grant
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		if len(f) != 5 {
			t.Fatalf("airlock grants: unexpected line %q", l)
		}
		out = append(out, grant{f[0], f[1], f[2], f[3], f[4]})
	}
	return out
}

// app is a sandbox left running while the test drives the chooser.
type app struct {
	*harness.App
	s *session
}

// sandbox starts `airlock run flags... -- command...` (harness.StartApp).
func (s *session) sandbox(t *testing.T, flags []string, command ...string) *app {
	t.Helper()
	return &app{App: s.e.StartApp(t, s.portalLog, flags, command...), s: s}
}

func needBins(t *testing.T, bins ...string) {
	t.Helper()
	harness.NeedBins(t, bins...)
}

// xdo runs xdotool on the host display and fails the test when it fails.
func xdo(t *testing.T, x *harness.Xvfb, args ...string) string {
	t.Helper()
	out, err := x.Host("xdotool", args...)
	if err != nil {
		t.Fatalf("xdotool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(out)
}

// chooserWindows lists the visible windows of airlock-chooser on the host
// display (the dialog, and GTK's overwrite confirmation when it is up).
func chooserWindows(x *harness.Xvfb) []string {
	return x.Windows("--onlyvisible", "--class", "^airlock-chooser$")
}

// waitChooser polls (xdotool --sync polls only twice a second) until n
// chooser windows are visible, or the application ends.
func (s *session) waitChooser(t *testing.T, a *app, n int) []string {
	t.Helper()
	deadline := time.Now().Add(120 * time.Second)
	for {
		if w := chooserWindows(s.x); len(w) == n {
			return w
		}
		if a != nil && a.Exited() {
			t.Fatalf("the application ended while waiting for %d chooser windows: %v\nportal log:\n%s", n, a.Res, s.portalLog())
		}
		if time.Now().After(deadline) {
			out, errOut := "", ""
			if a != nil {
				out, errOut = a.Out.String(), a.ErrOut.String()
			}
			t.Fatalf("no %d chooser windows on the host display\nstdout:\n%s\nstderr:\n%s\nportal log:\n%s", n, out, errOut, s.portalLog())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// dialog waits for the one chooser window, checks its title and focuses it.
func (s *session) dialog(t *testing.T, a *app, wantTitle string) string {
	t.Helper()
	wid := s.waitChooser(t, a, 1)[0]
	if got := xdo(t, s.x, "getwindowname", wid); got != wantTitle {
		t.Errorf("chooser title %q, want %q", got, wantTitle)
	}
	s.focus(t, wid)
	return wid
}

// focus gives wid the keyboard (there is no window manager).
func (s *session) focus(t *testing.T, wid string) {
	t.Helper()
	xdo(t, s.x, "windowfocus", "--sync", wid)
}

func (s *session) key(t *testing.T, keys ...string) {
	t.Helper()
	xdo(t, s.x, append([]string{"key", "--clearmodifiers", "--delay", "60"}, keys...)...)
}

func (s *session) typeText(t *testing.T, text string) {
	t.Helper()
	xdo(t, s.x, "type", "--clearmodifiers", "--delay", "20", text)
}

// trace is what the chooser's dialog shows now (protocol.ReadTrace).
func (s *session) traceNow() protocol.Trace { return protocol.ReadTrace(s.trace) }

// lastFolder makes the broker open the next chooser of profile in folder,
// as it does after the user chose a file there before.
func (s *session) lastFolder(t *testing.T, profile, folder string) {
	t.Helper()
	dir := filepath.Join(s.state, "airlock")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(map[string]string{profile: folder})
	s.e.WriteUserFile(t, filepath.Join(dir, "last-folders.json"), string(b), 0o600)
	os.Chown(dir, s.e.UID, s.e.GID)
}

// selectAll selects every file of the folder the chooser shows, once it
// has loaded n of them: Ctrl+A again until the chooser shows n selected
// (Ctrl+A before the load selects nothing; pressing it again is harmless).
func (s *session) selectAll(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		s.key(t, "ctrl+a")
		for until := time.Now().Add(time.Second); time.Now().Before(until); time.Sleep(20 * time.Millisecond) {
			if s.traceNow().Selected == strconv.Itoa(n) {
				return
			}
		}
		if time.Now().After(deadline) {
			tr, _ := os.ReadFile(s.trace)
			t.Fatalf("the chooser never showed %d files selected (last: %s)\ntrace:\n%s\nportal log:\n%s", n, s.traceNow().Selected, tr, s.portalLog())
		}
	}
}

// waitEntry waits until the chooser's focused entry shows what ok accepts,
// as a person looks before pressing a key; the limit only guards a hang.
func (s *session) waitEntry(t *testing.T, what string, ok func(protocol.TraceEntry) bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		tr := s.traceNow()
		e := tr.Entry
		if tr.HasEntry && ok(e) {
			return
		}
		if time.Now().After(deadline) {
			tr, _ := os.ReadFile(s.trace)
			t.Fatalf("the chooser's entry never showed %s: last %+v\ntrace:\n%s\nportal log:\n%s", what, e, tr, s.portalLog())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// enterPath types path into the focused entry (replacing what it holds)
// and presses Return once the entry shows exactly path. completion is what
// GTK's inline completion appends to it ("/" after a folder's name, "" for a
// file named in full): it is waited for and deleted first, so that a
// completion arriving late cannot change what Return acts on.
func (s *session) enterPath(t *testing.T, path, completion string) {
	t.Helper()
	s.key(t, "ctrl+a")
	s.typeText(t, path)
	s.waitEntry(t, fmt.Sprintf("%q typed", path), func(e protocol.TraceEntry) bool { return e.Typed() == path && e.Text == path+completion })
	if completion != "" {
		s.key(t, "Delete")
		s.waitEntry(t, fmt.Sprintf("%q without its completion", path), func(e protocol.TraceEntry) bool { return e.Text == path })
	}
	s.pressReturn(t)
}

// pressReturn presses Return in the focused chooser window and waits for
// the dialog to act on it: an answer, a confirmation (its own window, which
// takes the keyboard), or a new text in the entry (Return on a folder goes
// into it). It presses again only when the chooser has handled every event
// sent before (it answered _NET_WM_PING, xidle) and then did nothing for
// 3 s: a Return GTK dropped while it was busy. A chooser that acts on none
// of 5 fails the test, with what it showed.
func (s *session) pressReturn(t *testing.T) {
	t.Helper()
	wid := xdo(t, s.x, "getwindowfocus")
	xidle := s.e.Tool(t, "./tests/harness/xidle")
	before := s.traceNow()
	acted := func() bool {
		tr := s.traceNow()
		return tr.Responses > before.Responses || tr.Windows > before.Windows || tr.Entry.Text != before.Entry.Text
	}
	for try := 1; try <= 5; try++ {
		s.key(t, "Return")
		if _, err := s.x.Host(xidle, wid, "25s"); err != nil && !acted() {
			t.Logf("the chooser did not answer a ping after Return %d: %v", try, err)
		}
		for until := time.Now().Add(3 * time.Second); time.Now().Before(until); time.Sleep(20 * time.Millisecond) {
			if acted() {
				return
			}
		}
		t.Logf("the chooser handled Return %d and did nothing for 3 s: pressing it again", try)
	}
	tr, _ := os.ReadFile(s.trace)
	t.Fatalf("the chooser acted on none of 5 Returns\ntrace:\n%s\nportal log:\n%s", tr, s.portalLog())
}

// typeLocation opens the chooser's location entry (Ctrl+L), types path and
// presses Return, as a person who knows the path does.
func (s *session) typeLocation(t *testing.T, path string) {
	t.Helper()
	s.key(t, "ctrl+l")
	s.enterPath(t, path, "")
}

// screenshot saves the whole host display to screenshotPath.
func (s *session) screenshot(t *testing.T) {
	t.Helper()
	s.x.Screenshot(t, screenshotPath)
}

// userScript copies a file (relative to the repository root) to a place
// the test user can read and returns that path.
func userScript(t *testing.T, rel string) string {
	t.Helper()
	return harness.Get(t).UserCopy(t, rel, 0o644)
}

// hostFiles makes a folder owned by the test user with the given files
// (name -> content) in it.
func hostFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	e := harness.Get(t)
	d := e.UserDir(t)
	for n, c := range files {
		e.WriteUserFile(t, filepath.Join(d, n), c, 0o644)
	}
	return d
}

// randomText is content no other test writes.
func randomText(label string) string {
	b := make([]byte, 12)
	rand.Read(b)
	return fmt.Sprintf("%s %s\nsecond line\n", label, hex.EncodeToString(b))
}

// listDir names the entries of a host folder, sorted.
func listDir(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	sort.Strings(out)
	return out
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// insideDoc matches the path of a granted file inside a sandbox.
func insideDoc(uid int, name string) *regexp.Regexp {
	return regexp.MustCompile(fmt.Sprintf(`^/run/user/%d/doc/([A-Za-z0-9_-]+)/%s$`, uid, regexp.QuoteMeta(name)))
}

// waitFor polls cond until it holds or the sandbox ends; the limit only
// guards against hangs.
func waitFor(t *testing.T, a *app, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if a.Exited() {
			t.Fatalf("the sandbox ended while waiting for %s: %v\nportal log:\n%s", what, a.Res, a.s.portalLog())
		}
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s\nportal log:\n%s", what, a.s.portalLog())
		}
		time.Sleep(100 * time.Millisecond)
	}
}
