#!/usr/bin/python3
"""A host application with the accessibility bridge on: a GTK 3 window titled
"Host window" with a text entry. Prints "shown" once up, "text CONTENT"
whenever the entry changes, and quits when its standard input closes. The
attack tests type into it (xdotool as the user, or a hostile sandbox through
AT-SPI) and watch what it receives."""
import gi

gi.require_version("Gtk", "3.0")
from gi.repository import GLib  # noqa: E402

GLib.set_prgname("host-entry")
from gi.repository import Gtk  # noqa: E402

w = Gtk.Window(title="Host window")
e = Gtk.Entry()
e.connect("changed", lambda _: print("text", e.get_text(), flush=True))
w.add(e)
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
