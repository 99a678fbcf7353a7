// Package portal_test runs airlock-portal the way a session does: a private
// session dbus-daemon per test, sandboxes started by an ordinary user with
// `airlock run`, and real D-Bus clients (gdbus, dbus-send, python3-gi,
// GTK 4, godbus) inside them talking to the bus the broker serves.
package portal_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"airlock/tests/harness"
)

const (
	portalName = "org.freedesktop.portal.Desktop"
	portalPath = "/org/freedesktop/portal/desktop"
)

// session is one test's private session: its bus, the runtime folder its
// broker logs to, and the environment commands run with.
type session struct {
	e       *harness.Env
	addr    string // DBUS_SESSION_BUS_ADDRESS of the host session bus
	sock    string // its socket path, as the host sees it
	runtime string // XDG_RUNTIME_DIR of the test user for this test
}

// newSession starts a private session bus and gives the test its own
// XDG_RUNTIME_DIR, so that the broker's log (XDG_RUNTIME_DIR/airlock/
// portal.log) is this test's alone.
func newSession(t *testing.T) *session {
	t.Helper()
	base := harness.Get(t)
	e := base.SessionBus(t)
	rt := base.UserDir(t)
	if err := os.Chmod(rt, 0o700); err != nil {
		t.Fatal(err)
	}
	e = e.WithEnv("XDG_RUNTIME_DIR=" + rt)
	s := &session{e: e, runtime: rt}
	for _, kv := range e.UserEnv() {
		if v, ok := strings.CutPrefix(kv, "DBUS_SESSION_BUS_ADDRESS="); ok {
			s.addr = v
		}
	}
	s.sock = strings.TrimPrefix(s.addr, "unix:path=")
	if s.addr == "" || s.sock == s.addr {
		t.Fatalf("unexpected session bus address %q", s.addr)
	}
	return s
}

// portalLog is what the brokers the launcher started have logged.
func (s *session) portalLog() string {
	b, _ := os.ReadFile(filepath.Join(s.runtime, "airlock", "portal.log"))
	return string(b)
}

// brokers lists the airlock-portal processes serving this test's session.
func (s *session) brokers() []int {
	var out []int
	for _, pid := range s.e.ProcessesOf(s.e.Portal) {
		if alive(pid) && strings.Contains(environ(pid), "DBUS_SESSION_BUS_ADDRESS="+s.addr+"\n") {
			out = append(out, pid)
		}
	}
	return out
}

// broker returns the one broker of this session.
func (s *session) broker(t *testing.T) int {
	t.Helper()
	b := s.brokers()
	if len(b) != 1 {
		t.Fatalf("want exactly one airlock-portal on the test's session bus, found %v\nportal log:\n%s", b, s.portalLog())
	}
	return b[0]
}

func environ(pid int) string {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
	return strings.ReplaceAll(string(b), "\x00", "\n")
}

// alive reports whether pid exists and is not a zombie.
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i > 0 && len(s) > i+2 && s[i+2] != 'Z'
}

// run runs `airlock args...` as the test user with a generous limit
// against hangs.
func (s *session) run(t *testing.T, args ...string) harness.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	return harness.RunCmd(s.e.Airlock(ctx, args...))
}

// sh runs a shell script in a default sandbox; tools are handed in with
// --ro and reach the script as $1, $2...
func (s *session) sh(t *testing.T, flags []string, script string, args ...string) harness.Result {
	t.Helper()
	a := append([]string{"run"}, flags...)
	a = append(a, "--", "/bin/sh", "-c", script, "sh")
	return s.run(t, append(a, args...)...)
}

// background is a command left running while the test does other things.
type background struct {
	cmd         *exec.Cmd
	out, errOut harness.SyncBuffer
	done        chan struct{}
	res         harness.Result
}

// start starts cmd (built with e.Command or e.Airlock from ctx) and makes
// sure it is gone by the end of the test: cancel kills its process group.
func start(t *testing.T, cmd *exec.Cmd, cancel context.CancelFunc) *background {
	t.Helper()
	b := &background{cmd: cmd, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = &b.out, &b.errOut
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("cannot start %v: %v", cmd.Args, err)
	}
	go func() {
		err := cmd.Wait()
		b.res = harness.Result{Stdout: b.out.String(), Stderr: b.errOut.String()}
		if err != nil {
			b.res.Code = -1
			if ee, ok := err.(*exec.ExitError); ok {
				b.res.Code = ee.ExitCode()
				if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
					b.res.Code = 128 + int(ws.Signal())
				}
			}
		}
		close(b.done)
	}()
	t.Cleanup(func() {
		select {
		case <-b.done:
			cancel()
			return
		default:
		}
		// Ask first (the launcher forwards SIGTERM to the application),
		// then kill the group.
		syscall.Kill(cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-b.done:
		case <-time.After(10 * time.Second):
		}
		cancel()
		<-b.done
	})
	return b
}

// sandbox starts `airlock args...` in the background.
func (s *session) sandbox(t *testing.T, args ...string) *background {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	return start(t, s.e.Airlock(ctx, args...), cancel)
}

// wait waits for the command to end (bounded, against hangs).
func (b *background) wait(t *testing.T, limit time.Duration) harness.Result {
	t.Helper()
	select {
	case <-b.done:
		return b.res
	case <-time.After(limit):
		t.Fatalf("%v did not end within %v\nstdout:\n%s\nstderr:\n%s", b.cmd.Args, limit, b.out.String(), b.errOut.String())
	}
	return harness.Result{}
}

func (b *background) exited() bool {
	select {
	case <-b.done:
		return true
	default:
		return false
	}
}

// waitFor polls cond every 50 ms until it holds; limit only guards against
// hangs, it is never the assertion.
func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting (%v) for %s", limit, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// probe builds the static godbus client once per test binary.
func probe(t *testing.T) string {
	t.Helper()
	e := harness.Get(t)
	return e.Tool(t, "./tests/portal/portalprobe")
}

// script copies testdata/name to a file the test user can read (the
// checkout may not be readable by that user) and returns its path.
func script(t *testing.T, name string) string {
	t.Helper()
	e := harness.Get(t)
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(e.UserDir(t), name)
	e.WriteUserFile(t, p, string(b), 0o644)
	return p
}

// countLines counts the lines of path equal to line.
func countLines(path, line string) int {
	b, _ := os.ReadFile(path)
	n := 0
	for _, l := range strings.Split(string(b), "\n") {
		if l == line {
			n++
		}
	}
	return n
}

func linesWithPrefix(path, prefix string) []string {
	b, _ := os.ReadFile(path)
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return out
}

// sections splits output made of "== NAME" headers into NAME -> text.
func sections(out string) map[string]string {
	m := map[string]string{}
	cur := ""
	for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if name, ok := strings.CutPrefix(l, "== "); ok {
			cur = name
			m[cur] = ""
			continue
		}
		if cur != "" {
			m[cur] += l + "\n"
		}
	}
	return m
}

// kv parses KEY=VALUE lines.
func kv(out string) map[string]string {
	m := map[string]string{}
	for _, l := range strings.Split(out, "\n") {
		if k, v, ok := strings.Cut(l, "="); ok {
			m[k] = v
		}
	}
	return m
}

func needBins(t *testing.T, bins ...string) {
	t.Helper()
	harness.NeedBins(t, bins...)
}

func itoa(i int) string { return strconv.Itoa(i) }
