package busserver

import (
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/godbus/dbus/v5"
)

// Handler implements one method. Return a *dbus.Error (or dbus.Error) for a
// D-Bus error; any other error becomes org.freedesktop.DBus.Error.Failed.
// Handlers run on the caller's connection goroutine: they may run
// concurrently with handlers for other connections, and must not block for
// long (a slow handler delays only its own caller's later messages).
type Handler func(c *Call) ([]any, error)

// Call is one method call to an exported object.
type Call struct {
	Sender    string // unique name of the caller
	Path      dbus.ObjectPath
	Interface string
	Member    string
	Body      []any
	Msg       *dbus.Message

	fds []int
	// mu guards the fields below.
	mu         sync.Mutex
	taken      map[int]bool
	afterReply []func()
}

// TakeFD transfers ownership of a descriptor received with the call (a
// dbus.UnixFD value from Body) to the caller as an *os.File. Descriptors
// not taken are closed when the handler returns.
func (c *Call) TakeFD(fd dbus.UnixFD, name string) (*os.File, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !slices.Contains(c.fds, int(fd)) {
		return nil, fmt.Errorf("descriptor %d was not received with this call", fd)
	}
	if c.taken[int(fd)] {
		return nil, fmt.Errorf("descriptor %d already taken", fd)
	}
	if c.taken == nil {
		c.taken = map[int]bool{}
	}
	c.taken[int(fd)] = true
	return os.NewFile(uintptr(fd), name), nil
}

// AfterReply runs f once the handler's reply has been queued to the
// caller. Portals use it so a Request.Response signal can never overtake
// the reply carrying the request handle.
func (c *Call) AfterReply(f func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.afterReply = append(c.afterReply, f)
}

func (c *Call) finish() {
	c.mu.Lock()
	fds, taken, after := c.fds, c.taken, c.afterReply
	c.afterReply = nil
	c.fds = nil
	c.mu.Unlock()
	for _, fd := range fds {
		if !taken[fd] {
			closeAll([]int{fd})
		}
	}
	for _, f := range after {
		f()
	}
}

type ifaceEntry struct {
	methods map[string]Handler
	props   map[string]func() dbus.Variant
	xml     string
}

type object struct {
	ifaces map[string]*ifaceEntry
}

// Export adds (or replaces) interface iface on path. introspectXML is the
// <interface> element for it; the standard interfaces are added by the
// server.
func (s *Server) Export(path dbus.ObjectPath, iface string, methods map[string]Handler, props map[string]func() dbus.Variant, introspectXML string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.objects[path]
	if o == nil {
		o = &object{ifaces: map[string]*ifaceEntry{}}
		s.objects[path] = o
	}
	o.ifaces[iface] = &ifaceEntry{methods: methods, props: props, xml: introspectXML}
}

// Unexport removes iface from path ("" removes the whole object).
func (s *Server) Unexport(path dbus.ObjectPath, iface string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.objects[path]
	if o == nil {
		return
	}
	if iface == "" {
		delete(s.objects, path)
		return
	}
	delete(o.ifaces, iface)
	if len(o.ifaces) == 0 {
		delete(s.objects, path)
	}
}

// objectView is a consistent snapshot of what is exported at a path.
type objectView struct {
	ifaces   map[string]*ifaceEntry
	children []string
}

func (s *Server) view(path dbus.ObjectPath) (objectView, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var v objectView
	o := s.objects[path]
	if o != nil {
		v.ifaces = make(map[string]*ifaceEntry, len(o.ifaces))
		for k, e := range o.ifaces {
			v.ifaces[k] = e
		}
	}
	prefix := string(path) + "/"
	if path == "/" {
		prefix = "/"
	}
	seen := map[string]bool{}
	for p := range s.objects {
		ps := string(p)
		if p == path || !strings.HasPrefix(ps, prefix) {
			continue
		}
		child, _, _ := strings.Cut(ps[len(prefix):], "/")
		if !seen[child] {
			seen[child] = true
			v.children = append(v.children, child)
		}
	}
	sort.Strings(v.children)
	return v, o != nil || len(v.children) > 0
}

const standardIfacesXML = `  <interface name="org.freedesktop.DBus.Peer">
    <method name="Ping"/>
    <method name="GetMachineId"><arg type="s" name="machine_uuid" direction="out"/></method>
  </interface>
  <interface name="org.freedesktop.DBus.Introspectable">
    <method name="Introspect"><arg type="s" name="xml_data" direction="out"/></method>
  </interface>
  <interface name="org.freedesktop.DBus.Properties">
    <method name="Get"><arg type="s" name="interface_name" direction="in"/><arg type="s" name="property_name" direction="in"/><arg type="v" name="value" direction="out"/></method>
    <method name="GetAll"><arg type="s" name="interface_name" direction="in"/><arg type="a{sv}" name="properties" direction="out"/></method>
    <method name="Set"><arg type="s" name="interface_name" direction="in"/><arg type="s" name="property_name" direction="in"/><arg type="v" name="value" direction="in"/></method>
    <signal name="PropertiesChanged"><arg type="s" name="interface_name"/><arg type="a{sv}" name="changed_properties"/><arg type="as" name="invalidated_properties"/></signal>
  </interface>
`

func introspectDoc(v objectView) string {
	var b strings.Builder
	b.WriteString(`<!DOCTYPE node PUBLIC "-//freedesktop//DTD D-BUS Object Introspection 1.0//EN"` + "\n" +
		`"http://www.freedesktop.org/standards/dbus/1.0/introspect.dtd">` + "\n<node>\n")
	b.WriteString(standardIfacesXML)
	names := make([]string, 0, len(v.ifaces))
	for k := range v.ifaces {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		b.WriteString(v.ifaces[k].xml)
		b.WriteString("\n")
	}
	for _, c := range v.children {
		fmt.Fprintf(&b, "  <node name=\"%s\"/>\n", c)
	}
	b.WriteString("</node>\n")
	return b.String()
}

// dbusErr builds a *dbus.Error.
func dbusErr(name, text string) *dbus.Error {
	return &dbus.Error{Name: name, Body: []any{text}}
}

// handleLocal answers a call addressed to the bus driver (bus) or to the
// broker's exported objects.
func (c *conn) handleLocal(f *frame, bus bool) {
	m := f.msg
	call := &Call{
		Sender:    c.uniqueName(),
		Path:      dbus.ObjectPath(hdrString(m, dbus.FieldPath)),
		Interface: hdrString(m, dbus.FieldInterface),
		Member:    hdrString(m, dbus.FieldMember),
		Body:      m.Body,
		Msg:       m,
		fds:       f.fds,
	}
	sender := BrokerName
	if bus {
		sender = busName
	}
	body, err := c.invoke(call, bus)
	if errors.Is(err, errReplied) {
		call.finish()
		return
	}
	if err != nil {
		var de *dbus.Error
		if !errors.As(err, &de) {
			var dv dbus.Error
			if errors.As(err, &dv) {
				de = &dv
			} else {
				de = dbusErr(errFailed, err.Error())
			}
		}
		if de.Name == errAccessDenied {
			c.log.Warn("refused call", "conn", call.Sender, "path", call.Path, "interface", call.Interface, "member", call.Member, "reason", fmt.Sprint(de.Body...))
		} else {
			// What applications probe and do not find: the list of
			// what to serve next (--verbose).
			c.log.Debug("call answered with an error", "conn", call.Sender, "path", call.Path, "interface", call.Interface, "member", call.Member, "error", de.Name)
		}
		if wantsReply(m) {
			msg := &dbus.Message{
				Type: dbus.TypeError,
				Headers: map[dbus.HeaderField]dbus.Variant{
					dbus.FieldReplySerial: dbus.MakeVariant(m.Serial()),
					dbus.FieldErrorName:   dbus.MakeVariant(de.Name),
					dbus.FieldSender:      dbus.MakeVariant(sender),
				},
				Body: de.Body,
			}
			if !validInterface(de.Name) {
				msg.Headers[dbus.FieldErrorName] = dbus.MakeVariant(errFailed)
			}
			if len(de.Body) > 0 {
				msg.Headers[dbus.FieldSignature] = dbus.MakeVariant(dbus.SignatureOf(de.Body...))
			}
			if !c.sendMsg(msg, true) {
				c.sendError(m.Serial(), sender, errFailed, fmt.Sprint(de.Body...))
			}
		}
	} else {
		c.replyReturn(m, sender, body)
	}
	call.finish()
}

// invoke runs the call with a panic barrier: a bug in one handler fails
// that call, not the connection or the broker.
func (c *conn) invoke(call *Call, bus bool) (body []any, err error) {
	defer func() {
		if r := recover(); r != nil {
			c.log.Error("panic in bus handler", "conn", call.Sender, "interface", call.Interface, "member", call.Member, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			body, err = nil, dbusErr(errFailed, "internal error")
		}
	}()
	if bus {
		return c.busDriver(call)
	}
	return c.objectCall(call)
}

// objectCall dispatches to an exported object.
func (c *conn) objectCall(call *Call) ([]any, error) {
	s := c.s
	switch call.Interface {
	case "org.freedesktop.DBus.Peer":
		return c.peerCall(call)
	}
	v, ok := s.view(call.Path)
	if !ok {
		if call.Interface == "" && (call.Member == "Ping" || call.Member == "GetMachineId") {
			return c.peerCall(call)
		}
		return nil, dbusErr(errUnknownObject, fmt.Sprintf("No such object path %q", call.Path))
	}
	switch call.Interface {
	case "org.freedesktop.DBus.Introspectable":
		if call.Member != "Introspect" {
			return nil, dbusErr(errUnknownMethod, fmt.Sprintf("No such method %q", call.Member))
		}
		return []any{introspectDoc(v)}, nil
	case "org.freedesktop.DBus.Properties":
		return propertiesCall(call, v)
	case "":
		// No interface: the spec lets the bus pick any method of that
		// name; refuse ambiguity rather than guess.
		var found []Handler
		for _, e := range v.ifaces {
			if h, ok := e.methods[call.Member]; ok {
				found = append(found, h)
			}
		}
		switch {
		case len(found) == 1:
			return found[0](call)
		case call.Member == "Introspect":
			return []any{introspectDoc(v)}, nil
		case call.Member == "Ping" || call.Member == "GetMachineId":
			return c.peerCall(call)
		case len(found) > 1:
			return nil, dbusErr(errUnknownMethod, fmt.Sprintf("Method %q is ambiguous without an interface", call.Member))
		}
		return nil, dbusErr(errUnknownMethod, fmt.Sprintf("No such method %q", call.Member))
	}
	e, ok := v.ifaces[call.Interface]
	if !ok {
		// Answered at once: a client probing for a portal that is not
		// installed (GTK looks for FileChooser) must get a clean error,
		// never a hang.
		return nil, dbusErr(errUnknownIface, fmt.Sprintf("No such interface %q on object at path %s", call.Interface, call.Path))
	}
	h, ok := e.methods[call.Member]
	if !ok {
		return nil, dbusErr(errUnknownMethod, fmt.Sprintf("No such method %q in interface %q", call.Member, call.Interface))
	}
	return h(call)
}

func (c *conn) peerCall(call *Call) ([]any, error) {
	switch call.Member {
	case "Ping":
		return nil, nil
	case "GetMachineId":
		return []any{c.s.cfg.MachineID}, nil
	}
	return nil, dbusErr(errUnknownMethod, fmt.Sprintf("No such method %q", call.Member))
}

func propertiesCall(call *Call, v objectView) ([]any, error) {
	str := func(i int) (string, bool) {
		if i >= len(call.Body) {
			return "", false
		}
		s, ok := call.Body[i].(string)
		return s, ok
	}
	iname, ok := str(0)
	if !ok {
		return nil, dbusErr(errInvalidArgs, "interface name expected")
	}
	e := v.ifaces[iname]
	switch call.Member {
	case "Get":
		pname, ok := str(1)
		if !ok || len(call.Body) != 2 {
			return nil, dbusErr(errInvalidArgs, "interface and property names expected")
		}
		if e == nil {
			return nil, dbusErr(errUnknownIface, fmt.Sprintf("No such interface %q", iname))
		}
		p, ok := e.props[pname]
		if !ok {
			return nil, dbusErr(errUnknownProperty, fmt.Sprintf("No such property %q", pname))
		}
		return []any{p()}, nil
	case "GetAll":
		if len(call.Body) != 1 {
			return nil, dbusErr(errInvalidArgs, "interface name expected")
		}
		if e == nil {
			return nil, dbusErr(errUnknownIface, fmt.Sprintf("No such interface %q", iname))
		}
		all := make(map[string]dbus.Variant, len(e.props))
		for k, p := range e.props {
			all[k] = p()
		}
		return []any{all}, nil
	case "Set":
		// Every property the broker exposes is read-only to the sandbox.
		return nil, dbusErr(errAccessDenied, "Properties on this bus are read-only to the sandbox")
	}
	return nil, dbusErr(errUnknownMethod, fmt.Sprintf("No such method %q", call.Member))
}
