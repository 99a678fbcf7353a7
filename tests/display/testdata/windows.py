# A GTK 3 program with what the nested display's window manager must sort
# out: two toplevels of the same size (which without one open exactly on top
# of each other), and a dialog transient for the first, larger than any
# screen (which without one is cut off at the screen's edge, its buttons out
# of reach). Closing the dialog prints "dialog closed".

import gi

gi.require_version("Gtk", "3.0")
import signal

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


def closed(d, response):
    d.destroy()
    print("dialog closed", flush=True)


dialog.connect("response", closed)
# SIGUSR1 maximizes the second window (GTK asks the window manager with
# _NET_WM_STATE), SIGUSR2 restores it.
GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGUSR1, lambda: second.maximize() or True)
GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGUSR2, lambda: second.unmaximize() or True)
first.connect("destroy", lambda *a: Gtk.main_quit())
Gtk.main()
