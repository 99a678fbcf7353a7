package busserver

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/godbus/dbus/v5"
)

// Error names used by the bus.
const (
	errAccessDenied    = "org.freedesktop.DBus.Error.AccessDenied"
	errServiceUnknown  = "org.freedesktop.DBus.Error.ServiceUnknown"
	errUnknownMethod   = "org.freedesktop.DBus.Error.UnknownMethod"
	errUnknownObject   = "org.freedesktop.DBus.Error.UnknownObject"
	errUnknownIface    = "org.freedesktop.DBus.Error.UnknownInterface"
	errUnknownProperty = "org.freedesktop.DBus.Error.UnknownProperty"
	errInvalidArgs     = "org.freedesktop.DBus.Error.InvalidArgs"
	errFailed          = "org.freedesktop.DBus.Error.Failed"
	errLimitsExceeded  = "org.freedesktop.DBus.Error.LimitsExceeded"
	errNameHasNoOwner  = "org.freedesktop.DBus.Error.NameHasNoOwner"
	errMatchInvalid    = "org.freedesktop.DBus.Error.MatchRuleInvalid"
	errMatchNotFound   = "org.freedesktop.DBus.Error.MatchRuleNotFound"
	errNotSupported    = "org.freedesktop.DBus.Error.NotSupported"
)

// relayTimeout bounds a relayed call, like a client-side D-Bus timeout.
const relayTimeout = 30 * time.Second

func hdrString(m *dbus.Message, f dbus.HeaderField) string {
	v, ok := m.Headers[f]
	if !ok {
		return ""
	}
	switch x := v.Value().(type) {
	case string:
		return x
	case dbus.ObjectPath:
		return string(x)
	}
	return ""
}

func wantsReply(m *dbus.Message) bool {
	return m.Type == dbus.TypeMethodCall && m.Flags&dbus.FlagNoReplyExpected == 0
}

// dispatch routes one received frame. It runs on the sender's reader
// goroutine, so a flooding client only ever occupies its own goroutine.
func (c *conn) dispatch(f *frame) {
	m := f.msg
	// Never trust a client-supplied sender: the header is overwritten with
	// the name the bus assigned to this connection.
	m.Headers[dbus.FieldSender] = dbus.MakeVariant(c.uniqueName())
	dest := hdrString(m, dbus.FieldDestination)

	switch m.Type {
	case dbus.TypeSignal:
		c.routeSignal(f, dest)
		return
	case dbus.TypeMethodReply, dbus.TypeError:
		c.routeReply(f, dest)
		return
	}

	// Method call.
	iface := hdrString(m, dbus.FieldInterface)
	switch {
	case dest == busName || (dest == "" && strings.HasPrefix(iface, busName)):
		c.handleLocal(f, true)
	case dest == BrokerName && c.relayedPath(m):
		c.relayCall(f, dest)
	case dest == "" || c.s.isServed(dest):
		c.handleLocal(f, false)
	default:
		if target := c.s.lookup(dest); target != nil {
			c.forwardCall(f, target)
			return
		}
		if r := c.s.cfg.Relay; r != nil && !strings.HasPrefix(dest, ":") && r.Allowed(dest) {
			c.relayCall(f, dest)
			return
		}
		closeAll(f.fds)
		c.log.Info("refused call to unknown name", "conn", c.uniqueName(), "destination", dest, "member", hdrString(m, dbus.FieldMember))
		if wantsReply(m) {
			c.replyError(m, dest, errServiceUnknown, fmt.Sprintf("The name %s is not available on this bus", dest))
		}
	}
}

// relayedPath reports whether a call to the broker's unique name is for a
// relayed name the broker appears to own (OwnedRelay), and if so addresses
// it to that name for the relay.
func (c *conn) relayedPath(m *dbus.Message) bool {
	r, ok := c.s.cfg.Relay.(OwnedRelay)
	if !ok {
		return false
	}
	path, _ := m.Headers[dbus.FieldPath].Value().(dbus.ObjectPath)
	name := r.PathOwner(path)
	if name == "" || !r.Owned(name) {
		return false
	}
	if _, local := c.s.view(path); local {
		return false
	}
	m.Headers[dbus.FieldDestination] = dbus.MakeVariant(name)
	return true
}

// routeSignal delivers a client's signal: unicast to its destination, or
// to connections on this bus whose rules match. Nothing leaves the bus.
func (c *conn) routeSignal(f *frame, dest string) {
	if dest == "" {
		// A broadcast carries no descriptors: each recipient would get its
		// own copies, held by the kernel in sockets that may never be
		// read, counted against the user's limit of descriptors in flight
		// for the whole session (ETOOMANYREFS for every other program).
		if len(f.fds) > 0 {
			closeAll(f.fds)
			c.log.Info("dropped a broadcast signal carrying descriptors", "conn", c.uniqueName(), "member", hdrString(f.msg, dbus.FieldMember))
			return
		}
		c.s.broadcastMsg(f.msg, f)
		return
	}
	target := c.s.lookup(dest)
	if target == nil {
		closeAll(f.fds)
		return
	}
	if len(f.fds) > 0 && !target.unixFD {
		closeAll(f.fds)
		return
	}
	of, err := reframe(f, f.msg.Headers)
	if err != nil {
		closeAll(f.fds)
		return
	}
	target.send(of, false)
}

// routeReply forwards a reply only if the destination is waiting for it
// from this connection: no unsolicited replies.
func (c *conn) routeReply(f *frame, dest string) {
	defer closeAll(f.fds)
	rs, _ := f.msg.Headers[dbus.FieldReplySerial].Value().(uint32)
	target := c.s.lookup(dest)
	if target == nil || target.uniqueName() != dest || !c.consumeExpected(dest, rs) {
		c.log.Debug("dropped unsolicited reply", "conn", c.uniqueName(), "destination", dest)
		return
	}
	target.pendingOut.Add(-1)
	if len(f.fds) > 0 && !target.unixFD {
		target.sendError(rs, c.uniqueName(), errNotSupported, "reply carries file descriptors the recipient cannot receive")
		return
	}
	of, err := reframe(f, f.msg.Headers)
	if err != nil {
		return
	}
	target.send(of, false)
}

// forwardCall routes a call to another client of this bus.
func (c *conn) forwardCall(f *frame, target *conn) {
	m := f.msg
	if len(f.fds) > 0 && !target.unixFD {
		closeAll(f.fds)
		if wantsReply(m) {
			c.replyError(m, busName, errNotSupported, "the recipient cannot receive file descriptors")
		}
		return
	}
	if wantsReply(m) {
		if int(c.pendingOut.Load()) >= c.s.limits.MaxPendingCalls {
			closeAll(f.fds)
			c.log.Warn("refused call: too many pending calls", "conn", c.uniqueName(), "limit", c.s.limits.MaxPendingCalls)
			c.replyError(m, busName, errLimitsExceeded, "too many pending calls")
			return
		}
		c.pendingOut.Add(1)
		target.expect(c.uniqueName(), m.Serial())
	}
	of, err := reframe(f, m.Headers)
	if err != nil {
		closeAll(f.fds)
		return
	}
	target.send(of, false)
}

// relayCall hands a call for an allowed host name to the relay, on its own
// goroutine: the host may be slow, and this connection keeps being served.
func (c *conn) relayCall(f *frame, dest string) {
	m := f.msg
	// No descriptors cross to the host: the names relayed take none, and
	// each would stay open in the broker until the host answered.
	if len(f.fds) > 0 {
		closeAll(f.fds)
		c.replyError(m, busName, errAccessDenied, "file descriptors are not relayed to the host")
		return
	}
	// Every relayed call counts, answered or not (NO_REPLY_EXPECTED): each
	// holds a goroutine until the host answers, and a flood of them must
	// not exhaust the broker that other sandboxes share.
	if int(c.pendingOut.Load()) >= c.s.limits.MaxPendingCalls {
		c.replyError(m, busName, errLimitsExceeded, "too many pending calls")
		return
	}
	// Per sandbox too, and small: all sandboxes share the broker's one
	// connection to the host bus.
	if len(f.raw) > maxRelayedMessage {
		c.replyError(m, busName, errLimitsExceeded, "message too large to relay")
		return
	}
	if c.s.relaying.Add(1) > maxRelayedPerSandbox {
		c.s.relaying.Add(-1)
		c.replyError(m, busName, errLimitsExceeded, "too many relayed calls pending")
		return
	}
	c.pendingOut.Add(1)
	go func() {
		defer c.pendingOut.Add(-1)
		defer c.s.relaying.Add(-1)
		ctx, cancel := context.WithTimeout(context.Background(), relayTimeout)
		defer cancel()
		reply, err := c.s.cfg.Relay.Call(ctx, m)
		if !wantsReply(m) {
			return
		}
		if err != nil {
			c.log.Info("relayed call failed", "conn", c.uniqueName(), "destination", dest, "err", err)
			c.replyError(m, dest, errFailed, "relayed call failed")
			return
		}
		if reply == nil || (reply.Type != dbus.TypeMethodReply && reply.Type != dbus.TypeError) {
			c.replyError(m, dest, errFailed, "relayed call returned no reply")
			return
		}
		out := &dbus.Message{Type: reply.Type, Headers: maps.Clone(reply.Headers), Body: reply.Body}
		out.Headers[dbus.FieldReplySerial] = dbus.MakeVariant(m.Serial())
		out.Headers[dbus.FieldSender] = dbus.MakeVariant(dest)
		delete(out.Headers, dbus.FieldUnixFDs)
		c.sendMsg(out, false)
	}()
}

// replyError answers call m with an error from sender.
func (c *conn) replyError(m *dbus.Message, sender, name, text string) {
	if !wantsReply(m) {
		return
	}
	c.sendError(m.Serial(), sender, name, text)
}

// replyReturn answers call m with body from sender.
func (c *conn) replyReturn(m *dbus.Message, sender string, body []any) {
	if !wantsReply(m) {
		return
	}
	msg := &dbus.Message{
		Type: dbus.TypeMethodReply,
		Headers: map[dbus.HeaderField]dbus.Variant{
			dbus.FieldReplySerial: dbus.MakeVariant(m.Serial()),
			dbus.FieldSender:      dbus.MakeVariant(sender),
		},
		Body: body,
	}
	if u := c.uniqueName(); u != "" {
		msg.Headers[dbus.FieldDestination] = dbus.MakeVariant(u)
	}
	of, err := encodeMessage(msg, c.s.nextSerial())
	if err != nil {
		c.log.Error("cannot encode reply", "conn", c.uniqueName(), "member", hdrString(m, dbus.FieldMember), "err", err)
		c.sendError(m.Serial(), sender, errFailed, "the reply could not be encoded")
		return
	}
	c.send(of, true)
}
