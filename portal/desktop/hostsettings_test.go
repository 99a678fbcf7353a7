package desktop

import (
	"context"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
)

// TestHostSettingsFromPortal uses one of our own portals as the "host"
// settings portal and checks that values (including the (ddd) accent
// color, which godbus cannot round-trip unaided) and changes come through.
func TestHostSettingsFromPortal(t *testing.T) {
	host := startPortal(t)
	host.settings.Set(AppearanceNS, KeyColorScheme, dbus.MakeVariant(uint32(1)))
	host.settings.Set(AppearanceNS, KeyAccentColor, dbus.MakeVariant(AccentColor{0.25, 0.5, 0.75}))
	host.settings.Set("org.gnome.desktop.interface", "gtk-theme", dbus.MakeVariant("Secret"))
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", host.addr)

	h := NewHostSettings(context.Background(), nil)
	defer h.Close()
	got := h.Settings()
	if v := got[AppearanceNS][KeyColorScheme]; v.Value() != uint32(1) {
		t.Errorf("color-scheme = %v, want 1", v)
	}
	if v := got[AppearanceNS][KeyAccentColor]; v.Signature().String() != "(ddd)" || v.Value() != (AccentColor{0.25, 0.5, 0.75}) {
		t.Errorf("accent-color = %v (%s)", v, v.Signature())
	}
	if _, leaked := got["org.gnome.desktop.interface"]; leaked {
		t.Errorf("non-appearance host settings passed on: %v", got)
	}

	changed := make(chan uint32, 1)
	h.Watch(func(ns, key string, v dbus.Variant) {
		if key == KeyColorScheme {
			changed <- v.Value().(uint32)
		}
	})
	host.settings.Set(AppearanceNS, KeyColorScheme, dbus.MakeVariant(uint32(2)))
	select {
	case v := <-changed:
		if v != 2 {
			t.Errorf("changed color-scheme = %d", v)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("host change not propagated")
	}
}

func TestHostSettingsFallback(t *testing.T) {
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")
	t.Setenv("GSETTINGS_BACKEND", "memory")
	h := NewHostSettings(context.Background(), nil)
	defer h.Close()
	if v := h.Settings()[AppearanceNS][KeyContrast]; v.Value() != uint32(0) {
		t.Errorf("contrast = %v, want default 0", v)
	}
	if _, ok := h.Settings()[AppearanceNS][KeyColorScheme]; !ok {
		t.Errorf("color-scheme missing in fallback")
	}
}
