package notification

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/godbus/dbus/v5"

	"airlock/po/i18n"
	"airlock/portal/busserver"
	"airlock/portal/desktop"
)

// Interface and Version of the portal served (xdg-desktop-portal's
// org.freedesktop.portal.Notification, version 2).
const (
	Interface = "org.freedesktop.portal.Notification"
	Version   = 2
)

const portalXML = `  <interface name="org.freedesktop.portal.Notification">
    <method name="AddNotification">
      <arg type="s" name="id" direction="in"/>
      <arg type="a{sv}" name="notification" direction="in"/>
    </method>
    <method name="RemoveNotification">
      <arg type="s" name="id" direction="in"/>
    </method>
    <signal name="ActionInvoked">
      <arg type="s" name="id"/>
      <arg type="s" name="action"/>
      <arg type="av" name="parameter"/>
    </signal>
    <property name="version" type="u" access="read"/>
  </interface>`

// Limits of one sandbox's portal notifications.
const (
	maxID         = 256 // bytes of an application's notification id
	maxNotes      = 64  // notifications whose actions one sandbox can still get
	maxActionName = 255
	hostTimeout   = 10 * time.Second
)

// ErrLimitsExceeded is the error name of a refusal for rate or count; the
// bus's own name for it, which clients already treat as "try later".
const ErrLimitsExceeded = "org.freedesktop.DBus.Error.LimitsExceeded"

// Sandbox is what the portal shows of the sandbox: its profile's display
// name and icon, never what the application says it is.
type Sandbox struct {
	ID, Name, Icon string
}

// Portal serves org.freedesktop.portal.Notification on one sandbox bus.
type Portal struct {
	srv  *busserver.Server
	host Host
	sb   Sandbox
	lim  *Limiter
	log  *slog.Logger

	// mu guards the fields below.
	mu    sync.Mutex
	notes map[string]*note // by the application's id
	seq   uint64           // order of addition, to forget the oldest
}

// note is one notification a sandbox has on the host.
type note struct {
	seq     uint64
	hostID  uint32
	sender  string            // the connection that added it: ActionInvoked goes there alone
	actions map[string]action // by the key the host sees
}

// action is what a key the broker made up stands for: the application's
// action name and target. The host only ever sees "default", "b0", "b1"...
type action struct {
	name   string
	target *dbus.Variant
}

// Install serves the portal on d's bus. host is nil when the sandbox may
// not notify: the interface is still there (GTK asks for it), and every
// notification is refused.
func Install(d *desktop.Desktop, srv *busserver.Server, sb Sandbox, host Host, lim *Limiter, log *slog.Logger) *Portal {
	if log == nil {
		log = slog.Default()
	}
	if lim == nil {
		lim = NewLimiter(DefaultBurst, DefaultRate, log)
	}
	p := &Portal{srv: srv, host: host, sb: sb, lim: lim, log: log, notes: map[string]*note{}}
	d.AddInterface(Interface, Version, map[string]busserver.Handler{
		"AddNotification":    p.add,
		"RemoveNotification": p.remove,
	}, portalXML)
	return p
}

func invalid(format string, args ...any) *dbus.Error {
	return &dbus.Error{Name: desktop.ErrInvalidArgument, Body: []any{fmt.Sprintf(format, args...)}}
}

func (p *Portal) add(c *busserver.Call) ([]any, error) {
	var id string
	var opts map[string]dbus.Variant
	if len(c.Body) != 2 {
		return nil, invalid("AddNotification takes (sa{sv})")
	}
	id, ok1 := c.Body[0].(string)
	opts, ok2 := c.Body[1].(map[string]dbus.Variant)
	if !ok1 || !ok2 {
		return nil, invalid("AddNotification takes (sa{sv})")
	}
	if id == "" || len(id) > maxID || !utf8.ValidString(id) {
		return nil, invalid("bad notification id")
	}
	n, actions, err := p.build(opts)
	if err != nil {
		return nil, err
	}
	if p.host == nil {
		return nil, &dbus.Error{Name: desktop.ErrNotAllowed, Body: []any{"this sandbox's profile does not allow notifications"}}
	}
	p.mu.Lock()
	old := p.notes[id]
	if old != nil {
		n.ReplacesID = old.hostID
	}
	p.mu.Unlock()
	if !p.lim.Allow() {
		return nil, &dbus.Error{Name: ErrLimitsExceeded, Body: []any{"too many notifications: try again later"}}
	}
	ctx, cancel := context.WithTimeout(context.Background(), hostTimeout)
	defer cancel()
	var hostID uint32
	ev := Events{
		Action: func(key string) { p.invoked(id, &hostID, key) },
		Closed: func() { p.closed(id, &hostID) },
	}
	hid, err := p.host.Notify(ctx, n, ev)
	if err != nil {
		p.log.Info("the host's notification server refused a notification", "err", err)
		return nil, &dbus.Error{Name: desktop.ErrFailed, Body: []any{"the notification could not be shown"}}
	}
	p.mu.Lock()
	hostID = hid
	p.seq++
	p.notes[id] = &note{seq: p.seq, hostID: hid, sender: c.Sender, actions: actions}
	// Not every server says when a notification is gone: past maxNotes,
	// the oldest is forgotten (it stays on the host; its actions no longer
	// come back), so that what the broker holds per sandbox is bounded.
	var forget []uint32
	for len(p.notes) > maxNotes {
		oldest := ""
		for k, n := range p.notes {
			if oldest == "" || n.seq < p.notes[oldest].seq {
				oldest = k
			}
		}
		forget = append(forget, p.notes[oldest].hostID)
		delete(p.notes, oldest)
	}
	p.mu.Unlock()
	for _, hid := range forget {
		p.host.Forget(hid)
	}
	return nil, nil
}

// Close forgets every notification of the sandbox, which has ended: they
// stay on the host, but nothing is left to deliver their actions to.
func (p *Portal) Close() {
	p.mu.Lock()
	notes := p.notes
	p.notes = map[string]*note{}
	p.mu.Unlock()
	if p.host == nil {
		return
	}
	for _, n := range notes {
		p.host.Forget(n.hostID)
	}
}

// build turns the portal's vardict into a filtered Notify. Keys are read
// from a table of accepted types; a known key of the wrong type is an
// error (as in xdg-desktop-portal), an unknown key is ignored.
func (p *Portal) build(opts map[string]dbus.Variant) (Notify, map[string]action, error) {
	n := Notify{AppName: p.sb.Name, Timeout: -1, Hints: map[string]dbus.Variant{}}
	actions := map[string]action{}
	str := func(key string) (string, bool, error) {
		v, ok := opts[key]
		if !ok {
			return "", false, nil
		}
		s, ok := v.Value().(string)
		if !ok {
			return "", false, invalid("%q must be a string", key)
		}
		return s, true, nil
	}
	title, _, err := str("title")
	if err != nil {
		return n, nil, err
	}
	n.Summary = PlainText(title, MaxSummary)
	body, _, err := str("body")
	if err != nil {
		return n, nil, err
	}
	n.Body = Escape(body, MaxBody)
	if mb, ok, err := str("markup-body"); err != nil {
		return n, nil, err
	} else if ok {
		n.Body = Markup(mb, MaxBody)
	}
	if pr, ok, err := str("priority"); err != nil {
		return n, nil, err
	} else if ok {
		u, known := map[string]byte{"low": 0, "normal": 1, "high": 1, "urgent": 2}[pr]
		if !known {
			return n, nil, invalid("unknown priority %q", pr)
		}
		n.Hints["urgency"] = dbus.MakeVariant(u)
	}
	if cat, ok, err := str("category"); err != nil {
		return n, nil, err
	} else if ok && Category(cat) {
		n.Hints["category"] = dbus.MakeVariant(cat)
	}
	if s, ok := opts["sound"].Value().(string); ok && s == "silent" {
		n.Hints["suppress-sound"] = dbus.MakeVariant(true)
	}
	// An icon crosses only as a themed name. bytes and file-descriptor
	// icons would have the host decode the sandbox's image; they are
	// dropped, not refused, so that the notification still shows.
	n.AppIcon = IconName(themedIcon(opts["icon"]), p.sb.Icon)

	var keys []string
	if da, ok, err := str("default-action"); err != nil {
		return n, nil, err
	} else if ok && da != "" {
		if len(da) > maxActionName || !utf8.ValidString(da) {
			return n, nil, invalid("bad default-action")
		}
		a := action{name: da}
		if t, ok := opts["default-action-target"]; ok {
			a.target = &t
		}
		actions["default"] = a
		keys = append(keys, "default", i18n.T("Open"))
	}
	if v, ok := opts["buttons"]; ok {
		buttons, ok := v.Value().([]map[string]dbus.Variant)
		if !ok {
			return n, nil, invalid("\"buttons\" must be aa{sv}")
		}
		for i, b := range buttons {
			label, ok1 := b["label"].Value().(string)
			name, ok2 := b["action"].Value().(string)
			if !ok1 || !ok2 || name == "" || len(name) > maxActionName || !utf8.ValidString(name) {
				return n, nil, invalid("a button needs a label and an action")
			}
			if i >= MaxActions {
				continue
			}
			a := action{name: name}
			if t, ok := b["target"]; ok {
				a.target = &t
			}
			key := "b" + strconv.Itoa(i)
			actions[key] = a
			keys = append(keys, key, label)
		}
	}
	n.Actions = Actions(keys)
	return n, actions, nil
}

// themedIcon returns the icon name of a serialized icon: a string, or
// ("themed", as) whose first name is used.
func themedIcon(v dbus.Variant) string {
	switch x := v.Value().(type) {
	case string:
		return x
	case []any:
		if len(x) != 2 {
			return ""
		}
		if kind, _ := x[0].(string); kind != "themed" {
			return ""
		}
		inner, ok := x[1].(dbus.Variant)
		if !ok {
			return ""
		}
		if names, ok := inner.Value().([]string); ok {
			for _, n := range names {
				if ThemedName(n) {
					return n
				}
			}
		}
	}
	return ""
}

func (p *Portal) remove(c *busserver.Call) ([]any, error) {
	if len(c.Body) != 1 {
		return nil, invalid("RemoveNotification takes (s)")
	}
	id, ok := c.Body[0].(string)
	if !ok {
		return nil, invalid("RemoveNotification takes (s)")
	}
	p.mu.Lock()
	nt := p.notes[id]
	delete(p.notes, id)
	p.mu.Unlock()
	if nt == nil || p.host == nil {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), hostTimeout)
	defer cancel()
	if err := p.host.Close(ctx, nt.hostID); err != nil {
		p.log.Debug("cannot withdraw a notification", "err", err)
	}
	return nil, nil
}

// invoked sends ActionInvoked for a key the host reported, to the
// connection that added the notification and to no other.
func (p *Portal) invoked(id string, hostID *uint32, key string) {
	p.mu.Lock()
	nt := p.notes[id]
	if nt == nil || nt.hostID != *hostID {
		p.mu.Unlock()
		return
	}
	a, ok := nt.actions[key]
	sender := nt.sender
	p.mu.Unlock()
	if !ok {
		return
	}
	param := []dbus.Variant{}
	if a.target != nil {
		param = append(param, *a.target)
	}
	if err := p.srv.EmitTo(sender, desktop.ObjectPath, Interface, "ActionInvoked", id, a.name, param); err != nil {
		p.log.Debug("cannot deliver a notification action", "err", err)
	}
}

func (p *Portal) closed(id string, hostID *uint32) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if nt := p.notes[id]; nt != nil && nt.hostID == *hostID {
		delete(p.notes, id)
	}
}
