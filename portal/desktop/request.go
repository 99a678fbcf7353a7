package desktop

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/godbus/dbus/v5"

	"airlock/portal/busserver"
)

// Response codes of org.freedesktop.portal.Request.Response.
const (
	ResponseSuccess   uint32 = 0
	ResponseCancelled uint32 = 1
	ResponseOther     uint32 = 2
)

const requestIface = "org.freedesktop.portal.Request"

const requestXML = `  <interface name="org.freedesktop.portal.Request">
    <method name="Close"/>
    <signal name="Response">
      <arg type="u" name="response"/>
      <arg type="a{sv}" name="results"/>
    </signal>
  </interface>`

// maxTokenLen bounds handle_token; it becomes an object path element.
const maxTokenLen = 64

// Request is one outstanding portal request, exported at its handle.
type Request struct {
	d      *Desktop
	Path   dbus.ObjectPath
	Sender string
	ready  chan struct{} // closed once the handle has been returned
	closed chan struct{}
	once   sync.Once
}

// validToken reports whether t may be used as a handle_token: it becomes
// an object path element, so only [A-Za-z0-9_] are allowed.
func validToken(t string) bool {
	if t == "" || len(t) > maxTokenLen {
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

// RequestPath returns the handle for sender's token.
func RequestPath(sender, token string) dbus.ObjectPath {
	s := strings.ReplaceAll(strings.TrimPrefix(sender, ":"), ".", "_")
	return ObjectPath + "/request/" + dbus.ObjectPath(s) + "/" + dbus.ObjectPath(token)
}

// NewRequest exports a Request for sender at the handle built from token.
// Respond may be called at once; from inside a method handler prefer
// NewRequestFor, which holds the Response back until the handle has been
// returned to the caller.
func (d *Desktop) NewRequest(sender, token string) (*Request, error) {
	r, err := d.newRequest(sender, token)
	if err != nil {
		return nil, err
	}
	close(r.ready)
	return r, nil
}

// NewRequestFor creates the Request for a portal method call, taking the
// token from the call's handle_token option (a random one if absent, as
// xdg-desktop-portal does). Its Response is held back until the reply
// carrying the handle has been queued: clients subscribe to Response after
// reading the handle, and a Response that overtook the reply would be lost.
func (d *Desktop) NewRequestFor(c *busserver.Call, options map[string]dbus.Variant) (*Request, error) {
	token := ""
	if v, ok := options["handle_token"]; ok {
		s, ok := v.Value().(string)
		if !ok {
			return nil, portalErr(ErrInvalidArgument, "handle_token must be a string")
		}
		token = s
	} else {
		var b [4]byte
		rand.Read(b[:])
		token = strconv.FormatUint(uint64(binary.LittleEndian.Uint32(b[:])&0x7fffffff), 10)
	}
	r, err := d.newRequest(c.Sender, token)
	if err != nil {
		return nil, err
	}
	c.AfterReply(func() { close(r.ready) })
	return r, nil
}

func (d *Desktop) newRequest(sender, token string) (*Request, error) {
	if !validToken(token) {
		return nil, portalErr(ErrInvalidArgument, "invalid handle_token %q: use 1 to %d characters from [A-Za-z0-9_]", token, maxTokenLen)
	}
	if !strings.HasPrefix(sender, ":") {
		return nil, portalErr(ErrInvalidArgument, "invalid sender %q", sender)
	}
	path := RequestPath(sender, token)
	if !path.IsValid() {
		return nil, portalErr(ErrInvalidArgument, "invalid request handle %q", path)
	}
	r := &Request{d: d, Path: path, Sender: sender, ready: make(chan struct{}), closed: make(chan struct{})}
	d.mu.Lock()
	if _, busy := d.requests[path]; busy {
		d.mu.Unlock()
		return nil, portalErr(ErrInvalidArgument, "request handle %s is already in use", path)
	}
	d.requests[path] = r
	d.mu.Unlock()
	d.s.Export(path, requestIface, map[string]busserver.Handler{
		"Close": func(c *busserver.Call) ([]any, error) {
			// The handle is guessable (sender name and token): only the
			// caller that made the request may cancel it.
			if c.Sender != r.Sender {
				return nil, &dbus.Error{Name: "org.freedesktop.DBus.Error.AccessDenied", Body: []any{"only the caller that made this request may close it"}}
			}
			r.finish()
			return nil, nil
		},
	}, nil, requestXML)
	return r, nil
}

// Respond sends the Response signal to the caller (unicast) once, then
// removes the request.
func (r *Request) Respond(code uint32, results map[string]dbus.Variant) error {
	select {
	case <-r.ready:
	case <-r.closed:
		return fmt.Errorf("cannot respond to %s: request closed", r.Path)
	}
	if results == nil {
		results = map[string]dbus.Variant{}
	}
	sent := false
	var err error
	r.once.Do(func() {
		sent = true
		err = r.d.s.EmitTo(r.Sender, r.Path, requestIface, "Response", code, results)
		r.teardown()
	})
	if !sent {
		return fmt.Errorf("cannot respond to %s: request already finished", r.Path)
	}
	if err != nil {
		return fmt.Errorf("cannot respond to %s: %w", r.Path, err)
	}
	return nil
}

// Close ends the request without a Response (the caller closed it, or it
// went away).
func (r *Request) Close() { r.finish() }

func (r *Request) finish() {
	r.once.Do(r.teardown)
}

func (r *Request) teardown() {
	r.d.s.Unexport(r.Path, "")
	r.d.mu.Lock()
	if r.d.requests[r.Path] == r {
		delete(r.d.requests, r.Path)
	}
	r.d.mu.Unlock()
	close(r.closed)
}

// Closed is closed once the request is over: responded, closed by the
// caller, or the caller disconnected.
func (r *Request) Closed() <-chan struct{} { return r.closed }

// dropRequestsOf closes the requests of a caller that left the bus.
func (d *Desktop) dropRequestsOf(unique string) {
	d.mu.Lock()
	var gone []*Request
	for _, r := range d.requests {
		if r.Sender == unique {
			gone = append(gone, r)
		}
	}
	d.mu.Unlock()
	for _, r := range gone {
		r.finish()
	}
}

// Announce sends the Response signal but keeps the request: a request
// whose handle stands for something held until the caller closes it
// (Inhibit: the inhibition lasts until Request.Close, as in
// xdg-desktop-portal).
func (r *Request) Announce(code uint32, results map[string]dbus.Variant) error {
	select {
	case <-r.ready:
	case <-r.closed:
		return fmt.Errorf("cannot respond to %s: request closed", r.Path)
	}
	if results == nil {
		results = map[string]dbus.Variant{}
	}
	if err := r.d.s.EmitTo(r.Sender, r.Path, requestIface, "Response", code, results); err != nil {
		return fmt.Errorf("cannot respond to %s: %w", r.Path, err)
	}
	return nil
}

// Server is the bus the portal is served on, for portals that export
// objects of their own (sessions).
func (d *Desktop) Server() *busserver.Server { return d.s }
