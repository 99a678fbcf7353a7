package busserver

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/godbus/dbus/v5"
	"golang.org/x/sys/unix"
)

// replyKey identifies a call whose reply a connection is allowed to send:
// to caller, answering serial.
type replyKey struct {
	caller string
	serial uint32
}

// conn is one client connection. Its reader goroutine handles everything
// the client sends, in order; its writer goroutine drains a bounded queue.
type conn struct {
	s          *Server
	c          *net.UnixConn
	log        *slog.Logger
	out        chan outFrame
	done       chan struct{}
	closeOnce  sync.Once
	unixFD     bool         // set before the reader starts routing
	pendingOut atomic.Int32 // calls this conn made that still await a reply
	queued     atomic.Int64 // bytes in out, bounded by Limits.OutQueueBytes

	// mu guards the fields below.
	mu       sync.Mutex
	unique   string
	matches  []*matchRule
	names    map[string]bool       // owned well-known name -> allows replacement
	expected map[replyKey]struct{} // replies this conn owes
}

func (c *conn) uniqueName() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.unique
}

func (c *conn) setUnique(u string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.unique = u
}

func (s *Server) newConn(uc *net.UnixConn) *conn {
	return &conn{
		s:        s,
		c:        uc,
		log:      s.log,
		out:      make(chan outFrame, s.limits.OutQueue),
		done:     make(chan struct{}),
		names:    map[string]bool{},
		expected: map[replyKey]struct{}{},
	}
}

// ServeConn runs the bus protocol on one connection until it ends.
func (s *Server) ServeConn(uc *net.UnixConn) {
	c := s.newConn(uc)
	if !s.register(c) {
		s.log.Warn("refusing connection: connection limit reached or server closing", "limit", s.limits.MaxConnections)
		uc.Close()
		return
	}
	defer s.unregister(c)
	defer c.close()
	if err := c.run(); err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
		c.log.Warn("closing sandbox bus connection", "err", err)
	}
}

func (c *conn) close() {
	c.closeOnce.Do(func() {
		close(c.done)
		// Shut the socket down, not only our descriptor: the launcher
		// holds a duplicate of every authenticated connection (keep.go),
		// and a connection the bus ends must end for the client too.
		if raw, err := c.c.SyscallConn(); err == nil {
			raw.Control(func(fd uintptr) { unix.Shutdown(int(fd), unix.SHUT_RDWR) })
		}
		c.c.Close()
	})
}

// peerUID returns the uid the kernel recorded for the other end.
func peerUID(uc *net.UnixConn) (int, error) {
	raw, err := uc.SyscallConn()
	if err != nil {
		return -1, err
	}
	var cred *unix.Ucred
	var serr error
	if err := raw.Control(func(fd uintptr) {
		cred, serr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil {
		return -1, err
	}
	if serr != nil {
		return -1, serr
	}
	return int(cred.Uid), nil
}

func (c *conn) run() error {
	s := c.s
	uid, err := peerUID(c.c)
	if err != nil {
		return fmt.Errorf("cannot read peer credentials: %w", err)
	}
	if uid != s.cfg.UID {
		// Identity is given by the channel: a socket the broker made for
		// one sandbox must only ever carry that sandbox's user.
		c.log.Warn("refusing connection from unexpected uid", "peer_uid", uid, "want_uid", s.cfg.UID)
		return nil
	}
	wr := newWireReader(c.c)
	defer wr.closeFDs()

	c.c.SetDeadline(time.Now().Add(s.limits.AuthTimeout))
	a := &saslServer{wantUID: s.cfg.UID, peerUID: uid, guid: s.guid}
	unixFD, err := runAuth(a, wr, func(line string) error {
		_, err := c.c.Write([]byte(line))
		return err
	})
	if err != nil {
		c.log.Warn("refusing connection: authentication failed", "err", err)
		return nil
	}
	c.unixFD = unixFD
	// Descriptors sent during the handshake belong to no message; keeping
	// them would shift every later message's descriptors by one.
	wr.closeFDs()
	// Until Hello, the deadline stays: a client that authenticates and
	// then idles still holds a slot.
	go c.writer()
	return c.loop(wr)
}

// loop reads and dispatches messages until the connection ends.
func (c *conn) loop(wr *wireReader) error {
	s := c.s
	wr.budget, wr.done, wr.maxCost = s.budget, c.done, s.limits.MaxDecodeCost
	wr.onThrottle = func() {
		if s.budget.throttled() {
			c.log.Warn("sandbox over its message budget: reading it more slowly", "conn", c.uniqueName(),
				"messages_per_s", s.limits.MessagesPerSecond, "work_per_s", s.limits.WorkPerSecond)
		}
	}
	for {
		if len(wr.fds) > 0 && !c.unixFD {
			return fmt.Errorf("descriptors received without NEGOTIATE_UNIX_FD: %w", errProtocol)
		}
		f, err := wr.readFrame(s.limits.MaxMessageSize, c.unixFD)
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) {
				return nil
			}
			if errors.Is(err, errProtocol) {
				c.log.Warn("closing connection: malformed message", "conn", c.uniqueName(), "err", err)
				return nil
			}
			return fmt.Errorf("cannot read message from %s: %w", c.describe(), err)
		}
		if c.uniqueName() == "" {
			if !isHello(f.msg) {
				closeAll(f.fds)
				f.done()
				c.log.Warn("closing connection: first message is not Hello")
				return nil
			}
			c.c.SetDeadline(time.Time{})
		}
		c.dispatch(f)
		f.done()
		select {
		case <-c.done:
			return nil
		default:
		}
	}
}

func (c *conn) describe() string {
	if u := c.uniqueName(); u != "" {
		return u
	}
	return "unauthenticated peer"
}

func isHello(m *dbus.Message) bool {
	if m.Type != dbus.TypeMethodCall {
		return false
	}
	d, _ := m.Headers[dbus.FieldDestination].Value().(string)
	i, _ := m.Headers[dbus.FieldInterface].Value().(string)
	mem, _ := m.Headers[dbus.FieldMember].Value().(string)
	return d == busName && (i == busName || i == "") && mem == "Hello"
}

// writer drains the outgoing queue. It owns every descriptor it is handed.
func (c *conn) writer() {
	for {
		select {
		case of := <-c.out:
			err := writeFrame(c.c, of)
			c.queued.Add(-int64(len(of.b)))
			closeAll(of.fds)
			if err != nil {
				c.close()
				c.drain()
				return
			}
		case <-c.done:
			c.drain()
			return
		}
	}
}

func (c *conn) drain() {
	for {
		select {
		case of := <-c.out:
			c.queued.Add(-int64(len(of.b)))
			closeAll(of.fds)
		default:
			return
		}
	}
}

// send queues a frame. With block, it waits for room: used only for
// replies to the connection's own calls, so a client that does not read
// only stalls itself. Without block (messages caused by someone else), a
// full queue means the client is not keeping up, and it is disconnected
// rather than allowed to stall the sender or the broker.
func (c *conn) send(of outFrame, block bool) bool {
	select {
	case <-c.done:
		closeAll(of.fds)
		return false
	default:
	}
	n := int64(len(of.b))
	if block {
		c.queued.Add(n)
		select {
		case c.out <- of:
			return true
		case <-c.done:
			c.queued.Add(-n)
			closeAll(of.fds)
			return false
		}
	}
	// Bytes too, not only messages: 1024 queued messages of 1 MiB each
	// would be a gigabyte held for a client that does not read.
	if c.queued.Add(n) > c.s.limits.OutQueueBytes {
		c.queued.Add(-n)
		closeAll(of.fds)
		c.log.Warn("closing connection: outgoing queue over its byte budget", "conn", c.uniqueName(), "bytes", c.s.limits.OutQueueBytes)
		c.close()
		return false
	}
	select {
	case c.out <- of:
		return true
	default:
		c.queued.Add(-n)
		closeAll(of.fds)
		c.log.Warn("closing connection: outgoing queue full", "conn", c.uniqueName(), "queue", cap(c.out))
		c.close()
		return false
	}
}

// sendError sends an error reply from sender to this connection.
func (c *conn) sendError(replySerial uint32, sender, name, text string) {
	msg := &dbus.Message{
		Type: dbus.TypeError,
		Headers: map[dbus.HeaderField]dbus.Variant{
			dbus.FieldReplySerial: dbus.MakeVariant(replySerial),
			dbus.FieldErrorName:   dbus.MakeVariant(name),
			dbus.FieldSender:      dbus.MakeVariant(sender),
			dbus.FieldDestination: dbus.MakeVariant(c.uniqueName()),
		},
	}
	if text != "" {
		msg.Body = []any{text}
	}
	c.sendMsg(msg, false)
}

// sendMsg encodes and queues a broker-originated message.
func (c *conn) sendMsg(msg *dbus.Message, block bool) bool {
	if u := c.uniqueName(); u != "" {
		msg.Headers[dbus.FieldDestination] = dbus.MakeVariant(u)
	}
	of, err := encodeMessage(msg, c.s.nextSerial())
	if err != nil {
		c.log.Error("cannot encode message for client", "conn", c.uniqueName(), "err", err)
		return false
	}
	return c.send(of, block)
}

// wants reports whether one of c's match rules selects msg, and how many
// rules it evaluated.
func (c *conn) wants(msg *dbus.Message, owner func(string) string) (bool, int) {
	c.mu.Lock()
	rules := c.matches
	c.mu.Unlock()
	for i, r := range rules {
		if r.matches(msg, owner) {
			return true, i + 1
		}
	}
	return false, len(rules)
}

// expect records that c may reply to caller's serial.
func (c *conn) expect(caller string, serial uint32) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.expected[replyKey{caller, serial}] = struct{}{}
}

// consumeExpected reports (and forgets) whether c owes that reply.
func (c *conn) consumeExpected(caller string, serial uint32) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := replyKey{caller, serial}
	if _, ok := c.expected[k]; !ok {
		return false
	}
	delete(c.expected, k)
	return true
}

func (c *conn) forgetCaller(caller string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k := range c.expected {
		if k.caller == caller {
			delete(c.expected, k)
		}
	}
}

func (c *conn) drainExpected() []replyKey {
	c.mu.Lock()
	defer c.mu.Unlock()
	ks := make([]replyKey, 0, len(c.expected))
	for k := range c.expected {
		ks = append(ks, k)
	}
	c.expected = map[replyKey]struct{}{}
	return ks
}

func dupAll(fds []int) ([]int, error) {
	out := make([]int, 0, len(fds))
	for _, fd := range fds {
		d, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
		if err != nil {
			closeAll(out)
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}
