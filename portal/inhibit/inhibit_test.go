package inhibit

import (
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"airlock/portal/busserver"
	"airlock/portal/busserver/bustest"
	"airlock/portal/desktop"
)

func start(t *testing.T) (*Portal, string) {
	t.Helper()
	lg := slog.New(slog.DiscardHandler)
	s := busserver.New(busserver.Config{SandboxID: "id", SandboxName: "Editor", UID: os.Getuid(), Logger: lg})
	d := desktop.Install(s, desktop.Options{Logger: lg})
	p := Install(d, lg)
	path := filepath.Join(t.TempDir(), "bus")
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(l)
	t.Cleanup(func() { s.Close() })
	return p, "unix:path=" + path
}

func waitHeld(t *testing.T, p *Portal, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for p.Held() != n {
		if time.Now().After(deadline) {
			t.Fatalf("held %d, want %d", p.Held(), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestInhibitHeldUntilClosed(t *testing.T) {
	p, addr := start(t)
	c := bustest.Dial(t, addr)
	c.AddMatchSignal(dbus.WithMatchInterface("org.freedesktop.portal.Request"))
	sig := make(chan *dbus.Signal, 4)
	c.Signal(sig)
	obj := c.Object(desktop.BusName, desktop.ObjectPath)
	if v, err := obj.GetProperty(Interface + ".version"); err != nil || v.Value() != uint32(3) {
		t.Fatalf("version %v, %v", v, err)
	}
	var h dbus.ObjectPath
	opts := map[string]dbus.Variant{"reason": dbus.MakeVariant("Saving"), "handle_token": dbus.MakeVariant("t1")}
	if err := obj.Call(Interface+".Inhibit", 0, "", uint32(1|8), opts).Store(&h); err != nil {
		t.Fatal(err)
	}
	s := waitSignal(t, sig, "org.freedesktop.portal.Request.Response")
	if s.Path != h || s.Body[0].(uint32) != 0 {
		t.Errorf("response %v", s)
	}
	waitHeld(t, p, 1)
	// Still held after the Response: until the request is closed.
	if err := c.Object(desktop.BusName, h).Call("org.freedesktop.portal.Request.Close", 0).Err; err != nil {
		t.Fatal(err)
	}
	waitHeld(t, p, 0)

	// Bad flags are refused; the cap holds; a caller leaving releases all.
	if err := obj.Call(Interface+".Inhibit", 0, "", uint32(16), map[string]dbus.Variant{}).Err; bustest.ErrName(err) != desktop.ErrInvalidArgument {
		t.Errorf("flags 16: %v", err)
	}
	d := bustest.Dial(t, addr)
	for i := 0; i < MaxInhibitions; i++ {
		if err := d.Object(desktop.BusName, desktop.ObjectPath).Call(Interface+".Inhibit", 0, "", uint32(4), map[string]dbus.Variant{}).Err; err != nil {
			t.Fatal(err)
		}
	}
	if err := d.Object(desktop.BusName, desktop.ObjectPath).Call(Interface+".Inhibit", 0, "", uint32(4), map[string]dbus.Variant{}).Err; bustest.ErrName(err) != "org.freedesktop.DBus.Error.LimitsExceeded" {
		t.Errorf("over the cap: %v", err)
	}
	d.Close()
	waitHeld(t, p, 0)
}

func TestCreateMonitor(t *testing.T) {
	_, addr := start(t)
	c := bustest.Dial(t, addr)
	c.AddMatchSignal(dbus.WithMatchInterface("org.freedesktop.portal.Request"))
	c.AddMatchSignal(dbus.WithMatchInterface(Interface))
	sig := make(chan *dbus.Signal, 4)
	c.Signal(sig)
	obj := c.Object(desktop.BusName, desktop.ObjectPath)
	var h dbus.ObjectPath
	if err := obj.Call(Interface+".CreateMonitor", 0, "", map[string]dbus.Variant{"session_handle_token": dbus.MakeVariant("s1")}).Store(&h); err != nil {
		t.Fatal(err)
	}
	r := waitSignal(t, sig, "org.freedesktop.portal.Request.Response")
	session, _ := r.Body[1].(map[string]dbus.Variant)["session_handle"].Value().(string)
	st := waitSignal(t, sig, Interface+".StateChanged")
	if v := st.Body[1].(map[string]dbus.Variant)["session-state"].Value(); v != uint32(1) {
		t.Errorf("state %v", v)
	}
	if session == "" || !dbus.ObjectPath(session).IsValid() {
		t.Fatalf("session handle %q", session)
	}
	if err := obj.Call(Interface+".QueryEndResponse", 0, dbus.ObjectPath(session)).Err; err != nil {
		t.Errorf("QueryEndResponse: %v", err)
	}
	if err := c.Object(desktop.BusName, dbus.ObjectPath(session)).Call("org.freedesktop.portal.Session.Close", 0).Err; err != nil {
		t.Errorf("Session.Close: %v", err)
	}
	if err := obj.Call(Interface+".QueryEndResponse", 0, dbus.ObjectPath(session)).Err; bustest.ErrName(err) != desktop.ErrNotFound {
		t.Errorf("QueryEndResponse after Close: %v", err)
	}
}

// waitSignal returns the next signal called name, skipping the bus's own
// (NameAcquired).
func waitSignal(t *testing.T, sig chan *dbus.Signal, name string) *dbus.Signal {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case s := <-sig:
			if s.Name == name {
				return s
			}
		case <-deadline:
			t.Fatalf("no %s signal", name)
		}
	}
}
