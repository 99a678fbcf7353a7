package busserver

import (
	"strings"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
)

func TestHelloAndNames(t *testing.T) {
	b := startBus(t, nil)
	b.s.AddServedName("org.freedesktop.portal.Desktop")
	c1 := b.connect(t)
	if !strings.HasPrefix(c1.Names()[0], ":1.") {
		t.Fatalf("unique name %q does not look like :1.N", c1.Names()[0])
	}
	var names []string
	if err := busObj(c1).Call("org.freedesktop.DBus.ListNames", 0).Store(&names); err != nil {
		t.Fatalf("ListNames: %v", err)
	}
	for _, want := range []string{"org.freedesktop.DBus", "org.freedesktop.portal.Desktop", c1.Names()[0]} {
		if !contains(names, want) {
			t.Errorf("ListNames = %v, missing %s", names, want)
		}
	}
	var owner string
	if err := busObj(c1).Call("org.freedesktop.DBus.GetNameOwner", 0, "org.freedesktop.portal.Desktop").Store(&owner); err != nil || owner != BrokerName {
		t.Errorf("GetNameOwner(portal) = %q, %v; want %s", owner, err, BrokerName)
	}
	var started uint32
	if err := busObj(c1).Call("org.freedesktop.DBus.StartServiceByName", 0, "org.freedesktop.portal.Desktop", uint32(0)).Store(&started); err != nil || started != 2 {
		t.Errorf("StartServiceByName(portal) = %d, %v; want 2", started, err)
	}
	err := busObj(c1).Call("org.freedesktop.DBus.StartServiceByName", 0, "org.example.Nothing", uint32(0)).Err
	if errName(err) != errServiceUnknown {
		t.Errorf("StartServiceByName(unknown) error = %v, want ServiceUnknown", err)
	}

	reply, err := c1.RequestName("org.example.App", dbus.NameFlagDoNotQueue)
	if err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("RequestName = %v, %v", reply, err)
	}
	c2 := b.connect(t)
	reply, err = c2.RequestName("org.example.App", dbus.NameFlagDoNotQueue)
	if err != nil || reply != dbus.RequestNameReplyExists {
		t.Errorf("second RequestName = %v, %v; want exists", reply, err)
	}
	for _, name := range []string{"org.freedesktop.portal.Desktop", "org.freedesktop.portal.Documents", "org.freedesktop.DBus", "org.freedesktop.DBus.Foo"} {
		_, err := c2.RequestName(name, dbus.NameFlagDoNotQueue)
		if errName(err) != errAccessDenied {
			t.Errorf("RequestName(%s) error = %v, want AccessDenied", name, err)
		}
	}
	if err := busObj(c2).Call("org.freedesktop.DBus.GetNameOwner", 0, "org.example.App").Store(&owner); err != nil || owner != c1.Names()[0] {
		t.Errorf("GetNameOwner(app) = %q, %v", owner, err)
	}
	var has bool
	if err := busObj(c2).Call("org.freedesktop.DBus.NameHasOwner", 0, "org.example.Nope").Store(&has); err != nil || has {
		t.Errorf("NameHasOwner(nope) = %v, %v", has, err)
	}
	if rel, err := c1.ReleaseName("org.example.App"); err != nil || rel != dbus.ReleaseNameReplyReleased {
		t.Errorf("ReleaseName = %v, %v", rel, err)
	}
	err = busObj(c2).Call("org.freedesktop.DBus.GetNameOwner", 0, "org.example.App").Err
	if errName(err) != errNameHasNoOwner {
		t.Errorf("GetNameOwner after release: %v", err)
	}
	var uid uint32
	if err := busObj(c2).Call("org.freedesktop.DBus.GetConnectionUnixUser", 0, c1.Names()[0]).Store(&uid); err != nil || int(uid) != b.s.cfg.UID {
		t.Errorf("GetConnectionUnixUser = %d, %v", uid, err)
	}
	err = busObj(c2).Call("org.freedesktop.DBus.GetConnectionUnixProcessID", 0, c1.Names()[0]).Err
	if errName(err) != errAccessDenied {
		t.Errorf("GetConnectionUnixProcessID error = %v, want AccessDenied", err)
	}
	var creds map[string]dbus.Variant
	if err := busObj(c2).Call("org.freedesktop.DBus.GetConnectionCredentials", 0, c1.Names()[0]).Store(&creds); err != nil || len(creds) != 1 {
		t.Errorf("GetConnectionCredentials = %v, %v", creds, err)
	}
	var id string
	if err := busObj(c2).Call("org.freedesktop.DBus.GetId", 0).Store(&id); err != nil || len(id) != 32 {
		t.Errorf("GetId = %q, %v", id, err)
	}
	for _, m := range []string{"org.freedesktop.DBus.Monitoring.BecomeMonitor", "org.freedesktop.DBus.Debug.Stats.GetStats"} {
		var err error
		if strings.HasSuffix(m, "BecomeMonitor") {
			err = busObj(c2).Call(m, 0, []string{}, uint32(0)).Err
		} else {
			err = busObj(c2).Call(m, 0).Err
		}
		if errName(err) != errAccessDenied {
			t.Errorf("%s error = %v, want AccessDenied", m, err)
		}
	}
	if err := c2.Object("org.freedesktop.DBus", "/").Call("org.freedesktop.DBus.Peer.Ping", 0).Err; err != nil {
		t.Errorf("Peer.Ping: %v", err)
	}
	if !strings.Contains(b.logs.String(), "sandbox=test-sandbox") {
		t.Errorf("refusals not logged with the sandbox name:\n%s", b.logs.String())
	}
}

func TestAddMatchEavesdropRefused(t *testing.T) {
	b := startBus(t, nil)
	c := b.connect(t)
	err := busObj(c).Call("org.freedesktop.DBus.AddMatch", 0, "type='method_call',eavesdrop=true").Err
	if errName(err) != errAccessDenied {
		t.Errorf("AddMatch(eavesdrop=true) error = %v, want AccessDenied", err)
	}
	err = busObj(c).Call("org.freedesktop.DBus.AddMatch", 0, "type='nonsense'").Err
	if errName(err) != errMatchInvalid {
		t.Errorf("AddMatch(bad) error = %v, want MatchRuleInvalid", err)
	}
	if err := busObj(c).Call("org.freedesktop.DBus.AddMatch", 0, "type='signal',interface='org.example.I'").Err; err != nil {
		t.Errorf("AddMatch(good): %v", err)
	}
	if err := busObj(c).Call("org.freedesktop.DBus.RemoveMatch", 0, "interface='org.example.I',type='signal'").Err; err != nil {
		t.Errorf("RemoveMatch(same rule, reordered): %v", err)
	}
	err = busObj(c).Call("org.freedesktop.DBus.RemoveMatch", 0, "type='signal'").Err
	if errName(err) != errMatchNotFound {
		t.Errorf("RemoveMatch(absent) error = %v, want MatchRuleNotFound", err)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func waitSignal(t *testing.T, ch <-chan *dbus.Signal, d time.Duration) *dbus.Signal {
	t.Helper()
	select {
	case s := <-ch:
		return s
	case <-time.After(d):
		return nil
	}
}
