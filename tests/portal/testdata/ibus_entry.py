#!/usr/bin/python3
"""A GTK 3 window with one entry, using whichever input method module the
environment selects; prints the entry's text each time it changes."""
import gi
gi.require_version("Gtk", "3.0")
from gi.repository import GLib, Gtk

win = Gtk.Window(title="IME entry")
entry = Gtk.Entry()
win.add(entry)
win.connect("destroy", Gtk.main_quit)


def changed(e):
    print(f"text={e.get_text()}", flush=True)


entry.connect("changed", changed)
win.show_all()


GLib.timeout_add_seconds(60, Gtk.main_quit)
Gtk.main()
