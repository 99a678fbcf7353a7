#!/usr/bin/python3
# A small GTK3 editor for the Airlock demo and tests. It never sees a host
# path: "Open" and "Save" go through org.freedesktop.portal.FileChooser
# (Gtk.FileChooserNative with GTK_USE_PORTAL=1), Airlock draws the chooser,
# and the chosen file appears under /run/user/UID/doc/.
#
#   notes.py [--open] [--save-as NAME] [--status FILE]
# --open opens the chooser at start; --save-as saves the text under a new
# name through SaveFile; --status appends one line per event to FILE.
import argparse
import os
import socket
import sys

import gi
gi.require_version("Gtk", "3.0")
from gi.repository import Gio, GLib, Gtk  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--open", action="store_true")
ap.add_argument("--save-as")
ap.add_argument("--append")
ap.add_argument("--status")
ap.add_argument("--quit-after", action="store_true")
args = ap.parse_args()


def status(line):
    print(line, flush=True)
    if args.status:
        with open(args.status, "a") as f:
            f.write(line + "\n")


class Notes(Gtk.Window):
    def __init__(self):
        super().__init__(title="Notes (sandboxed)")
        self.set_default_size(640, 420)
        self.file = None
        box = Gtk.Box(orientation=Gtk.Orientation.VERTICAL, spacing=6)
        bar = Gtk.Box(spacing=6)
        for label, cb in (("Open…", self.on_open), ("Save", self.on_save), ("Save as…", self.on_save_as)):
            b = Gtk.Button(label=label)
            b.connect("clicked", lambda _b, cb=cb: cb())
            bar.pack_start(b, False, False, 0)
        box.pack_start(bar, False, False, 0)
        self.view = Gtk.TextView()
        self.view.set_monospace(True)
        sw = Gtk.ScrolledWindow()
        sw.add(self.view)
        box.pack_start(sw, True, True, 0)
        ifaces = sorted(n for _, n in socket.if_nameindex())
        self.info = Gtk.Label(xalign=0)
        self.info.set_text("host name: %s   network interfaces: %s   home: %s entries"
                           % (socket.gethostname(), ", ".join(ifaces), len(os.listdir(os.path.expanduser("~")))))
        box.pack_start(self.info, False, False, 0)
        self.add(box)
        self.connect("destroy", Gtk.main_quit)

    def chooser(self, action, title):
        # Kept on self: a FileChooserNative collected early never answers.
        self.native = Gtk.FileChooserNative.new(title, self, action, None, None)
        return self.native

    def on_open(self):
        d = self.chooser(Gtk.FileChooserAction.OPEN, "Open a note")
        d.connect("response", self.opened)
        d.show()

    def opened(self, d, resp):
        if resp != Gtk.ResponseType.ACCEPT:
            status("open: cancelled (%d)" % resp)
            return self.maybe_quit()
        self.file = d.get_file()
        ok, data, _ = self.file.load_contents(None)
        self.view.get_buffer().set_text(data.decode("utf-8", "replace"))
        self.set_title("%s — Notes (sandboxed)" % self.file.get_basename())
        status("open: %s" % self.file.get_path())
        if args.append:
            self.append_and_save(args.append)
        elif args.save_as:
            GLib.idle_add(self.on_save_as)
        else:
            self.maybe_quit()

    def text(self):
        b = self.view.get_buffer()
        return b.get_text(b.get_start_iter(), b.get_end_iter(), True)

    def append_and_save(self, line):
        b = self.view.get_buffer()
        b.insert(b.get_end_iter(), line + "\n")
        self.on_save()

    def on_save(self):
        if self.file is None:
            return self.on_save_as()
        try:
            # GIO's replace: temporary file beside the target, then rename.
            self.file.replace_contents(self.text().encode(), None, False, Gio.FileCreateFlags.NONE, None)
            status("save: %s" % self.file.get_path())
        except GLib.Error as e:
            status("save: error %s" % e.message)
        self.maybe_quit()

    def on_save_as(self):
        d = self.chooser(Gtk.FileChooserAction.SAVE, "Save the note")
        d.set_current_name(args.save_as or "note.txt")
        d.connect("response", self.saved_as)
        d.show()

    def saved_as(self, d, resp):
        if resp != Gtk.ResponseType.ACCEPT:
            status("save-as: cancelled (%d)" % resp)
            return self.maybe_quit()
        self.file = d.get_file()
        args.save_as = None
        self.on_save()

    def maybe_quit(self):
        if args.quit_after:
            GLib.timeout_add(300, Gtk.main_quit)


w = Notes()
w.show_all()
status("ready")
if args.open:
    GLib.timeout_add(300, lambda: (w.on_open(), False)[1])
Gtk.main()
