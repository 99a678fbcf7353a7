package busserver

import (
	"errors"

	"github.com/godbus/dbus/v5"
)

// ReplyOf turns a call a relay made on the host bus (godbus) into the
// message to pass back to the sandbox: a method return with the call's
// body, or the host's error with its name and body. Any other failure (no
// reply, a lost connection) is err; the relay answers it with its own error.
func ReplyOf(call *dbus.Call) (*dbus.Message, error) {
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
