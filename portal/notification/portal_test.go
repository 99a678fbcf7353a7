package notification

import (
	"airlock/portal/busserver/bustest"

	"context"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"airlock/portal/busserver"
	"airlock/portal/desktop"
	"airlock/tests/harness"
)

// fakeHost records what the portal sends to the host's server.
type fakeHost struct {
	mu     sync.Mutex
	next   uint32
	sent   []Notify
	events map[uint32]Events
	closed []uint32
}

func (h *fakeHost) Notify(_ context.Context, n Notify, ev Events) (uint32, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	id := n.ReplacesID
	if id == 0 {
		h.next++
		id = h.next
	}
	h.sent = append(h.sent, n)
	if h.events == nil {
		h.events = map[uint32]Events{}
	}
	h.events[id] = ev
	return id, nil
}

func (h *fakeHost) Close(_ context.Context, id uint32) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = append(h.closed, id)
	return nil
}

func (h *fakeHost) Forget(id uint32) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.events, id)
}

func (h *fakeHost) last() Notify {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.sent[len(h.sent)-1]
}

func startPortal(t *testing.T, host Host, lim *Limiter) string {
	t.Helper()
	logs := &harness.SyncBuffer{}
	lg := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s := busserver.New(busserver.Config{SandboxID: "id", SandboxName: "Notes (sandboxed)", UID: os.Getuid(), Logger: lg})
	d := desktop.Install(s, desktop.Options{Logger: lg})
	Install(d, s, Sandbox{ID: "id", Name: "Notes (sandboxed)", Icon: "accessories-text-editor"}, host, lim, lg)
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
	return "unix:path=" + path
}

func TestPortalAddNotification(t *testing.T) {
	host := &fakeHost{}
	addr := startPortal(t, host, nil)
	app := connect(t, addr)
	other := connect(t, addr)
	obj := app.Object(desktop.BusName, desktop.ObjectPath)

	v, err := obj.GetProperty(Interface + ".version")
	if err != nil || v.Value() != uint32(2) {
		t.Fatalf("version = %v, %v", v, err)
	}
	for _, c := range []*dbus.Conn{app, other} {
		if err := c.AddMatchSignal(dbus.WithMatchInterface(Interface)); err != nil {
			t.Fatal(err)
		}
	}
	appSig, otherSig := make(chan *dbus.Signal, 4), make(chan *dbus.Signal, 4)
	app.Signal(appSig)
	other.Signal(otherSig)

	n := map[string]dbus.Variant{
		"title":          dbus.MakeVariant(`Tails Upgrader <a href="x">says</a>`),
		"body":           dbus.MakeVariant("a <b> c"),
		"priority":       dbus.MakeVariant("urgent"),
		"icon":           dbus.MakeVariant(dbus.MakeVariant([]any{"file", dbus.MakeVariant("/etc/passwd")})),
		"default-action": dbus.MakeVariant("app.open"),
		"buttons": dbus.MakeVariant([]map[string]dbus.Variant{
			{"label": dbus.MakeVariant("Reply"), "action": dbus.MakeVariant("app.reply"), "target": dbus.MakeVariant("thread-7")},
			{"label": dbus.MakeVariant("<i>Mute</i>"), "action": dbus.MakeVariant("mute")},
		}),
		"x-unknown": dbus.MakeVariant("ignored"),
	}
	if err := obj.Call(Interface+".AddNotification", 0, "msg-1", n).Err; err != nil {
		t.Fatal(err)
	}
	got := host.last()
	if got.AppName != "Notes (sandboxed)" || got.Summary != "Tails Upgrader says" || got.Body != "a &lt;b&gt; c" || got.AppIcon != "accessories-text-editor" {
		t.Errorf("sent %+v", got)
	}
	if u, _ := got.Hints["urgency"].Value().(byte); u != 2 || len(got.Hints) != 1 {
		t.Errorf("hints %v, want urgency 2 alone", got.Hints)
	}
	// The host sees keys the broker made up, never the app's action names.
	if want := []string{"default", "Open", "b0", "Reply", "b1", "Mute"}; len(got.Actions) != len(want) || got.Actions[0] != "default" || got.Actions[2] != "b0" || got.Actions[4] != "b1" || got.Actions[5] != "Mute" {
		t.Errorf("actions %q, want %q", got.Actions, want)
	}

	// The user clicks "Reply" on the host.
	host.mu.Lock()
	ev := host.events[1]
	host.mu.Unlock()
	ev.Action("b0")
	select {
	case s := <-appSig:
		if s.Name != Interface+".ActionInvoked" || len(s.Body) != 3 || s.Body[0] != "msg-1" || s.Body[1] != "app.reply" {
			t.Fatalf("signal %v", s)
		}
		if p, _ := s.Body[2].([]dbus.Variant); len(p) != 1 || p[0].Value() != "thread-7" {
			t.Errorf("parameter %v", s.Body[2])
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no ActionInvoked")
	}
	// A key the broker did not make is ignored.
	ev.Action("app.quit")
	select {
	case s := <-otherSig:
		t.Fatalf("another connection saw %v", s)
	case s := <-appSig:
		t.Fatalf("unexpected %v", s)
	case <-time.After(200 * time.Millisecond):
	}

	// Same id: replaces. Then removed.
	if err := obj.Call(Interface+".AddNotification", 0, "msg-1", map[string]dbus.Variant{"title": dbus.MakeVariant("again")}).Err; err != nil {
		t.Fatal(err)
	}
	if r := host.last().ReplacesID; r != 1 {
		t.Errorf("replaces_id %d, want 1", r)
	}
	if err := obj.Call(Interface+".RemoveNotification", 0, "msg-1").Err; err != nil {
		t.Fatal(err)
	}
	if len(host.closed) != 1 || host.closed[0] != 1 {
		t.Errorf("closed %v", host.closed)
	}

	for name, bad := range map[string]map[string]dbus.Variant{
		"title type": {"title": dbus.MakeVariant(uint32(1))},
		"priority":   {"priority": dbus.MakeVariant("extreme")},
		"buttons":    {"buttons": dbus.MakeVariant([]string{"x"})},
		"no action":  {"buttons": dbus.MakeVariant([]map[string]dbus.Variant{{"label": dbus.MakeVariant("x")}})},
	} {
		if err := obj.Call(Interface+".AddNotification", 0, "bad", bad).Err; errName(err) != desktop.ErrInvalidArgument {
			t.Errorf("%s: %v, want InvalidArgument", name, err)
		}
	}
}

func TestPortalFlood(t *testing.T) {
	host := &fakeHost{}
	addr := startPortal(t, host, NewLimiter(10, 0.001, nil))
	obj := connect(t, addr).Object(desktop.BusName, desktop.ObjectPath)
	ok, refused := 0, 0
	for i := 0; i < 50; i++ {
		err := obj.Call(Interface+".AddNotification", 0, "n", map[string]dbus.Variant{"title": dbus.MakeVariant("flood")}).Err
		switch errName(err) {
		case "":
			ok++
		case ErrLimitsExceeded:
			refused++
		default:
			t.Fatal(err)
		}
	}
	if ok != 10 || refused != 40 {
		t.Errorf("%d sent, %d refused; want 10 and 40", ok, refused)
	}
}

// TestPortalNotAllowed: a sandbox whose profile does not relay
// org.freedesktop.Notifications gets the portal, and a refusal.
func TestPortalNotAllowed(t *testing.T) {
	obj := connect(t, startPortal(t, nil, nil)).Object(desktop.BusName, desktop.ObjectPath)
	err := obj.Call(Interface+".AddNotification", 0, "n", map[string]dbus.Variant{"title": dbus.MakeVariant("x")}).Err
	if errName(err) != desktop.ErrNotAllowed {
		t.Errorf("AddNotification without a host: %v, want NotAllowed", err)
	}
}

// TestPortalBounded: a sandbox that never removes its notifications makes
// the broker hold the actions of maxNotes at most, and is not refused.
func TestPortalBounded(t *testing.T) {
	host := &fakeHost{}
	obj := connect(t, startPortal(t, host, NewLimiter(1000, 1, nil))).Object(desktop.BusName, desktop.ObjectPath)
	for i := 0; i < maxNotes+6; i++ {
		if err := obj.Call(Interface+".AddNotification", 0, "n"+strconv.Itoa(i), map[string]dbus.Variant{"title": dbus.MakeVariant("x")}).Err; err != nil {
			t.Fatal(err)
		}
	}
	host.mu.Lock()
	defer host.mu.Unlock()
	if len(host.events) != maxNotes {
		t.Errorf("%d notifications routed, want %d", len(host.events), maxNotes)
	}
	if _, ok := host.events[1]; ok {
		t.Error("the oldest is still routed")
	}
}

// TestPortalIcons: only a themed name crosses; bytes and file icons fall
// back to the sandbox's icon.
func TestPortalIcons(t *testing.T) {
	host := &fakeHost{}
	obj := connect(t, startPortal(t, host, NewLimiter(1000, 1, nil))).Object(desktop.BusName, desktop.ObjectPath)
	type icon struct {
		Kind  string
		Value dbus.Variant
	}
	for _, tc := range []struct {
		icon dbus.Variant
		want string
	}{
		{dbus.MakeVariant(icon{"themed", dbus.MakeVariant([]string{"/etc/passwd", "mail-unread"})}), "mail-unread"},
		{dbus.MakeVariant("dialog-warning"), "dialog-warning"},
		{dbus.MakeVariant("/home/user/secret.png"), "accessories-text-editor"},
		{dbus.MakeVariant(icon{"bytes", dbus.MakeVariant([]byte("\x89PNG"))}), "accessories-text-editor"},
		{dbus.MakeVariant(icon{"file", dbus.MakeVariant("file:///etc/shadow")}), "accessories-text-editor"},
	} {
		if err := obj.Call(Interface+".AddNotification", 0, "i", map[string]dbus.Variant{"icon": tc.icon}).Err; err != nil {
			t.Fatal(err)
		}
		if got := host.last().AppIcon; got != tc.want {
			t.Errorf("icon %v: %q at the host, want %q", tc.icon, got, tc.want)
		}
	}
}

var (
	connect = bustest.Dial
	errName = bustest.ErrName
)
