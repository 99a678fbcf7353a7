package broker

import (
	"context"
	"testing"

	"github.com/godbus/dbus/v5"

	"airlock/portal/notification"
)

func TestRelayedCall(t *testing.T) {
	for _, tc := range []struct {
		dest        string
		path        dbus.ObjectPath
		iface, memb string
		want        bool
	}{
		{"org.freedesktop.Notifications", "/org/freedesktop/Notifications", "org.freedesktop.Notifications", "Notify", true},
		{"org.freedesktop.Notifications", "/org/freedesktop/Notifications", "org.freedesktop.Notifications", "GetCapabilities", true},
		// The same connection's other objects (gnome-shell: Mutter's
		// remote desktop and screen cast) are out of reach.
		{"org.freedesktop.Notifications", "/org/gnome/Mutter/RemoteDesktop", "org.gnome.Mutter.RemoteDesktop", "CreateSession", false},
		{"org.freedesktop.Notifications", "/org/gnome/Shell", "org.gnome.Shell", "Eval", false},
		{"org.freedesktop.Notifications", "/org/freedesktop/Notifications", "org.freedesktop.DBus.Properties", "Set", false},
		{"org.freedesktop.Notifications", "/org/freedesktop/Notifications", "", "Notify", false},
		{"org.a11y.Bus", "/org/a11y/bus", "org.freedesktop.DBus.Properties", "Get", true},
		{"org.a11y.Bus", "/org/a11y/bus", "org.freedesktop.DBus.Properties", "Set", false},
		// ibus-portal only through its own relay (portal/ibus).
		{"org.freedesktop.portal.IBus", "/org/freedesktop/IBus", "org.freedesktop.IBus.Portal", "CreateInputContext", false},
		// A name a profile adds is trusted whole.
		{"org.mpris.MediaPlayer2.vlc", "/org/mpris/MediaPlayer2", "org.mpris.MediaPlayer2.Player", "PlayPause", true},
	} {
		if got := relayedCall(tc.dest, tc.path, tc.iface, tc.memb); got != tc.want {
			t.Errorf("%s %s %s.%s: relayed %v, want %v", tc.dest, tc.path, tc.iface, tc.memb, got, tc.want)
		}
	}
}

func TestNotificationTarget(t *testing.T) {
	r := &hostRelay{}
	if id, ok := notificationTarget("CloseNotification", []any{uint32(7)}); !ok || id != 7 || r.ownNote(7) {
		t.Fatalf("CloseNotification(7): %d %v, owned %v", id, ok, r.ownNote(7))
	}
	if id, ok := notificationTarget("Notify", []any{"app", uint32(9), "icon", "s", "b", []string{}, map[string]dbus.Variant{}, int32(-1)}); !ok || id != 9 {
		t.Fatalf("Notify replaces_id: %d %v", id, ok)
	}
	r.notes = map[uint32]bool{9: true}
	if !r.ownNote(9) || r.ownNote(10) {
		t.Fatal("ownership of notification ids")
	}
}

// TestRelayedNotifyRefusals: a relayed Notify with the wrong arguments, or
// over the sandbox's rate, is answered by the broker and never reaches the
// host (the relay's connection is a zero Conn: using it would fail).
func TestRelayedNotifyRefusals(t *testing.T) {
	notify := func(body ...any) *dbus.Message {
		return &dbus.Message{Type: dbus.TypeMethodCall, Headers: map[dbus.HeaderField]dbus.Variant{
			dbus.FieldDestination: dbus.MakeVariant("org.freedesktop.Notifications"),
			dbus.FieldPath:        dbus.MakeVariant(dbus.ObjectPath("/org/freedesktop/Notifications")),
			dbus.FieldInterface:   dbus.MakeVariant("org.freedesktop.Notifications"),
			dbus.FieldMember:      dbus.MakeVariant("Notify"),
		}, Body: body}
	}
	r := newHostRelay(&dbus.Conn{}, []string{"org.freedesktop.Notifications"}, "")
	r.name = "S"
	r.limit = notification.NewLimiter(1, 0.0001, nil)
	r.limit.Allow()
	for _, tc := range []struct {
		msg  *dbus.Message
		want string
	}{
		{notify("app", uint32(0), "", "s", "b", []string{}), "org.freedesktop.DBus.Error.InvalidArgs"},
		{notify("app", uint32(0), "", "s", "b", []string{}, map[string]dbus.Variant{}, int32(-1)), notification.ErrLimitsExceeded},
	} {
		out, err := r.Call(context.Background(), tc.msg)
		if err != nil {
			t.Fatal(err)
		}
		if name, _ := out.Headers[dbus.FieldErrorName].Value().(string); name != tc.want {
			t.Errorf("%v: error %q, want %q", tc.msg.Body, name, tc.want)
		}
	}
}
