#!/usr/bin/python3
"""A GTK 3 application that prints one page with Gtk.PrintOperation, as
any GTK application does. In a sandbox (GTK_USE_PORTAL=1) GTK asks the
Print portal: PreparePrint shows the dialog, GTK renders the page to a PDF
and hands it to Print with the token.

usage: gtkprint.py TEXT
prints "result: apply|cancel|error ..." and exits."""
import sys

import gi

gi.require_version("Gtk", "3.0")
from gi.repository import Gtk  # noqa: E402

text = sys.argv[1]


def draw(op, ctx, page):
    cr = ctx.get_cairo_context()
    cr.set_source_rgb(0, 0, 0)
    cr.select_font_face("DejaVu Sans")
    cr.set_font_size(18)
    cr.move_to(36, 72)
    cr.show_text(text)


op = Gtk.PrintOperation()
op.set_n_pages(1)
op.set_job_name("gtkprint")
op.connect("draw-page", draw)
try:
    res = op.run(Gtk.PrintOperationAction.PRINT_DIALOG, None)
    print("result:", res.value_nick, flush=True)
except Exception as e:  # GLib.Error: the portal refused
    print("result: error", e, flush=True)
