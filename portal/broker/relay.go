package broker

import (
	"context"
	"errors"
	"strings"
	"sync"

	"github.com/godbus/dbus/v5"

	"airlock/portal/busserver"
	"airlock/portal/ibus"
	"airlock/portal/notification"
)

// hostRelay forwards a sandbox's method calls for the names its profile
// allows (bus_names) to the host session bus, as the broker itself. Replies
// come back through the sandbox's bus, to the caller alone.
type hostRelay struct {
	conn    *dbus.Conn
	allowed map[string]bool
	a11y    string // the accessibility bus address inside the sandbox

	// What org.freedesktop.Notifications.Notify calls are made to say:
	// the sandbox's name and icon, whatever the application passed, and
	// the sandbox's notification rate (shared with its portal).
	name, icon string
	limit      *notification.Limiter

	// mu guards notes: the notification ids this sandbox created. Ids are
	// sequential on the host: without this, a sandbox could close, or
	// replace the text of, other applications' notifications.
	mu    sync.Mutex
	notes map[uint32]bool

	// ibus relays the input method (profile key input_method), nil when
	// org.freedesktop.portal.IBus is not among the relayed names.
	ibus *ibus.Relay
}

func newHostRelay(conn *dbus.Conn, names []string, a11y string) *hostRelay {
	r := &hostRelay{conn: conn, allowed: map[string]bool{}, a11y: a11y}
	for _, n := range names {
		r.allowed[n] = true
	}
	return r
}

func (r *hostRelay) Allowed(name string) bool { return r.conn != nil && r.allowed[name] }

// Owned reports the relayed names that appear owned by the broker on the
// sandbox bus. The IBus client watches ibus-portal's name and takes only
// signals from its owner (GLib checks a signal's sender against the name's
// owner since CVE-2024-34397), so the input contexts' signals, which the
// broker sends, need the name to be the broker's.
func (r *hostRelay) Owned(name string) bool {
	return r.ibus != nil && name == ibus.Name && r.Allowed(name)
}

// PathOwner: ibus-portal's objects are /org/freedesktop/IBus and below,
// where the broker exports nothing of its own.
func (r *hostRelay) PathOwner(path dbus.ObjectPath) string {
	if r.ibus != nil && (path == "/org/freedesktop/IBus" || strings.HasPrefix(string(path), "/org/freedesktop/IBus/")) {
		return ibus.Name
	}
	return ""
}

func (r *hostRelay) Call(ctx context.Context, msg *dbus.Message) (*dbus.Message, error) {
	dest, _ := msg.Headers[dbus.FieldDestination].Value().(string)
	path, _ := msg.Headers[dbus.FieldPath].Value().(dbus.ObjectPath)
	iface, _ := msg.Headers[dbus.FieldInterface].Value().(string)
	member, _ := msg.Headers[dbus.FieldMember].Value().(string)
	if !r.Allowed(dest) || member == "" {
		return nil, errors.New("not relayed")
	}
	method := member
	if iface != "" {
		method = iface + "." + member
	}
	// org.a11y.Bus.GetAddress would hand out the host's address, a host
	// path that does not exist inside. The launcher bound the host's
	// accessibility bus socket into the sandbox; answer with that path.
	if dest == "org.a11y.Bus" && member == "GetAddress" && (iface == "" || iface == "org.a11y.Bus") {
		if r.a11y == "" {
			return errorReply("org.freedesktop.DBus.Error.AccessDenied", "the accessibility bus is not shared with this sandbox"), nil
		}
		return &dbus.Message{Type: dbus.TypeMethodReply, Headers: map[dbus.HeaderField]dbus.Variant{
			dbus.FieldSignature: dbus.MakeVariant(dbus.SignatureOf(r.a11y))}, Body: []any{r.a11y}}, nil
	}
	if dest == ibus.Name && r.ibus != nil {
		return r.ibus.Call(ctx, msg)
	}
	if !relayedCall(dest, path, iface, member) {
		return errorReply("org.freedesktop.DBus.Error.AccessDenied", "this call is not relayed to the host"), nil
	}
	body := msg.Body
	if dest == "org.freedesktop.Notifications" {
		if id, ok := notificationTarget(member, msg.Body); ok && id != 0 && !r.ownNote(id) {
			return errorReply("org.freedesktop.DBus.Error.AccessDenied", "not a notification of this sandbox"), nil
		}
		if member == "Notify" {
			// The same filter as the portal's (portal/notification):
			// the relay passes no argument of Notify as the
			// application wrote it.
			n, err := notification.FilterNotify(msg.Body, r.name, r.icon)
			if err != nil {
				return errorReply("org.freedesktop.DBus.Error.InvalidArgs", err.Error()), nil
			}
			if r.limit != nil && !r.limit.Allow() {
				return errorReply(notification.ErrLimitsExceeded, "too many notifications: try again later"), nil
			}
			body = n.Args()
		}
	}
	out, err := busserver.ReplyOf(r.conn.Object(dest, path).CallWithContext(ctx, method, 0, body...))
	if err != nil {
		return nil, err
	}
	if dest == "org.freedesktop.Notifications" && member == "GetCapabilities" && out.Type == dbus.TypeMethodReply && len(out.Body) == 1 {
		// Announce only what passes the filter, so that a client does
		// not build links, images or sounds that would be dropped.
		if caps, ok := out.Body[0].([]string); ok {
			out.Body = []any{notification.Capabilities(caps)}
		}
	}
	if dest == "org.freedesktop.Notifications" && member == "Notify" && out.Type == dbus.TypeMethodReply && len(out.Body) == 1 {
		if id, ok := out.Body[0].(uint32); ok {
			r.mu.Lock()
			if r.notes == nil {
				r.notes = map[uint32]bool{}
			}
			if len(r.notes) < 4096 {
				r.notes[id] = true
			}
			r.mu.Unlock()
		}
	}
	return out, nil
}

func (r *hostRelay) ownNote(id uint32) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.notes[id]
}

// notificationTarget is the id a Notify (replaces_id) or CloseNotification
// call acts on.
func notificationTarget(member string, body []any) (uint32, bool) {
	switch {
	case member == "Notify" && len(body) > 1:
		id, ok := body[1].(uint32)
		return id, ok
	case member == "CloseNotification" && len(body) == 1:
		id, ok := body[0].(uint32)
		return id, ok
	}
	return 0, false
}

func errorReply(name, text string) *dbus.Message {
	return &dbus.Message{Type: dbus.TypeError, Headers: map[dbus.HeaderField]dbus.Variant{
		dbus.FieldErrorName: dbus.MakeVariant(name),
		dbus.FieldSignature: dbus.MakeVariant(dbus.SignatureOf(text))}, Body: []any{text}}
}

// relayRule is what a sandbox may call on one well-known host name.
type relayRule struct {
	path    dbus.ObjectPath
	iface   string
	members map[string]bool
}

// knownRelays narrow the names Airlock knows to the calls their clients
// make. A name is served by a connection, and that connection often serves
// much more: on GNOME, gnome-shell owns org.freedesktop.Notifications on the
// same connection that exports org.gnome.Mutter.RemoteDesktop and
// ScreenCast, so relaying "anything to this name" would relay those too
// (Flatpak's --call rules exist for the same reason).
var knownRelays = map[string][]relayRule{
	"org.freedesktop.Notifications": {{
		path: "/org/freedesktop/Notifications", iface: "org.freedesktop.Notifications",
		members: map[string]bool{"Notify": true, "CloseNotification": true, "GetCapabilities": true, "GetServerInformation": true},
	}},
	// Of org.a11y.Bus, GetAddress is answered by the broker itself;
	// reading org.a11y.Status (is a screen reader on?) is relayed, setting
	// it (switching the session's accessibility) is not.
	"org.a11y.Bus": {{
		path: "/org/a11y/bus", iface: "org.freedesktop.DBus.Properties",
		members: map[string]bool{"Get": true, "GetAll": true},
	}},
	// ibus-portal is relayed by its own relay (portal/ibus), which knows
	// the sandbox's input contexts; without it nothing goes.
	ibus.Name: nil,
}

// relayedCall reports whether a sandbox's call may go to the host. Names a
// profile adds beyond the known ones are the user's explicit trust, like
// Flatpak's --talk: every call on them is relayed.
func relayedCall(dest string, path dbus.ObjectPath, iface, member string) bool {
	rules, known := knownRelays[dest]
	if !known {
		return true
	}
	for _, r := range rules {
		if path == r.path && iface == r.iface && r.members[member] {
			return true
		}
	}
	return false
}
