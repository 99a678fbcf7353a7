package busserver

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
)

type echoObj struct{}

func (echoObj) Echo(s string, pair struct {
	A int32
	B string
}) (string, int32, string, *dbus.Error) {
	return s, pair.A, pair.B, nil
}

func TestRoutingBetweenClients(t *testing.T) {
	b := startBus(t, nil)
	c1 := b.connect(t)
	c2 := b.connect(t)
	if err := c2.Export(echoObj{}, "/echo", "org.example.Echo"); err != nil {
		t.Fatal(err)
	}
	if r, err := c2.RequestName("org.example.EchoService", dbus.NameFlagDoNotQueue); err != nil || r != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("RequestName: %v %v", r, err)
	}
	pair := struct {
		A int32
		B string
	}{42, "struct-field"}
	for _, dest := range []string{c2.Names()[0], "org.example.EchoService"} {
		var s, sb string
		var a int32
		// The struct argument checks that bodies are forwarded byte for
		// byte (godbus cannot round-trip structs).
		err := c1.Object(dest, "/echo").Call("org.example.Echo.Echo", 0, "hi", pair).Store(&s, &a, &sb)
		if err != nil || s != "hi" || a != 42 || sb != "struct-field" {
			t.Errorf("Echo via %s = %q %d %q, %v", dest, s, a, sb, err)
		}
	}
	err := c1.Object("org.example.Missing", "/").Call("org.example.X.Y", 0).Err
	if errName(err) != errServiceUnknown {
		t.Errorf("call to missing name: %v, want ServiceUnknown", err)
	}

	// Broadcast signal: delivered to matching connections only.
	c3 := b.connect(t)
	if err := c1.AddMatchSignal(dbus.WithMatchInterface("org.example.Sig")); err != nil {
		t.Fatal(err)
	}
	ch1 := make(chan *dbus.Signal, 10)
	c1.Signal(ch1)
	ch3 := make(chan *dbus.Signal, 10)
	c3.Signal(ch3)
	if err := c2.Emit("/echo", "org.example.Sig.Ping", "payload"); err != nil {
		t.Fatal(err)
	}
	sig := waitSignal(t, ch1, 5*time.Second)
	if sig == nil || sig.Name != "org.example.Sig.Ping" || sig.Sender != c2.Names()[0] {
		t.Fatalf("broadcast signal = %+v", sig)
	}
	// c3 has no rule: it must not see the signal. A later signal that it
	// does see proves the first was not merely delayed.
	if err := c3.AddMatchSignal(dbus.WithMatchInterface("org.example.Later")); err != nil {
		t.Fatal(err)
	}
	c2.Emit("/echo", "org.example.Later.Ping")
	for {
		s := waitSignal(t, ch3, 5*time.Second)
		if s == nil {
			t.Fatal("c3 never got the signal it matched")
		}
		if s.Name == "org.example.Sig.Ping" {
			t.Fatalf("c3 received a signal it did not match")
		}
		if s.Name == "org.example.Later.Ping" {
			break
		}
	}
}

func TestEmitToIsUnicast(t *testing.T) {
	b := startBus(t, nil)
	b.s.AddServedName("org.freedesktop.portal.Desktop")
	c1 := b.connect(t)
	c2 := b.connect(t)
	var chans []chan *dbus.Signal
	for _, c := range []*dbus.Conn{c1, c2} {
		// Both ask for every Response signal from the portal; only the
		// destination may get it.
		if err := c.AddMatchSignal(dbus.WithMatchSender("org.freedesktop.portal.Desktop"), dbus.WithMatchInterface("org.freedesktop.portal.Request")); err != nil {
			t.Fatal(err)
		}
		ch := make(chan *dbus.Signal, 10)
		c.Signal(ch)
		chans = append(chans, ch)
	}
	if err := b.s.EmitTo(c1.Names()[0], "/org/freedesktop/portal/desktop/request/x/y", "org.freedesktop.portal.Request", "Response", uint32(0), map[string]dbus.Variant{}); err != nil {
		t.Fatal(err)
	}
	sig := waitSignal(t, chans[0], 5*time.Second)
	if sig == nil || sig.Name != "org.freedesktop.portal.Request.Response" || sig.Sender != BrokerName {
		t.Fatalf("c1 got %+v", sig)
	}
	// Broadcast afterwards: c2 sees it, and must not have seen the unicast.
	b.s.Emit("/org/freedesktop/portal/desktop", "org.freedesktop.portal.Request", "Marker")
	s2 := waitSignal(t, chans[1], 5*time.Second)
	if s2 == nil || s2.Name != "org.freedesktop.portal.Request.Marker" {
		t.Fatalf("c2 got %+v, want only the broadcast marker", s2)
	}
	if err := b.s.EmitTo(":1.999", "/x", "org.example.I", "M"); err == nil {
		t.Errorf("EmitTo an unknown connection succeeded")
	}
}

func TestExportedObjects(t *testing.T) {
	b := startBus(t, nil)
	b.s.AddServedName("org.example.Served")
	var calls atomic.Int32
	b.s.Export("/obj", "org.example.Obj", map[string]Handler{
		"Hello": func(c *Call) ([]any, error) {
			calls.Add(1)
			return []any{"hello " + c.Sender}, nil
		},
		"Panic": func(c *Call) ([]any, error) { panic("boom") },
		"Fail":  func(c *Call) ([]any, error) { return nil, errors.New("plain failure") },
		"Deny": func(c *Call) ([]any, error) {
			return nil, &dbus.Error{Name: errAccessDenied, Body: []any{"no"}}
		},
	}, map[string]func() dbus.Variant{
		"version": func() dbus.Variant { return dbus.MakeVariant(uint32(3)) },
	}, `<interface name="org.example.Obj"><method name="Hello"><arg type="s" direction="out"/></method></interface>`)
	c := b.connect(t)
	o := c.Object("org.example.Served", "/obj")
	var s string
	if err := o.Call("org.example.Obj.Hello", 0).Store(&s); err != nil || s != "hello "+c.Names()[0] {
		t.Errorf("Hello = %q, %v", s, err)
	}
	if err := o.Call("org.example.Obj.Panic", 0).Err; errName(err) != errFailed {
		t.Errorf("Panic error = %v, want Failed", err)
	}
	if err := o.Call("org.example.Obj.Hello", 0).Store(&s); err != nil {
		t.Errorf("Hello after panic: %v", err)
	}
	if err := o.Call("org.example.Obj.Fail", 0).Err; errName(err) != errFailed {
		t.Errorf("Fail error = %v", err)
	}
	if err := o.Call("org.example.Obj.Deny", 0).Err; errName(err) != errAccessDenied {
		t.Errorf("Deny error = %v", err)
	}
	if err := o.Call("org.example.Obj.Nope", 0).Err; errName(err) != errUnknownMethod {
		t.Errorf("unknown method error = %v", err)
	}
	if err := o.Call("org.example.Other.Nope", 0).Err; errName(err) != errUnknownIface {
		t.Errorf("unknown interface error = %v", err)
	}
	if err := c.Object("org.example.Served", "/nope").Call("org.example.Obj.Hello", 0).Err; errName(err) != errUnknownObject {
		t.Errorf("unknown object error = %v", err)
	}
	v, err := o.GetProperty("org.example.Obj.version")
	if err != nil || v.Value() != uint32(3) {
		t.Errorf("version = %v, %v", v, err)
	}
	if err := o.SetProperty("org.example.Obj.version", dbus.MakeVariant(uint32(4))); errName(err) != errAccessDenied {
		t.Errorf("Set error = %v, want AccessDenied", err)
	}
	var xml string
	if err := c.Object("org.example.Served", "/").Call("org.freedesktop.DBus.Introspectable.Introspect", 0).Store(&xml); err != nil || !contains([]string{xml}, xml) {
		t.Errorf("Introspect /: %v", err)
	}
	if want := `<node name="obj"/>`; !containsStr(xml, want) {
		t.Errorf("Introspect / = %s, want child %s", xml, want)
	}
	if calls.Load() != 2 {
		t.Errorf("Hello handler ran %d times, want 2", calls.Load())
	}
	if !containsStr(b.logs.String(), "panic in bus handler") {
		t.Errorf("panic not logged")
	}
}

func containsStr(s, sub string) bool {
	return len(sub) == 0 || (len(s) >= len(sub) && indexOf(s, sub) >= 0)
}

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

func TestDisconnectCallback(t *testing.T) {
	b := startBus(t, nil)
	gone := make(chan string, 1)
	b.s.OnDisconnect(func(u string) { gone <- u })
	c := b.connect(t)
	name := c.Names()[0]
	c.Close()
	select {
	case u := <-gone:
		if u != name {
			t.Errorf("OnDisconnect(%q), want %q", u, name)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("OnDisconnect not called")
	}
}

// TestFloodFairness: one client hammering the bus does not starve another
// client of the same bus, nor clients of other buses.
func TestFloodFairness(t *testing.T) {
	b := startBus(t, nil)
	b.s.Export("/obj", "org.example.Obj", map[string]Handler{
		"Ping": func(c *Call) ([]any, error) { return []any{uint32(1)}, nil },
	}, nil, "")
	flooder := b.connect(t)
	victim := b.connect(t)

	stop := make(chan struct{})
	var flooded atomic.Int64
	var fwg sync.WaitGroup
	fwg.Add(1)
	go func() {
		defer fwg.Done()
		obj := flooder.Object(BrokerName, "/obj")
		ch := make(chan *dbus.Call, 20000)
		for i := 0; i < 20000; i++ {
			select {
			case <-stop:
				return
			default:
			}
			obj.Go("org.example.Obj.Ping", 0, ch)
			flooded.Add(1)
		}
	}()
	obj := victim.Object(BrokerName, "/obj")
	for i := 0; i < 200; i++ {
		var v uint32
		if err := obj.Call("org.example.Obj.Ping", 0).Store(&v); err != nil || v != 1 {
			t.Fatalf("victim call %d: %v", i, err)
		}
	}
	close(stop)
	fwg.Wait()
	t.Logf("flooder sent %d calls while the victim completed 200", flooded.Load())
}

func TestManyServers(t *testing.T) {
	const servers, perServer = 10, 100
	var wg sync.WaitGroup
	errs := make(chan error, servers*perServer)
	for i := 0; i < servers; i++ {
		b := startBus(t, nil)
		b.s.Export("/obj", "org.example.Obj", map[string]Handler{
			"Echo": func(c *Call) ([]any, error) { return c.Body, nil },
		}, nil, "")
		clients := []*dbus.Conn{b.connect(t), b.connect(t)}
		for j := 0; j < perServer; j++ {
			wg.Add(1)
			go func(c *dbus.Conn, j int) {
				defer wg.Done()
				var out string
				want := fmt.Sprintf("req-%d", j)
				if err := c.Object(BrokerName, "/obj").Call("org.example.Obj.Echo", 0, want).Store(&out); err != nil || out != want {
					errs <- fmt.Errorf("echo %s = %q, %v", want, out, err)
				}
			}(clients[j%2], j)
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
