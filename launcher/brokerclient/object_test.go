package brokerclient

import (
	"testing"

	"github.com/godbus/dbus/v5"

	"airlock/portal/control"
	"airlock/portal/control/ifacetest"
)

// TestLauncherXMLMatchesObject: the interface every launcher serves for the
// broker (control.LauncherXML, installed under data/dbus-1/interfaces/) is
// what launcherObject exports: same methods, argument types, directions and
// names.
func TestLauncherXMLMatchesObject(t *testing.T) {
	for _, d := range ifacetest.Compare(control.LauncherXML, control.LauncherInterface, launcherObject{}, ".", "launcherObject") {
		t.Error(d)
	}
}

// TestLauncherObjectCallers: only the broker the sandbox is registered
// with may call, and only for this launcher's sandbox.
func TestLauncherObjectCallers(t *testing.T) {
	o := launcherObject{&Client{broker: ":1.7"}}
	for _, tc := range []struct {
		name, sender, want string
	}{
		{"another connection", ":1.8", "org.freedesktop.DBus.Error.AccessDenied"},
		{"no sender", "", "org.freedesktop.DBus.Error.AccessDenied"},
		{"the broker, no sandbox served yet", ":1.7", "org.freedesktop.DBus.Error.Failed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if derr := o.Bind(dbus.Sender(tc.sender), "id", "/etc/passwd", "/run/user/1000/doc/x/passwd"); derr == nil || derr.Name != tc.want {
				t.Errorf("Bind: %v, want %s", derr, tc.want)
			}
			if derr := o.Unbind(dbus.Sender(tc.sender), "id", "/run/user/1000/doc/x/passwd"); derr == nil || derr.Name != tc.want {
				t.Errorf("Unbind: %v, want %s", derr, tc.want)
			}
		})
	}
	// Before Serve, no broker is known: nobody may call.
	if derr := (launcherObject{&Client{}}).Unbind("", "id", "/x"); derr == nil || derr.Name != "org.freedesktop.DBus.Error.AccessDenied" {
		t.Errorf("Unbind before Serve from the empty sender: %v", derr)
	}
}
