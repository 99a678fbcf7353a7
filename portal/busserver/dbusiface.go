package busserver

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/godbus/dbus/v5"
)

// RequestName flags and replies (dbus-specification).
const (
	nameFlagAllowReplacement = 0x1
	nameFlagReplaceExisting  = 0x2

	requestPrimaryOwner = 1
	requestExists       = 3
	requestAlreadyOwner = 4

	releaseReleased    = 1
	releaseNonExistent = 2
	releaseNotOwner    = 3

	startAlreadyRunning = 2
)

const busIntrospectXML = `  <interface name="org.freedesktop.DBus">
    <method name="Hello"><arg direction="out" type="s"/></method>
    <method name="RequestName"><arg direction="in" type="s"/><arg direction="in" type="u"/><arg direction="out" type="u"/></method>
    <method name="ReleaseName"><arg direction="in" type="s"/><arg direction="out" type="u"/></method>
    <method name="StartServiceByName"><arg direction="in" type="s"/><arg direction="in" type="u"/><arg direction="out" type="u"/></method>
    <method name="NameHasOwner"><arg direction="in" type="s"/><arg direction="out" type="b"/></method>
    <method name="ListNames"><arg direction="out" type="as"/></method>
    <method name="ListActivatableNames"><arg direction="out" type="as"/></method>
    <method name="AddMatch"><arg direction="in" type="s"/></method>
    <method name="RemoveMatch"><arg direction="in" type="s"/></method>
    <method name="GetNameOwner"><arg direction="in" type="s"/><arg direction="out" type="s"/></method>
    <method name="GetConnectionUnixUser"><arg direction="in" type="s"/><arg direction="out" type="u"/></method>
    <method name="GetConnectionUnixProcessID"><arg direction="in" type="s"/><arg direction="out" type="u"/></method>
    <method name="GetConnectionCredentials"><arg direction="in" type="s"/><arg direction="out" type="a{sv}"/></method>
    <method name="GetId"><arg direction="out" type="s"/></method>
    <signal name="NameOwnerChanged"><arg type="s"/><arg type="s"/><arg type="s"/></signal>
    <signal name="NameLost"><arg type="s"/></signal>
    <signal name="NameAcquired"><arg type="s"/></signal>
    <property name="Features" type="as" access="read"/>
    <property name="Interfaces" type="as" access="read"/>
  </interface>`

// busDriver implements org.freedesktop.DBus and friends.
func (c *conn) busDriver(call *Call) ([]any, error) {
	iface := call.Interface
	if iface == "" {
		iface = busName
	}
	switch iface {
	case busName:
	case "org.freedesktop.DBus.Peer":
		return c.peerCall(call)
	case "org.freedesktop.DBus.Introspectable":
		if call.Member != "Introspect" {
			return nil, dbusErr(errUnknownMethod, "No such method")
		}
		v := objectView{ifaces: map[string]*ifaceEntry{busName: {xml: busIntrospectXML}}}
		return []any{introspectDoc(v)}, nil
	case "org.freedesktop.DBus.Properties":
		v := objectView{ifaces: map[string]*ifaceEntry{busName: {props: map[string]func() dbus.Variant{
			"Features":   func() dbus.Variant { return dbus.MakeVariant([]string{}) },
			"Interfaces": func() dbus.Variant { return dbus.MakeVariant([]string{"org.freedesktop.DBus.Peer"}) },
		}}}}
		return propertiesCall(call, v)
	case "org.freedesktop.DBus.Monitoring", "org.freedesktop.DBus.Debug.Stats", "org.freedesktop.DBus.Verbose":
		// Monitoring and statistics would expose other connections'
		// traffic and metadata to the sandbox.
		return nil, dbusErr(errAccessDenied, "Monitoring is not available on a sandbox bus")
	default:
		return nil, dbusErr(errUnknownIface, fmt.Sprintf("No such interface %q", call.Interface))
	}

	s := c.s
	arg := func(i int) (string, error) {
		if i < len(call.Body) {
			if v, ok := call.Body[i].(string); ok {
				return v, nil
			}
		}
		return "", dbusErr(errInvalidArgs, fmt.Sprintf("argument %d must be a string", i))
	}
	switch call.Member {
	case "Hello":
		if c.uniqueName() != "" {
			return nil, dbusErr(errFailed, "Already handled an Hello message")
		}
		u := s.assignUnique(c)
		// The keeper holds the connection before the client learns its
		// name: from the reply on, a broker crash cannot end it.
		c.keep()
		// The reply must precede NameAcquired: send both from here.
		c.replyReturn(call.Msg, busName, []any{u})
		s.busSignal(u, "NameAcquired", u)
		s.busSignal("", "NameOwnerChanged", u, "", u)
		return nil, errReplied
	case "RequestName":
		name, err := arg(0)
		if err != nil {
			return nil, err
		}
		if len(call.Body) != 2 {
			return nil, dbusErr(errInvalidArgs, "name and flags expected")
		}
		flags, _ := call.Body[1].(uint32)
		return c.requestName(name, flags)
	case "ReleaseName":
		name, err := arg(0)
		if err != nil {
			return nil, err
		}
		return c.releaseName(name)
	case "GetNameOwner":
		name, err := arg(0)
		if err != nil {
			return nil, err
		}
		if o := s.ownerOf(name); o != "" {
			return []any{o}, nil
		}
		return nil, dbusErr(errNameHasNoOwner, fmt.Sprintf("Could not get owner of name '%s': no such name", name))
	case "NameHasOwner":
		name, err := arg(0)
		if err != nil {
			return nil, err
		}
		return []any{s.ownerOf(name) != ""}, nil
	case "ListNames":
		return []any{s.listNames()}, nil
	case "ListActivatableNames":
		names := []string{busName}
		s.mu.Lock()
		for n := range s.served {
			names = append(names, n)
		}
		s.mu.Unlock()
		sort.Strings(names[1:])
		return []any{names}, nil
	case "StartServiceByName":
		name, err := arg(0)
		if err != nil {
			return nil, err
		}
		if s.ownerOf(name) != "" {
			return []any{uint32(startAlreadyRunning)}, nil
		}
		return nil, dbusErr(errServiceUnknown, fmt.Sprintf("The name %s was not provided by any .service files", name))
	case "AddMatch":
		rule, err := arg(0)
		if err != nil {
			return nil, err
		}
		return nil, c.addMatch(rule)
	case "RemoveMatch":
		rule, err := arg(0)
		if err != nil {
			return nil, err
		}
		return nil, c.removeMatch(rule)
	case "GetId":
		return []any{s.guid}, nil
	case "GetConnectionUnixUser":
		name, err := arg(0)
		if err != nil {
			return nil, err
		}
		if s.ownerOf(name) == "" {
			return nil, dbusErr(errNameHasNoOwner, fmt.Sprintf("Could not get UID of name '%s': no such name", name))
		}
		return []any{uint32(s.cfg.UID)}, nil
	case "GetConnectionCredentials":
		name, err := arg(0)
		if err != nil {
			return nil, err
		}
		if s.ownerOf(name) == "" {
			return nil, dbusErr(errNameHasNoOwner, fmt.Sprintf("Could not get credentials of name '%s': no such name", name))
		}
		// Only the uid: process ids and security labels are not
		// something the broker vouches for on a sandbox bus.
		return []any{map[string]dbus.Variant{"UnixUserID": dbus.MakeVariant(uint32(s.cfg.UID))}}, nil
	case "GetConnectionUnixProcessID", "GetAdtAuditSessionData", "GetConnectionSELinuxSecurityContext",
		"UpdateActivationEnvironment", "ReloadConfig", "BecomeMonitor":
		// A pid names a process in the sandbox's pid namespace at best,
		// and is racy at worst (pid reuse): nothing may be trusted on it,
		// so it is not handed out.
		return nil, dbusErr(errAccessDenied, fmt.Sprintf("%s is not available on a sandbox bus", call.Member))
	}
	return nil, dbusErr(errUnknownMethod, fmt.Sprintf("No such method %q", call.Member))
}

// errReplied tells handleLocal that the handler already sent its reply.
var errReplied = errors.New("reply already sent")

func (s *Server) listNames() []string {
	s.mu.Lock()
	names := []string{busName, BrokerName}
	for n := range s.served {
		names = append(names, n)
	}
	for n := range s.byName {
		names = append(names, n)
	}
	s.mu.Unlock()
	sort.Strings(names[2:])
	return names
}

// reservedName reports why a client may not own name, or "".
func (s *Server) reservedName(name string) string {
	switch {
	case strings.HasPrefix(name, busName):
		return "names of the bus itself are reserved"
	case strings.HasPrefix(name, "org.freedesktop.portal."), strings.HasPrefix(name, "org.freedesktop.impl.portal."):
		// Owning a portal name would let one sandboxed app impersonate
		// the broker to its neighbours.
		return "portal names are reserved for the broker"
	}
	if s.isServed(name) {
		return "the name is served by the broker"
	}
	if r := s.cfg.Relay; r != nil && r.Allowed(name) {
		return "the name is relayed to the host"
	}
	return ""
}

func (c *conn) requestName(name string, flags uint32) ([]any, error) {
	s := c.s
	if strings.HasPrefix(name, ":") || !validBusName(name) {
		return nil, dbusErr(errInvalidArgs, fmt.Sprintf("Cannot acquire a service named '%s': not a valid well-known name", name))
	}
	if why := s.reservedName(name); why != "" {
		return nil, dbusErr(errAccessDenied, fmt.Sprintf("Cannot own %s: %s", name, why))
	}
	unique := c.uniqueName()
	s.mu.Lock()
	cur := s.byName[name]
	if cur == c {
		s.mu.Unlock()
		return []any{uint32(requestAlreadyOwner)}, nil
	}
	c.mu.Lock()
	n := len(c.names)
	c.mu.Unlock()
	if n >= s.limits.MaxNamesPerConn {
		s.mu.Unlock()
		return nil, dbusErr(errLimitsExceeded, "too many names owned by this connection")
	}
	var old string
	if cur != nil {
		cur.mu.Lock()
		allowRepl := cur.names[name]
		cur.mu.Unlock()
		if !(allowRepl && flags&nameFlagReplaceExisting != 0) {
			s.mu.Unlock()
			// No queueing: waiting in line for a name is not something a
			// sandboxed app needs, and it keeps ownership simple.
			return []any{uint32(requestExists)}, nil
		}
		old = cur.unique
		cur.mu.Lock()
		delete(cur.names, name)
		cur.mu.Unlock()
	}
	s.byName[name] = c
	c.mu.Lock()
	c.names[name] = flags&nameFlagAllowReplacement != 0
	c.mu.Unlock()
	s.mu.Unlock()
	c.keep()
	if cur != nil {
		cur.keep()
	}
	if old != "" {
		s.busSignal(old, "NameLost", name)
	}
	s.busSignal("", "NameOwnerChanged", name, old, unique)
	s.busSignal(unique, "NameAcquired", name)
	return []any{uint32(requestPrimaryOwner)}, nil
}

func (c *conn) releaseName(name string) ([]any, error) {
	s := c.s
	if strings.HasPrefix(name, ":") || !validBusName(name) {
		return nil, dbusErr(errInvalidArgs, fmt.Sprintf("Cannot release a service named '%s': not a valid well-known name", name))
	}
	unique := c.uniqueName()
	s.mu.Lock()
	cur := s.byName[name]
	if cur == nil {
		s.mu.Unlock()
		if s.isServed(name) {
			return []any{uint32(releaseNotOwner)}, nil
		}
		return []any{uint32(releaseNonExistent)}, nil
	}
	if cur != c {
		s.mu.Unlock()
		return []any{uint32(releaseNotOwner)}, nil
	}
	delete(s.byName, name)
	c.mu.Lock()
	delete(c.names, name)
	c.mu.Unlock()
	s.mu.Unlock()
	c.keep()
	s.busSignal(unique, "NameLost", name)
	s.busSignal("", "NameOwnerChanged", name, unique, "")
	return []any{uint32(releaseReleased)}, nil
}

func (c *conn) addMatch(rule string) error {
	r, err := parseMatchRule(rule)
	if errors.Is(err, errMatchEavesdrop) {
		// eavesdrop=true would deliver other connections' unicast traffic
		// (Request.Response of another app, for one) to this client.
		return dbusErr(errAccessDenied, "eavesdropping is not allowed on a sandbox bus")
	}
	if err != nil {
		return dbusErr(errMatchInvalid, err.Error())
	}
	c.mu.Lock()
	if len(c.matches) >= c.s.limits.MaxMatchRules {
		c.mu.Unlock()
		return dbusErr(errLimitsExceeded, "too many match rules")
	}
	// Per sandbox too: every broadcast is matched against every rule of
	// the sandbox, so the rules are what a broadcast costs.
	if c.s.budget.rules.Add(1) > int64(c.s.limits.MaxMatchRulesPerSandbox) {
		c.s.budget.rules.Add(-1)
		c.mu.Unlock()
		return dbusErr(errLimitsExceeded, "too many match rules in this sandbox")
	}
	// Copy on write: readers take the slice without holding the lock.
	c.matches = append(c.matches[:len(c.matches):len(c.matches)], r)
	c.mu.Unlock()
	c.keep()
	return nil
}

func (c *conn) removeMatch(rule string) error {
	r, err := parseMatchRule(rule)
	if err != nil {
		return dbusErr(errMatchInvalid, err.Error())
	}
	c.mu.Lock()
	found := false
	for i, o := range c.matches {
		if o.equal(r) {
			nm := make([]*matchRule, 0, len(c.matches)-1)
			nm = append(nm, c.matches[:i]...)
			c.matches = append(nm, c.matches[i+1:]...)
			c.s.budget.rules.Add(-1)
			found = true
			break
		}
	}
	c.mu.Unlock()
	if !found {
		return dbusErr(errMatchNotFound, "The given match rule wasn't found and can't be removed")
	}
	c.keep()
	return nil
}
