package a11y_test

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"airlock/tests/harness"
)

// sandboxed is one running `airlock run` whose application prints lines.
type sandboxed struct {
	out    *lines
	stderr *harness.SyncBuffer
	stdin  interface{ Close() error }
	wait   func() harness.Result
}

// startSandbox runs `airlock args...` as the test user in session s, on the
// test display, with the accessibility bridge enabled, and stops it at the
// test's end (its stdin closes; the application then quits).
func startSandbox(t *testing.T, s *harness.Env, x *harness.Xvfb, runtime string, args ...string) *sandboxed {
	t.Helper()
	cmd := s.Airlock(context.Background(), args...)
	cmd.Env = append(without(withBridge(cmd.Env), "XDG_RUNTIME_DIR"), "XDG_RUNTIME_DIR="+runtime)
	cmd.Env = append(cmd.Env, x.Env()...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	sb := &sandboxed{out: readLines(stdout), stderr: &harness.SyncBuffer{}, stdin: stdin}
	cmd.Stderr = sb.stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("airlock run: %v", err)
	}
	done := make(chan harness.Result, 1)
	go func() {
		// The reader goroutine owns stdout; Wait closes it after exit.
		err := cmd.Wait()
		r := harness.Result{Stderr: sb.stderr.String()}
		if ee, ok := err.(*exec.ExitError); ok {
			r.Code = ee.ExitCode()
		} else if err != nil {
			r.Code = -1
		}
		done <- r
	}()
	var res *harness.Result
	sb.wait = func() harness.Result {
		if res == nil {
			select {
			case r := <-done:
				r.Stdout = sb.out.all.String()
				res = &r
			case <-time.After(60 * time.Second):
				syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
				r := <-done
				r.Stdout = sb.out.all.String()
				r.Stderr += "\nkilled: still running 60 s after its input closed"
				res = &r
			}
		}
		return *res
	}
	t.Cleanup(func() {
		stdin.Close()
		sb.wait()
	})
	return sb
}

// TestSandboxedAppOnAccessibilityBus: a GTK 3 application in a sandbox
// whose profile lists org.a11y.Bus is read by a screen reader on the host:
// pyatspi finds it, its window and its label "Hello Orca" in the desktop's
// accessible tree (this is what lets Orca read sandboxed applications), and
// presses its button through the Action interface.
// Inside, org.a11y.Bus.GetAddress answers with the socket bound inside, never
// a host path. The same application in a sandbox of the default profile (no
// org.a11y.Bus) is refused the address and is not in the host's tree.
func TestSandboxedAppOnAccessibilityBus(t *testing.T) {
	t.Parallel()
	e := harness.Get(t)
	need(t, [2]string{"Xephyr", "xserver-xephyr"})
	s := e.SessionBus(t)
	hostAddr := startA11yBus(t, s)
	x := e.StartXvfb(t)
	sr := newReader(t, s)
	rt := privateRuntime(t, e)
	app := userCopy(t, e, "readable.py")
	profile := userCopy(t, e, "a11y.toml")

	inside := fmt.Sprintf("unix:path=/run/user/%d/at-spi/bus", e.UID)
	// The script asks for the address the way atk-bridge does, reports
	// the bridge's switch, then runs the application: $1 is the app
	// (handed in with --ro), $2 its program name.
	script := `gdbus call --session --dest org.a11y.Bus --object-path /org/a11y/bus --method org.a11y.Bus.GetAddress 2>&1
echo "gdbus exit $?"
echo "NO_AT_BRIDGE=${NO_AT_BRIDGE-unset}"
exec /usr/bin/python3 "$1" "$2"`
	shared := startSandbox(t, s, x, rt, "run", "--profile", profile, "--name", "a11y-shared", "--ro", app,
		"--", "/bin/sh", "-c", script, "sh", app, "readable-inside")
	strict := startSandbox(t, s, x, rt, "run", "--display", "xephyr", "--name", "a11y-default", "--ro", app,
		"--", "/bin/sh", "-c", script, "sh", app, "hidden-inside")
	shared.out.waitLine(t, "shown", shared.stderr.String)
	strict.out.waitLine(t, "shown", strict.stderr.String)

	// From the host, as Orca: the application, its window and its label.
	nodes := sr.find(t, "readable-inside", "frame", "Readable inside", "label", "Hello Orca")
	var win, label *node
	for i, n := range nodes {
		switch {
		case n.Role == "frame" && n.Name == "Readable inside":
			win = &nodes[i]
		case n.Role == "label" && n.Name == "Hello Orca":
			label = &nodes[i]
		}
	}
	if win == nil || label == nil || !label.under(*win) || label.Text == nil || *label.Text != "Hello Orca" {
		t.Errorf("want the label \"Hello Orca\" (Text interface too) in the window \"Readable inside\": window %v, label %v", win, label)
	} else {
		t.Logf("the screen reader reads the sandboxed label at: %s", label)
	}
	// The screen reader acts on the sandboxed application too (its calls
	// into the application pass the sandbox's proxy).
	if res := sr.run(t, "press", "readable-inside", "push button", "Press me", "click"); res.Code != 0 {
		t.Errorf("the screen reader cannot press the sandboxed button: %v", res)
	} else {
		shared.out.waitLine(t, "clicked", shared.stderr.String)
	}
	// Only now, with the shared application on the bus and the default
	// one past its GTK start-up (where the bridge connects or gives up):
	// the default sandbox's application is not on the accessibility bus.
	res := sr.run(t, "apps")
	apps := strings.Fields(res.Stdout)
	if res.Code != 0 || !contains(apps, "readable-inside") || contains(apps, "hidden-inside") {
		t.Errorf("applications on the host's accessibility bus: %q (%v), want readable-inside and not hidden-inside", apps, res)
	}

	shared.stdin.Close()
	strict.stdin.Close()
	rs, rd := shared.wait(), strict.wait()
	t.Logf("org.a11y.Bus profile, inside:\n%s", rs.Stdout)
	t.Logf("default profile, inside:\n%s", rd.Stdout)
	if rs.Code != 0 || rd.Code != 0 {
		t.Errorf("sandboxes: %v\n%v", rs, rd)
	}
	got := strings.Split(rs.Stdout, "\n")
	if len(got) < 3 || got[0] != "('"+inside+"',)" || got[1] != "gdbus exit 0" || got[2] != "NO_AT_BRIDGE=unset" {
		t.Errorf("GetAddress inside an org.a11y.Bus sandbox: %q, want ('%s',), exit 0, bridge on", rs.Stdout, inside)
	}
	hostPath, _, _ := strings.Cut(strings.TrimPrefix(hostAddr, "unix:path="), ",")
	if strings.Contains(rs.Stdout+rd.Stdout, hostPath) || strings.Contains(rs.Stdout+rd.Stdout, rt) {
		t.Errorf("a host path of the accessibility bus reaches a sandbox: %q / %q", rs.Stdout, rd.Stdout)
	}
	got = strings.Split(rd.Stdout, "\n")
	if len(got) < 3 || !(strings.Contains(got[0], "org.freedesktop.DBus.Error.AccessDenied") || strings.Contains(got[0], "org.freedesktop.DBus.Error.ServiceUnknown")) ||
		got[1] == "gdbus exit 0" || got[2] != "NO_AT_BRIDGE=unset" {
		t.Errorf("GetAddress inside a default sandbox: %q, want AccessDenied or ServiceUnknown, bridge on", rd.Stdout)
	}
}

// TestScreenReaderHearsSandboxedKeys: keys typed into a sandboxed GTK
// application (with xdotool on its own nested display) reach a keystroke
// listener on the host, as Orca's key echo needs: the application's
// NotifyListenersSync passes its proxy.
func TestScreenReaderHearsSandboxedKeys(t *testing.T) {
	t.Parallel()
	e := harness.Get(t)
	need(t, [2]string{"Xephyr", "xserver-xephyr"}, [2]string{"xdotool", "xdotool"})
	s := e.SessionBus(t)
	startA11yBus(t, s)
	x := e.StartXvfb(t)
	rt := privateRuntime(t, e)
	app := userCopy(t, e, "readable.py")
	attack := userCopy(t, e, "attack.py")
	profile := userCopy(t, e, "a11y.toml")

	lcmd := s.Command(context.Background(), python, attack, "listen")
	lcmd.Env = without(lcmd.Env, "DISPLAY", "XAUTHORITY")
	listener := startHostProc(t, lcmd, "host listener")
	listener.out.waitLine(t, "listening", func() string { return "" })

	// The application keeps the sandbox's standard input (a background
	// job of a non-interactive shell would get /dev/null and quit).
	script := `exec 3<&0
/usr/bin/python3 "$1" keys-inside <&3 &
xdotool search --sync --onlyvisible --name '^Readable inside$' windowfocus --sync type --delay 50 hello 2>&1
echo "typed $?"
wait`
	sb := startSandbox(t, s, x, rt, "run", "--profile", profile, "--name", "a11y-keys", "--ro", app,
		"--", "/bin/sh", "-c", script, "sh", app)
	sb.out.waitLine(t, "typed 0", sb.stderr.String)
	for _, k := range []string{"h", "e", "l", "o"} {
		listener.out.waitLine(t, "key "+k, func() string { return sb.out.all.String() + sb.stderr.String() })
	}
}
