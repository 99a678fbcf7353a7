package portal_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"airlock/tests/harness"
)

// dbusError extracts the error name dbus-send printed ("Error NAME: text").
func dbusError(out string) string {
	for _, l := range strings.Split(out, "\n") {
		if rest, ok := strings.CutPrefix(l, "Error "); ok {
			name, _, _ := strings.Cut(rest, ":")
			return name
		}
	}
	return ""
}

// gdbusError extracts the remote error name gdbus printed.
func gdbusError(out string) string {
	_, rest, ok := strings.Cut(out, "GDBus.Error:")
	if !ok {
		return ""
	}
	name, _, _ := strings.Cut(rest, ":")
	return name
}

// TestRefusalsFromInside checks what a hostile application gets for the
// calls the mediated bus must refuse, by exact D-Bus error name, and that
// the host session bus is not even visible.
func TestRefusalsFromInside(t *testing.T) {
	t.Parallel()
	s := newSession(t)
	const drv = `dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus`
	r := s.sh(t, nil, `
echo "== systemd"; dbus-send --session --print-reply --dest=org.freedesktop.systemd1 /org/freedesktop/systemd1 org.freedesktop.DBus.Properties.Get string:org.freedesktop.systemd1.Manager string:Version 2>&1
echo "== systemd-gdbus"; gdbus call --session -d org.freedesktop.systemd1 -o /org/freedesktop/systemd1 -m org.freedesktop.systemd1.Manager.ListUnits 2>&1
echo "== monitor"; `+drv+` org.freedesktop.DBus.Monitoring.BecomeMonitor array:string: uint32:0 2>&1
echo "== eavesdrop"; `+drv+` org.freedesktop.DBus.AddMatch string:"type='method_call',eavesdrop=true" 2>&1
echo "== eavesdrop-gdbus"; gdbus call --session -d org.freedesktop.DBus -o /org/freedesktop/DBus -m org.freedesktop.DBus.AddMatch "eavesdrop=true" 2>&1
echo "== control"; dbus-send --session --print-reply --dest=org.airlock.Portal /org/airlock/Portal org.airlock.Portal1.List 2>&1
echo "== control-introspect"; dbus-send --session --print-reply --dest=org.airlock.Portal /org/airlock/Portal org.freedesktop.DBus.Introspectable.Introspect 2>&1
echo "== own-portal"; `+drv+` org.freedesktop.DBus.RequestName string:org.freedesktop.portal.Desktop uint32:2 2>&1
echo "== portal-owner"; `+drv+` org.freedesktop.DBus.GetNameOwner string:org.freedesktop.portal.Desktop 2>&1
echo "== names"; `+drv+` org.freedesktop.DBus.ListNames 2>&1
echo "== host-sock"; test -e '`+s.sock+`' && echo VISIBLE || echo absent; test -e '`+filepath.Dir(s.sock)+`' && echo DIR-VISIBLE || echo dir-absent
echo "== host-bus"; dbus-send --bus='`+s.addr+`' --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus.GetId 2>&1; echo "status=$?"
echo "== id"; `+drv+` org.freedesktop.DBus.GetId 2>&1
true
`)
	if r.Code != 0 {
		t.Fatalf("sandbox failed: %v", r)
	}
	sec := sections(r.Stdout)
	const (
		serviceUnknown = "org.freedesktop.DBus.Error.ServiceUnknown"
		accessDenied   = "org.freedesktop.DBus.Error.AccessDenied"
	)
	for name, want := range map[string]string{
		"systemd":            serviceUnknown,
		"monitor":            accessDenied,
		"eavesdrop":          accessDenied,
		"control":            serviceUnknown,
		"control-introspect": serviceUnknown,
		"own-portal":         accessDenied,
		"systemd-gdbus":      serviceUnknown,
		"eavesdrop-gdbus":    accessDenied,
	} {
		got := dbusError(sec[name])
		if strings.HasSuffix(name, "-gdbus") {
			got = gdbusError(sec[name])
		}
		if got != want {
			t.Errorf("%s: got error %q, want %s:\n%s", name, got, want, sec[name])
		}
	}
	// The refused RequestName changed nothing: the broker still owns the
	// portal name.
	if !strings.Contains(sec["portal-owner"], `string ":1.0"`) {
		t.Errorf("after the refused RequestName, GetNameOwner(portal) = %q, want the broker (:1.0)", sec["portal-owner"])
	}
	for _, n := range []string{"org.airlock.Portal", "org.freedesktop.systemd1"} {
		if strings.Contains(sec["names"], n) {
			t.Errorf("ListNames inside shows %s:\n%s", n, sec["names"])
		}
	}
	if !strings.Contains(sec["names"], `"`+portalName+`"`) {
		t.Errorf("ListNames inside lacks %s:\n%s", portalName, sec["names"])
	}
	if got := strings.TrimSpace(sec["host-sock"]); got != "absent\ndir-absent" {
		t.Errorf("host session bus socket %s inside: %q, want it and its folder absent", s.sock, got)
	}
	if !strings.Contains(sec["host-bus"], "status=1") || strings.Contains(sec["host-bus"], "method return") {
		t.Errorf("dbus-send to the host bus address from inside did not fail:\n%s", sec["host-bus"])
	}
	// The bus inside is not the host's bus under another path: a different
	// bus id.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	host := harness.RunCmd(s.e.Command(ctx, "dbus-send", "--session", "--print-reply", "--dest=org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus.GetId"))
	hostID := lastQuoted(host.Stdout)
	inID := lastQuoted(sec["id"])
	if hostID == "" || inID == "" || hostID == inID {
		t.Errorf("bus ids: host %q, inside %q: want two different ids", hostID, inID)
	}
}

func lastQuoted(s string) string {
	i := strings.LastIndexByte(s, '"')
	if i < 1 {
		return ""
	}
	j := strings.LastIndexByte(s[:i], '"')
	if j < 0 {
		return ""
	}
	return s[j+1 : i]
}

// TestNameOwnedInOtherSandbox runs two sandboxes at once on one broker:
// A owns org.example.A (python3-gi RequestName) and stays alive; B neither
// sees the name nor reaches it. A's own second client does reach it, so the
// name is real.
func TestNameOwnedInOtherSandbox(t *testing.T) {
	t.Parallel()
	s := newSession(t)
	py := script(t, "owner.py")
	dir := s.e.UserDir(t)
	a := s.sandbox(t, "run", "--name", "owner-a", "--ro", py, "--rw", dir, "--", "/bin/sh", "-c", `
/usr/bin/python3 "$1" org.example.A "$2" &
while ! test -e "$2/owned"; do sleep 0.05; done
gdbus call --session -d org.example.A -o / -m org.freedesktop.DBus.Peer.Ping > "$2/self-ping" 2>&1
dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus.ListNames > "$2/names-a" 2>&1
touch "$2/ready"
wait
`, "sh", py, dir)
	waitFor(t, 60*time.Second, "sandbox A to own org.example.A", func() bool {
		_, err := os.Stat(filepath.Join(dir, "ready"))
		return err == nil || a.exited()
	})
	if a.exited() {
		t.Fatalf("sandbox A ended early: %v", a.res)
	}
	owned, _ := os.ReadFile(filepath.Join(dir, "owned"))
	if !strings.HasPrefix(string(owned), "1 ") {
		t.Fatalf("A: RequestName(org.example.A) = %q, want 1 (primary owner)", owned)
	}
	self, _ := os.ReadFile(filepath.Join(dir, "self-ping"))
	if strings.TrimSpace(string(self)) != "()" {
		t.Fatalf("A's second client cannot call org.example.A in its own sandbox (the control for B's check): %q", self)
	}
	namesA, _ := os.ReadFile(filepath.Join(dir, "names-a"))
	if !strings.Contains(string(namesA), `"org.example.A"`) {
		t.Fatalf("A's ListNames lacks its own org.example.A:\n%s", namesA)
	}

	const drv = `dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus`
	r := s.sh(t, []string{"--name", "other-b"}, `
echo "== names"; `+drv+` org.freedesktop.DBus.ListNames 2>&1
echo "== has"; `+drv+` org.freedesktop.DBus.NameHasOwner string:org.example.A 2>&1
echo "== owner"; `+drv+` org.freedesktop.DBus.GetNameOwner string:org.example.A 2>&1
echo "== call"; dbus-send --session --print-reply --dest=org.example.A / org.freedesktop.DBus.Peer.Ping 2>&1
echo "== call-gdbus"; gdbus call --session -d org.example.A -o / -m org.freedesktop.DBus.Peer.Ping 2>&1
true
`)
	if r.Code != 0 {
		t.Fatalf("sandbox B failed: %v", r)
	}
	if a.exited() {
		t.Fatalf("sandbox A ended before B's checks were done: %v", a.res)
	}
	sec := sections(r.Stdout)
	if strings.Contains(sec["names"], "org.example.A") || !strings.Contains(sec["names"], portalName) {
		t.Errorf("B's ListNames must list the portal and not org.example.A:\n%s", sec["names"])
	}
	if !strings.Contains(sec["has"], "boolean false") {
		t.Errorf("B: NameHasOwner(org.example.A) = %q, want false", sec["has"])
	}
	if got := dbusError(sec["owner"]); got != "org.freedesktop.DBus.Error.NameHasNoOwner" {
		t.Errorf("B: GetNameOwner(org.example.A) error = %q, want NameHasNoOwner:\n%s", got, sec["owner"])
	}
	if got := dbusError(sec["call"]); got != "org.freedesktop.DBus.Error.ServiceUnknown" {
		t.Errorf("B: dbus-send to org.example.A error = %q, want ServiceUnknown:\n%s", got, sec["call"])
	}
	if got := gdbusError(sec["call-gdbus"]); got != "org.freedesktop.DBus.Error.ServiceUnknown" {
		t.Errorf("B: gdbus call to org.example.A error = %q, want ServiceUnknown:\n%s", got, sec["call-gdbus"])
	}
	os.WriteFile(filepath.Join(dir, "stop"), nil, 0o644)
	if res := a.wait(t, 60*time.Second); res.Code != 0 {
		t.Errorf("sandbox A: %v", res)
	}
}
