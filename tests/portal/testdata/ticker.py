# A long-lived GDBus application: every 0.2 s it reads a setting through the
# portal and appends OK or ERR to DIR/ticks; it exits when DIR/stop appears.
# It uses the shared session connection, as GTK applications do, so GLib's
# exit-on-close applies when the bus goes away.
import os
import sys

from gi.repository import Gio, GLib

folder = sys.argv[1]
bus = Gio.bus_get_sync(Gio.BusType.SESSION, None)
out = open(os.path.join(folder, "ticks"), "a", buffering=1)
out.write("START %s\n" % bus.get_unique_name())
loop = GLib.MainLoop()


def tick():
    if os.path.exists(os.path.join(folder, "stop")):
        out.write("STOP\n")
        loop.quit()
        return False
    try:
        bus.call_sync("org.freedesktop.portal.Desktop", "/org/freedesktop/portal/desktop",
                      "org.freedesktop.portal.Settings", "ReadOne",
                      GLib.Variant("(ss)", ("org.freedesktop.appearance", "color-scheme")),
                      None, Gio.DBusCallFlags.NONE, 5000, None)
        out.write("OK\n")
    except GLib.Error as e:
        out.write("ERR %s\n" % e.message)
    return True


GLib.timeout_add(200, tick)
loop.run()
