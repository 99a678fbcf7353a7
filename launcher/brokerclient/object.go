package brokerclient

import (
	"github.com/godbus/dbus/v5"

	"airlock/launcher/sandbox"
	"airlock/portal/control"
)

// export publishes o and its description (control.LauncherXML,
// which TestLauncherXMLMatchesObject holds to o's methods) on conn.
func export(conn *dbus.Conn, o launcherObject) error {
	data, err := control.Introspectable(control.LauncherXML)
	if err != nil {
		return err
	}
	if err := conn.Export(o, control.LauncherPath, control.LauncherInterface); err != nil {
		return err
	}
	return conn.Export(data, control.LauncherPath, "org.freedesktop.DBus.Introspectable")
}

// launcherObject carries the methods the broker may call.
type launcherObject struct{ b *Client }

func (o launcherObject) target(sender dbus.Sender, id string) (*sandbox.Sandbox, *dbus.Error) {
	o.b.mu.Lock()
	defer o.b.mu.Unlock()
	// Only the broker this sandbox is registered with (none before Serve:
	// an empty sender is nobody's).
	if o.b.broker == "" || string(sender) != o.b.broker {
		return nil, &dbus.Error{Name: "org.freedesktop.DBus.Error.AccessDenied", Body: []any{"not this sandbox's broker"}}
	}
	if o.b.sb == nil || o.b.sb.ID() != id {
		return nil, &dbus.Error{Name: "org.freedesktop.DBus.Error.Failed", Body: []any{"no such sandbox here"}}
	}
	return o.b.sb, nil
}

func (o launcherObject) Bind(sender dbus.Sender, id, host, inside string) *dbus.Error {
	sb, derr := o.target(sender, id)
	if derr != nil {
		return derr
	}
	if err := sb.Bind(host, inside); err != nil {
		return &dbus.Error{Name: "org.freedesktop.DBus.Error.Failed", Body: []any{err.Error()}}
	}
	return nil
}

func (o launcherObject) Unbind(sender dbus.Sender, id, inside string) *dbus.Error {
	sb, derr := o.target(sender, id)
	if derr != nil {
		return derr
	}
	if err := sb.Unbind(inside); err != nil {
		return &dbus.Error{Name: "org.freedesktop.DBus.Error.Failed", Body: []any{err.Error()}}
	}
	return nil
}

// End ends the sandbox on the user's word (airlock manager, through the
// broker).
func (o launcherObject) End(sender dbus.Sender, id string) *dbus.Error {
	sb, derr := o.target(sender, id)
	if derr != nil {
		return derr
	}
	sb.End()
	return nil
}
