package busserver

import (
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
)

// ConnState is what a connection's client relies on beyond the socket
// itself: enough for another broker to carry on serving the same socket
// after this one died (Adopt), without the client noticing.
type ConnState struct {
	Unique  string          // the unique name Hello gave it
	Matches []string        // its match rules, as it sent them
	Names   map[string]bool // well-known names it owns -> allows replacement
	UnixFD  bool            // it negotiated unix fd passing
}

// Keeper keeps every authenticated connection alive outside the broker,
// so that a broker crash does not close it: the launcher of the sandbox
// holds a duplicate of each connection and its latest state, and hands
// both to the next broker (Adopt).
//
// Calls are serialised and made in the order the changes happened, on the
// goroutine that made the change, before the client is answered: once a
// client sees the reply to its Hello (or AddMatch, RequestName...), the
// keeper has the state that reply implies.
type Keeper interface {
	// Keep records uc's state after Hello and after every change of it.
	// The keeper duplicates uc the first time it sees st.Unique (passing
	// it over a socket does); it must not read from or write to it.
	Keep(uc *net.UnixConn, st ConnState)
	// Forget says the connection with that unique name left the bus (its
	// socket is already shut down): the keeper drops its duplicate.
	Forget(unique string)
}

// state snapshots what Keep records.
func (c *conn) state() ConnState {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := ConnState{Unique: c.unique, UnixFD: c.unixFD, Names: make(map[string]bool, len(c.names))}
	for _, r := range c.matches {
		st.Matches = append(st.Matches, r.src)
	}
	for n, repl := range c.names {
		st.Names[n] = repl
	}
	return st
}

// keep tells the keeper c's current state, if c is still on the bus.
func (c *conn) keep() {
	s := c.s
	k := s.cfg.Keeper
	if k == nil {
		return
	}
	s.keepMu.Lock()
	defer s.keepMu.Unlock()
	s.mu.Lock()
	_, live := s.conns[c]
	s.mu.Unlock()
	if !live || c.uniqueName() == "" {
		return
	}
	k.Keep(c.c, c.state())
}

// uniqueNumber returns N of a unique name ":1.N" (N >= 1: ":1.0" is the
// broker's own).
func uniqueNumber(u string) (uint64, bool) {
	rest, ok := strings.CutPrefix(u, ":1.")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseUint(rest, 10, 64)
	if err != nil || n == 0 || strconv.FormatUint(n, 10) != rest {
		return 0, false
	}
	return n, true
}

// Adopt serves a connection that another broker (now dead) authenticated
// and said Hello on, restoring st: no SASL, no Hello, the same unique
// name, match rules, owned names and fd passing. Nothing is emitted to
// anyone: for the client, nothing happened. Unique names handed out later
// never collide with restored ones.
//
// The byte stream is taken as it is in the socket. If the dead broker had
// read part of a message (or written part of one), the stream is no longer
// at a message boundary: the next read fails to parse and the connection
// is closed, like any malformed stream. Calls the dead broker had read but
// not answered are lost: their callers time out.
//
// Adopt takes uc whatever happens (it is closed on error) and returns once
// the connection is registered; serving goes on in the background.
func (s *Server) Adopt(uc *net.UnixConn, st ConnState) error {
	uid, err := peerUID(uc)
	if err != nil {
		uc.Close()
		return fmt.Errorf("cannot read peer credentials: %w", err)
	}
	if uid != s.cfg.UID {
		// The same wall as for a new connection: the launcher is trusted,
		// but a socket of another user never joins a sandbox's bus.
		uc.Close()
		return fmt.Errorf("peer uid %d is not %d", uid, s.cfg.UID)
	}
	n, ok := uniqueNumber(st.Unique)
	if !ok {
		uc.Close()
		return fmt.Errorf("cannot adopt a connection named %q", st.Unique)
	}
	c := s.newConn(uc)
	c.unixFD = st.UnixFD
	for _, rule := range st.Matches {
		r, err := parseMatchRule(rule)
		if err != nil || len(c.matches) >= s.limits.MaxMatchRules || s.budget.rules.Load()+int64(len(c.matches)) >= int64(s.limits.MaxMatchRulesPerSandbox) {
			s.log.Warn("adopted connection: match rule dropped", "conn", st.Unique, "rule", rule, "err", err)
			continue
		}
		c.matches = append(c.matches, r)
	}
	var names []string
	for name := range st.Names {
		if strings.HasPrefix(name, ":") || !validBusName(name) || s.reservedName(name) != "" {
			s.log.Warn("adopted connection: name not restored", "conn", st.Unique, "name", name)
			continue
		}
		names = append(names, name)
	}

	s.mu.Lock()
	if s.closing.Load() || len(s.conns) >= s.limits.MaxConnections {
		s.mu.Unlock()
		uc.Close()
		return errors.New("connection limit reached or server closing")
	}
	if s.byName[st.Unique] != nil {
		s.mu.Unlock()
		uc.Close()
		return fmt.Errorf("unique name %s is already in use", st.Unique)
	}
	s.conns[c] = struct{}{}
	c.unique = st.Unique
	s.byName[st.Unique] = c
	if n >= s.nextID {
		s.nextID = n + 1
	}
	for _, name := range names {
		if s.byName[name] != nil || len(c.names) >= s.limits.MaxNamesPerConn {
			s.log.Warn("adopted connection: name not restored", "conn", st.Unique, "name", name)
			continue
		}
		s.byName[name] = c
		c.names[name] = st.Names[name]
	}
	s.budget.rules.Add(int64(len(c.matches)))
	s.mu.Unlock()

	c.keep()
	s.log.Info("adopted a connection from a broker that ended", "conn", st.Unique, "rules", len(c.matches), "names", len(c.names))
	go func() {
		defer s.unregister(c)
		defer c.close()
		go c.writer()
		wr := newWireReader(c.c)
		defer wr.closeFDs()
		if err := c.loop(wr); err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
			c.log.Warn("closing adopted sandbox bus connection", "err", err)
		}
	}()
	return nil
}
