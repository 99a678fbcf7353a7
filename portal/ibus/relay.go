// Package ibus relays a sandbox's input method, through the host's
// ibus-portal (org.freedesktop.portal.IBus), and nothing else of IBus.
//
// ibus-portal is IBus's own answer to sandboxes (Flatpak talks to it by
// default): an application creates input contexts through
// org.freedesktop.IBus.Portal.CreateInputContext and may then use only
// those, while the daemon's full bus (org.freedesktop.IBus: the engines,
// the panel, the configuration, every other application's contexts and so
// its keys) stays out of reach. Airlock narrows it further:
//
//   - each sandbox has its own connection to the host bus, opened at its
//     first input context and closed when it ends: ibus-portal ties a
//     context to the connection that created it (the sender's unique
//     name), so one sandbox cannot use another's contexts even through
//     the portal, and the sandbox's contexts end with it;
//   - a context is usable only by the client of the sandbox bus that
//     created it, and only with the methods and argument signatures of
//     the portal's interface (org.freedesktop.IBus.Portal.xml) that
//     applications call: not SetEngine nor PropertyActivate, which with
//     IBus's global engine (its default) change the input method of every
//     application of the session; Destroy, which ibus-portal lets anyone
//     call on any context, only on the caller's own;
//   - a context's signals (the committed text, the preedit) reach only the
//     client that owns the context, from ibus-portal only;
//   - a sandbox holds at most MaxContexts contexts.
package ibus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/godbus/dbus/v5"

	"airlock/portal/busserver"
)

// Name is ibus-portal's name on the session bus.
const Name = "org.freedesktop.portal.IBus"

const (
	portalPath   = dbus.ObjectPath("/org/freedesktop/IBus")
	portalIface  = "org.freedesktop.IBus.Portal"
	contextIface = "org.freedesktop.IBus.InputContext"
	serviceIface = "org.freedesktop.IBus.Service"
	propsIface   = "org.freedesktop.DBus.Properties"
)

// MaxContexts bounds one sandbox's input contexts. GTK creates one for
// each text widget (ibusimcontext.c creates it when the widget's IM context
// is made), so a window of many fields holds dozens; each costs ibus-daemon
// an object and an engine proxy.
const MaxContexts = 128

// maxClientName bounds CreateInputContext's client name, which ibus-daemon
// hands to the engine at every focus.
const maxClientName = 128

// contextPath is the form ibus-portal gives its contexts' paths
// (IBUS_PATH_INPUT_CONTEXT).
var contextPath = regexp.MustCompile(`^/org/freedesktop/IBus/InputContext_[0-9]{1,10}$`)

// contextMethods are the input context's methods a sandbox may call, with
// their argument signatures (org.freedesktop.IBus.Portal.xml).
var contextMethods = map[string]string{
	"ProcessKeyEvent":           "uuu",
	"SetCursorLocation":         "iiii",
	"SetCursorLocationRelative": "iiii",
	"ProcessHandWritingEvent":   "ad",
	"CancelHandWriting":         "u",
	"FocusIn":                   "",
	"FocusOut":                  "",
	"Reset":                     "",
	"SetCapabilities":           "u",
	"GetEngine":                 "",
	"SetSurroundingText":        "vuu",
}

// writableProps are the context's properties a sandbox may set, with their
// value's signature; PostProcessKeyEvent is the one it may read.
var writableProps = map[string]string{
	"ContentType":                  "(uu)",
	"ClientCommitPreedit":          "(b)",
	"EffectivePostProcessKeyEvent": "(b)",
}

// contextSignals are the signals a context sends, with their signatures.
var contextSignals = map[string]string{
	"CommitText":                "v",
	"ForwardKeyEvent":           "uuu",
	"UpdatePreeditText":         "vub",
	"UpdatePreeditTextWithMode": "vubu",
	"ShowPreeditText":           "",
	"HidePreeditText":           "",
	"UpdateAuxiliaryText":       "vb",
	"ShowAuxiliaryText":         "",
	"HideAuxiliaryText":         "",
	"UpdateLookupTable":         "vb",
	"ShowLookupTable":           "",
	"HideLookupTable":           "",
	"PageUpLookupTable":         "",
	"PageDownLookupTable":       "",
	"CursorUpLookupTable":       "",
	"CursorDownLookupTable":     "",
	"RegisterProperties":        "v",
	"UpdateProperty":            "v",
	"RequireSurroundingText":    "",
	"DeleteSurroundingText":     "iu",
}

// Error names of the relay's refusals.
const (
	ErrAccessDenied   = "org.freedesktop.DBus.Error.AccessDenied"
	ErrInvalidArgs    = "org.freedesktop.DBus.Error.InvalidArgs"
	ErrLimitsExceeded = "org.freedesktop.DBus.Error.LimitsExceeded"
)

// Emitter sends a unicast signal to one client of the sandbox bus.
type Emitter func(dest string, path dbus.ObjectPath, iface, member string, body ...any) error

// Relay is one sandbox's input method relay.
type Relay struct {
	dial func() (*dbus.Conn, error)
	log  *slog.Logger

	// mu guards the fields below.
	mu   sync.Mutex
	emit Emitter
	conn *dbus.Conn // nil until the first call, and after it closed
	// contexts are this sandbox's, by path: which client made each, and
	// which host connection (ibus-portal's) speaks for it.
	contexts map[dbus.ObjectPath]inputContext
	// creating counts each client's CreateInputContext calls in flight;
	// gone marks those of them whose client left meanwhile, so that the
	// context they return is destroyed rather than kept for nobody.
	creating map[string]int
	gone     map[string]bool
	closed   bool
}

type inputContext struct {
	client string // unique name on the sandbox bus
	portal string // ibus-portal's unique name on the host bus
}

// New returns a relay that opens its host connection with dial (for
// example dbus.SessionBusPrivate followed by Auth and Hello).
func New(dial func() (*dbus.Conn, error), log *slog.Logger) *Relay {
	return &Relay{dial: dial, log: log, contexts: map[dbus.ObjectPath]inputContext{},
		creating: map[string]int{}, gone: map[string]bool{}}
}

// SetEmitter sets how signals reach the sandbox's clients.
func (r *Relay) SetEmitter(e Emitter) {
	r.mu.Lock()
	r.emit = e
	r.mu.Unlock()
}

// DialSession opens a private connection to the session bus.
func DialSession() (*dbus.Conn, error) {
	c, err := dbus.SessionBusPrivate()
	if err != nil {
		return nil, err
	}
	if err := c.Auth(nil); err != nil {
		c.Close()
		return nil, err
	}
	if err := c.Hello(); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// Call relays one method call of the sandbox's client (its sender header,
// set by the sandbox bus) and returns the reply or error message.
func (r *Relay) Call(ctx context.Context, msg *dbus.Message) (*dbus.Message, error) {
	sender, _ := msg.Headers[dbus.FieldSender].Value().(string)
	path, _ := msg.Headers[dbus.FieldPath].Value().(dbus.ObjectPath)
	iface, _ := msg.Headers[dbus.FieldInterface].Value().(string)
	member, _ := msg.Headers[dbus.FieldMember].Value().(string)
	var sig string
	if v, ok := msg.Headers[dbus.FieldSignature].Value().(dbus.Signature); ok {
		sig = v.String()
	}
	if sender == "" {
		return nil, errors.New("call without a sender")
	}
	if path == portalPath {
		switch {
		case iface == portalIface && member == "CreateInputContext" && sig == "s":
			return r.create(ctx, sender, msg.Body)
		case iface == "org.freedesktop.DBus.Peer" && member == "Ping" && sig == "":
			// The IBus client pings the portal before it uses it.
			return r.forward(ctx, Name, path, iface+"."+member, nil)
		}
		return r.refuse(sender, path, iface, member, "only CreateInputContext is relayed to ibus-portal")
	}
	r.mu.Lock()
	ic, ok := r.contexts[path]
	r.mu.Unlock()
	if !ok || ic.client != sender {
		return r.refuse(sender, path, iface, member, "not an input context of this application")
	}
	switch iface {
	case contextIface:
		want, ok := contextMethods[member]
		if !ok {
			return r.refuse(sender, path, iface, member, "this input context method is not relayed")
		}
		if sig != want {
			return r.invalid(sender, path, member, fmt.Sprintf("%s takes (%s), not (%s)", member, want, sig))
		}
		if member == "SetSurroundingText" {
			if err := checkText(msg.Body[0]); err != nil {
				return r.invalid(sender, path, member, err.Error())
			}
		}
	case serviceIface:
		if member != "Destroy" || sig != "" {
			return r.refuse(sender, path, iface, member, "only Destroy is relayed")
		}
		out, err := r.forward(ctx, ic.portal, path, iface+"."+member, nil)
		r.mu.Lock()
		delete(r.contexts, path)
		r.mu.Unlock()
		return out, err
	case propsIface:
		if msg := checkProperty(member, sig, msg.Body); msg != "" {
			return r.refuse(sender, path, iface, member, msg)
		}
	default:
		return r.refuse(sender, path, iface, member, "this interface is not relayed")
	}
	body, err := RetypeBody(sig, msg.Body)
	if err != nil {
		return r.invalid(sender, path, member, err.Error())
	}
	// Not logged, even at debug level: the times of ProcessKeyEvent are
	// the user's keystroke timing, which identifies a typist.
	return r.forward(ctx, ic.portal, path, iface+"."+member, body)
}

// checkText accepts only an IBusText as ibus's clients serialize it:
// (sa{sv}sv) named IBusText, no attachments, its attributes an
// IBusAttrList of IBusAttribute, in a variant (libibus: GTK) or inline,
// (sa{sv}s(sa{sv}av)) (Qt 5's plugin; ibus_serializable_deserialize takes
// both). ibus-daemon deserializes the variant by the type name it carries
// (ibus_serializable_deserialize_object), any IBusSerializable type, and
// then uses it as an IBusText: another type there is a confusion in the
// daemon every application shares.
func checkText(arg any) error {
	var bad error = errors.New("the surrounding text is not an IBusText")
	// fields checks one serialized object: in a variant of signature sig,
	// or inline (already typed by the enclosing signature).
	fields := func(v any, sigs []string, name string, n int) ([]any, bool) {
		if vr, ok := v.(dbus.Variant); ok {
			if !slices.Contains(sigs, vr.Signature().String()) {
				bad = fmt.Errorf("the surrounding text is not an IBusText: %s where %s is expected", vr.Signature(), sigs[0])
				return nil, false
			}
			v = vr.Value()
		}
		f, ok := v.([]any)
		if !ok || len(f) != n {
			return nil, false
		}
		if s, _ := f[0].(string); s != name {
			bad = fmt.Errorf("the surrounding text is not an IBusText: %q where %s is expected", s, name)
			return nil, false
		}
		if att, ok := f[1].(map[string]dbus.Variant); !ok || len(att) != 0 {
			bad = fmt.Errorf("the surrounding text is not an IBusText: %s has attachments", name)
			return nil, false
		}
		return f, true
	}
	text, ok := fields(arg, []string{"(sa{sv}sv)", "(sa{sv}s(sa{sv}av))"}, "IBusText", 4)
	if _, isVariant := arg.(dbus.Variant); !ok || !isVariant {
		return bad
	}
	list, ok := fields(text[3], []string{"(sa{sv}av)"}, "IBusAttrList", 3)
	if !ok {
		return bad
	}
	attrs, ok := list[2].([]dbus.Variant)
	if !ok {
		return bad
	}
	for _, a := range attrs {
		if _, ok := fields(a, []string{"(sa{sv}uuuu)"}, "IBusAttribute", 6); !ok {
			return bad
		}
	}
	return nil
}

// checkProperty says why a Properties call on a context is refused, or "".
func checkProperty(member, sig string, body []any) string {
	ifaceArg, _ := firstString(body)
	if ifaceArg != contextIface {
		return "only the input context's properties are relayed"
	}
	switch {
	case member == "Get" && sig == "ss":
		if name, _ := body[1].(string); name == "PostProcessKeyEvent" {
			return ""
		}
	case member == "GetAll" && sig == "s":
		return ""
	case member == "Set" && sig == "ssv":
		name, _ := body[1].(string)
		v, _ := body[2].(dbus.Variant)
		if want, ok := writableProps[name]; ok && v.Signature().String() == want {
			return ""
		}
	}
	return "this property access is not relayed"
}

func firstString(body []any) (string, bool) {
	if len(body) == 0 {
		return "", false
	}
	s, ok := body[0].(string)
	return s, ok
}

func (r *Relay) refuse(sender string, path dbus.ObjectPath, iface, member, why string) (*dbus.Message, error) {
	r.log.Info("refused input method call", "conn", sender, "path", path, "interface", iface, "member", member, "reason", why)
	return errorReply(ErrAccessDenied, why), nil
}

func (r *Relay) invalid(sender string, path dbus.ObjectPath, member, why string) (*dbus.Message, error) {
	r.log.Info("refused input method call: invalid arguments", "conn", sender, "path", path, "member", member, "reason", why)
	return errorReply(ErrInvalidArgs, why), nil
}

// create relays CreateInputContext and records the context as sender's.
func (r *Relay) create(ctx context.Context, sender string, body []any) (*dbus.Message, error) {
	name, _ := firstString(body)
	if len(name) > maxClientName || strings.IndexFunc(name, func(c rune) bool { return c < 0x20 || c > 0x7e }) >= 0 {
		return errorReply(ErrInvalidArgs, "the client name must be printable ASCII of at most 128 bytes"), nil
	}
	r.mu.Lock()
	n := len(r.contexts)
	for _, k := range r.creating {
		n += k
	}
	if n >= MaxContexts {
		r.mu.Unlock()
		r.log.Warn("refused an input context: too many", "conn", sender, "limit", MaxContexts)
		return errorReply(ErrLimitsExceeded, fmt.Sprintf("at most %d input contexts per sandbox", MaxContexts)), nil
	}
	r.creating[sender]++
	r.mu.Unlock()

	conn, out, err := r.call(ctx, Name, portalPath, portalIface+".CreateInputContext", name)
	path, _ := firstPath(out)
	var portal string
	if err == nil && out.Type == dbus.TypeMethodReply && contextPath.MatchString(string(path)) {
		if e := conn.BusObject().CallWithContext(ctx, "org.freedesktop.DBus.GetNameOwner", 0, Name).Store(&portal); e != nil {
			portal = ""
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.creating[sender]--
	gone := r.gone[sender]
	if r.creating[sender] == 0 {
		delete(r.creating, sender)
		delete(r.gone, sender)
	}
	if err != nil || out.Type != dbus.TypeMethodReply {
		return out, err
	}
	if portal == "" || gone || r.conn != conn {
		// No owner to hold signals to, the client left, or the host
		// connection it was made on is gone: it is not kept.
		go destroy(conn, Name, path)
		return errorReply("org.freedesktop.DBus.Error.Failed", "the input context could not be created"), nil
	}
	r.contexts[path] = inputContext{client: sender, portal: portal}
	r.log.Debug("input context created", "conn", sender, "path", path, "contexts", len(r.contexts))
	return out, nil
}

func firstPath(m *dbus.Message) (dbus.ObjectPath, bool) {
	if m == nil || len(m.Body) != 1 {
		return "", false
	}
	p, ok := m.Body[0].(dbus.ObjectPath)
	return p, ok
}

func destroy(conn *dbus.Conn, portal string, path dbus.ObjectPath) {
	conn.Object(portal, path).Call(serviceIface+".Destroy", dbus.FlagNoReplyExpected)
}

// forward performs a call on the host and converts its outcome to a reply.
func (r *Relay) forward(ctx context.Context, dest string, path dbus.ObjectPath, method string, body []any) (*dbus.Message, error) {
	_, out, err := r.call(ctx, dest, path, method, body...)
	return out, err
}

// call calls method on dest (ibus-portal's name, or for a context the
// unique name of the ibus-portal that made it: a context lives in that
// process, and another one, started since, would not know it).
func (r *Relay) call(ctx context.Context, dest string, path dbus.ObjectPath, method string, body ...any) (*dbus.Conn, *dbus.Message, error) {
	conn, err := r.hostConn()
	if err != nil {
		return nil, nil, err
	}
	out, err := busserver.ReplyOf(conn.Object(dest, path).CallWithContext(ctx, method, 0, body...))
	return conn, out, err
}

// hostConn returns the sandbox's connection to the host bus, opening it.
func (r *Relay) hostConn() (*dbus.Conn, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, errors.New("the sandbox ended")
	}
	if r.conn != nil {
		return r.conn, nil
	}
	c, err := r.dial()
	if err != nil {
		return nil, fmt.Errorf("cannot connect to the session bus: %w", err)
	}
	ch := make(chan *dbus.Signal, 64)
	c.Signal(ch)
	r.conn = c
	go r.signals(c, ch)
	return c, nil
}

// signals delivers each context's signals to the client that owns it.
func (r *Relay) signals(c *dbus.Conn, ch chan *dbus.Signal) {
	done := c.Context().Done()
	for {
		select {
		case s, ok := <-ch:
			if !ok {
				// godbus closes the channel with the connection,
				// whose context ends too: wait for that.
				ch = nil
				continue
			}
			if s == nil {
				continue
			}
			r.deliver(s)
		case <-done:
			r.mu.Lock()
			if r.conn == c {
				// Its contexts died with it (ibus-portal drops a
				// vanished owner's contexts).
				r.conn = nil
				clear(r.contexts)
			}
			r.mu.Unlock()
			return
		}
	}
}

func (r *Relay) deliver(s *dbus.Signal) {
	i := strings.LastIndexByte(s.Name, '.')
	if i < 0 {
		return
	}
	iface, member := s.Name[:i], s.Name[i+1:]
	r.mu.Lock()
	ic, ok := r.contexts[s.Path]
	emit := r.emit
	r.mu.Unlock()
	// Only ibus-portal speaks for a context: another host client could
	// send this connection a signal too.
	if !ok || s.Sender != ic.portal || iface != contextIface || emit == nil {
		return
	}
	sig, ok := contextSignals[member]
	if !ok {
		return
	}
	body, err := RetypeBody(sig, s.Body)
	if err != nil {
		r.log.Info("dropped an input context signal", "path", s.Path, "member", member, "err", err)
		return
	}
	if err := emit(ic.client, s.Path, iface, member, body...); err != nil {
		r.log.Debug("cannot deliver an input context signal", "path", s.Path, "member", member, "err", err)
	}
}

// ClientGone destroys the contexts of a client that left the sandbox bus:
// ibus-portal sees only the sandbox's one connection, which stays.
func (r *Relay) ClientGone(unique string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.creating[unique] > 0 {
		r.gone[unique] = true
	}
	for p, ic := range r.contexts {
		if ic.client == unique {
			delete(r.contexts, p)
			if r.conn != nil {
				go destroy(r.conn, ic.portal, p)
			}
		}
	}
}

// Close ends the relay with its sandbox: closing the host connection makes
// ibus-portal drop every context it made.
func (r *Relay) Close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	if r.conn != nil {
		r.conn.Close()
		r.conn = nil
	}
	clear(r.contexts)
}

// Contexts is how many input contexts the sandbox holds.
func (r *Relay) Contexts() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.contexts)
}

func errorReply(name, text string) *dbus.Message {
	return &dbus.Message{Type: dbus.TypeError, Headers: map[dbus.HeaderField]dbus.Variant{
		dbus.FieldErrorName: dbus.MakeVariant(name),
		dbus.FieldSignature: dbus.MakeVariant(dbus.SignatureOf(text))}, Body: []any{text}}
}
