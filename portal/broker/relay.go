package broker

import (
	"context"
	"errors"

	"github.com/godbus/dbus/v5"
)

// hostRelay forwards a sandbox's method calls for the names its profile
// allows (bus_names) to the host session bus, as the broker itself. Replies
// come back through the sandbox's bus, to the caller alone.
type hostRelay struct {
	conn    *dbus.Conn
	allowed map[string]bool
	a11y    string // the accessibility bus address inside the sandbox
}

func newHostRelay(conn *dbus.Conn, names []string, a11y string) *hostRelay {
	r := &hostRelay{conn: conn, allowed: map[string]bool{}, a11y: a11y}
	for _, n := range names {
		r.allowed[n] = true
	}
	return r
}

func (r *hostRelay) Allowed(name string) bool { return r.conn != nil && r.allowed[name] }

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
	// Of the rest of org.a11y.Bus, only reading its properties (is a
	// screen reader on?): setting org.a11y.Status would switch the whole
	// session's accessibility on or off. Flatpak lets through GetAddress
	// alone.
	if dest == "org.a11y.Bus" && !(iface == "org.freedesktop.DBus.Properties" && (member == "Get" || member == "GetAll")) {
		return errorReply("org.freedesktop.DBus.Error.AccessDenied", "only GetAddress and reading properties of org.a11y.Bus are relayed"), nil
	}
	call := r.conn.Object(dest, path).CallWithContext(ctx, method, 0, msg.Body...)
	out := &dbus.Message{Headers: map[dbus.HeaderField]dbus.Variant{}}
	var de dbus.Error
	switch {
	case call.Err == nil:
		out.Type = dbus.TypeMethodReply
		out.Body = call.Body
	case errors.As(call.Err, &de):
		out.Type = dbus.TypeError
		out.Headers[dbus.FieldErrorName] = dbus.MakeVariant(de.Name)
		out.Body = de.Body
	default:
		return nil, call.Err
	}
	if len(out.Body) > 0 {
		out.Headers[dbus.FieldSignature] = dbus.MakeVariant(dbus.SignatureOf(out.Body...))
	}
	return out, nil
}

func errorReply(name, text string) *dbus.Message {
	return &dbus.Message{Type: dbus.TypeError, Headers: map[dbus.HeaderField]dbus.Variant{
		dbus.FieldErrorName: dbus.MakeVariant(name),
		dbus.FieldSignature: dbus.MakeVariant(dbus.SignatureOf(text))}, Body: []any{text}}
}
