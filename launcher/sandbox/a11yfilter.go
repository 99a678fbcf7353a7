package sandbox

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"

	"github.com/godbus/dbus/v5"
)

// a11yFilter is a second stage in front of the sandbox's xdg-dbus-proxy, in
// the launcher: it joins each connection the sandbox makes on its
// accessibility socket to the proxy, and drops the broadcast signals coming
// back unless they are the bus's own (names coming and going) or the
// registry's EventListenerRegistered/Deregistered.
//
// Why: since xdg-dbus-proxy 0.1.6 (commit 0297845, "Don't require TALK
// permission for broadcast rules") a name the client may TALK to passes all
// of its broadcasts, and any --call rule gives TALK: Flatpak's own
// --broadcast rules no longer narrow anything. The registry broadcasts, to
// whoever adds a match rule, the pointer's position and buttons anywhere on
// the screen (org.a11y.atspi.Event.Mouse Abs/Rel/Button) and the modifier
// keys (org.a11y.atspi.Event.Keyboard Modifiers) once any screen reader
// listens for mouse events (at-spi2-core, registryd/deviceeventcontroller.c,
// spi_dec_dbus_emit), and the desktop's ChildrenChanged. Debian 12's 0.1.4
// still filters them; this stage makes it hold whichever version runs.
//
// It also refuses descriptor passing (NEGOTIATE_UNIX_FD gets ERROR): AT-SPI
// passes none, and a plain byte relay could not carry them.
type a11yFilter struct {
	l        *net.UnixListener
	upstream string // the xdg-dbus-proxy socket

	// mu guards conns and closed: the connections being relayed, closed
	// all at once by Close.
	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
}

// maxA11yMessage is the D-Bus limit on a message's length (2^27).
const maxA11yMessage = 1 << 27

// maxA11yConns bounds the connections a sandbox keeps open through the
// filter (each holds one to the proxy, and the proxy one to the bus): an
// application makes one or two.
const maxA11yConns = 32

func newA11yFilter(path, upstream string) (*a11yFilter, error) {
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, err
	}
	f := &a11yFilter{l: l, upstream: upstream, conns: map[net.Conn]struct{}{}}
	go f.serve()
	return f, nil
}

func (f *a11yFilter) serve() {
	for {
		c, err := f.l.AcceptUnix()
		if err != nil {
			return
		}
		go f.handle(c)
	}
}

func (f *a11yFilter) track(cs ...net.Conn) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed || len(f.conns)+len(cs) > 2*maxA11yConns {
		return false
	}
	for _, c := range cs {
		f.conns[c] = struct{}{}
	}
	return true
}

func (f *a11yFilter) untrack(cs ...net.Conn) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range cs {
		delete(f.conns, c)
		c.Close()
	}
}

// Close stops accepting, ends every relayed connection and removes the
// socket.
func (f *a11yFilter) Close() {
	f.l.Close()
	f.mu.Lock()
	f.closed = true
	for c := range f.conns {
		c.Close()
	}
	f.mu.Unlock()
}

func (f *a11yFilter) handle(c *net.UnixConn) {
	f.mu.Lock()
	full := len(f.conns) >= 2*maxA11yConns
	f.mu.Unlock()
	if full {
		c.Close()
		return
	}
	up, err := net.Dial("unix", f.upstream)
	if err != nil {
		c.Close()
		return
	}
	if !f.track(c, up) {
		c.Close()
		up.Close()
		return
	}
	defer f.untrack(c, up)
	cr, ur := bufio.NewReader(c), bufio.NewReader(up)
	if err := relayAuth(cr, c, ur, up); err != nil {
		return
	}
	go func() {
		io.Copy(up, cr)
		up.(*net.UnixConn).CloseWrite()
	}()
	filterBroadcasts(ur, c)
}

// relayAuth carries the SASL exchange (D-Bus specification, "Authentication
// protocol") line by line: one client command, one server reply, up to
// BEGIN; NEGOTIATE_UNIX_FD is answered here with ERROR.
func relayAuth(cr *bufio.Reader, c io.Writer, ur *bufio.Reader, up io.Writer) error {
	if b, err := cr.ReadByte(); err != nil || b != 0 {
		return errors.New("no leading nul byte")
	}
	if _, err := up.Write([]byte{0}); err != nil {
		return err
	}
	for range 32 {
		line, err := readAuthLine(cr)
		if err != nil {
			return err
		}
		cmd, _, _ := bytes.Cut(bytes.TrimRight(line, "\r\n"), []byte(" "))
		switch string(cmd) {
		case "BEGIN":
			_, err := up.Write(line)
			return err
		case "NEGOTIATE_UNIX_FD":
			if _, err := io.WriteString(c, "ERROR \"descriptor passing is not available on this bus\"\r\n"); err != nil {
				return err
			}
			continue
		}
		if _, err := up.Write(line); err != nil {
			return err
		}
		reply, err := readAuthLine(ur)
		if err != nil {
			return err
		}
		if _, err := c.Write(reply); err != nil {
			return err
		}
	}
	return errors.New("authentication does not end")
}

func readAuthLine(r *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		b, err := r.ReadByte()
		if err != nil {
			return nil, err
		}
		line = append(line, b)
		if b == '\n' {
			if !bytes.HasSuffix(line, []byte("\r\n")) {
				return nil, errors.New("authentication line without CR LF")
			}
			return line, nil
		}
		if len(line) > 16384 {
			return nil, errors.New("authentication line too long")
		}
	}
}

// filterBroadcasts copies messages from the bus to the sandbox, whole, and
// drops the broadcast signals a11yBroadcastAllowed refuses. A message it
// cannot frame ends the connection.
func filterBroadcasts(ur io.Reader, c io.Writer) error {
	hdr := make([]byte, 16)
	for {
		if _, err := io.ReadFull(ur, hdr); err != nil {
			return err
		}
		var bo binary.ByteOrder
		switch hdr[0] {
		case 'l':
			bo = binary.LittleEndian
		case 'B':
			bo = binary.BigEndian
		default:
			return fmt.Errorf("bad byte order %q", hdr[0])
		}
		fields := uint64(bo.Uint32(hdr[12:16]))
		total := 16 + (fields+7)&^7 + uint64(bo.Uint32(hdr[4:8]))
		if total > maxA11yMessage {
			return fmt.Errorf("message of %d bytes", total)
		}
		msg := make([]byte, total)
		copy(msg, hdr)
		if _, err := io.ReadFull(ur, msg[16:]); err != nil {
			return err
		}
		if hdr[1] == byte(dbus.TypeSignal) && !a11yBroadcastAllowed(msg) {
			continue
		}
		if _, err := c.Write(msg); err != nil {
			return err
		}
	}
}

// a11yBroadcastAllowed reports whether a signal may reach the sandbox:
// unicast ones (addressed to it), the bus's own, and the registry's news of
// event listeners, which atk-bridge needs to send the events someone
// listens to.
func a11yBroadcastAllowed(msg []byte) bool {
	m, err := dbus.DecodeMessage(bytes.NewReader(msg))
	if err != nil {
		return false
	}
	if _, unicast := m.Headers[dbus.FieldDestination]; unicast {
		return true
	}
	sender, _ := m.Headers[dbus.FieldSender].Value().(string)
	path, _ := m.Headers[dbus.FieldPath].Value().(dbus.ObjectPath)
	iface, _ := m.Headers[dbus.FieldInterface].Value().(string)
	member, _ := m.Headers[dbus.FieldMember].Value().(string)
	switch {
	case sender == "org.freedesktop.DBus":
		return true
	case path == "/org/a11y/atspi/registry" && iface == "org.a11y.atspi.Registry" &&
		(member == "EventListenerRegistered" || member == "EventListenerDeregistered"):
		return true
	}
	return false
}
