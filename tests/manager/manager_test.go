// Package manager_test drives the grant manager (`airlock manager`, issue 13
// items 3 and 6) as a person would: on a host Xvfb, with a real session
// dbus-daemon, broker and sandboxes run as the test user, by keyboard
// through xdotool. Its eyes are the manager's trace (AIRLOCK_CHOOSER_TRACE):
// each list as its cell renderers hold it, which is what GTK draws.
package manager_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"airlock/chooser-ui/protocol"
	"airlock/tests/harness"
)

type session struct {
	e     *harness.Env
	x     *harness.Xvfb
	trace string
	rt    string
}

func newSession(t *testing.T) *session {
	t.Helper()
	harness.NeedBins(t, "Xvfb", "xdotool", "import")
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
	e = e.WithEnv("XDG_RUNTIME_DIR="+rt, "XDG_STATE_HOME="+base.UserDir(t))
	s := &session{e: e, rt: rt}
	s.x = e.StartXvfb(t)
	s.trace = filepath.Join(base.UserDir(t), "manager-trace")
	base.WriteUserFile(t, s.trace, "", 0o600)
	s.e = s.e.WithEnv(s.x.Env()...)
	return s
}

func (s *session) portalLog() string {
	b, _ := os.ReadFile(filepath.Join(s.rt, "airlock", "portal.log"))
	return string(b)
}

func (s *session) airlock(t *testing.T, args ...string) harness.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	return harness.RunCmd(s.e.Airlock(ctx, args...))
}

// shell is a sandbox running /bin/sh, for checks from inside.
type shell struct {
	in   io.WriteCloser
	out  *bufio.Scanner
	cmd  *exec.Cmd
	done chan struct{}
}

func (s *session) startShell(t *testing.T, name string, flags ...string) *shell {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	args := append(append([]string{"run", "--name", name}, flags...), "--", "/bin/sh", "-s")
	cmd := s.e.Airlock(ctx, args...)
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sh := &shell{in: in, out: bufio.NewScanner(out), cmd: cmd, done: make(chan struct{})}
	sh.run(t, "true")
	// Process.Wait, not cmd.Wait: the scanner still reads stdout.
	go func() { cmd.Process.Wait(); close(sh.done) }()
	t.Cleanup(func() {
		in.Close()
		select {
		case <-sh.done:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
		}
	})
	return sh
}

// run runs script in the sandbox's shell and returns its lines (call it
// before the shell's end, never after).
func (sh *shell) run(t *testing.T, script string) []string {
	t.Helper()
	fmt.Fprintf(sh.in, "%s\necho __END__\n", script)
	var lines []string
	for sh.out.Scan() {
		if sh.out.Text() == "__END__" {
			return lines
		}
		lines = append(lines, sh.out.Text())
	}
	t.Fatalf("the sandbox's shell ended during %q: %v", script, lines)
	return nil
}

// view is one list of the manager as last drawn.
type view struct {
	rows     [][]string // cells, as drawn
	selected string
}

// lists reads the last drawing of both lists from the trace.
func (s *session) lists() (sandboxes, grants view) {
	b, _ := os.ReadFile(s.trace)
	var cur *view
	var v view
	for _, l := range strings.Split(string(b), "\n") {
		switch {
		case l == "begin sandboxes" || l == "begin grants":
			v = view{}
			cur = &v
		case cur != nil && strings.HasPrefix(l, "row\t"):
			cur.rows = append(cur.rows, strings.Split(l, "\t")[1:])
		case cur != nil && strings.HasPrefix(l, "selected "):
			cur.selected = strings.TrimPrefix(l, "selected ")
		case l == "end sandboxes":
			sandboxes, cur = v, nil
		case l == "end grants":
			grants, cur = v, nil
		}
	}
	return sandboxes, grants
}

// waitLists waits until the lists satisfy ok.
func (s *session) waitLists(t *testing.T, what string, ok func(sb, g view) bool) (view, view) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		sb, g := s.lists()
		if ok(sb, g) {
			return sb, g
		}
		if time.Now().After(deadline) {
			tr, _ := os.ReadFile(s.trace)
			if len(tr) > 3000 {
				tr = tr[len(tr)-3000:]
			}
			t.Fatalf("the manager never showed %s: sandboxes %q, grants %q\ntrace's end:\n%s\nportal log:\n%s", what, sb.rows, g.rows, tr, s.portalLog())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func hasRow(v view, col int, want string) bool {
	for _, r := range v.rows {
		if col < len(r) && r[col] == want {
			return true
		}
	}
	return false
}

// manager is the running `airlock manager` and its window.
type manager struct {
	cmd  *exec.Cmd
	win  string
	done chan struct{}
}

const managerTitle = "Airlock: Sandboxes and Their Files"

func (s *session) startManager(t *testing.T) *manager {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	cmd := s.e.WithEnv("AIRLOCK_CHOOSER_TRACE="+s.trace).Airlock(ctx, "manager")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	m := &manager{cmd: cmd, done: make(chan struct{})}
	go func() { cmd.Wait(); close(m.done) }()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-m.done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
		}
	})
	m.win = s.window(t, managerTitle)
	s.waitLists(t, "its first drawing", func(sb, g view) bool { b, _ := os.ReadFile(s.trace); return bytes.Contains(b, []byte("end grants")) })
	return m
}

// window waits for the visible window named exactly name.
func (s *session) window(t *testing.T, name string) string {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if ids := s.x.Windows("--onlyvisible", "--name", "^"+name+"$"); len(ids) > 0 {
			return ids[len(ids)-1]
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no window %q", name)
	return ""
}

// keys focuses win (there is no window manager) and types the keys.
func (s *session) keys(t *testing.T, win string, keys ...string) {
	t.Helper()
	if _, err := s.x.Host("xdotool", "windowfocus", "--sync", win); err != nil {
		t.Fatal(err)
	}
	if _, err := s.x.Host("xdotool", append([]string{"key", "--clearmodifiers"}, keys...)...); err != nil {
		t.Fatal(err)
	}
}

// TestManagerLiveRevokeEnd: the manager shows a sandbox started after it
// opened, a grant made after, revokes it by keyboard (Delete) so that the
// sandbox reads nothing more, and ends the sandbox after asking.
func TestManagerLiveRevokeEnd(t *testing.T) {
	t.Parallel()
	s := newSession(t)
	m := s.startManager(t)
	if sb, _ := s.lists(); len(sb.rows) != 0 {
		t.Fatalf("sandboxes before any ran: %q", sb.rows)
	}

	name := fmt.Sprintf("mgr-%d", time.Now().UnixNano()%100000)
	sh := s.startShell(t, name)
	sb, _ := s.waitLists(t, "the new sandbox", func(sb, g view) bool { return hasRow(sb, 1, name) })
	// colour, name, profile, network, display, running for
	if r := sb.rows[0]; len(r) != 6 || r[0] != "#555753" || r[2] != "default" || r[3] != "none" || r[4] != "none" || r[5] != "less than a minute" {
		t.Errorf("sandbox row %q", r)
	}

	dir := s.e.UserDir(t)
	p := filepath.Join(dir, "report.txt")
	s.e.WriteUserFile(t, p, "secret bytes\n", 0o644)
	if r := s.airlock(t, "grant", name, p); r.Code != 0 {
		t.Fatalf("airlock grant: %v", r)
	}
	_, g := s.waitLists(t, "the grant", func(sb, g view) bool { return hasRow(g, 0, p) })
	if r := g.rows[0]; len(r) != 3 || r[1] != "read-only" || len(r[2]) != 5 {
		t.Errorf("grant row %q (want path, read-only, HH:MM)", r)
	}
	inside := ""
	for _, l := range strings.Split(s.airlock(t, "grants", name).Stdout, "\n") {
		if f := strings.Fields(l); len(f) == 5 && f[3] == p {
			inside = f[4]
		}
	}
	if got := sh.run(t, "cat "+inside); len(got) != 1 || got[0] != "secret bytes" {
		t.Fatalf("before revoke, inside reads %q", got)
	}

	// Alt+C: the grants list (its heading's mnemonic); Delete revokes.
	s.keys(t, m.win, "alt+c", "Delete")
	s.waitLists(t, "the grant gone", func(sb, g view) bool { return len(g.rows) == 0 && hasRow(sb, 1, name) })
	if got := sh.run(t, "cat "+inside+" 2>/dev/null; echo rc=$?"); len(got) != 1 || got[0] == "rc=0" {
		t.Errorf("after revoke from the manager, inside reads %q", got)
	}
	if gs := s.airlock(t, "grants", name).Stdout; strings.Contains(gs, p) {
		t.Errorf("the broker still lists the grant:\n%s", gs)
	}

	// End: asked first; Escape (Cancel is the default) keeps it running.
	s.keys(t, m.win, "alt+s", "alt+e")
	s.endDialog(t, "Escape")
	if got := sh.run(t, "echo alive"); len(got) != 1 || got[0] != "alive" {
		t.Fatalf("the sandbox after cancelling: %q", got)
	}
	s.keys(t, m.win, "alt+e")
	s.endDialog(t, "alt+e")
	select {
	case <-sh.done:
	case <-time.After(30 * time.Second):
		t.Fatalf("the sandbox still runs after End Sandbox\nportal log:\n%s", s.portalLog())
	}
	s.waitLists(t, "no sandbox", func(sb, g view) bool { return len(sb.rows) == 0 })
}

// endDialog answers the manager's "End Sandbox?" question with key and
// waits until it is gone.
func (s *session) endDialog(t *testing.T, key string) {
	t.Helper()
	const title = `End Sandbox\?`
	win := s.window(t, title)
	s.keys(t, win, key)
	deadline := time.Now().Add(30 * time.Second)
	for len(s.x.Windows("--onlyvisible", "--name", "^"+title+"$")) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the question stayed after %s", key)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// colorProfile writes a profile of colour hex (display as given) and
// returns its path.
func (s *session) colorProfile(t *testing.T, hex, display string) string {
	t.Helper()
	p := filepath.Join(s.e.UserDir(t), "colored.toml")
	s.e.WriteUserFile(t, p, fmt.Sprintf("display_name = \"Coloured\"\nnet = \"none\"\ndisplay = %q\ncolor = %q\n", display, hex), 0o644)
	return p
}

// awaitColor waits (60 s at most) until window win shows at least min
// pixels that are exactly hex, and returns how many it showed.
func (s *session) awaitColor(t *testing.T, win, hex string, min int) int {
	t.Helper()
	n, err := harness.AwaitColor(s.x.Env(), win, hex, min, 60*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestManagerHostileNamesAddColour: a sandbox's name with markup, a
// bidirectional override and 200 characters, and a granted path with the
// same, are drawn as plain text (cleaned, capped; every character of the
// path visible); the profile's colour marks its row and the header of the
// chooser the manager opens; a file added through that chooser is granted
// read-only and readable inside.
func TestManagerHostileNamesAddColour(t *testing.T) {
	t.Parallel()
	s := newSession(t)
	m := s.startManager(t)
	const hex = "#12ab34"
	prof := s.colorProfile(t, hex, "none")
	name := "<i>x</i>&amp;\u202Eexe.txt" + strings.Repeat("W", 200)
	sh := s.startShell(t, name, "--profile", prof)
	shown := protocol.Clean(name, protocol.MaxSandboxName)
	sb, _ := s.waitLists(t, "the hostile sandbox", func(sb, g view) bool { return hasRow(sb, 1, shown) })
	if r := sb.rows[0]; r[0] != hex || !strings.HasPrefix(r[1], "<i>x</i>&amp;exe.txtWWW") || strings.ContainsRune(r[1], '\u202E') {
		t.Errorf("sandbox row %q", r)
	}

	dir := s.e.UserDir(t)
	hostile := filepath.Join(dir, "<b>bold<i>\u202Efdp.exe")
	s.e.WriteUserFile(t, hostile, "hostile\n", 0o644)
	if r := s.airlock(t, "grant", sb.selected, hostile); r.Code != 0 {
		t.Fatalf("airlock grant: %v", r)
	}
	want := protocol.VisibleName(hostile)
	s.waitLists(t, "the hostile path", func(sb, g view) bool { return hasRow(g, 0, want) })
	if !strings.HasSuffix(want, "/<b>bold<i><U+202E>fdp.exe") {
		t.Fatalf("VisibleName(%q) = %q", hostile, want)
	}

	// Add File (Alt+F): Airlock's chooser, headed in the sandbox's colour.
	added := filepath.Join(dir, "added.txt")
	s.e.WriteUserFile(t, added, "added bytes\n", 0o644)
	s.keys(t, m.win, "alt+f")
	var dlg string
	for deadline := time.Now().Add(60 * time.Second); dlg == ""; time.Sleep(50 * time.Millisecond) {
		if ids := s.x.Windows("--onlyvisible", "--name", "^Add Files to"); len(ids) > 0 {
			dlg = ids[0]
		} else if time.Now().After(deadline) {
			t.Fatal("no Add Files dialog")
		}
	}
	// The bar is 10 pixels wide down Airlock's header.
	if n := s.awaitColor(t, dlg, hex, 200); n < 200 {
		t.Fatalf("the chooser's header shows %d pixels of %s", n, hex)
	}
	s.keys(t, dlg, "ctrl+l")
	if _, err := s.x.Host("xdotool", "type", "--clearmodifiers", "--delay", "20", added); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if tr := protocol.ReadTrace(s.trace); tr.HasEntry && tr.Entry.Text == added {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("the location entry never showed %s: %+v", added, tr.Entry)
		}
	}
	// A Return GTK drops while it is busy is pressed again, as the
	// chooser's own tests do, until the dialog answers.
	before := protocol.ReadTrace(s.trace).Responses
	for try := 0; try < 5 && protocol.ReadTrace(s.trace).Responses == before; try++ {
		s.keys(t, dlg, "Return")
		for until := time.Now().Add(3 * time.Second); time.Now().Before(until) && protocol.ReadTrace(s.trace).Responses == before; {
			time.Sleep(20 * time.Millisecond)
		}
	}
	_, g := s.waitLists(t, "the added file", func(sb, g view) bool { return hasRow(g, 0, added) })
	for _, r := range g.rows {
		if r[0] == added && r[1] != "read-only" {
			t.Errorf("added file's row %q: want read-only", r)
		}
	}
	inside := ""
	for _, l := range strings.Split(s.airlock(t, "grants", sb.selected).Stdout, "\n") {
		if f := strings.Fields(l); len(f) == 5 && f[3] == added {
			inside = f[4]
		}
	}
	if got := sh.run(t, "cat "+inside+"; echo x > "+inside+" 2>/dev/null || echo refused"); len(got) != 2 || got[0] != "added bytes" || got[1] != "refused" {
		t.Errorf("inside, the added file: %q", got)
	}
}

// TestNestedDisplayColour: the profile's colour paints the nested display's
// desktop, seen in Xephyr's window on the host, whose title names the
// sandbox.
func TestNestedDisplayColour(t *testing.T) {
	t.Parallel()
	s := newSession(t)
	harness.NeedBins(t, "Xephyr")
	const hex = "#c03a7e"
	prof := s.colorProfile(t, hex, "xephyr")
	name := fmt.Sprintf("colour-%d", time.Now().UnixNano()%100000)
	s.startShell(t, name, "--profile", prof)
	win := s.window(t, name+` \(Airlock sandbox\)`)
	// Nothing runs on that display: all of it is desktop.
	if n := s.awaitColor(t, win, hex, 10001); n <= 10000 {
		t.Fatalf("Xephyr's window shows %d pixels of %s", n, hex)
	}
}

// TestManagerWithoutDisplay: with no display to draw on, airlock manager
// says so and fails at once, leaving no window process behind.
func TestManagerWithoutDisplay(t *testing.T) {
	t.Parallel()
	e := harness.Get(t).SessionBus(t)
	rt := e.UserDir(t)
	os.Chmod(rt, 0o700)
	e = e.WithEnv("XDG_RUNTIME_DIR=" + rt)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := e.Airlock(ctx, "manager")
	cmd.Env = append(cmd.Env, "DISPLAY=", "WAYLAND_DISPLAY=")
	r := harness.RunCmd(cmd)
	if r.Code != 1 || !strings.Contains(r.Stderr, "cannot open the display") || !strings.Contains(r.Stderr, "window ended") {
		t.Errorf("airlock manager without a display: %v", r)
	}
}
