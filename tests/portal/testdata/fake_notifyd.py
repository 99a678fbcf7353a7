# A host-side notification server for tests: owns org.freedesktop.Notifications
# on the test's private session bus and records every call it receives as one
# JSON line in the file named by argv[1]. It is the peer under test (what the
# host's shell would draw), not a stand-in for Airlock.
#
# A notification titled "click me" gets ActionInvoked for its first button key
# (the first key that is not "default"), as if the user clicked it.
import json
import sys

import dbus
import dbus.service
from dbus.mainloop.glib import DBusGMainLoop
from gi.repository import GLib

NAME = "org.freedesktop.Notifications"
PATH = "/org/freedesktop/Notifications"

out = open(sys.argv[1], "a", buffering=1)


def plain(v):
    if isinstance(v, dbus.Dictionary):
        return {str(k): plain(x) for k, x in v.items()}
    if isinstance(v, (dbus.Array, dbus.Struct, list, tuple)):
        return [plain(x) for x in v]
    if isinstance(v, dbus.Boolean):
        return bool(v)
    if isinstance(v, (dbus.Byte, dbus.Int16, dbus.UInt16, dbus.Int32, dbus.UInt32, dbus.Int64, dbus.UInt64)):
        return int(v)
    if isinstance(v, (dbus.String, dbus.ObjectPath, dbus.Signature)):
        return str(v)
    return repr(v)


class Server(dbus.service.Object):
    def __init__(self, bus):
        super().__init__(bus, PATH)
        self.next = 0

    @dbus.service.method(NAME, in_signature="susssasa{sv}i", out_signature="u", sender_keyword="sender")
    def Notify(self, app_name, replaces_id, app_icon, summary, body, actions, hints, timeout, sender=None):
        if replaces_id:
            nid = int(replaces_id)
        else:
            self.next += 1
            nid = self.next
        out.write(json.dumps({"call": "Notify", "id": nid, "app_name": str(app_name), "replaces_id": int(replaces_id),
                              "app_icon": str(app_icon), "summary": str(summary), "body": str(body),
                              "actions": plain(actions), "hints": plain(hints), "timeout": int(timeout)}) + "\n")
        keys = [str(actions[i]) for i in range(0, len(actions) - 1, 2)]
        buttons = [k for k in keys if k != "default"]
        if str(summary) == "click me" and buttons:
            GLib.timeout_add(300, self.click, nid, buttons[0])
        return nid

    def click(self, nid, key):
        self.ActionInvoked(dbus.UInt32(nid), key)
        return False

    @dbus.service.method(NAME, in_signature="u", out_signature="")
    def CloseNotification(self, nid):
        out.write(json.dumps({"call": "CloseNotification", "id": int(nid)}) + "\n")

    @dbus.service.method(NAME, in_signature="", out_signature="as")
    def GetCapabilities(self):
        return ["actions", "body", "body-hyperlinks", "body-images", "body-markup", "icon-static", "sound", "persistence"]

    @dbus.service.method(NAME, in_signature="", out_signature="ssss")
    def GetServerInformation(self):
        return ("fake-notifyd", "airlock-tests", "1", "1.2")

    @dbus.service.signal(NAME, signature="us")
    def ActionInvoked(self, nid, key):
        pass

    @dbus.service.signal(NAME, signature="uu")
    def NotificationClosed(self, nid, reason):
        pass


DBusGMainLoop(set_as_default=True)
bus = dbus.SessionBus()
server = Server(bus)
name = dbus.service.BusName(NAME, bus, do_not_queue=True)
out.write(json.dumps({"call": "READY"}) + "\n")
GLib.MainLoop().run()
