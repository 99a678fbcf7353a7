# A python3-gi client of the Settings portal, as GTK applications reach it:
# through a Gio.DBusProxy on the session bus. Prints KEY=VALUE lines.
import sys

from gi.repository import Gio, GLib

NAME = "org.freedesktop.portal.Desktop"
PATH = "/org/freedesktop/portal/desktop"

proxy = Gio.DBusProxy.new_for_bus_sync(
    Gio.BusType.SESSION, Gio.DBusProxyFlags.NONE, None,
    NAME, PATH, "org.freedesktop.portal.Settings", None)
version = proxy.get_cached_property("version")
print("version=%s" % (version.unpack() if version is not None else "none"))
scheme = proxy.call_sync("ReadOne", GLib.Variant("(ss)", ("org.freedesktop.appearance", "color-scheme")),
                         Gio.DBusCallFlags.NONE, 10000, None)
print("color-scheme=%s" % scheme.unpack()[0])
everything = proxy.call_sync("ReadAll", GLib.Variant("(as)", ([],)), Gio.DBusCallFlags.NONE, 10000, None)
print("namespaces=%s" % ",".join(sorted(everything.unpack()[0].keys())))
print("appearance-keys=%s" % ",".join(sorted(everything.unpack()[0].get("org.freedesktop.appearance", {}).keys())))
xml = proxy.get_connection().call_sync(NAME, PATH, "org.freedesktop.DBus.Introspectable", "Introspect",
                                       None, GLib.VariantType("(s)"), Gio.DBusCallFlags.NONE, 10000, None).unpack()[0]
node = Gio.DBusNodeInfo.new_for_xml(xml)
print("interfaces=%s" % ",".join(sorted(i.name for i in node.interfaces)))
try:
    proxy.call_sync("ReadOne", GLib.Variant("(ss)", ("org.example.nothing", "nothing")),
                    Gio.DBusCallFlags.NONE, 10000, None)
    print("missing-key=found")
except GLib.Error as e:
    print("missing-key=%s" % Gio.DBusError.get_remote_error(e))
sys.stdout.flush()
