package desktop

import (
	"airlock/portal/busserver/bustest"

	"log/slog"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"airlock/portal/busserver"
	"airlock/tests/harness"
)

type testPortal struct {
	s        *busserver.Server
	d        *Desktop
	settings *StaticSettings
	path     string
	addr     string
}

func startPortal(t *testing.T) *testPortal {
	t.Helper()
	logs := &harness.SyncBuffer{}
	lg := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s := busserver.New(busserver.Config{SandboxID: "id", SandboxName: "desktop-test", UID: os.Getuid(), Logger: lg})
	settings := DefaultSettings()
	d := Install(s, Options{Settings: settings, Logger: lg})
	path := filepath.Join(t.TempDir(), "bus")
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(l)
	t.Cleanup(func() {
		s.Close()
		if t.Failed() {
			t.Logf("logs:\n%s", logs.String())
		}
	})
	return &testPortal{s: s, d: d, settings: settings, path: path, addr: "unix:path=" + path}
}

func (p *testPortal) connect(t *testing.T) *dbus.Conn {
	t.Helper()
	return bustest.Dial(t, p.addr)
}

var errName = bustest.ErrName

func TestSettings(t *testing.T) {
	p := startPortal(t)
	c := p.connect(t)
	obj := c.Object(BusName, ObjectPath)

	v, err := obj.GetProperty(settingsIface + ".version")
	if err != nil || v.Value() != uint32(2) {
		t.Fatalf("version = %v, %v", v, err)
	}
	var one dbus.Variant
	if err := obj.Call(settingsIface+".ReadOne", 0, AppearanceNS, KeyColorScheme).Store(&one); err != nil || one.Value() != uint32(0) {
		t.Errorf("ReadOne(color-scheme) = %v, %v", one, err)
	}
	var wrapped dbus.Variant
	if err := obj.Call(settingsIface+".Read", 0, AppearanceNS, KeyContrast).Store(&wrapped); err != nil {
		t.Fatalf("Read: %v", err)
	}
	if inner, ok := wrapped.Value().(dbus.Variant); !ok || inner.Value() != uint32(0) {
		t.Errorf("Read = %v, want a variant inside the variant", wrapped)
	}
	var acc dbus.Variant
	if err := obj.Call(settingsIface+".ReadOne", 0, AppearanceNS, KeyAccentColor).Store(&acc); err != nil || acc.Signature().String() != "(ddd)" {
		t.Errorf("accent-color = %v (%v), %v", acc, acc.Signature(), err)
	}
	for _, tc := range [][2]string{{"org.example.none", "key"}, {AppearanceNS, "nope"}} {
		err := obj.Call(settingsIface+".ReadOne", 0, tc[0], tc[1]).Err
		if errName(err) != ErrNotFound {
			t.Errorf("ReadOne(%s, %s) error = %v, want NotFound", tc[0], tc[1], err)
		}
	}
	p.settings.Set("org.gnome.other", "k", dbus.MakeVariant("x"))
	for _, tc := range []struct {
		patterns []string
		want     []string
	}{
		{[]string{"org.freedesktop.*"}, []string{AppearanceNS}},
		{[]string{AppearanceNS}, []string{AppearanceNS}},
		{[]string{}, []string{AppearanceNS, "org.gnome.other"}},
		{[]string{"org.nothing"}, nil},
	} {
		var all map[string]map[string]dbus.Variant
		if err := obj.Call(settingsIface+".ReadAll", 0, tc.patterns).Store(&all); err != nil {
			t.Fatalf("ReadAll(%v): %v", tc.patterns, err)
		}
		if len(all) != len(tc.want) {
			t.Errorf("ReadAll(%v) = %v, want namespaces %v", tc.patterns, all, tc.want)
		}
		for _, ns := range tc.want {
			if _, ok := all[ns]; !ok {
				t.Errorf("ReadAll(%v) lacks %s", tc.patterns, ns)
			}
		}
	}

	// SettingChanged reaches a subscriber.
	if err := c.AddMatchSignal(dbus.WithMatchSender(BusName), dbus.WithMatchInterface(settingsIface), dbus.WithMatchMember("SettingChanged")); err != nil {
		t.Fatal(err)
	}
	ch := make(chan *dbus.Signal, 4)
	c.Signal(ch)
	p.settings.Set(AppearanceNS, KeyColorScheme, dbus.MakeVariant(uint32(1)))
	select {
	case sig := <-ch:
		if len(sig.Body) != 3 || sig.Body[1] != KeyColorScheme || sig.Body[2].(dbus.Variant).Value() != uint32(1) {
			t.Errorf("SettingChanged = %v", sig.Body)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no SettingChanged signal")
	}
}

func TestRequests(t *testing.T) {
	p := startPortal(t)
	owner := p.connect(t)
	other := p.connect(t)
	sender := owner.Names()[0]

	for _, tok := range []string{"", "has-dash", "a/b", "dot.ted", "sp ace", string(make([]byte, 65))} {
		if _, err := p.d.NewRequest(sender, tok); errName(err) != ErrInvalidArgument {
			t.Errorf("NewRequest(%q) error = %v, want InvalidArgument", tok, err)
		}
	}
	r, err := p.d.NewRequest(sender, "tok_1")
	if err != nil {
		t.Fatal(err)
	}
	if want := RequestPath(sender, "tok_1"); r.Path != want || string(want) != "/org/freedesktop/portal/desktop/request/"+sender[1:2]+"_"+sender[3:]+"/tok_1" {
		t.Errorf("handle %s, want %s", r.Path, want)
	}
	if _, err := p.d.NewRequest(sender, "tok_1"); errName(err) != ErrInvalidArgument {
		t.Errorf("duplicate handle accepted: %v", err)
	}
	err = other.Object(BusName, r.Path).Call(requestIface+".Close", 0).Err
	if errName(err) != "org.freedesktop.DBus.Error.AccessDenied" {
		t.Errorf("Close by non-owner error = %v, want AccessDenied", err)
	}
	select {
	case <-r.Closed():
		t.Fatal("request closed by a non-owner")
	default:
	}
	if err := owner.Object(BusName, r.Path).Call(requestIface+".Close", 0).Err; err != nil {
		t.Fatalf("Close by owner: %v", err)
	}
	select {
	case <-r.Closed():
	case <-time.After(5 * time.Second):
		t.Fatal("request not closed")
	}
	if err := r.Respond(ResponseSuccess, nil); err == nil {
		t.Error("Respond after Close succeeded")
	}

	// Respond: unicast Response to the owner only, once.
	r2, err := p.d.NewRequest(sender, "tok_2")
	if err != nil {
		t.Fatal(err)
	}
	var chans []chan *dbus.Signal
	for _, c := range []*dbus.Conn{owner, other} {
		c.AddMatchSignal(dbus.WithMatchInterface(requestIface), dbus.WithMatchMember("Response"))
		ch := make(chan *dbus.Signal, 4)
		c.Signal(ch)
		chans = append(chans, ch)
	}
	if err := r2.Respond(ResponseSuccess, map[string]dbus.Variant{"uris": dbus.MakeVariant([]string{"file:///x"})}); err != nil {
		t.Fatal(err)
	}
	select {
	case sig := <-chans[0]:
		if sig.Path != r2.Path || sig.Body[0] != ResponseSuccess {
			t.Errorf("Response = %+v", sig)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("owner got no Response")
	}
	if err := r2.Respond(ResponseSuccess, nil); err == nil {
		t.Error("second Respond succeeded")
	}
	select {
	case sig := <-chans[1]:
		t.Errorf("another client saw the Response: %+v", sig)
	case <-time.After(200 * time.Millisecond):
	}
	err = owner.Object(BusName, r2.Path).Call(requestIface+".Close", 0).Err
	if errName(err) != "org.freedesktop.DBus.Error.UnknownObject" {
		t.Errorf("request still exported after Respond: %v", err)
	}

	// A caller that leaves takes its requests with it.
	r3, err := p.d.NewRequest(other.Names()[0], "tok_3")
	if err != nil {
		t.Fatal(err)
	}
	other.Close()
	select {
	case <-r3.Closed():
	case <-time.After(5 * time.Second):
		t.Fatal("request of a disconnected caller not closed")
	}
}

// TestNewRequestFor checks that Response never overtakes the reply that
// carries the handle.
func TestNewRequestFor(t *testing.T) {
	p := startPortal(t)
	p.d.AddInterface("org.example.portal.Test", 1, map[string]busserver.Handler{
		"Do": func(c *busserver.Call) ([]any, error) {
			opts, _ := c.Body[0].(map[string]dbus.Variant)
			r, err := p.d.NewRequestFor(c, opts)
			if err != nil {
				return nil, err
			}
			go r.Respond(ResponseCancelled, nil) // immediately
			return []any{r.Path}, nil
		},
	}, `<interface name="org.example.portal.Test"/>`)
	c := p.connect(t)
	c.AddMatchSignal(dbus.WithMatchInterface(requestIface))
	ch := make(chan *dbus.Signal, 4)
	c.Signal(ch)
	for i, opts := range []map[string]dbus.Variant{{"handle_token": dbus.MakeVariant("t1")}, {}} {
		var handle dbus.ObjectPath
		if err := c.Object(BusName, ObjectPath).Call("org.example.portal.Test.Do", 0, opts).Store(&handle); err != nil {
			t.Fatal(err)
		}
		if i == 0 && handle != RequestPath(c.Names()[0], "t1") {
			t.Errorf("handle = %s", handle)
		}
		select {
		case sig := <-ch:
			if sig.Path != handle {
				t.Errorf("Response on %s, want %s", sig.Path, handle)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("no Response")
		}
	}
	err := c.Object(BusName, ObjectPath).Call("org.example.portal.Test.Do", 0, map[string]dbus.Variant{"handle_token": dbus.MakeVariant("bad-token")}).Err
	if errName(err) != ErrInvalidArgument {
		t.Errorf("bad token error = %v", err)
	}
}

// TestAbsentFileChooser: with no FileChooser installed, probing it fails at
// once (GTK reads the version property; a missing interface means no
// portal, and the call must not hang).
func TestAbsentFileChooser(t *testing.T) {
	p := startPortal(t)
	c := p.connect(t)
	obj := c.Object(BusName, ObjectPath)
	done := make(chan error, 2)
	go func() { _, err := obj.GetProperty("org.freedesktop.portal.FileChooser.version"); done <- err }()
	go func() {
		done <- obj.Call("org.freedesktop.portal.FileChooser.OpenFile", 0, "", "Open", map[string]dbus.Variant{}).Err
	}()
	for i := 0; i < 2; i++ {
		select {
		case err := <-done:
			if errName(err) != "org.freedesktop.DBus.Error.UnknownInterface" {
				t.Errorf("FileChooser probe error = %v, want UnknownInterface", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("FileChooser probe hung")
		}
	}
}
