#!/usr/bin/python3
"""A GTK 4 window with one entry, using whichever input method module the
environment selects; prints the entry's text each time it changes."""
import gi
gi.require_version("Gtk", "4.0")
from gi.repository import GLib, Gtk

loop = GLib.MainLoop()
win = Gtk.Window(title="IME entry")
entry = Gtk.Entry()
win.set_child(entry)
win.connect("close-request", lambda *a: loop.quit())
entry.connect("changed", lambda e: print(f"text={e.get_text()}", flush=True))
win.present()
GLib.timeout_add_seconds(60, loop.quit)
loop.run()
