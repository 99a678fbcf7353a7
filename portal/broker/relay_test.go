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
