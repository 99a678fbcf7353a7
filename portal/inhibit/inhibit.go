// Package inhibit serves org.freedesktop.portal.Inhibit on a sandbox bus.
// GTK applications call Inhibit while they save (gedit, GNOME Text Editor)
// and create a monitor at start-up; without the portal they log a failure.
// An inhibition is held, and logged with the sandbox, until the caller
// closes its request or leaves; there is no session manager to forward it
// to on every host (Tails has none that honours it), so none is required:
// the portal answers what it holds.
package inhibit

import (
	"log/slog"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/godbus/dbus/v5"

	"airlock/portal/busserver"
	"airlock/portal/desktop"
)

// Interface and Version of the portal served (xdg-desktop-portal's
// org.freedesktop.portal.Inhibit, version 3).
const (
	Interface = "org.freedesktop.portal.Inhibit"
	Version   = 3
)

// Caps per sandbox: what a hostile sandbox can make the broker hold.
const (
	MaxInhibitions = 32
	MaxMonitors    = 8
	maxReason      = 256
)

// The flags of Inhibit (logout, user switch, suspend, idle).
const allFlags = 1 | 2 | 4 | 8

// Session states of StateChanged's session-state.
const stateRunning uint32 = 1

const sessionIface = "org.freedesktop.portal.Session"

// PortalXML is the interface's introspection data.
const PortalXML = `  <interface name="org.freedesktop.portal.Inhibit">
    <method name="Inhibit">
      <arg type="s" name="window" direction="in"/>
      <arg type="u" name="flags" direction="in"/>
      <arg type="a{sv}" name="options" direction="in"/>
      <arg type="o" name="handle" direction="out"/>
    </method>
    <method name="CreateMonitor">
      <arg type="s" name="window" direction="in"/>
      <arg type="a{sv}" name="options" direction="in"/>
      <arg type="o" name="handle" direction="out"/>
    </method>
    <signal name="StateChanged">
      <arg type="o" name="session_handle"/>
      <arg type="a{sv}" name="state"/>
    </signal>
    <method name="QueryEndResponse">
      <arg type="o" name="session_handle" direction="in"/>
    </method>
    <property name="version" type="u" access="read"/>
  </interface>`

const sessionXML = `  <interface name="org.freedesktop.portal.Session">
    <method name="Close"/>
    <signal name="Closed">
      <arg type="a{sv}" name="details"/>
    </signal>
    <property name="version" type="u" access="read"/>
  </interface>`

// Portal is the Inhibit portal of one sandbox.
type Portal struct {
	d   *desktop.Desktop
	srv *busserver.Server
	log *slog.Logger

	// mu guards the fields below.
	mu       sync.Mutex
	held     int                        // inhibitions held
	monitors map[dbus.ObjectPath]string // session handle: its caller
}

// Install serves the portal on d's bus; log carries the sandbox.
func Install(d *desktop.Desktop, log *slog.Logger) *Portal {
	p := &Portal{d: d, srv: d.Server(), log: log, monitors: map[dbus.ObjectPath]string{}}
	d.AddInterface(Interface, Version, map[string]busserver.Handler{
		"Inhibit":          p.inhibit,
		"CreateMonitor":    p.createMonitor,
		"QueryEndResponse": p.queryEndResponse,
	}, PortalXML)
	p.srv.OnDisconnect(p.dropMonitorsOf)
	return p
}

func invalid(msg string) error {
	return &dbus.Error{Name: desktop.ErrInvalidArgument, Body: []any{msg}}
}

func limits(msg string) error {
	return &dbus.Error{Name: "org.freedesktop.DBus.Error.LimitsExceeded", Body: []any{msg}}
}

// Held is how many inhibitions the sandbox holds.
func (p *Portal) Held() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.held
}

func (p *Portal) inhibit(c *busserver.Call) ([]any, error) {
	if len(c.Body) != 3 {
		return nil, invalid("Inhibit takes (sua{sv})")
	}
	_, ok1 := c.Body[0].(string)
	flags, ok2 := c.Body[1].(uint32)
	opts, ok3 := c.Body[2].(map[string]dbus.Variant)
	if !ok1 || !ok2 || !ok3 {
		return nil, invalid("Inhibit takes (sua{sv})")
	}
	if flags == 0 || flags&^allFlags != 0 {
		return nil, invalid("Inhibit: flags must be a combination of 1, 2, 4 and 8")
	}
	reason := ""
	if v, ok := opts["reason"]; ok {
		s, ok := v.Value().(string)
		if !ok {
			return nil, invalid("Inhibit: reason must be a string")
		}
		reason = clip(s)
	}
	p.mu.Lock()
	if p.held >= MaxInhibitions {
		p.mu.Unlock()
		return nil, limits("too many inhibitions held by this sandbox")
	}
	p.held++
	p.mu.Unlock()
	r, err := p.d.NewRequestFor(c, opts)
	if err != nil {
		p.release()
		return nil, err
	}
	p.log.Info("inhibition held", "flags", flags, "reason", reason, "handle", r.Path)
	go func() {
		if err := r.Announce(desktop.ResponseSuccess, nil); err != nil {
			p.log.Debug("inhibit response not sent", "err", err)
		}
		<-r.Closed()
		p.release()
		p.log.Info("inhibition released", "handle", r.Path)
	}()
	return []any{r.Path}, nil
}

func (p *Portal) release() {
	p.mu.Lock()
	p.held--
	p.mu.Unlock()
}

// sessionPath is a session handle, built like a request handle
// (xdg-desktop-portal's /org/freedesktop/portal/desktop/session/SENDER/TOKEN).
func sessionPath(req dbus.ObjectPath, token string) dbus.ObjectPath {
	s := strings.Replace(string(req), "/request/", "/session/", 1)
	return dbus.ObjectPath(s[:strings.LastIndexByte(s, '/')+1] + token)
}

func (p *Portal) createMonitor(c *busserver.Call) ([]any, error) {
	if len(c.Body) != 2 {
		return nil, invalid("CreateMonitor takes (sa{sv})")
	}
	_, ok1 := c.Body[0].(string)
	opts, ok2 := c.Body[1].(map[string]dbus.Variant)
	if !ok1 || !ok2 {
		return nil, invalid("CreateMonitor takes (sa{sv})")
	}
	token := "monitor"
	if v, ok := opts["session_handle_token"]; ok {
		s, ok := v.Value().(string)
		if !ok || !validToken(s) {
			return nil, invalid("CreateMonitor: session_handle_token must be 1 to 64 characters from [A-Za-z0-9_]")
		}
		token = s
	}
	r, err := p.d.NewRequestFor(c, opts)
	if err != nil {
		return nil, err
	}
	session := sessionPath(r.Path, token)
	p.mu.Lock()
	_, busy := p.monitors[session]
	full := len(p.monitors) >= MaxMonitors
	if !busy && !full {
		p.monitors[session] = c.Sender
	}
	p.mu.Unlock()
	if busy || full {
		r.Close()
		if busy {
			return nil, invalid("session handle " + string(session) + " is already in use")
		}
		return nil, limits("too many monitors in this sandbox")
	}
	p.srv.Export(session, sessionIface, map[string]busserver.Handler{
		"Close": func(cc *busserver.Call) ([]any, error) {
			if cc.Sender != c.Sender {
				return nil, &dbus.Error{Name: "org.freedesktop.DBus.Error.AccessDenied", Body: []any{"only the caller that made this session may close it"}}
			}
			p.closeMonitor(session)
			return nil, nil
		},
	}, map[string]func() dbus.Variant{"version": func() dbus.Variant { return dbus.MakeVariant(uint32(1)) }}, sessionXML)
	sender := c.Sender
	go func() {
		// "session_handle" as a string, as xdg-desktop-portal sends it
		// and as GTK and libportal read it.
		if err := r.Respond(desktop.ResponseSuccess, map[string]dbus.Variant{"session_handle": dbus.MakeVariant(string(session))}); err != nil {
			p.closeMonitor(session)
			return
		}
		// The state now: running, no screensaver. It never changes here:
		// the sandbox is not told when the host locks or logs out.
		p.srv.EmitTo(sender, desktop.ObjectPath, Interface, "StateChanged", session, map[string]dbus.Variant{
			"screensaver-active": dbus.MakeVariant(false),
			"session-state":      dbus.MakeVariant(stateRunning),
		})
	}()
	return []any{r.Path}, nil
}

func (p *Portal) closeMonitor(session dbus.ObjectPath) {
	p.mu.Lock()
	_, ok := p.monitors[session]
	delete(p.monitors, session)
	p.mu.Unlock()
	if ok {
		p.srv.Unexport(session, "")
	}
}

func (p *Portal) dropMonitorsOf(unique string) {
	p.mu.Lock()
	var gone []dbus.ObjectPath
	for s, owner := range p.monitors {
		if owner == unique {
			gone = append(gone, s)
		}
	}
	p.mu.Unlock()
	for _, s := range gone {
		p.closeMonitor(s)
	}
}

// queryEndResponse acknowledges a Query End the portal never sends: the
// answer is empty, and a caller's own session only.
func (p *Portal) queryEndResponse(c *busserver.Call) ([]any, error) {
	if len(c.Body) != 1 {
		return nil, invalid("QueryEndResponse takes (o)")
	}
	s, ok := c.Body[0].(dbus.ObjectPath)
	if !ok {
		return nil, invalid("QueryEndResponse takes (o)")
	}
	p.mu.Lock()
	owner, known := p.monitors[s]
	p.mu.Unlock()
	if !known || owner != c.Sender {
		return nil, &dbus.Error{Name: desktop.ErrNotFound, Body: []any{"no such monitor session"}}
	}
	return nil, nil
}

// clip bounds a reason for the log: valid UTF-8, at most maxReason bytes.
func clip(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	for len(s) > maxReason {
		_, n := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-n]
	}
	return s
}

func validToken(t string) bool {
	if t == "" || len(t) > 64 {
		return false
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}
