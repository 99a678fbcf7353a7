package broker

import (
	"testing"

	"github.com/godbus/dbus/v5"
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
