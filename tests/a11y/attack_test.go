package a11y_test

import (
	"context"
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

	"airlock/chooser-ui/protocol"
	"airlock/tests/harness"
)

// The accessibility bus is a control channel (DESIGN.md, "Clipboard, print,
// accessibility"): these tests run testdata/attack.py, the calls a screen
// reader makes, inside a sandbox whose profile shares org.a11y.Bus, against
// the host's applications. Each attack is first shown to work from the host
// (the control: the set-up is live), then shown to fail from the sandbox.
// TestSandboxedAppOnAccessibilityBus shows that the host's screen reader
// still reads the sandboxed application.

// hostProc is a helper process on the host whose output lines are watched.
type hostProc struct {
	out   *lines
	stdin io.WriteCloser
}

// startHostProc starts cmd (as the test user) and ends it at the test's end:
// its standard input closes, then it is killed by PID if still there.
func startHostProc(t *testing.T, cmd *exec.Cmd, name string) *hostProc {
	t.Helper()
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := &harness.SyncBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("cannot start %s: %v", name, err)
	}
	p := &hostProc{out: readLines(stdout), stdin: stdin}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		stdin.Close()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
		if t.Failed() {
			t.Logf("%s output:\n%s\nstderr:\n%s", name, p.out.all.String(), stderr.String())
		}
	})
	return p
}

// runAttack runs attack.py args... inside a sandbox of profile prof, on
// display x, to completion.
func runAttack(t *testing.T, s *harness.Env, x *harness.Xvfb, rt, prof, script string, args ...string) harness.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := s.Airlock(ctx, append([]string{"run", "--profile", prof, "--name", "attacker", "--ro", script, "--", python, script}, args...)...)
	cmd.Env = append(without(withBridge(cmd.Env), "XDG_RUNTIME_DIR"), "XDG_RUNTIME_DIR="+rt)
	cmd.Env = append(cmd.Env, x.Env()...)
	return harness.RunCmd(cmd)
}

// TestSandboxCannotDriveOtherApplications: from inside a sandbox that shares
// the accessibility bus, Airlock's own file chooser, open on the host, is not
// among the desktop's applications and its Cancel button cannot be pressed;
// the host's screen reader finds and presses it (before and after).
func TestSandboxCannotDriveOtherApplications(t *testing.T) {
	t.Parallel()
	e := harness.Get(t)
	need(t, [2]string{"Xephyr", "xserver-xephyr"})
	if e.Chooser == "" {
		t.Fatal("airlock-chooser did not build (see the harness's message above)")
	}
	s := e.SessionBus(t)
	startA11yBus(t, s)
	x := e.StartXvfb(t)
	sr := newReader(t, s)
	rt := privateRuntime(t, e)
	attack := userCopy(t, e, "attack.py")
	prof := userCopy(t, e, "a11y.toml")

	_, wait := startChooser(t, s, x, protocol.Request{
		Mode: protocol.ModeOpen, SandboxName: "Text Editor", AppTitle: "Open",
		ShowReadOnly: true, ReadOnlyDefault: true, CurrentFolder: e.Home,
	}, nil)
	// Control: the chooser is on the desktop, its Cancel button visible to
	// a screen reader on the host.
	sr.find(t, "airlock-chooser", "push button", "Cancel")

	r := runAttack(t, s, x, rt, prof, attack, "apps")
	t.Logf("inside, the desktop's applications:\n%s", r.Stdout)
	if !strings.Contains(r.Stdout, "done") {
		t.Fatalf("attack.py apps did not run: %v", r)
	}
	if strings.Contains(r.Stdout, "app airlock-chooser") {
		t.Errorf("a sandbox sees Airlock's chooser on the accessibility bus:\n%s", r.Stdout)
	}
	for _, l := range strings.Split(r.Stdout, "\n") {
		if strings.HasPrefix(l, "app ") && l != "app attacker" {
			t.Errorf("a sandbox sees another application on the accessibility bus: %q", l)
		}
	}
	r = runAttack(t, s, x, rt, prof, attack, "press", "airlock-chooser", "push button", "Cancel")
	t.Logf("inside, pressing the chooser's Cancel:\n%s", r.Stdout)
	if strings.Contains(r.Stdout, "pressed") || !strings.Contains(r.Stdout, "not found") {
		t.Errorf("a sandbox pressed a button of Airlock's chooser: %v", r)
	}
	// The chooser is still up and the host's screen reader still drives it.
	if res := sr.run(t, "press", "airlock-chooser", "push button", "Cancel", "click"); res.Code != 0 {
		t.Errorf("after the attack, the host's screen reader cannot press Cancel (was it pressed from inside?): %v", res)
	}
	if err := wait(); err != nil {
		t.Errorf("airlock-chooser: %v", err)
	}
}

// TestSandboxCannotListenOrInject: with the registry on the host display (so
// that it can synthesize keys there), a host GTK window with a text entry,
// and keys typed into it by the user (xdotool):
//   - listen: a keystroke listener, a device event listener and event
//     listeners registered from inside hear nothing, while the same script on
//     the host (the control) hears the keys;
//   - inject: generateKeyboardEvent from inside is refused and the host
//     window receives nothing, while the same call from the host types into it.
func TestSandboxCannotListenOrInject(t *testing.T) {
	t.Parallel()
	e := harness.Get(t)
	need(t, [2]string{"Xephyr", "xserver-xephyr"}, [2]string{"xdotool", "xdotool"})
	s := e.SessionBus(t)
	x := e.StartXvfb(t)
	startA11yBusOn(t, s, x)
	rt := privateRuntime(t, e)
	attack := userCopy(t, e, "attack.py")
	prof := userCopy(t, e, "a11y.toml")

	hcmd := s.Command(context.Background(), python, userCopy(t, e, "hostentry.py"))
	hcmd.Env = append(withBridge(hcmd.Env), x.Env()...)
	host := startHostProc(t, hcmd, "host window")
	host.out.waitLine(t, "shown", func() string { return "" })
	wins := x.Windows("--sync", "--onlyvisible", "--name", "^Host window$")
	if len(wins) == 0 {
		t.Fatal("xdotool search found no host window")
	}
	win := wins[0]
	typeHost := func(text string) {
		t.Helper()
		if out, err := x.Host("xdotool", "windowfocus", "--sync", win); err != nil {
			t.Fatalf("xdotool windowfocus: %v %s", err, out)
		}
		if out, err := x.Host("xdotool", "type", "--delay", "20", text); err != nil {
			t.Fatalf("xdotool type: %v %s", err, out)
		}
	}
	noDisplay := func(cmd *exec.Cmd) *exec.Cmd {
		cmd.Env = without(cmd.Env, "DISPLAY", "XAUTHORITY")
		return cmd
	}

	t.Run("listen", func(t *testing.T) {
		ctl := startHostProc(t, noDisplay(s.Command(context.Background(), python, attack, "listen")), "host listener")
		ctl.out.waitLine(t, "listening", func() string { return "" })
		cmd := s.Airlock(context.Background(), "run", "--profile", prof, "--name", "attacker", "--ro", attack, "--", python, attack, "listen")
		cmd.Env = append(without(withBridge(cmd.Env), "XDG_RUNTIME_DIR"), "XDG_RUNTIME_DIR="+rt)
		cmd.Env = append(cmd.Env, x.Env()...)
		in := startHostProc(t, cmd, "sandboxed listener")
		in.out.waitLine(t, "listening", func() string { return "" })

		typeHost("secret")
		host.out.waitLine(t, "text secret", func() string { return "" })
		// Control: the host's listener hears the user's keys. Delivery
		// to keystroke listeners is synchronous (NotifyListenersSync): by
		// now the registry has called every listener.
		ctl.out.waitLine(t, "key t", func() string { return "" })
		// The pointer and the modifier keys, which the registry itself
		// reports to whoever listens for mouse: and keyboard: events.
		// The registry polls the pointer (every 20 to 100 ms): the
		// control waits for its report of the move.
		if out, err := x.Host("xdotool", "mousemove", "--sync", "300", "200", "click", "1"); err != nil {
			t.Fatalf("xdotool: %v %s", err, out)
		}
		ctl.out.waitLine(t, "event mouse:abs", func() string { return "" })
		// Broadcasts are not synchronous: a listener registered now
		// makes the registry broadcast EventListenerRegistered, which
		// the sandbox may receive, after everything it sent before.
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		if r := harness.RunCmd(noDisplay(s.Command(ctx, python, attack, "register", "object:bounds-changed"))); !strings.Contains(r.Stdout, "registered") {
			t.Fatalf("host event registration: %v", r)
		}
		in.out.waitFunc(t, "EventListenerRegistered", func(l string) bool { return strings.HasSuffix(l, " EventListenerRegistered") }, func() string { return "" })
		in.stdin.Close()
		in.out.waitLine(t, "done", func() string { return "" })
		got := in.out.all.String()
		t.Logf("inside, the listener got:\n%s", got)
		for _, l := range strings.Split(got, "\n") {
			if strings.HasPrefix(l, "key ") || strings.HasPrefix(l, "event ") {
				t.Errorf("a sandbox hears the host's keys or events: %q", l)
			}
			// On the wire: the bus's own signals (names coming and
			// going) and the registry's news of listeners, nothing else.
			f := strings.Fields(l)
			if len(f) == 5 && f[0] == "signal" && f[1] != "org.freedesktop.DBus" &&
				!(f[2] == "/org/a11y/atspi/registry" && f[3] == "org.a11y.atspi.Registry" && strings.HasPrefix(f[4], "EventListener")) {
				t.Errorf("a sandbox receives another connection's signal: %q", l)
			}
		}
	})

	t.Run("inject", func(t *testing.T) {
		if out, err := x.Host("xdotool", "windowfocus", "--sync", win); err != nil {
			t.Fatalf("xdotool windowfocus: %v %s", err, out)
		}
		// Control: from the host, generateKeyboardEvent types into the
		// focused window.
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		if r := harness.RunCmd(noDisplay(s.Command(ctx, python, attack, "type", "ctl"))); !strings.Contains(r.Stdout, "generated") {
			t.Fatalf("host generateKeyboardEvent: %v", r)
		}
		host.out.waitLine(t, "text secretctl", func() string { return "" })

		r := runAttack(t, s, x, rt, prof, attack, "type", "injected")
		t.Logf("inside, generateKeyboardEvent:\n%s", r.Stdout)
		if strings.Contains(r.Stdout, "generated") || !strings.Contains(r.Stdout, "refused") {
			t.Errorf("generateKeyboardEvent from a sandbox: %v, want refused", r)
		}
		// Whatever the registry did with the call is done by now: a
		// marker typed after it lands after anything it typed.
		typeHost("END")
		last := host.out.waitFunc(t, "ending in END", func(l string) bool { return strings.HasSuffix(l, "END") }, func() string { return "" })
		if last != "text secretctlEND" || strings.Contains(host.out.all.String(), "inj") {
			t.Errorf("keys synthesized from a sandbox reached a host window:\n%s", host.out.all.String())
		}
	})
}

// procGone reports whether pid has exited (a zombie counts: its parent, once
// the launcher died, may be a PID 1 that never reaps).
func procGone(pid int) bool {
	st, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	s := string(st)
	i := strings.LastIndexByte(s, ')')
	return i > 0 && i+2 < len(s) && s[i+2] == 'Z'
}

// proxyOf returns the pid of the xdg-dbus-proxy the launcher pid started.
func proxyOf(t *testing.T, launcher int) int {
	t.Helper()
	var pid int
	until(t, "the launcher's xdg-dbus-proxy", func() (bool, string) {
		for _, c := range childrenOf(launcher) {
			if comm, _ := os.ReadFile("/proc/" + strconv.Itoa(c) + "/comm"); strings.TrimSpace(string(comm)) == "xdg-dbus-proxy" {
				pid = c
				return true, ""
			}
		}
		return false, fmt.Sprint("children: ", childrenOf(launcher))
	})
	return pid
}

// TestA11yProxyLifetime: the filtering proxy of a sandbox that shares the
// accessibility bus is the launcher's child, ends when the sandbox ends, and
// does not outlive a launcher killed with SIGKILL.
func TestA11yProxyLifetime(t *testing.T) {
	t.Parallel()
	e := harness.Get(t)
	need(t)
	if _, err := exec.LookPath("xdg-dbus-proxy"); err != nil {
		t.Skip("xdg-dbus-proxy is missing: install the Debian package xdg-dbus-proxy")
	}
	s := e.SessionBus(t)
	startA11yBus(t, s)
	rt := privateRuntime(t, e)
	prof := filepath.Join(e.UserDir(t), "a11y-none.toml")
	e.WriteUserFile(t, prof, "bus_names = [\"org.a11y.Bus\"]\n", 0o644)
	for _, kill := range []bool{false, true} {
		cmd := s.Airlock(context.Background(), "run", "--profile", prof, "--", "/bin/sh", "-c", "echo up; exec cat")
		cmd.Env = append(without(withBridge(cmd.Env), "XDG_RUNTIME_DIR"), "XDG_RUNTIME_DIR="+rt)
		p := startHostProc(t, cmd, "airlock run")
		p.out.waitLine(t, "up", func() string { return "" })
		proxy := proxyOf(t, cmd.Process.Pid)
		sock, _ := filepath.Glob(filepath.Join(rt, "airlock", "a11y", "*", "bus"))
		if len(sock) != 1 {
			t.Fatalf("proxy sockets under %s: %q, want one", rt, sock)
		}
		if kill {
			syscall.Kill(cmd.Process.Pid, syscall.SIGKILL)
		} else {
			p.stdin.Close()
		}
		until(t, fmt.Sprintf("xdg-dbus-proxy (pid %d) to end (launcher killed: %v)", proxy, kill), func() (bool, string) {
			return procGone(proxy), ""
		})
		if !kill {
			// The launcher removes the folder after the proxy ended (a
			// loaded machine sees the gap): wait for the launcher's end.
			until(t, "the proxy's socket folder to go with the sandbox", func() (bool, string) {
				_, err := os.Stat(filepath.Dir(sock[0]))
				return os.IsNotExist(err), fmt.Sprint(err)
			})
		} else {
			os.RemoveAll(filepath.Dir(sock[0]))
		}
	}
}
