#!/usr/bin/python3
"""An input method client inside a sandbox, talking to ibus-portal the way
IBus's own client library does (ibusbus.c, ibusinputcontext.c): through
GLib's GDBus on the session bus, whose signal subscriptions take a signal
only from the name's owner.

Usage: ibus_client.py own          create a context, type a compose sequence
       ibus_client.py hold         create a context, print its path, wait for
                                   a line on stdin, then type into it
       ibus_client.py attack PATH  try what a sandbox must not do
       ibus_client.py bench [N]    time N ProcessKeyEvent round trips
Prints key=value lines."""
import sys

from gi.repository import Gio, GLib

PORTAL = "org.freedesktop.portal.IBus"
IC = "org.freedesktop.IBus.InputContext"
CAP_PREEDIT_TEXT, CAP_FOCUS = 1 << 0, 1 << 3
DEAD_ACUTE, KEY_E = 0xFE51, 0x65

bus = Gio.bus_get_sync(Gio.BusType.SESSION, None)
loop = GLib.MainLoop()
commits = []


def out(k, v):
    print(f"{k}={v}", flush=True)


def call(dest, path, iface, method, args=None, reply=None):
    """Returns the reply's values, or the D-Bus error's name."""
    try:
        r = bus.call_sync(dest, path, iface, method, args,
                          GLib.VariantType(reply) if reply else None,
                          Gio.DBusCallFlags.NONE, 10000, None)
        return r.unpack() if r is not None else ()
    except GLib.Error as e:
        return Gio.DBusError.get_remote_error(e) or e.message


def on_signal(conn, sender, path, iface, member, params):
    if member == "CommitText":
        # IBusText: (sa{sv}sv) in a variant
        commits.append(params.unpack()[0][2])
        loop.quit()


def create(name="airlock-test"):
    r = call(PORTAL, "/org/freedesktop/IBus", "org.freedesktop.IBus.Portal",
             "CreateInputContext", GLib.Variant("(s)", (name,)), "(o)")
    if not isinstance(r, tuple):
        out("create", r)
        sys.exit(1)
    path = r[0]
    # The sender is the well-known name: GLib delivers only what its
    # current owner sends (CVE-2024-34397).
    bus.signal_subscribe(PORTAL, IC, None, path, None, Gio.DBusSignalFlags.NONE, on_signal)
    return path


def type_compose(path):
    """dead_acute then e: IBus's simple engine commits é."""
    ctx = lambda m, a=None, rt=None: call(PORTAL, path, IC, m, a, rt)
    out("caps", ctx("SetCapabilities", GLib.Variant("(u)", (CAP_PREEDIT_TEXT | CAP_FOCUS,))))
    out("focus", ctx("FocusIn"))
    out("content_type", call(PORTAL, path, "org.freedesktop.DBus.Properties", "Set",
                             GLib.Variant("(ssv)", (IC, "ContentType", GLib.Variant("(uu)", (0, 0))))))
    out("key1", ctx("ProcessKeyEvent", GLib.Variant("(uuu)", (DEAD_ACUTE, 40, 0)), "(b)"))
    out("key2", ctx("ProcessKeyEvent", GLib.Variant("(uuu)", (KEY_E, 18, 0)), "(b)"))
    GLib.timeout_add_seconds(20, loop.quit)
    if not commits:
        loop.run()
    out("commit", commits[0] if commits else "")


mode = sys.argv[1]
if mode == "own":
    import os
    out("env", "/".join(os.environ.get(k, "") for k in ("GTK_IM_MODULE", "QT_IM_MODULE", "IBUS_USE_PORTAL")))
    path = create()
    out("path", path)
    type_compose(path)
    out("destroy", call(PORTAL, path, "org.freedesktop.IBus.Service", "Destroy"))
    out("after_destroy", call(PORTAL, path, IC, "FocusIn"))
elif mode == "hold":
    path = create()
    out("path", path)
    sys.stdin.readline()
    type_compose(path)
elif mode == "bench":
    # Round trips of ProcessKeyEvent (x, which the engine passes on).
    import time
    path = create()
    call(PORTAL, path, IC, "SetCapabilities", GLib.Variant("(u)", (CAP_PREEDIT_TEXT | CAP_FOCUS,)))
    call(PORTAL, path, IC, "FocusIn")
    ts = []
    for _ in range(int(sys.argv[2]) if len(sys.argv) > 2 else 500):
        t0 = time.perf_counter()
        call(PORTAL, path, IC, "ProcessKeyEvent", GLib.Variant("(uuu)", (0x78, 53, 0)), "(b)")
        ts.append(time.perf_counter() - t0)
    ts.sort()
    out("median_us", int(ts[len(ts) // 2] * 1e6))
    out("p99_us", int(ts[len(ts) * 99 // 100] * 1e6))
elif mode == "attack":
    victim = sys.argv[2]
    # Another sandbox's context: its keys, its focus, its life.
    out("victim_key", call(PORTAL, victim, IC, "ProcessKeyEvent", GLib.Variant("(uuu)", (KEY_E, 18, 0)), "(b)"))
    out("victim_focus", call(PORTAL, victim, IC, "FocusIn"))
    out("victim_destroy", call(PORTAL, victim, "org.freedesktop.IBus.Service", "Destroy"))
    # IBus itself: the daemon's bus name, and its interfaces on the
    # portal's name (engines, the panel, the configuration).
    out("ibus_daemon", call("org.freedesktop.IBus", "/org/freedesktop/IBus", "org.freedesktop.IBus", "ListEngines"))
    out("ibus_iface", call(PORTAL, "/org/freedesktop/IBus", "org.freedesktop.IBus", "CreateInputContext",
                           GLib.Variant("(s)", ("x",))))
    out("panel", call(PORTAL, "/org/freedesktop/IBus/Panel", "org.freedesktop.IBus.Panel", "FocusIn",
                      GLib.Variant("(o)", (victim,))))
    out("introspect", call(PORTAL, "/org/freedesktop/IBus", "org.freedesktop.DBus.Introspectable", "Introspect"))
    own = create()
    out("own", own)
    out("set_engine", call(PORTAL, own, IC, "SetEngine", GLib.Variant("(s)", ("xkb:us::eng",))))
    call(PORTAL, own, IC, "SetCapabilities", GLib.Variant("(u)", (CAP_PREEDIT_TEXT | CAP_FOCUS,)))
    out("own_focus", call(PORTAL, own, IC, "FocusIn"))
    # The cap: contexts beyond it are refused.
    n = 1
    while n < 200:
        r = call(PORTAL, "/org/freedesktop/IBus", "org.freedesktop.IBus.Portal",
                 "CreateInputContext", GLib.Variant("(s)", ("x",)), "(o)")
        if not isinstance(r, tuple):
            out("cap_error", r)
            break
        n += 1
    out("contexts", n)
