package sandbox

import (
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestA11yProxyRules: the sandbox may call the registry for exactly the
// methods a11y.go allows, on their paths; nothing that reaches other
// applications, listens or synthesizes.
func TestA11yProxyRules(t *testing.T) {
	want := map[string]bool{
		"org.a11y.atspi.Socket.Embed@/org/a11y/atspi/accessible/root":                                                 true,
		"org.a11y.atspi.Registry.GetRegisteredEvents@/org/a11y/atspi/registry":                                        true,
		"org.a11y.atspi.DeviceEventController.GetKeystrokeListeners@/org/a11y/atspi/registry/deviceeventcontroller":   true,
		"org.a11y.atspi.DeviceEventController.GetDeviceEventListeners@/org/a11y/atspi/registry/deviceeventcontroller": true,
		"org.a11y.atspi.DeviceEventController.NotifyListenersSync@/org/a11y/atspi/registry/deviceeventcontroller":     true,
		"org.a11y.atspi.DeviceEventController.NotifyListenersAsync@/org/a11y/atspi/registry/deviceeventcontroller":    true,
	}
	seen := map[string]bool{}
	var filter, sloppy bool
	for _, r := range a11yProxyRules {
		switch {
		case r == "--filter":
			filter = true
		case r == "--sloppy-names":
			sloppy = true
		case strings.HasPrefix(r, "--call=org.a11y.atspi.Registry="):
			rule := strings.TrimPrefix(r, "--call=org.a11y.atspi.Registry=")
			if !want[rule] {
				t.Errorf("call rule %q is not one the sandbox needs", rule)
			}
			seen[rule] = true
		case strings.HasPrefix(r, "--broadcast=org.a11y.atspi.Registry=org.a11y.atspi.Registry.EventListener"):
		default:
			// --talk, --see, --own, a wildcard or another name would
			// open the bus beyond the registry's few methods.
			t.Errorf("unexpected proxy rule %q", r)
		}
	}
	if !filter || !sloppy {
		t.Errorf("rules %q: want --filter and --sloppy-names", a11yProxyRules)
	}
	for r := range want {
		if !seen[r] {
			t.Errorf("missing call rule %q: the application could not register or send its key events", r)
		}
	}
}

func quietSandbox() *Sandbox {
	return &Sandbox{log: slog.New(slog.NewTextHandler(io.Discard, nil))}
}

// TestShareA11yBusWithoutProxy: without xdg-dbus-proxy the sandbox gets no
// accessibility bus at all (never the host's socket), and nothing to clean.
func TestShareA11yBusWithoutProxy(t *testing.T) {
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	old := dbusProxyProgram
	dbusProxyProgram = "airlock-test-no-such-dbus-proxy"
	defer func() { dbusProxyProgram = old }()
	s := quietSandbox()
	host := filepath.Join(t.TempDir(), "bus")
	if got := s.shareA11yBus("unix:path="+host, "/run/user/1000"); got != "" {
		t.Errorf("address inside %q, want none", got)
	}
	if len(s.binds) != 0 || len(s.cleanup) != 0 {
		t.Errorf("binds %v, %d clean-ups: want none", s.binds, len(s.cleanup))
	}
	if got := s.shareA11yBus("tcp:host=localhost,port=1", "/run/user/1000"); got != "" {
		t.Errorf("a tcp address gave %q, want none", got)
	}
}

func needProxy(t *testing.T) {
	if _, err := exec.LookPath(dbusProxyProgram); err != nil {
		t.Skip("xdg-dbus-proxy is missing: install the Debian package xdg-dbus-proxy")
	}
}

// TestShareA11yBusProxy: the sandbox's bind is the proxy's socket, at
// /run/user/UID/at-spi/bus, and the proxy ends with the sandbox (Close).
func TestShareA11yBusProxy(t *testing.T) {
	needProxy(t)
	rt := t.TempDir()
	t.Setenv("XDG_RUNTIME_DIR", rt)
	s := quietSandbox()
	got := s.shareA11yBus("unix:path="+filepath.Join(rt, "no-bus"), "/run/user/1000")
	if got != "unix:path=/run/user/1000/at-spi/bus" {
		t.Fatalf("address inside %q", got)
	}
	if len(s.binds) != 1 || s.binds[0].Dst != "/run/user/1000/at-spi/bus" || !strings.HasPrefix(s.binds[0].Src, filepath.Join(rt, "airlock", "a11y")+"/") {
		t.Fatalf("binds %+v, want the proxy's socket under %s", s.binds, rt)
	}
	src := s.binds[0].Src
	if st, err := os.Stat(src); err != nil || st.Mode()&os.ModeSocket == 0 {
		t.Fatalf("proxy socket %s: %v", src, err)
	}
	if st, err := os.Stat(filepath.Dir(src)); err != nil || st.Mode().Perm() != 0o700 {
		t.Errorf("the socket's folder is not private: %v %v", st.Mode(), err)
	}
	s.Close()
	if _, err := os.Stat(filepath.Dir(src)); !os.IsNotExist(err) {
		t.Errorf("the socket's folder outlives the sandbox: %v", err)
	}
}

// TestA11yProxyEndsWithLauncher: the proxy exits when its --fd closes, which
// the kernel does when the launcher dies, however it dies: closing our end
// stands for that here.
func TestA11yProxyEndsWithLauncher(t *testing.T) {
	needProxy(t)
	rt := t.TempDir()
	p, err := startA11yProxy("unix:path="+filepath.Join(rt, "no-bus"), filepath.Join(rt, "airlock"))
	if err != nil {
		t.Fatal(err)
	}
	pid := p.cmd.Process.Pid
	p.sync.Close()
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		syscall.Kill(pid, syscall.SIGKILL)
		t.Fatalf("xdg-dbus-proxy (pid %d) still runs 10 s after its --fd closed", pid)
	}
	os.RemoveAll(p.dir)
}
