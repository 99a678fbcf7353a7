# Owns a well-known name on the sandbox's bus and stays alive: writes DIR/owned
# once the name is ours, exits when DIR/stop appears.
import os
import sys

from gi.repository import Gio, GLib

name, folder = sys.argv[1], sys.argv[2]
bus = Gio.bus_get_sync(Gio.BusType.SESSION, None)
reply = bus.call_sync("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "RequestName",
                      GLib.Variant("(su)", (name, 4)), GLib.VariantType("(u)"), Gio.DBusCallFlags.NONE, 10000, None)
with open(os.path.join(folder, "owned"), "w") as f:
    f.write("%d %s\n" % (reply.unpack()[0], bus.get_unique_name()))
loop = GLib.MainLoop()


def poll():
    if os.path.exists(os.path.join(folder, "stop")):
        loop.quit()
        return False
    return True


GLib.timeout_add(100, poll)
loop.run()
