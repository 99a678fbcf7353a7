# Calls org.freedesktop.portal.OpenURI.OpenURI with hostile links, the way a
# compromised application would, and prints one line per call: "refused
# NAME" for an error reply, "handle PATH" when the portal took the call.
import sys

from gi.repository import Gio, GLib

bus = Gio.bus_get_sync(Gio.BusType.SESSION, None)
links = {
    "javascript": "javascript:alert(1)",
    "file": "file:///etc/passwd",
    "control": "https://example.org/\x07\x1b[2J",
    "long": "https://example.org/" + "a" * 10 * 1024,
    "userinfo": "https://bank.example@evil.example/",
    "bidi": "https://example.org/\u202egnp.exe",
}
for name, uri in links.items():
    try:
        r = bus.call_sync("org.freedesktop.portal.Desktop", "/org/freedesktop/portal/desktop",
                          "org.freedesktop.portal.OpenURI", "OpenURI",
                          GLib.Variant("(ssa{sv})", ("", uri, {})), GLib.VariantType("(o)"),
                          Gio.DBusCallFlags.NONE, 10000, None)
        print("handle", name, r.unpack()[0], flush=True)
    except GLib.Error as e:
        print("refused", name, Gio.DBusError.get_remote_error(e), flush=True)
