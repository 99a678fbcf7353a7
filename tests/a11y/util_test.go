// Package a11y_test checks that screen readers can read Airlock: the trusted
// file chooser, and applications inside a sandbox whose profile shares the
// accessibility bus. A small pyatspi client (testdata/screenreader.py) plays
// the screen reader, as Orca does and as Tails' own dogtail-based test suite
// does: it reads the desktop's accessible tree and acts through the AT-SPI
// Action interface, never through the keyboard.
package a11y_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
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
	busLauncher = "/usr/libexec/at-spi-bus-launcher"
	registryd   = "/usr/libexec/at-spi2-registryd"
	python      = "/usr/bin/python3" // Debian's: pyatspi and python3-gi are installed for it
)

// need skips the test when a Debian package it drives is missing; the
// message names the package.
func need(t *testing.T, extra ...[2]string) {
	t.Helper()
	for _, p := range append([][2]string{
		{busLauncher, "at-spi2-core"},
		{registryd, "at-spi2-core"},
		{python, "python3"},
		{"Xvfb", "xvfb"},
		{"dbus-daemon", "dbus"},
		{"gdbus", "libglib2.0-bin"},
	}, extra...) {
		if _, err := exec.LookPath(p[0]); err != nil {
			t.Skipf("%s is missing: install the Debian package %s", p[0], p[1])
		}
	}
	if out, err := exec.Command(python, "-c", "import pyatspi").CombinedOutput(); err != nil {
		t.Skipf("pyatspi is missing (install the Debian package python3-pyatspi): %v %s", err, out)
	}
}

// without drops every KEY=... entry of the named keys from env.
func without(env []string, keys ...string) []string {
	var out []string
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		drop := false
		for _, d := range keys {
			drop = drop || k == d
		}
		if !drop {
			out = append(out, kv)
		}
	}
	return out
}

// withBridge is env with GTK's accessibility bridge enabled: the harness
// turns it off for every test user process by default.
func withBridge(env []string) []string { return without(env, "NO_AT_BRIDGE") }

// privateRuntime is an XDG_RUNTIME_DIR of the test's own (0700, the test
// user's), so that parallel tests never share $XDG_RUNTIME_DIR/at-spi/bus.
func privateRuntime(t *testing.T, e *harness.Env) string {
	t.Helper()
	d := e.UserDir(t)
	if err := os.Chmod(d, 0o700); err != nil {
		t.Fatal(err)
	}
	return d
}

// userCopy copies testdata/name to a folder the test user can read (the
// checkout may not be) and returns its path.
func userCopy(t *testing.T, e *harness.Env, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(e.UserDir(t), name)
	e.WriteUserFile(t, p, string(b), 0o755)
	return p
}

// gdbus runs gdbus as the test user in s's session and returns its trimmed
// output.
func gdbus(s *harness.Env, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r := harness.RunCmd(s.Command(ctx, "gdbus", args...))
	if r.Code != 0 {
		return "", fmt.Errorf("gdbus %s: %v", strings.Join(args, " "), r)
	}
	return strings.TrimSpace(r.Stdout), nil
}

// until polls cond, as a backstop against a hung helper only (never a
// timing assertion), and fails with what when it never holds.
func until(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ok, last := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s; last: %s", what, last)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// childrenOf lists the pids whose parent is pid.
func childrenOf(pid int) []int {
	var out []int
	ents, _ := os.ReadDir("/proc")
	for _, d := range ents {
		c, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		st, err := os.ReadFile("/proc/" + d.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, so cut at the
		// last parenthesis.
		s := string(st)
		if i := strings.LastIndexByte(s, ')'); i >= 0 {
			f := strings.Fields(s[i+1:])
			if len(f) > 1 && f[1] == strconv.Itoa(pid) {
				out = append(out, c)
			}
		}
	}
	return out
}

// isChildOf reports whether pid is still a process (or an unreaped zombie)
// whose parent is parent.
func isChildOf(pid, parent int) bool {
	for _, c := range childrenOf(parent) {
		if c == pid {
			return true
		}
	}
	return false
}

// startHelper starts a long-running helper as the test user and stops it,
// and the children it started (at-spi-bus-launcher's dbus-daemon), by PID
// at the test's end.
func startHelper(t *testing.T, cmd *exec.Cmd, name string) *harness.SyncBuffer {
	t.Helper()
	log := &harness.SyncBuffer{}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatalf("cannot start %s: %v", name, err)
	}
	pid := cmd.Process.Pid
	t.Cleanup(func() {
		// Children first, while their parent still reaps them: killed
		// after it, they would be left to a PID 1 that may never reap.
		for _, k := range childrenOf(pid) {
			syscall.Kill(k, syscall.SIGTERM)
			for i := 0; i < 500 && isChildOf(k, pid); i++ {
				time.Sleep(10 * time.Millisecond)
			}
		}
		syscall.Kill(pid, syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			syscall.Kill(pid, syscall.SIGKILL)
			<-done
		}
		if t.Failed() {
			t.Logf("%s output:\n%s", name, log.String())
		}
	})
	return log
}

// startA11yBus starts, explicitly and as the test user, the session's
// accessibility bus on s's session bus: at-spi-bus-launcher (which owns
// org.a11y.Bus on the session bus and runs the accessibility bus's own
// dbus-daemon) and the AT-SPI registry. The registry is started here, not
// activated by the accessibility bus on first use, because an activated
// registry daemonizes and would outlive the test. Returns the
// accessibility bus's address.
func startA11yBus(t *testing.T, s *harness.Env) string {
	t.Helper()
	return startA11yBusOn(t, s, nil)
}

// startA11yBusOn is startA11yBus with the registry on display x (nil for
// none): there it can synthesize keys (generateKeyboardEvent) with XTest.
func startA11yBusOn(t *testing.T, s *harness.Env, x *harness.Xvfb) string {
	t.Helper()
	rt := privateRuntime(t, s)
	// No DISPLAY: the launcher then publishes the address only through
	// org.a11y.Bus.GetAddress on the session bus, the one route a
	// sandboxed application has.
	envFor := func(cmd *exec.Cmd) *exec.Cmd {
		cmd.Env = append(without(cmd.Env, "XDG_RUNTIME_DIR", "DISPLAY"), "XDG_RUNTIME_DIR="+rt)
		return cmd
	}
	startHelper(t, envFor(s.Command(context.Background(), busLauncher, "--launch-immediately")), "at-spi-bus-launcher")
	// NameHasOwner, not a call to org.a11y.Bus: the session bus would
	// activate a second launcher of its own (it has a .service file for
	// the name), which this test would not know to stop.
	until(t, "org.a11y.Bus on the session bus", func() (bool, string) {
		out, err := gdbus(s, "call", "--session", "--dest", "org.freedesktop.DBus", "--object-path", "/org/freedesktop/DBus",
			"--method", "org.freedesktop.DBus.NameHasOwner", "org.a11y.Bus")
		if err != nil {
			return false, err.Error()
		}
		return out == "(true,)", out
	})
	out, err := gdbus(s, "call", "--session", "--dest", "org.a11y.Bus", "--object-path", "/org/a11y/bus",
		"--method", "org.a11y.Bus.GetAddress")
	if err != nil {
		t.Fatal(err)
	}
	addr := strings.TrimSuffix(strings.TrimPrefix(out, "('"), "',)")
	if !strings.HasPrefix(addr, "unix:path="+rt+"/at-spi/") {
		t.Fatalf("accessibility bus address %q, want a socket under %s/at-spi", addr, rt)
	}
	reg := envFor(s.Command(context.Background(), registryd))
	if x != nil {
		reg.Env = append(reg.Env, x.Env()...)
	}
	startHelper(t, reg, "at-spi2-registryd")
	until(t, "the AT-SPI registry on the accessibility bus", func() (bool, string) {
		out, err := gdbus(s, "call", "--address", addr, "--dest", "org.freedesktop.DBus", "--object-path", "/org/freedesktop/DBus",
			"--method", "org.freedesktop.DBus.NameHasOwner", "org.a11y.atspi.Registry")
		if err != nil {
			return false, err.Error()
		}
		return out == "(true,)", out
	})
	return addr
}

// node is one accessible object as testdata/screenreader.py prints it.
type node struct {
	Path        []int    `json:"path"`
	Trail       []string `json:"trail"`
	Role        string   `json:"role"`
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Text        *string  `json:"text"`
	States      []string `json:"states"`
	Actions     []string `json:"actions"`
}

// String is the node's path in the tree, as a screen reader user would
// navigate it.
func (n node) String() string {
	return strings.Join(append(append([]string(nil), n.Trail...), fmt.Sprintf("[%s] %q", n.Role, n.Name)), " > ")
}

func (n node) has(state string) bool {
	for _, s := range n.States {
		if s == state {
			return true
		}
	}
	return false
}

// under reports whether n is a descendant of p.
func (n node) under(p node) bool {
	if len(n.Path) <= len(p.Path) {
		return false
	}
	for i := range p.Path {
		if n.Path[i] != p.Path[i] {
			return false
		}
	}
	return true
}

// reader runs testdata/screenreader.py as the test user, in s's session,
// with no display: a screen reader reaches applications through the
// accessibility bus alone.
type reader struct {
	s      *harness.Env
	script string
}

func newReader(t *testing.T, s *harness.Env) *reader {
	return &reader{s: s, script: userCopy(t, s, "screenreader.py")}
}

func (r *reader) run(t *testing.T, args ...string) harness.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := r.s.Command(ctx, python, append([]string{r.script}, args...)...)
	cmd.Env = without(cmd.Env, "DISPLAY", "XAUTHORITY")
	return harness.RunCmd(cmd)
}

// find waits for the application and the (role, name) pairs in it and
// returns its whole tree.
func (r *reader) find(t *testing.T, app string, want ...string) []node {
	t.Helper()
	res := r.run(t, append([]string{"find", app}, want...)...)
	nodes := parseNodes(t, res.Stdout)
	if res.Code != 0 {
		var tree strings.Builder
		for _, n := range nodes {
			fmt.Fprintln(&tree, n)
		}
		t.Fatalf("screen reader: %s not found in the accessible tree of %s:\n%s\ntree seen:\n%s", want, app, res, tree.String())
	}
	return nodes
}

func parseNodes(t *testing.T, out string) []node {
	t.Helper()
	var nodes []node
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var n node
		if err := json.Unmarshal(sc.Bytes(), &n); err != nil {
			t.Fatalf("screen reader printed %q: %v", sc.Text(), err)
		}
		nodes = append(nodes, n)
	}
	return nodes
}

// lines collects a process's output lines as they come.
type lines struct {
	all *harness.SyncBuffer
	ch  chan string
}

func readLines(rd io.Reader) *lines {
	l := &lines{all: &harness.SyncBuffer{}, ch: make(chan string, 100)}
	go func() {
		sc := bufio.NewScanner(rd)
		for sc.Scan() {
			l.all.Write([]byte(sc.Text() + "\n"))
			select {
			case l.ch <- sc.Text():
			default:
			}
		}
		close(l.ch)
	}()
	return l
}

// waitLine waits for a line equal to want (a backstop limit, not a timing
// assertion).
func (l *lines) waitLine(t *testing.T, want string, diag func() string) {
	t.Helper()
	l.waitFunc(t, strconv.Quote(want), func(s string) bool { return s == want }, diag)
}

// waitFunc waits for a line for which ok holds; what names it.
func (l *lines) waitFunc(t *testing.T, what string, ok func(string) bool, diag func() string) string {
	t.Helper()
	timeout := time.After(60 * time.Second)
	for {
		select {
		case s, open := <-l.ch:
			if !open {
				t.Fatalf("output ended before %s:\n%s\n%s", what, l.all.String(), diag())
			}
			if ok(s) {
				return s
			}
		case <-timeout:
			t.Fatalf("no line %s within 60 s:\n%s\n%s", what, l.all.String(), diag())
		}
	}
}
