# A hostile application inside a sandbox: the notifications of issue 8 item 4
# sent straight to org.freedesktop.Notifications, then a well-behaved one
# through org.freedesktop.portal.Notification, then a flood. Prints KEY=VALUE
# lines.
import sys
import time

from gi.repository import Gio, GLib

bus = Gio.bus_get_sync(Gio.BusType.SESSION, None)


def call(dest, path, iface, method, args, reply):
    return bus.call_sync(dest, path, iface, method, args, GLib.VariantType(reply) if reply else None,
                         Gio.DBusCallFlags.NONE, 10000, None)


def err_name(e):
    return Gio.DBusError.get_remote_error(e) or str(e)


def notify(app_name, icon, summary, body, actions, hints, timeout=-1):
    return call("org.freedesktop.Notifications", "/org/freedesktop/Notifications", "org.freedesktop.Notifications",
                "Notify", GLib.Variant("(susssasa{sv}i)", (app_name, 0, icon, summary, body, actions, hints, timeout)),
                "(u)").unpack()[0]


# 1. The direct attack.
hints = {
    "desktop-entry": GLib.Variant("s", "tails-upgrade-frontend"),
    "image-path": GLib.Variant("s", "/etc/passwd"),
    "sound-file": GLib.Variant("s", "/usr/share/sounds/alarm.oga"),
    "sound-name": GLib.Variant("s", "alarm-clock-elapsed"),
    "resident": GLib.Variant("b", True),
    "x-kde-urls": GLib.Variant("as", ["file:///etc/shadow"]),
    "urgency": GLib.Variant("y", 2),
}
try:
    nid = notify("Tails Upgrader", "/etc/passwd", 'Upgrade <a href="https://evil.example/">now</a>',
                 '<a href="https://evil.example/x">Click</a> <img src="/etc/shadow"/> <b>bold</b>',
                 ["default", "Open", "app.quit", "Quit", "https://evil.example", "Visit", "ok", "OK"], hints, 0)
    print("direct=%d" % nid)
except GLib.Error as e:
    print("direct-error=%s" % err_name(e))
caps = call("org.freedesktop.Notifications", "/org/freedesktop/Notifications", "org.freedesktop.Notifications",
            "GetCapabilities", None, "(as)").unpack()[0]
print("caps=%s" % ",".join(caps))

# 2. The portal.
PORTAL, PPATH, PIFACE = "org.freedesktop.portal.Desktop", "/org/freedesktop/portal/desktop", "org.freedesktop.portal.Notification"
version = call(PORTAL, PPATH, "org.freedesktop.DBus.Properties", "Get", GLib.Variant("(ss)", (PIFACE, "version")), "(v)")
print("version=%s" % version.unpack()[0])
loop = GLib.MainLoop()
got = []


def on_action(conn, sender, path, iface, member, params):
    got.append(params.unpack())
    loop.quit()


bus.signal_subscribe(PORTAL, PIFACE, "ActionInvoked", PPATH, None, Gio.DBusSignalFlags.NONE, on_action)
note = {
    "title": GLib.Variant("s", "click me"),
    "body": GLib.Variant("s", "from the portal <b>"),
    "priority": GLib.Variant("s", "urgent"),
    "icon": GLib.Variant("(sv)", ("themed", GLib.Variant("as", ["mail-unread", "mail"]))),
    "default-action": GLib.Variant("s", "app.open"),
    "buttons": GLib.Variant("aa{sv}", [{"label": GLib.Variant("s", "Reply"), "action": GLib.Variant("s", "app.reply"),
                                        "target": GLib.Variant("s", "thread-7")}]),
}
try:
    call(PORTAL, PPATH, PIFACE, "AddNotification", GLib.Variant("(sa{sv})", ("msg-1", note)), None)
    print("portal=ok")
except GLib.Error as e:
    print("portal-error=%s" % err_name(e))
GLib.timeout_add(10000, loop.quit)
loop.run()
for g in got:
    print("action=%s|%s|%s" % (g[0], g[1], ",".join(str(p) for p in g[2])))

# 3. The flood, as fast as it goes.
ok, refused, other = 0, 0, set()
start = time.monotonic()
for i in range(200):
    try:
        notify("Flood", "", "flood %d" % i, "", [], {})
        ok += 1
    except GLib.Error as e:
        if err_name(e) == "org.freedesktop.DBus.Error.LimitsExceeded":
            refused += 1
        else:
            other.add(err_name(e))
print("flood-ok=%d" % ok)
print("flood-refused=%d" % refused)
print("flood-other=%s" % ",".join(sorted(other)))
print("flood-seconds=%.2f" % (time.monotonic() - start))
sys.stdout.flush()
