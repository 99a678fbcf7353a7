#!/usr/bin/python3
"""Calls org.freedesktop.portal.Print directly, as a hostile or unusual
application could: whatever PDF it likes, over a descriptor.

usage: portalprint.py prepare-print FILE   PreparePrint, then Print with the token
       portalprint.py print FILE           Print without a token (the dialog first)
       portalprint.py prepare              PreparePrint only
       portalprint.py prepare-wait-print FILE
                                           PreparePrint, then a line on stdin, then Print
prints one line per step: "prepare: CODE", "print: CODE", or
"prepare-error: MESSAGE" / "print-error: MESSAGE" when the call is refused."""
import os
import sys

from gi.repository import Gio, GLib

bus = Gio.bus_get_sync(Gio.BusType.SESSION, None)
loop = GLib.MainLoop()
counter = [0]


def call(method, args, sig, fd=None):
    counter[0] += 1
    token = "t%d_%d" % (os.getpid(), counter[0])
    sender = bus.get_unique_name()[1:].replace(".", "_")
    path = "/org/freedesktop/portal/desktop/request/%s/%s" % (sender, token)
    out = {}

    def on_response(conn, sender_name, obj, iface, signal, params, *data):
        out["code"], out["results"] = params.unpack()
        loop.quit()

    sid = bus.signal_subscribe(None, "org.freedesktop.portal.Request", "Response", path,
                               None, Gio.DBusSignalFlags.NO_MATCH_RULE, on_response)
    opts = dict(args[-1])
    opts["handle_token"] = GLib.Variant("s", token)
    params = GLib.Variant(sig, tuple(args[:-1]) + (opts,))
    fds = None
    if fd is not None:
        fds = Gio.UnixFDList.new_from_array([fd])
    try:
        bus.call_with_unix_fd_list_sync(
            "org.freedesktop.portal.Desktop", "/org/freedesktop/portal/desktop",
            "org.freedesktop.portal.Print", method, params, None,
            Gio.DBusCallFlags.NONE, 60000, fds, None)
    except GLib.Error as e:
        bus.signal_unsubscribe(sid)
        return None, e.message
    loop.run()
    bus.signal_unsubscribe(sid)
    return out, None


def prepare():
    r, err = call("PreparePrint", ["", "Report", {}, {}, {}], "(ssa{sv}a{sv}a{sv})")
    if err:
        print("prepare-error:", err, flush=True)
        return None
    print("prepare:", r["code"], flush=True)
    if r["code"] != 0:
        return None
    return r["results"]


def print_file(path, token):
    fd = os.open(path, os.O_RDONLY)
    opts = {}
    if token:
        opts["token"] = GLib.Variant("u", token)
    r, err = call("Print", ["", "Report", 0, opts], "(ssha{sv})", fd)
    # the descriptor list owns fd now
    if err:
        print("print-error:", err, flush=True)
        return
    print("print:", r["code"], flush=True)


mode = sys.argv[1]
if mode == "prepare":
    prepare()
elif mode == "prepare-print":
    res = prepare()
    if res is not None:
        print("settings:", sorted(res["settings"].keys()), flush=True)
        print_file(sys.argv[2], res["token"])
elif mode == "prepare-wait-print":
    res = prepare()
    if res is not None:
        sys.stdin.readline()
        print_file(sys.argv[2], res["token"])
elif mode == "print":
    print_file(sys.argv[2], 0)
