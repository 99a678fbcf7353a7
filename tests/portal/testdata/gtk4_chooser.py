# A GTK 4 application that opens a Gtk.FileChooserNative (GTK 4.8 has no
# Gtk.FileDialog) and prints the response it gets. GDK_DEBUG=portals, set by
# airlock, routes the dialog to org.freedesktop.portal.FileChooser. A
# 90-second watchdog prints TIMEOUT, so that a hang is reported, not waited
# on forever.
import sys

import gi

gi.require_version("Gtk", "4.0")
from gi.repository import GLib, Gtk  # noqa: E402

print("gtk=%d.%d.%d" % (Gtk.get_major_version(), Gtk.get_minor_version(), Gtk.get_micro_version()), flush=True)
app = Gtk.Application(application_id=None)
state = {}


def on_response(dialog, response):
    files = []
    if response == Gtk.ResponseType.ACCEPT:
        files = [f.get_uri() for f in dialog.get_files()]
    print("response=%d name=%s files=%s" % (response, Gtk.ResponseType(response).value_nick, files), flush=True)
    app.quit()


def watchdog():
    print("TIMEOUT", flush=True)
    app.quit()
    return False


def on_activate(app):
    win = Gtk.ApplicationWindow(application=app, title="gtk4 probe")
    win.present()
    dialog = Gtk.FileChooserNative.new("Open a file (airlock test)", win, Gtk.FileChooserAction.OPEN, "_Open", "_Cancel")
    dialog.connect("response", on_response)
    state["dialog"] = dialog
    dialog.show()
    print("shown", flush=True)
    GLib.timeout_add_seconds(90, watchdog)


app.connect("activate", on_activate)
sys.exit(app.run([]))
