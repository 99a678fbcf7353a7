package busserver

import (
	"context"
	"strings"
	"testing"

	"github.com/godbus/dbus/v5"
)

type fakeRelay struct {
	got chan *dbus.Message
}

func (f *fakeRelay) Allowed(name string) bool { return name == "org.freedesktop.Notifications" }

func (f *fakeRelay) Call(ctx context.Context, msg *dbus.Message) (*dbus.Message, error) {
	f.got <- msg
	return &dbus.Message{
		Type:    dbus.TypeMethodReply,
		Headers: map[dbus.HeaderField]dbus.Variant{dbus.FieldSignature: dbus.MakeVariant(dbus.SignatureOf(uint32(0)))},
		Body:    []any{uint32(7)},
	}, nil
}

func TestRelay(t *testing.T) {
	r := &fakeRelay{got: make(chan *dbus.Message, 1)}
	b := startBus(t, func(c *Config) { c.Relay = r })
	c := b.connect(t)
	var id uint32
	err := c.Object("org.freedesktop.Notifications", "/org/freedesktop/Notifications").
		Call("org.freedesktop.Notifications.Notify", 0, "app", uint32(0), "", "summary", "body", []string{}, map[string]dbus.Variant{}, int32(-1)).Store(&id)
	if err != nil || id != 7 {
		t.Fatalf("relayed Notify = %d, %v", id, err)
	}
	msg := <-r.got
	if s, _ := msg.Headers[dbus.FieldSender].Value().(string); s != c.Names()[0] {
		t.Errorf("relay saw sender %q, want %q", s, c.Names()[0])
	}
	if _, err := c.RequestName("org.freedesktop.Notifications", dbus.NameFlagDoNotQueue); errName(err) != errAccessDenied {
		t.Errorf("owning a relayed name: %v, want AccessDenied", err)
	}
	err = c.Object("org.freedesktop.secrets", "/").Call("org.freedesktop.Secret.Service.OpenSession", 0).Err
	if errName(err) != errServiceUnknown {
		t.Errorf("non-relayed host name: %v, want ServiceUnknown", err)
	}
}

// TestSpoofedSenderAndUnsolicitedReply: a client cannot pose as another
// connection, nor inject a reply to a call it was not asked.
func TestSpoofedSenderAndUnsolicitedReply(t *testing.T) {
	b := startBus(t, nil)
	victim := b.connect(t)
	attacker := b.rawDial(t)
	br := rawAuth(t, attacker, b.s.cfg.UID)
	attacker.Write(helloBytes(t))
	hello, err := dbus.DecodeMessage(br)
	if err != nil {
		t.Fatal(err)
	}
	attackerName := hello.Body[0].(string)

	if err := victim.AddMatchSignal(dbus.WithMatchInterface("org.example.Spoof")); err != nil {
		t.Fatal(err)
	}
	ch := make(chan *dbus.Signal, 8)
	victim.Signal(ch)
	// An unsolicited reply, then a signal claiming to come from the bus.
	reply, _ := encodeMessage(&dbus.Message{Type: dbus.TypeMethodReply, Headers: map[dbus.HeaderField]dbus.Variant{
		dbus.FieldReplySerial: dbus.MakeVariant(uint32(2)),
		dbus.FieldDestination: dbus.MakeVariant(victim.Names()[0]),
	}}, 5)
	attacker.Write(reply.b)
	sig, _ := encodeMessage(signalMessage("org.freedesktop.DBus", "/x", "org.example.Spoof", "S", []any{"x"}), 6)
	attacker.Write(sig.b)
	got := waitSignal(t, ch, 5e9)
	if got == nil {
		t.Fatal("signal not delivered")
	}
	if got.Sender != attackerName {
		t.Errorf("signal delivered with sender %q, want the attacker's real name %q", got.Sender, attackerName)
	}
	// The victim's own calls still work: no stray reply confused it.
	if err := busObj(victim).Call("org.freedesktop.DBus.GetId", 0).Err; err != nil {
		t.Errorf("victim call after unsolicited reply: %v", err)
	}
	if !containsStr(b.logs.String(), "unsolicited reply") {
		t.Errorf("unsolicited reply not logged")
	}
}

// ownedRelay relays org.example.Owned, which appears owned by the broker
// and serves /org/example/Owned and below.
type ownedRelay struct{ fakeRelay }

func (f *ownedRelay) Allowed(name string) bool { return name == "org.example.Owned" }
func (f *ownedRelay) Owned(name string) bool   { return name == "org.example.Owned" }
func (f *ownedRelay) PathOwner(path dbus.ObjectPath) string {
	if path == "/org/example/Owned" || strings.HasPrefix(string(path), "/org/example/Owned/") {
		return "org.example.Owned"
	}
	return ""
}

// TestOwnedRelay: a relayed name the relay says is owned has the broker's
// unique name as owner, and a call a GDBus proxy addresses to that owner
// reaches the relay, addressed to the name; other calls to the broker's
// name do not.
func TestOwnedRelay(t *testing.T) {
	r := &ownedRelay{fakeRelay{got: make(chan *dbus.Message, 1)}}
	b := startBus(t, func(c *Config) { c.Relay = r })
	c := b.connect(t)
	var owner string
	if err := c.BusObject().Call("org.freedesktop.DBus.GetNameOwner", 0, "org.example.Owned").Store(&owner); err != nil || owner != BrokerName {
		t.Fatalf("GetNameOwner(org.example.Owned) = %q, %v; want %s", owner, err, BrokerName)
	}
	var n uint32
	if err := c.Object(BrokerName, "/org/example/Owned/ctx_1").Call("org.example.Owned.Do", 0).Store(&n); err != nil || n != 7 {
		t.Fatalf("call to the owner = %d, %v", n, err)
	}
	msg := <-r.got
	if d, _ := msg.Headers[dbus.FieldDestination].Value().(string); d != "org.example.Owned" {
		t.Errorf("relay saw destination %q", d)
	}
	err := c.Object(BrokerName, "/org/example/Other").Call("org.example.Owned.Do", 0).Err
	if err == nil {
		t.Error("a call to the broker's name outside the relayed paths was relayed")
	}
	if len(r.got) != 0 {
		t.Error("the relay saw a call outside its paths")
	}
}
