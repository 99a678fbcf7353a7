package a11y_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"airlock/tests/harness"
)

// TestA11yStatusReadOnly: a sandbox whose profile relays org.a11y.Bus may
// read whether a screen reader is on (org.a11y.Status properties) but not
// switch the session's accessibility on or off (Properties.Set is refused:
// Flatpak relays GetAddress alone).
func TestA11yStatusReadOnly(t *testing.T) {
	t.Parallel()
	e := harness.Get(t)
	s := e.SessionBus(t)
	startA11yBus(t, s)
	prof := filepath.Join(e.UserDir(t), "a11y-status.toml")
	e.WriteUserFile(t, prof, "bus_names = [\"org.a11y.Bus\"]\n", 0o644)
	script := `gdbus call --session --dest org.a11y.Bus --object-path /org/a11y/bus --method org.freedesktop.DBus.Properties.Get org.a11y.Status IsEnabled 2>&1; echo "get $?"
gdbus call --session --dest org.a11y.Bus --object-path /org/a11y/bus --method org.freedesktop.DBus.Properties.Set org.a11y.Status IsEnabled "<true>" 2>&1; echo "set $?"`
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := s.Airlock(ctx, "run", "--profile", prof, "--", "/bin/sh", "-c", script)
	cmd.Env = withBridge(cmd.Env)
	r := harness.RunCmd(cmd)
	out := r.Stdout
	if !strings.Contains(out, "(<") || !strings.Contains(out, "get 0") {
		t.Errorf("reading org.a11y.Status from inside: %q, want a value and exit 0 (%v)", out, r)
	}
	if !strings.Contains(out, "org.freedesktop.DBus.Error.AccessDenied") || strings.Contains(out, "set 0") {
		t.Errorf("setting org.a11y.Status from inside: %q, want AccessDenied", out)
	}
}

// TestA11yWithoutProxy: when the launcher cannot find xdg-dbus-proxy, a
// profile that lists org.a11y.Bus gets no accessibility bus at all: nothing
// at /run/user/UID/at-spi/bus inside, GetAddress refused, and a warning
// that says why; never the session's bus itself.
func TestA11yWithoutProxy(t *testing.T) {
	t.Parallel()
	e := harness.Get(t)
	need(t)
	s := e.SessionBus(t)
	startA11yBus(t, s)
	prof := filepath.Join(e.UserDir(t), "a11y-noproxy.toml")
	e.WriteUserFile(t, prof, "bus_names = [\"org.a11y.Bus\"]\n", 0o644)
	script := fmt.Sprintf(`test -e /run/user/%d/at-spi/bus && echo "socket there" || echo "no socket"
gdbus call --session --dest org.a11y.Bus --object-path /org/a11y/bus --method org.a11y.Bus.GetAddress 2>&1; echo "get $?"`, e.UID)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := s.Airlock(ctx, "run", "--profile", prof, "--", "/bin/sh", "-c", script)
	// The launcher looks xdg-dbus-proxy up in its PATH; the application's
	// PATH inside is the sandbox's own.
	cmd.Env = append(without(withBridge(cmd.Env), "PATH"), "PATH="+e.UserDir(t))
	r := harness.RunCmd(cmd)
	if r.Code != 0 || !strings.Contains(r.Stdout, "no socket") || !strings.Contains(r.Stdout, "AccessDenied") || strings.Contains(r.Stdout, "get 0") {
		t.Errorf("without xdg-dbus-proxy, inside: %v\nwant no socket and GetAddress refused", r)
	}
	if !strings.Contains(r.Stderr, "xdg-dbus-proxy") {
		t.Errorf("no warning naming xdg-dbus-proxy: %v", r)
	}
}
