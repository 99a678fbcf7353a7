#!/usr/bin/python3
"""A GTK 3 window for the sandbox: titled "Readable inside", with the label
"Hello Orca" and a button "Press me" (prints "clicked"). Its program name
(what AT-SPI calls the application) comes from the command line. It prints "shown" once the window is up and the main
loop has run (so the accessibility bridge has registered, or failed to), and
quits when its standard input closes."""
import sys

import gi

gi.require_version("Gtk", "3.0")
from gi.repository import GLib  # noqa: E402

# Before Gtk is imported: importing it initialises GTK, and with it the
# accessibility bridge, which names the application after the program.
GLib.set_prgname(sys.argv[1] if len(sys.argv) > 1 else "readable-inside")
from gi.repository import Gtk  # noqa: E402
w = Gtk.Window(title="Readable inside")
box = Gtk.Box(orientation=Gtk.Orientation.VERTICAL)
box.add(Gtk.Label(label="Hello Orca"))
button = Gtk.Button(label="Press me")
button.connect("clicked", lambda _: print("clicked", flush=True))
box.add(button)
w.add(box)
w.connect("destroy", Gtk.main_quit)
w.show_all()


def shown():
    print("shown", flush=True)
    return GLib.SOURCE_REMOVE


def stdin_closed(*_):
    Gtk.main_quit()
    return GLib.SOURCE_REMOVE


GLib.idle_add(shown)
GLib.io_add_watch(GLib.IOChannel.unix_new(0), GLib.PRIORITY_DEFAULT, GLib.IO_IN | GLib.IO_HUP, stdin_closed)
Gtk.main()
