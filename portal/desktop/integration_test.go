package desktop

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// runClient runs a real D-Bus client against the portal's bus.
func runClient(t *testing.T, p *testPortal, bin string, args ...string) string {
	t.Helper()
	if _, err := os.Stat(bin); err != nil {
		t.Skipf("%s not installed", bin)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(),
		"DBUS_SESSION_BUS_ADDRESS="+p.addr,
		"GSETTINGS_BACKEND=memory",
		"NO_AT_BRIDGE=1",
	)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", bin, args, err, out)
	}
	return string(out)
}

func TestGdbus(t *testing.T) {
	p := startPortal(t)
	out := runClient(t, p, "/usr/bin/gdbus", "call", "--session", "--dest", BusName, "--object-path", string(ObjectPath),
		"--method", "org.freedesktop.DBus.Properties.Get", settingsIface, "version")
	if strings.TrimSpace(out) != "(<uint32 2>,)" {
		t.Errorf("gdbus Properties.Get version = %q", out)
	}
	out = runClient(t, p, "/usr/bin/gdbus", "introspect", "--session", "--dest", BusName, "--object-path", string(ObjectPath))
	for _, want := range []string{"interface org.freedesktop.portal.Settings", "ReadAll(", "readonly u version = 2;"} {
		if !strings.Contains(out, want) {
			t.Errorf("gdbus introspect lacks %q:\n%s", want, out)
		}
	}
	out = runClient(t, p, "/usr/bin/gdbus", "introspect", "--session", "--recurse", "--dest", BusName, "--object-path", "/")
	if !strings.Contains(out, "node /org/freedesktop/portal/desktop") {
		t.Errorf("recursive introspection does not reach the portal object:\n%s", out)
	}
	out = runClient(t, p, "/usr/bin/gdbus", "call", "--session", "--dest", BusName, "--object-path", string(ObjectPath),
		"--method", settingsIface+".ReadOne", AppearanceNS, KeyAccentColor)
	if !strings.Contains(out, "-1.0, -1.0, -1.0") {
		t.Errorf("ReadOne accent-color = %q", out)
	}
}

func TestDbusSend(t *testing.T) {
	p := startPortal(t)
	out := runClient(t, p, "/usr/bin/dbus-send", "--session", "--print-reply", "--dest=org.freedesktop.DBus",
		"/org/freedesktop/DBus", "org.freedesktop.DBus.ListNames")
	if !strings.Contains(out, `"`+BusName+`"`) {
		t.Errorf("ListNames via dbus-send lacks the portal:\n%s", out)
	}
	out = runClient(t, p, "/usr/bin/dbus-send", "--session", "--print-reply", "--dest="+BusName,
		string(ObjectPath), settingsIface+".ReadAll", "array:string:org.freedesktop.*")
	if !strings.Contains(out, "color-scheme") {
		t.Errorf("ReadAll via dbus-send:\n%s", out)
	}
}

const pyClient = `
import sys
import gi
gi.require_version("Gio", "2.0")
from gi.repository import Gio, GLib
bus = Gio.bus_get_sync(Gio.BusType.SESSION, None)
proxy = Gio.DBusProxy.new_sync(bus, Gio.DBusProxyFlags.NONE, None,
    "org.freedesktop.portal.Desktop", "/org/freedesktop/portal/desktop",
    "org.freedesktop.portal.Settings", None)
print("version", proxy.get_cached_property("version").unpack())
print("scheme", proxy.call_sync("ReadOne", GLib.Variant("(ss)", ("org.freedesktop.appearance", "color-scheme")), 0, 5000, None).unpack()[0])
try:
    proxy.call_sync("ReadOne", GLib.Variant("(ss)", ("no.such", "key")), 0, 5000, None)
except GLib.Error as e:
    print("error", Gio.DBusError.get_remote_error(e))
fc = Gio.DBusProxy.new_sync(bus, Gio.DBusProxyFlags.NONE, None,
    "org.freedesktop.portal.Desktop", "/org/freedesktop/portal/desktop",
    "org.freedesktop.portal.FileChooser", None)
print("filechooser-version", fc.get_cached_property("version"))
`

func TestPythonGio(t *testing.T) {
	p := startPortal(t)
	out := runClient(t, p, "/usr/bin/python3", "-c", pyClient)
	for _, want := range []string{"version 2", "scheme 0", "error org.freedesktop.portal.Error.NotFound", "filechooser-version None"} {
		if !strings.Contains(out, want) {
			t.Errorf("python Gio client output lacks %q:\n%s", want, out)
		}
	}
}
