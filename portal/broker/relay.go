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
}

func newHostRelay(conn *dbus.Conn, names []string) *hostRelay {
	r := &hostRelay{conn: conn, allowed: map[string]bool{}}
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
