# A GTK 4 application (Debian 12: GTK 4.8, no Gtk.FileDialog) that runs the
# file chooser steps named on its command line, one after the other, through
# Gtk.FileChooserNative, which GDK_DEBUG=portals (set by airlock) sends to
# org.freedesktop.portal.FileChooser. Each step prints one JSON line:
#
#   open-multiple    open several files; print each path and its bytes
#   folder           choose a folder; print the subtree under it and what
#                    its parent (..) holds
#   save:NAME:TEXT   save TEXT under a name the user picks (NAME suggested)
#                    with Gio.File.replace_contents
#
# A 100-second watchdog prints TIMEOUT, so that a hang is reported.
import json
import os
import sys

import gi

gi.require_version("Gtk", "4.0")
from gi.repository import Gio, GLib, Gtk  # noqa: E402

steps = sys.argv[1:]
app = Gtk.Application(application_id=None)
state = {}


def out(**kw):
    print(json.dumps(kw, sort_keys=True), flush=True)


def files_of(dialog):
    model = dialog.get_files()
    return [model.get_item(i) for i in range(model.get_n_items())]


def tree(root):
    entries = []
    for d, dirs, files in os.walk(root):
        dirs.sort()
        for n in sorted(dirs + files):
            entries.append(os.path.relpath(os.path.join(d, n), root))
    return sorted(entries)


def on_response(dialog, response, step):
    if response != Gtk.ResponseType.ACCEPT:
        out(step=step, response=int(response))
        return next_step()
    files = files_of(dialog)
    try:
        if step == "open-multiple":
            res = []
            for f in files:
                ok, data, _ = f.load_contents(None)
                res.append({"path": f.get_path(), "content": data.decode("utf-8", "replace")})
            out(step=step, files=res)
        elif step == "folder":
            p = files[0].get_path()
            parent = os.path.join(p, "..")
            out(step=step, path=p, tree=tree(p), parent=sorted(os.listdir(parent)),
                parent_real=os.path.realpath(parent))
        else:
            _, name, text = step.split(":", 2)
            f = files[0]
            f.replace_contents(text.encode(), None, False, Gio.FileCreateFlags.NONE, None)
            out(step="save", path=f.get_path(), saved=True)
    except GLib.Error as e:
        out(step=step, error=e.message)
    except OSError as e:
        out(step=step, error=str(e))
    next_step()


def next_step():
    if not steps:
        app.quit()
        return
    step = steps.pop(0)
    if step == "open-multiple":
        d = Gtk.FileChooserNative.new("Open files (airlock test)", state["win"], Gtk.FileChooserAction.OPEN, None, None)
        d.set_select_multiple(True)
    elif step == "folder":
        d = Gtk.FileChooserNative.new("Pick a folder (airlock test)", state["win"], Gtk.FileChooserAction.SELECT_FOLDER, None, None)
    elif step.startswith("save:"):
        d = Gtk.FileChooserNative.new("Save (airlock test)", state["win"], Gtk.FileChooserAction.SAVE, None, None)
        d.set_current_name(step.split(":", 2)[1])
    else:
        out(step=step, error="unknown step")
        app.quit()
        return
    d.connect("response", on_response, step)
    # Kept referenced: a FileChooserNative collected early never answers.
    state["dialog"] = d
    d.show()
    out(step=step, shown=True)


def watchdog():
    print("TIMEOUT", flush=True)
    app.quit()
    return False


def on_activate(app):
    win = Gtk.ApplicationWindow(application=app, title="gtk4 files")
    win.present()
    state["win"] = win
    out(gtk="%d.%d" % (Gtk.get_major_version(), Gtk.get_minor_version()))
    GLib.timeout_add_seconds(100, watchdog)
    next_step()


app.connect("activate", on_activate)
sys.exit(app.run([]))
