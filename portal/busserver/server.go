// Package busserver is a minimal D-Bus message bus that the broker runs for
// each sandbox: it answers SASL, org.freedesktop.DBus and the broker's own
// exported objects, routes between the sandbox's own clients, and relays
// only explicitly allowed names to the host. A sandbox never talks to the
// host session bus directly.
package busserver

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/godbus/dbus/v5"
)

// BrokerName is the unique name under which the broker's own objects (and
// every served name) live on a sandbox bus. Signals the broker emits carry
// it as sender, so clients that resolve a served name with GetNameOwner
// (GLib >= 2.80 does, since CVE-2024-34397) see a consistent owner.
const BrokerName = ":1.0"

// busName is the bus driver's name.
const busName = "org.freedesktop.DBus"

// Limits bounds what one connection, and one sandbox (all connections of
// one Server), can make the broker hold and do.
type Limits struct {
	MaxMessageSize  int           // bytes, header included; default 1 MiB
	MaxConnections  int           // per server; default 64
	MaxMatchRules   int           // per connection; default 512
	MaxPendingCalls int           // outstanding calls per connection; default 256
	MaxNamesPerConn int           // well-known names per connection; default 32
	AuthTimeout     time.Duration // default 10s
	OutQueue        int           // queued outgoing messages per connection; default 1024

	// The sandbox's budget (budget.go), shared by all its connections.
	MaxMatchRulesPerSandbox int     // default 1024
	OutQueueBytes           int64   // bytes queued towards one connection; default 16 MiB
	MaxDecodeCost           int64   // estimated decode allocation of one message (prescan.go); default 8 MiB
	DecodeInFlight          int64   // estimated bytes being decoded at once; default 16 MiB
	FramesInFlight          int64   // bytes of frames over 64 KiB being received at once; default 8 MiB
	MessagesPerSecond       float64 // default 20000
	MessageBurst            int     // default 2000
	WorkPerSecond           int64   // estimated decode bytes and broadcast work per second; default 64 MiB
	BroadcastQueue          int     // broadcasts waiting for the sandbox's broadcaster; default 64
}

func (l Limits) withDefaults() Limits {
	defaultTo(&l.MaxMessageSize, 1<<20)
	defaultTo(&l.MaxConnections, 64)
	defaultTo(&l.MaxMatchRules, 512)
	defaultTo(&l.MaxPendingCalls, 256)
	defaultTo(&l.MaxNamesPerConn, 32)
	defaultTo(&l.AuthTimeout, 10*time.Second)
	defaultTo(&l.OutQueue, 1024)
	defaultTo(&l.MaxMatchRulesPerSandbox, 1024)
	defaultTo(&l.OutQueueBytes, 16<<20)
	defaultTo(&l.MaxDecodeCost, 8<<20)
	defaultTo(&l.DecodeInFlight, 16<<20)
	if l.DecodeInFlight < l.MaxDecodeCost {
		l.DecodeInFlight = l.MaxDecodeCost
	}
	defaultTo(&l.FramesInFlight, 8<<20)
	defaultTo(&l.MessagesPerSecond, 20000)
	defaultTo(&l.MessageBurst, 2000)
	defaultTo(&l.WorkPerSecond, 64<<20)
	defaultTo(&l.BroadcastQueue, 64)
	return l
}

// defaultTo sets *v to def when it is not positive (unset).
func defaultTo[T int | int64 | float64 | time.Duration](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}

// Limits of what one sandbox may have relayed to the host bus at once.
const (
	maxRelayedPerSandbox = 32
	maxRelayedMessage    = 64 << 10
)

// Relay forwards method calls for allowed names to the host session bus.
type Relay interface {
	// Allowed reports whether name is relayed. Relayed names cannot be
	// owned by sandbox clients.
	Allowed(name string) bool
	// Call performs msg (a method call whose sender header is the caller's
	// unique name on the sandbox bus) and returns the reply or error
	// message. Note that msg.Body went through godbus decoding, in which
	// structs become []any: an implementation must re-encode with the
	// message's signature, not with the Go types.
	Call(ctx context.Context, msg *dbus.Message) (*dbus.Message, error)
}

// OwnedRelay is a Relay some of whose names appear owned by the broker
// (BrokerName) on the sandbox bus: GetNameOwner and NameHasOwner answer for
// them, and the broker's signals for them carry that owner as sender, which
// clients that check a signal's sender against the name's owner require.
//
// A client that resolved such a name sends its calls to BrokerName (GDBus
// proxies address the owner's unique name): PathOwner names the relayed
// name that serves path, so that those calls are relayed, not answered
// as calls to the broker's own objects.
type OwnedRelay interface {
	Relay
	Owned(name string) bool
	PathOwner(path dbus.ObjectPath) string
}

// Config configures one sandbox bus.
type Config struct {
	SandboxID, SandboxName string
	// UID is the only peer uid accepted (SO_PEERCRED and the EXTERNAL
	// claim must both equal it).
	UID    int
	Logger *slog.Logger
	Limits Limits
	Relay  Relay // nil: nothing is relayed
	// MachineID answers Peer.GetMachineId. Empty: a random id per server,
	// so the host's /etc/machine-id never reaches the sandbox.
	MachineID string
	// Keeper, if set, is told every authenticated connection's resumable
	// state (keep.go): nil keeps nothing.
	Keeper Keeper
}

// Server is one sandbox's bus.
type Server struct {
	cfg    Config
	limits Limits
	log    *slog.Logger
	guid   string
	serial atomic.Uint32
	// relaying counts this sandbox's calls pending on the host bus.
	relaying atomic.Int32
	closing  atomic.Bool
	budget   *budget
	bcast    *broadcaster

	// keepMu serialises calls to cfg.Keeper, so that the keeper sees each
	// connection's states in the order they happened and never a Keep
	// after the Forget of the same connection.
	keepMu sync.Mutex

	// mu guards the fields below.
	mu           sync.Mutex
	listeners    map[net.Listener]struct{}
	conns        map[*conn]struct{}
	byName       map[string]*conn // unique names (after Hello) and owned well-known names
	nextID       uint64
	served       map[string]struct{}
	objects      map[dbus.ObjectPath]*object
	onDisconnect []func(string)
}

// New returns a server; call Serve or ServeConn to use it.
func New(cfg Config) *Server {
	s := &Server{
		cfg:       cfg,
		limits:    cfg.Limits.withDefaults(),
		guid:      randomHex(16),
		listeners: map[net.Listener]struct{}{},
		conns:     map[*conn]struct{}{},
		byName:    map[string]*conn{},
		nextID:    1,
		served:    map[string]struct{}{},
		objects:   map[dbus.ObjectPath]*object{},
	}
	s.budget = newBudget(s.limits)
	s.bcast = newBroadcaster(s, s.limits.BroadcastQueue)
	if s.cfg.MachineID == "" {
		s.cfg.MachineID = randomHex(16)
	}
	lg := cfg.Logger
	if lg == nil {
		lg = slog.Default()
	}
	s.log = lg.With("sandbox", cfg.SandboxName, "sandbox_id", cfg.SandboxID)
	return s
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("cannot read random bytes: %v", err))
	}
	return hex.EncodeToString(b)
}

// nextSerial returns a serial for a message the broker originates.
func (s *Server) nextSerial() uint32 {
	for {
		if v := s.serial.Add(1); v != 0 {
			return v
		}
	}
}

// Serve accepts connections on l until l is closed or Close is called.
func (s *Server) Serve(l net.Listener) error {
	s.mu.Lock()
	if s.closing.Load() {
		s.mu.Unlock()
		return net.ErrClosed
	}
	s.listeners[l] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, l)
		s.mu.Unlock()
	}()
	for {
		c, err := l.Accept()
		if err != nil {
			if s.closing.Load() || errors.Is(err, net.ErrClosed) {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				time.Sleep(10 * time.Millisecond)
				continue
			}
			// Out of descriptors (EMFILE, ENFILE) or memory: wait and try
			// again, as net/http's server does; giving up would end this
			// sandbox's bus for good.
			if errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) || errors.Is(err, syscall.ENOBUFS) || errors.Is(err, syscall.ENOMEM) || errors.Is(err, syscall.ECONNABORTED) {
				s.log.Warn("accept failed, retrying", "err", err)
				time.Sleep(100 * time.Millisecond)
				continue
			}
			return fmt.Errorf("cannot accept on sandbox bus: %w", err)
		}
		uc, ok := c.(*net.UnixConn)
		if !ok {
			s.log.Warn("refusing non-unix connection", "remote", c.RemoteAddr())
			c.Close()
			continue
		}
		go s.ServeConn(uc)
	}
}

// Close closes every listener and connection.
func (s *Server) Close() error {
	s.closing.Store(true)
	s.mu.Lock()
	ls := make([]net.Listener, 0, len(s.listeners))
	for l := range s.listeners {
		ls = append(ls, l)
	}
	cs := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		cs = append(cs, c)
	}
	s.mu.Unlock()
	for _, l := range ls {
		l.Close()
	}
	for _, c := range cs {
		c.close()
	}
	s.bcast.stop()
	return nil
}

// OnDisconnect registers f to run (on its own goroutine) with the unique
// name of every client that leaves the bus.
func (s *Server) OnDisconnect(f func(unique string)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onDisconnect = append(s.onDisconnect, f)
}

// AddServedName makes the broker own name on this bus.
func (s *Server) AddServedName(name string) {
	s.mu.Lock()
	s.served[name] = struct{}{}
	s.mu.Unlock()
	s.busSignal("", "NameOwnerChanged", name, "", BrokerName)
}

// isServed reports whether name is answered by the broker itself.
func (s *Server) isServed(name string) bool {
	if name == BrokerName {
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.served[name]
	return ok
}

// lookup returns the connection owning name, or nil.
func (s *Server) lookup(name string) *conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.byName[name]
}

// ownerOf resolves a name to the unique name that owns it ("" if none).
func (s *Server) ownerOf(name string) string {
	if name == busName {
		return busName
	}
	if name == BrokerName {
		return BrokerName
	}
	if r, ok := s.cfg.Relay.(OwnedRelay); ok && r.Owned(name) {
		return BrokerName
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.served[name]; ok {
		return BrokerName
	}
	if c := s.byName[name]; c != nil {
		return c.uniqueName()
	}
	return ""
}

// register admits a new connection, enforcing MaxConnections.
func (s *Server) register(c *conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing.Load() || len(s.conns) >= s.limits.MaxConnections {
		return false
	}
	s.conns[c] = struct{}{}
	return true
}

// assignUnique gives c its unique name (at Hello).
func (s *Server) assignUnique(c *conn) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	name := ":1." + strconv.FormatUint(s.nextID, 10)
	s.nextID++
	c.setUnique(name)
	s.byName[name] = c
	return name
}

// unregister removes c and everything it owned.
func (s *Server) unregister(c *conn) {
	unique := c.uniqueName()
	s.mu.Lock()
	if _, ok := s.conns[c]; !ok {
		s.mu.Unlock()
		return
	}
	delete(s.conns, c)
	c.mu.Lock()
	s.budget.rules.Add(-int64(len(c.matches)))
	c.matches = nil
	c.mu.Unlock()
	var released []string
	for name, owner := range s.byName {
		if owner == c {
			delete(s.byName, name)
			if name != unique {
				released = append(released, name)
			}
		}
	}
	others := make([]*conn, 0, len(s.conns))
	for o := range s.conns {
		others = append(others, o)
	}
	cbs := append([]func(string){}, s.onDisconnect...)
	s.mu.Unlock()

	if unique == "" {
		return
	}
	if k := s.cfg.Keeper; k != nil {
		s.keepMu.Lock()
		k.Forget(unique)
		s.keepMu.Unlock()
	}
	for _, name := range released {
		s.busSignal("", "NameOwnerChanged", name, unique, "")
	}
	s.busSignal("", "NameOwnerChanged", unique, unique, "")
	// Calls made by c that others still owe a reply to can never be
	// answered now: forget them so the peers cannot send unsolicited
	// replies later.
	for _, o := range others {
		o.forgetCaller(unique)
	}
	// Calls c owed replies to: answer NoReply so callers do not hang.
	for _, k := range c.drainExpected() {
		if caller := s.lookup(k.caller); caller != nil {
			caller.pendingOut.Add(-1)
			caller.sendError(k.serial, unique, "org.freedesktop.DBus.Error.NoReply", "the peer disconnected before replying")
		}
	}
	for _, f := range cbs {
		go f(unique)
	}
}

// Emit broadcasts a signal from the broker to every connection with a
// matching rule.
func (s *Server) Emit(path dbus.ObjectPath, iface, member string, body ...any) {
	s.broadcast(BrokerName, path, iface, member, body)
}

// EmitTo sends a unicast signal from the broker to dest (a unique name).
// Portal Request.Response is sent this way: only the caller sees it.
func (s *Server) EmitTo(dest string, path dbus.ObjectPath, iface, member string, body ...any) error {
	c := s.lookup(dest)
	if c == nil || c.uniqueName() != dest {
		return fmt.Errorf("cannot emit %s.%s to %s: no such connection", iface, member, dest)
	}
	msg := signalMessage(BrokerName, path, iface, member, body)
	msg.Headers[dbus.FieldDestination] = dbus.MakeVariant(dest)
	of, err := encodeMessage(msg, s.nextSerial())
	if err != nil {
		return fmt.Errorf("cannot emit %s.%s to %s: %w", iface, member, dest, err)
	}
	if !c.send(of, false) {
		return fmt.Errorf("cannot emit %s.%s to %s: connection closed", iface, member, dest)
	}
	return nil
}

func signalMessage(sender string, path dbus.ObjectPath, iface, member string, body []any) *dbus.Message {
	msg := &dbus.Message{
		Type: dbus.TypeSignal,
		Headers: map[dbus.HeaderField]dbus.Variant{
			dbus.FieldSender:    dbus.MakeVariant(sender),
			dbus.FieldPath:      dbus.MakeVariant(path),
			dbus.FieldInterface: dbus.MakeVariant(iface),
			dbus.FieldMember:    dbus.MakeVariant(member),
		},
		Body: body,
	}
	if len(body) > 0 {
		msg.Headers[dbus.FieldSignature] = dbus.MakeVariant(dbus.SignatureOf(body...))
	}
	return msg
}

// busSignal emits an org.freedesktop.DBus signal; dest "" broadcasts.
func (s *Server) busSignal(dest, member string, body ...any) {
	msg := signalMessage(busName, "/org/freedesktop/DBus", busName, member, body)
	if dest == "" {
		s.broadcastMsg(msg, nil)
		return
	}
	msg.Headers[dbus.FieldDestination] = dbus.MakeVariant(dest)
	if c := s.lookup(dest); c != nil {
		if of, err := encodeMessage(msg, s.nextSerial()); err == nil {
			c.send(of, false)
		}
	}
}

func (s *Server) broadcast(sender string, path dbus.ObjectPath, iface, member string, body []any) {
	s.broadcastMsg(signalMessage(sender, path, iface, member, body), nil)
}
