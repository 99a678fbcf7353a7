package portal_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"airlock/tests/harness"
)

// ibusHost is a real ibus-daemon and ibus-portal on the test's session bus.
type ibusHost struct {
	addr   string // the daemon's own bus
	daemon *background
}

// startIBus starts ibus-daemon on a private address (no panel, no XIM, no
// configuration daemon), then ibus-portal, which takes
// org.freedesktop.portal.IBus on the session bus, and selects the simple
// engine's US layout, whose compose handling turns dead_acute then e into
// "é" (a CommitText signal): what the user's panel would do on the host.
func startIBus(t *testing.T, s *session) *ibusHost {
	t.Helper()
	needBins(t, "/usr/bin/ibus-daemon", "/usr/libexec/ibus-portal", "/usr/libexec/ibus-engine-simple", "/usr/bin/gdbus", "/usr/bin/python3")
	if _, err := os.Stat("/usr/lib/x86_64-linux-gnu/girepository-1.0/IBus-1.0.typelib"); err != nil {
		t.Skip("gir1.2-ibus-1.0 is not installed")
	}
	sock := filepath.Join(s.e.UserDir(t), "ibus.sock")
	h := &ibusHost{addr: "unix:path=" + sock}
	// Its address file goes to a folder of this test's: GTK programs of
	// other tests, or of the user, must not find this daemon.
	e := s.e.WithEnv("IBUS_ADDRESS="+h.addr, "DISPLAY=", "XDG_CONFIG_HOME="+s.e.UserDir(t))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("portal log:\n%s", s.portalLog())
		}
	})
	// ibus-daemon has the session bus start ibus-portal: with this
	// test's daemon address, not the address file it shares with the
	// other tests of this user.
	if r := s.hostCall(t, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus.UpdateActivationEnvironment", "{'IBUS_ADDRESS': '"+h.addr+"'}"); !strings.Contains(r, "()") {
		t.Fatalf("UpdateActivationEnvironment: %s", r)
	}
	h.daemon = start(t, e.Command(ctx, "/usr/bin/ibus-daemon", "--address="+h.addr, "--panel=disable", "--xim=false", "--config=disable", "--verbose"), cancel)
	waitFor(t, 30*time.Second, "ibus-daemon's socket", func() bool {
		_, err := os.Stat(sock)
		return err == nil || h.daemon.exited()
	})
	if h.daemon.exited() {
		t.Fatalf("ibus-daemon ended: %v", h.daemon.res)
	}
	r := s.hostCall(t, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus.StartServiceByName", "org.freedesktop.portal.IBus", "0")
	if !strings.Contains(r, "(uint32 1,)") && !strings.Contains(r, "(uint32 2,)") {
		t.Fatalf("cannot start ibus-portal: %s", r)
	}
	r = s.hostCallAt(t, h.addr, "org.freedesktop.IBus", "/org/freedesktop/IBus", "org.freedesktop.IBus.SetGlobalEngine", "xkb:us::eng")
	if !strings.Contains(r, "()") {
		t.Fatalf("cannot select the engine: %s", r)
	}
	return h
}

func (s *session) hostCall(t *testing.T, dest, path, method string, args ...string) string {
	return s.hostCallAt(t, s.addr, dest, path, method, args...)
}

// hostCallAt calls a method with gdbus as the test user, outside any
// sandbox, and returns what gdbus printed.
func (s *session) hostCallAt(t *testing.T, addr, dest, path, method string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	a := append([]string{"call", "--address", addr, "--dest", dest, "--object-path", path, "--method", method}, args...)
	out, _ := s.e.Command(ctx, "/usr/bin/gdbus", a...).CombinedOutput()
	return string(out)
}

// ibusProfile writes a profile that allows the input method.
func ibusProfile(t *testing.T, s *session, py string) string {
	t.Helper()
	prof := filepath.Join(s.e.UserDir(t), "ibus.toml")
	s.e.WriteUserFile(t, prof, fmt.Sprintf("input_method = \"ibus\"\nexpose_ro = [%q]\n", py), 0o644)
	return prof
}

// TestInputMethodThroughIBusPortal: with a real ibus-daemon and ibus-portal
// on the host, an application in a sandbox whose profile says
// input_method = "ibus" creates an input context through the portal,
// focuses it and types dead_acute then e: the engine's CommitText("é")
// comes back to it as a signal from the portal's name (GLib checks that
// the name's owner sent it). A second sandbox cannot touch the first one's
// context (keys, focus, Destroy), cannot reach the daemon's own bus or its
// other interfaces through the portal's name, and cannot call SetEngine;
// its contexts are capped. The first sandbox's context still works after
// the attack (its signals go to it alone: portal/ibus's unit tests). A sandbox of the
// default profile has no input method: the portal's name has no owner
// there, its calls are refused, and the environment does not ask for IBus.
func TestInputMethodThroughIBusPortal(t *testing.T) {
	t.Parallel()
	s := newSession(t)
	startIBus(t, s)
	py := script(t, "ibus_client.py")
	prof := ibusProfile(t, s, py)

	// One sandbox, on its own: the whole round trip.
	r := s.run(t, "run", "--profile", prof, "--name", "ime-own", "--", "/usr/bin/python3", py, "own")
	t.Logf("own:\n%s", r.Stdout)
	own := kv(r.Stdout)
	if r.Code != 0 || own["commit"] != "é" || own["key1"] != "(True,)" || own["key2"] != "(True,)" {
		t.Fatalf("typing through ibus-portal in a sandbox: %v\nportal log:\n%s", r, s.portalLog())
	}
	if own["env"] != "ibus/ibus/1" {
		t.Errorf("environment inside: GTK_IM_MODULE/QT_IM_MODULE/IBUS_USE_PORTAL = %q, want ibus/ibus/1", own["env"])
	}
	if own["content_type"] != "()" || own["focus"] != "()" {
		t.Errorf("FocusIn %q, ContentType %q: want both to succeed", own["focus"], own["content_type"])
	}
	// Destroy is relayed (ibus-portal destroys, then answers
	// UnknownMethod); the context is gone from the sandbox too.
	if own["after_destroy"] != "org.freedesktop.DBus.Error.AccessDenied" {
		t.Errorf("a destroyed context still answers: %q", own["after_destroy"])
	}

	// The victim holds a context and waits; the attacker tries it.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	vcmd := s.e.Airlock(ctx, "run", "--profile", prof, "--name", "ime-victim", "--", "/usr/bin/python3", py, "hold")
	vin, err := vcmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	victim := start(t, vcmd, cancel)
	waitFor(t, 60*time.Second, "the victim's input context", func() bool {
		return kv(victim.out.String())["path"] != "" || victim.exited()
	})
	vpath := kv(victim.out.String())["path"]
	if vpath == "" {
		t.Fatalf("victim: %v\nportal log:\n%s", victim.res, s.portalLog())
	}
	r = s.run(t, "run", "--profile", prof, "--name", "ime-attacker", "--", "/usr/bin/python3", py, "attack", vpath)
	t.Logf("attack:\n%s", r.Stdout)
	at := kv(r.Stdout)
	const denied = "org.freedesktop.DBus.Error.AccessDenied"
	for k, want := range map[string]string{
		"victim_key":     denied,
		"victim_focus":   denied,
		"victim_destroy": denied,
		"ibus_iface":     denied,
		"panel":          denied,
		"introspect":     denied,
		"set_engine":     denied,
		// The daemon's own name is not relayed at all.
		"ibus_daemon": "org.freedesktop.DBus.Error.ServiceUnknown",
		"own_focus":   "()",
		"cap_error":   "org.freedesktop.DBus.Error.LimitsExceeded",
		"contexts":    "128",
	} {
		if at[k] != want {
			t.Errorf("attacker %s: %q, want %q", k, at[k], want)
		}
	}
	if at["own"] == "" || at["own"] == vpath {
		t.Errorf("attacker's own context %q (victim's %q)", at["own"], vpath)
	}
	// The victim's context is intact and its signals are its own.
	io.WriteString(vin, "go\n")
	vres := victim.wait(t, 60*time.Second)
	if got := kv(vres.Stdout)["commit"]; got != "é" {
		t.Errorf("victim after the attack: commit %q\n%s\n%s", got, vres.Stdout, vres.Stderr)
	}

	// The default profile: no input method.
	r = s.sh(t, []string{"--ro", py}, `
echo "env=${GTK_IM_MODULE:-}${QT_IM_MODULE:-}${IBUS_USE_PORTAL:-}"
/usr/bin/gdbus call --session -d org.freedesktop.DBus -o /org/freedesktop/DBus -m org.freedesktop.DBus.NameHasOwner org.freedesktop.portal.IBus | sed 's/^/owner=/'
/usr/bin/python3 "$1" own 2>/dev/null | grep ^create=
`, py)
	t.Logf("default profile:\n%s", r.Stdout)
	def := kv(r.Stdout)
	if def["env"] != "" || def["owner"] != "(false,)" || def["create"] != "org.freedesktop.DBus.Error.ServiceUnknown" {
		t.Errorf("default profile: environment %q, owner %q, CreateInputContext %q: want none of IBus", def["env"], def["owner"], def["create"])
	}
}

// TestGTKAppTypesThroughIBus: a real GTK 3 application in a sandbox (its
// own nested display) whose profile allows the input method: a key typed
// into its entry goes through GTK's IBus module, the broker's relay and
// ibus-portal to the engine on the host, a test engine registered on the
// real ibus-daemon the way CJK engines are, which commits "あ" for a: the
// entry shows "あ", and the engine saw the key.
func TestGTKAppTypesThroughIBus(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat("/usr/lib/x86_64-linux-gnu/gtk-3.0/3.0.0/immodules/im-ibus.so"); err != nil {
		t.Skip("ibus-gtk3 is not installed")
	}
	typeThroughIBus(t, "ibus_entry.py")
}

// TestGTK4AppTypesThroughIBus: the same with a GTK 4 entry (GNOME Text
// Editor's toolkit) and ibus's GTK 4 module.
func TestGTK4AppTypesThroughIBus(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat("/usr/lib/x86_64-linux-gnu/gtk-4.0/4.0.0/immodules/libim-ibus.so"); err != nil {
		t.Skip("ibus-gtk4 is not installed")
	}
	typeThroughIBus(t, "ibus_entry4.py")
}

// TestQtAppTypesThroughIBus: the same with a Qt 5 line edit, whose IBus
// plugin uses ibus-portal when IBUS_USE_PORTAL is set.
func TestQtAppTypesThroughIBus(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat("/usr/lib/x86_64-linux-gnu/qt5/plugins/platforminputcontexts/libibusplatforminputcontextplugin.so"); err != nil {
		t.Skip("Qt 5's IBus plugin is not installed")
	}
	if err := exec.Command("/usr/bin/python3", "-c", "import PyQt5.QtWidgets").Run(); err != nil {
		t.Skip("python3-pyqt5 is not installed")
	}
	typeThroughIBus(t, "ibus_qt.py")
}

// typeThroughIBus runs the application appScript (a window titled "IME
// entry" that prints text=TEXT at each change) in a sandbox with the input
// method, types a into it, and wants "あ" from the host's engine.
func typeThroughIBus(t *testing.T, appScript string) {
	needBins(t, "Xephyr", "xdotool")
	s := newSession(t)
	h := startIBus(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	engine := start(t, s.e.WithEnv("IBUS_ADDRESS="+h.addr).Command(ctx, "/usr/bin/python3", script(t, "ibus_engine.py")), cancel)
	waitFor(t, 30*time.Second, "the test engine", func() bool {
		return strings.Contains(engine.out.String(), "ready") || engine.exited()
	})
	if engine.exited() {
		t.Fatalf("test engine: %v", engine.res)
	}
	x := harness.Get(t).StartXvfb(t)
	app := script(t, appScript)
	// The application's input context is made asynchronously (GTK 4's
	// module does): keys typed before it has focus go to GTK's own simple
	// input method. The script types once the engine saw the focus.
	gate := s.e.UserDir(t)
	prof := filepath.Join(s.e.UserDir(t), "ibus-app.toml")
	s.e.WriteUserFile(t, prof, fmt.Sprintf("display = \"xephyr\"\ninput_method = \"ibus\"\nexpose_ro = [%q]\nexpose_rw = [%q]\n", app, gate), 0o644)
	// The application keeps the sandbox's standard output; xdotool types
	// on the sandbox's nested display.
	// With no window manager, GTK 4 sometimes misses the first focus
	// (it arrives before its window is ready): the focus goes to the root
	// window and back, each second, until the engine saw it.
	sh := `/usr/bin/python3 "$1" &
w=$(xdotool search --sync --onlyvisible --name '^IME entry$' | head -n 1)
root=$(xwininfo -root | awk '/Window id:/ {print $4}')
xdotool windowfocus --sync "$w" 2>&1
echo focused
n=0
while [ ! -e "$2/go" ]; do
	sleep 0.05
	n=$((n + 1))
	if [ $((n % 20)) -eq 0 ]; then xdotool windowfocus --sync "$root" windowfocus --sync "$w" 2>&1; fi
done
xdotool type --delay 200 aa 2>&1
echo "typed $?"
wait`
	sctx, scancel := context.WithTimeout(context.Background(), 5*time.Minute)
	cmd := s.e.Airlock(sctx, "run", "--profile", prof, "--name", "ime-app", "--", "/bin/sh", "-c", sh, "sh", app, gate)
	cmd.Env = append(cmd.Env, x.Env()...)
	sb := start(t, cmd, scancel)
	for deadline := time.Now().Add(90 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		_, after, _ := strings.Cut(engine.out.String(), "ready")
		if strings.Contains(after, "focus-in") || sb.exited() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the engine never saw the application's focus:\nengine:\n%s\nsandbox:\n%s\n%s", engine.out.String(), sb.out.String(), sb.errOut.String())
		}
	}
	s.e.WriteUserFile(t, filepath.Join(gate, "go"), "", 0o644)
	waitFor(t, 90*time.Second, "ああ in the sandboxed entry", func() bool {
		return strings.Contains(sb.out.String(), "text=ああ") || sb.exited()
	})
	if !strings.Contains(sb.out.String(), "text=ああ") {
		t.Fatalf("the entry never showed あ:\n%s\n%s\nengine:\n%s", sb.out.String(), sb.errOut.String(), engine.out.String())
	}
	if !strings.Contains(engine.out.String(), "key a") {
		t.Errorf("the engine did not see the key:\n%s", engine.out.String())
	}
	// The application's own text reaches the engine (SetSurroundingText,
	// an IBusText checked and re-encoded by the relay), when the
	// application sends it after the engine asked.
	waitFor(t, 60*time.Second, "the text around the cursor at the engine", func() bool {
		return strings.Contains(engine.out.String(), "surrounding あ") || sb.exited()
	})
	if !strings.Contains(engine.out.String(), "surrounding あ") {
		t.Errorf("the engine never got the text around the cursor:\n%s\nportal log:\n%s", engine.out.String(), s.portalLog())
	}
	if strings.Contains(sb.out.String(), "text=a") {
		t.Errorf("the key reached the entry unconverted:\n%s", sb.out.String())
	}
}
