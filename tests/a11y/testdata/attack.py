#!/usr/bin/python3
"""What a hostile application does with the accessibility bus: the same
pyatspi calls a screen reader makes, aimed at other applications. Run inside
a sandbox by tests/a11y/attack_test.go (and on the host, as the control that
shows each attack works where it is allowed).

  attack.py apps
      Prints "app NAME" for each application on the desktop, then "done".
  attack.py press APP ROLE NAME
      Looks for the node (ROLE, NAME) in APP for up to 10 s (a backstop) and
      runs its first action: prints "pressed" or "not found".
  attack.py listen
      Registers a keystroke listener for every key and an event listener for
      text, focus, pointer and modifier events, and a match rule for every
      signal on a connection of its own; prints "listening", then
      "key STRING", "signal SENDER PATH INTERFACE MEMBER" and
      "event TYPE APP" as they come, until its standard input closes.
  attack.py register EVENT
      Registers a listener for EVENT and leaves (the registry broadcasts
      both).
  attack.py type TEXT
      Synthesizes TEXT with generateKeyboardEvent (KEY_STRING), prints
      "generated" or "refused ERROR".

Every failed registration or call prints "refused ..." and carries on: the
test asserts what reaches or leaves the script, not how it failed.
"""
import sys
import time

import gi

gi.require_version("Atspi", "2.0")
from gi.repository import Atspi, Gio, GLib  # noqa: E402


def out(*words):
    print(*words, flush=True)


def desktop_apps():
    try:
        d = Atspi.get_desktop(0)
        n = d.get_child_count()
    except GLib.Error as e:
        out("refused desktop", e.message)
        return []
    apps = []
    for i in range(n):
        try:
            a = d.get_child_at_index(i)
            if a is not None:
                apps.append(a)
        except GLib.Error:
            pass
    return apps


def name_of(a):
    try:
        return a.get_name() or ""
    except GLib.Error:
        return ""


def walk(node, depth=0):
    yield node
    if depth > 40:
        return
    try:
        n = min(node.get_child_count(), 200)
    except GLib.Error:
        return
    for i in range(n):
        try:
            c = node.get_child_at_index(i)
        except GLib.Error:
            continue
        if c is not None:
            yield from walk(c, depth + 1)


def press(app, role, name):
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        for a in desktop_apps():
            if name_of(a) != app:
                continue
            for n in walk(a):
                try:
                    if n.get_role_name() != role or n.get_name() != name:
                        continue
                    act = n.get_action_iface()
                    if act is not None and act.do_action(0):
                        out("pressed")
                        return 0
                except GLib.Error as e:
                    out("refused", e.message)
        time.sleep(0.2)
    out("not found")
    return 1


def a11y_bus():
    """A raw connection to the accessibility bus, found as atk-bridge finds
    it; libatspi hides what a hostile client would see on the wire."""
    session = Gio.bus_get_sync(Gio.BusType.SESSION, None)
    addr = session.call_sync("org.a11y.Bus", "/org/a11y/bus", "org.a11y.Bus", "GetAddress",
                             None, GLib.VariantType.new("(s)"), Gio.DBusCallFlags.NONE, 10000, None).unpack()[0]
    return Gio.DBusConnection.new_for_address_sync(
        addr, Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT | Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION, None, None)


def listen():
    # Every signal the bus routes to us, on the wire.
    try:
        raw = a11y_bus()
        raw.call_sync("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "AddMatch",
                      GLib.Variant("(s)", ("type='signal'",)), None, Gio.DBusCallFlags.NONE, 10000, None)
        raw.signal_subscribe(None, None, None, None, None, Gio.DBusSignalFlags.NONE,
                             lambda _c, sender, path, iface, member, _p: out("signal", sender, path, iface, member))
    except GLib.Error as e:
        out("refused raw", e.message)
    def on_key(event, _data=None):
        out("key", event.event_string)
        return False

    def on_event(event, _data=None):
        try:
            app = event.source.get_application()
            out("event", event.type, name_of(app))
        except Exception:
            out("event", event.type)

    keys = Atspi.DeviceListener.new(on_key, None)
    for mask in (0, 1):  # no modifier, Shift
        try:
            Atspi.register_keystroke_listener(keys, None, mask,
                                              (1 << Atspi.EventType.KEY_PRESSED_EVENT) | (1 << Atspi.EventType.KEY_RELEASED_EVENT),
                                              Atspi.KeyListenerSyncType.SYNCHRONOUS | Atspi.KeyListenerSyncType.CANCONSUME)
        except GLib.Error as e:
            out("refused keystroke listener", e.message)
            break
    try:
        dev = Atspi.DeviceListener.new(on_key, None)
        Atspi.register_device_event_listener(dev, (1 << Atspi.EventType.BUTTON_PRESSED_EVENT) | (1 << Atspi.EventType.BUTTON_RELEASED_EVENT), None)
    except GLib.Error as e:
        out("refused device listener", e.message)
    ev = Atspi.EventListener.new(on_event)
    # The registry's own: the pointer anywhere on the screen, and the
    # modifier keys.
    for t in ("object:text-changed", "object:state-changed:focused", "window:activate",
              "mouse:abs", "mouse:button", "keyboard:modifiers"):
        try:
            ev.register(t)
        except GLib.Error as e:
            out("refused event", t, e.message)
    GLib.io_add_watch(GLib.IOChannel.unix_new(0), GLib.PRIORITY_DEFAULT, GLib.IO_IN | GLib.IO_HUP,
                      lambda *_: Atspi.event_quit() or False)
    GLib.idle_add(lambda: out("listening") or False)
    Atspi.event_main()
    out("done")
    return 0


def synthesize(text):
    # The D-Bus call itself, not Atspi.generate_keyboard_event: libatspi
    # logs a refusal and still returns TRUE.
    try:
        a11y_bus().call_sync("org.a11y.atspi.Registry", "/org/a11y/atspi/registry/deviceeventcontroller",
                      "org.a11y.atspi.DeviceEventController", "GenerateKeyboardEvent",
                      GLib.Variant("(isu)", (0, text, int(Atspi.KeySynthType.STRING))),
                      None, Gio.DBusCallFlags.NONE, 10000, None)
    except GLib.Error as e:
        out("refused", e.message)
        return 1
    out("generated")
    return 0


def main(argv):
    cmd, args = argv[0], argv[1:]
    if cmd == "apps":
        for a in desktop_apps():
            out("app", name_of(a))
        out("done")
        return 0
    if cmd == "press":
        return press(*args)
    if cmd == "listen":
        return listen()
    if cmd == "type":
        return synthesize(args[0])
    if cmd == "register":
        # A screen reader starting to listen: the registry broadcasts
        # EventListenerRegistered (and Deregistered when we leave).
        Atspi.EventListener.new(lambda *_: None).register(args[0])
        out("registered")
        return 0
    out("unknown command", cmd)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
