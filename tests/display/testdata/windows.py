# A GTK 3 program with what the nested display's window manager must sort
# out: two toplevels of the same size (which without one open exactly on top
# of each other), and a dialog transient for the first, larger than any
# screen (which without one is cut off at the screen's edge, its buttons out
# of reach). Prints "shown" once they are all mapped.
import sys

import gi

gi.require_version("Gtk", "3.0")
from gi.repository import GLib, Gtk

first = Gtk.Window(title="wmtest-first")
first.set_default_size(420, 300)
first.add(Gtk.Label(label="first"))
first.show_all()

second = Gtk.Window(title="wmtest-second")
second.set_default_size(420, 300)
second.add(Gtk.Label(label="second"))
second.show_all()

dialog = Gtk.Dialog(title="wmtest-dialog", transient_for=first)
dialog.set_default_size(3000, 2000)
dialog.add_button("_OK", Gtk.ResponseType.OK)
dialog.get_content_area().add(Gtk.Label(label="a dialog larger than the screen"))
dialog.show_all()


def shown():
    print("shown", flush=True)
    return False


GLib.timeout_add(200, shown)
dialog.connect("response", lambda *a: Gtk.main_quit())
first.connect("destroy", lambda *a: Gtk.main_quit())
Gtk.main()
