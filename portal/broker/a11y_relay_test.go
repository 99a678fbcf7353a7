package broker

import (
	"context"
	"testing"

	"github.com/godbus/dbus/v5"
)

// TestA11yGetAddressNeverRelayed: org.a11y.Bus.GetAddress is answered by the
// broker with the address inside (the launcher's filtering proxy), or
// refused when the sandbox has none; it never reaches the host, whose answer
// is the session's unfiltered accessibility bus. The relay's connection is
// a zero Conn: any attempt to use it would fail the test.
func TestA11yGetAddressNeverRelayed(t *testing.T) {
	call := func(iface string) *dbus.Message {
		h := map[dbus.HeaderField]dbus.Variant{
			dbus.FieldDestination: dbus.MakeVariant("org.a11y.Bus"),
			dbus.FieldPath:        dbus.MakeVariant(dbus.ObjectPath("/org/a11y/bus")),
			dbus.FieldMember:      dbus.MakeVariant("GetAddress"),
		}
		if iface != "" {
			h[dbus.FieldInterface] = dbus.MakeVariant(iface)
		}
		return &dbus.Message{Type: dbus.TypeMethodCall, Headers: h}
	}
	const inside = "unix:path=/run/user/1000/at-spi/bus"
	for _, tc := range []struct {
		a11y, iface string
		wantErr     string
		wantAddr    string
	}{
		{inside, "org.a11y.Bus", "", inside},
		{inside, "", "", inside},
		{"", "org.a11y.Bus", "org.freedesktop.DBus.Error.AccessDenied", ""},
		{"", "", "org.freedesktop.DBus.Error.AccessDenied", ""},
	} {
		r := newHostRelay(&dbus.Conn{}, []string{"org.a11y.Bus"}, tc.a11y)
		out, err := r.Call(context.Background(), call(tc.iface))
		if err != nil {
			t.Fatalf("a11y %q, interface %q: %v", tc.a11y, tc.iface, err)
		}
		name, _ := out.Headers[dbus.FieldErrorName].Value().(string)
		var addr string
		if out.Type == dbus.TypeMethodReply && len(out.Body) == 1 {
			addr, _ = out.Body[0].(string)
		}
		if name != tc.wantErr || addr != tc.wantAddr {
			t.Errorf("a11y %q, interface %q: error %q address %q, want %q %q", tc.a11y, tc.iface, name, addr, tc.wantErr, tc.wantAddr)
		}
	}
}
