package sandbox

// The launcher, init and the host-view process talk over SOCK_SEQPACKET
// socket pairs, in one framed message type, as runc's libcontainer/sync.go
// does between runc and its init. The plan itself travels in init's
// environment (one wake-up less per launch, spec.go); everything after goes
// here:
//
//	launcher (host)                     init (pid 1)                host view
//	     |  clone+exec, $AIRLOCK_INIT_PLAN   |                          |
//	     |---------------------------------->|                          |
//	     |                                   |-- clone+exec (NativeGrants, host's tree still visible)
//	     |                                   |------------------------->|
//	     |                                   | builds the root (Plan.Ops)
//	     |<------- msgTorSocket [fd] --------|  if TorListener          |
//	     |<------- msgBusSocket [fd] --------|  if BusSocket            |
//	     |<------- msgReady -----------------|  if Handshake            |
//	     |-------- msgGo | msgAbort -------->|                          |
//	     |                                   | execs the application    |
//	     |  ... the application runs ...     |                          |
//	     |-------- msgBind {host,inside} --->|                          |
//	     |                                   |--- msgClone {host} ----->|
//	     |                                   |<-- msgMount [fd]         |
//	     |                                   |    | msgError {error} ---|
//	     |<------- msgOK | msgError {error} -|                          |
//	     |-------- msgUnbind {inside} ------>|                          |
//	     |<------- msgOK | msgError {error} -|                          |
//
// A frame is one datagram: a fixed header, then a JSON payload, with the
// descriptors of the message (SCM_RIGHTS) attached to it:
//
//	0          4        6        8
//	+----------+--------+--------+---------------------+
//	| len (LE) |  type  |  nfds  | payload (len bytes) |
//	+----------+--------+--------+---------------------+
//
// Each type carries a fixed number of descriptors. The receiver names the
// types it accepts at each step: anything else (another type, a short,
// oversized or malformed frame, the wrong number of descriptors) is an error
// that ends the exchange, and every descriptor that came with the frame is
// closed.

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"golang.org/x/sys/unix"
)

type msgType uint16

const (
	msgTorSocket msgType = iota + 1 // init to launcher: the listening Tor socket (1 fd)
	msgBusSocket                    // init to launcher: the listening bus socket (1 fd)
	msgReady                        // init to launcher: built, waiting for msgGo
	msgGo                           // launcher to init: start the application
	msgAbort                        // launcher to init: do not
	msgBind                         // launcher to init: bind Host read-only over Inside
	msgUnbind                       // launcher to init: remove the bind on Inside
	msgClone                        // init to host view: clone Host into a detached mount
	msgMount                        // host view to init: the detached mount (1 fd)
	msgOK                           // an answer: done
	msgError                        // an answer: failed, with Error
)

// msgTypes names each type and says how many descriptors it carries.
var msgTypes = map[msgType]struct {
	name string
	fds  int
}{
	msgTorSocket: {"tor-socket", 1},
	msgBusSocket: {"bus-socket", 1},
	msgReady:     {"ready", 0},
	msgGo:        {"go", 0},
	msgAbort:     {"abort", 0},
	msgBind:      {"bind", 0},
	msgUnbind:    {"unbind", 0},
	msgClone:     {"clone", 0},
	msgMount:     {"mount", 1},
	msgOK:        {"ok", 0},
	msgError:     {"error", 0},
}

func (t msgType) String() string {
	if i, ok := msgTypes[t]; ok {
		return i.name
	}
	return fmt.Sprintf("type %d", uint16(t))
}

const (
	frameHeader = 8
	// maxPayload bounds a frame: two paths of PATH_MAX, JSON-escaped, fit.
	maxPayload = 64 << 10
	maxFDs     = 1
)

// payload is the JSON part of a message; which fields a type uses is said
// next to the type.
type payload struct {
	Host   string `json:"host,omitempty"`
	Inside string `json:"inside,omitempty"`
	Error  string `json:"error,omitempty"`
}

// message is one frame. The receiver owns FDs.
type message struct {
	Type msgType
	payload
	FDs []int
}

// remoteError is a msgError answer: the request failed on the other side,
// the exchange itself is sound.
type remoteError struct{ msg string }

func (e *remoteError) Error() string { return e.msg }

// send writes one frame on the socket sock.
func send(sock int, m message) error {
	info, ok := msgTypes[m.Type]
	if !ok {
		return fmt.Errorf("cannot send %v: unknown message", m.Type)
	}
	if len(m.FDs) != info.fds {
		return fmt.Errorf("cannot send %v with %d descriptors", m.Type, len(m.FDs))
	}
	body, err := json.Marshal(m.payload)
	if err != nil {
		return err
	}
	if len(body) > maxPayload {
		return fmt.Errorf("cannot send %v: %d bytes is too large", m.Type, len(body))
	}
	frame := make([]byte, frameHeader, frameHeader+len(body))
	binary.LittleEndian.PutUint32(frame[0:], uint32(len(body)))
	binary.LittleEndian.PutUint16(frame[4:], uint16(m.Type))
	binary.LittleEndian.PutUint16(frame[6:], uint16(len(m.FDs)))
	frame = append(frame, body...)
	var oob []byte
	if len(m.FDs) > 0 {
		oob = unix.UnixRights(m.FDs...)
	}
	if err := unix.Sendmsg(sock, frame, oob, nil, 0); err != nil {
		return fmt.Errorf("cannot send %v: %w", m.Type, err)
	}
	return nil
}

// recv reads one frame of one of the types in want from the socket sock. It
// returns io.EOF when the other side has gone.
func recv(sock int, want ...msgType) (message, error) {
	buf := make([]byte, frameHeader+maxPayload)
	oob := make([]byte, unix.CmsgSpace(4*maxFDs))
	n, oobn, flags, _, err := unix.Recvmsg(sock, buf, oob, unix.MSG_CMSG_CLOEXEC)
	if err != nil {
		return message{}, err
	}
	fds, ferr := parseRights(oob[:oobn])
	m, err := parseFrame(buf[:n], flags, fds, want)
	if err == nil {
		err = ferr
	}
	if err != nil {
		for _, fd := range fds {
			unix.Close(fd)
		}
		return message{}, err
	}
	return m, nil
}

// parseRights returns the descriptors of a control message. It returns all
// it found even with an error, so that the caller can close them.
func parseRights(oob []byte) ([]int, error) {
	if len(oob) == 0 {
		return nil, nil
	}
	cmsgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return nil, fmt.Errorf("bad control message: %w", err)
	}
	var fds []int
	for i := range cmsgs {
		got, err := unix.ParseUnixRights(&cmsgs[i])
		if err != nil {
			return fds, fmt.Errorf("bad control message: %w", err)
		}
		fds = append(fds, got...)
	}
	return fds, nil
}

func parseFrame(b []byte, flags int, fds []int, want []msgType) (message, error) {
	if len(b) == 0 && len(fds) == 0 {
		return message{}, io.EOF
	}
	if flags&unix.MSG_TRUNC != 0 {
		return message{}, errors.New("oversized frame")
	}
	if flags&unix.MSG_CTRUNC != 0 {
		return message{}, errors.New("too many descriptors with a frame")
	}
	if len(b) < frameHeader {
		return message{}, fmt.Errorf("truncated frame (%d bytes)", len(b))
	}
	size := binary.LittleEndian.Uint32(b[0:])
	m := message{Type: msgType(binary.LittleEndian.Uint16(b[4:])), FDs: fds}
	nfds := int(binary.LittleEndian.Uint16(b[6:]))
	if int64(size) != int64(len(b)-frameHeader) {
		return message{}, fmt.Errorf("truncated frame (%d bytes of payload, header says %d)", len(b)-frameHeader, size)
	}
	info, known := msgTypes[m.Type]
	wanted := false
	for _, w := range want {
		wanted = wanted || w == m.Type
	}
	if !known || !wanted {
		names := make([]string, len(want))
		for i, w := range want {
			names[i] = w.String()
		}
		return message{}, fmt.Errorf("unexpected message %v (expected %s)", m.Type, strings.Join(names, " or "))
	}
	if nfds != len(fds) || nfds != info.fds {
		return message{}, fmt.Errorf("message %v came with %d descriptors (header says %d, expected %d)", m.Type, len(fds), nfds, info.fds)
	}
	if err := json.Unmarshal(b[frameHeader:], &m.payload); err != nil {
		return message{}, fmt.Errorf("bad %v payload: %w", m.Type, err)
	}
	return m, nil
}

// call sends a request and waits for its answer, one of want or msgError
// (returned as a *remoteError).
func call(sock int, req message, want ...msgType) (message, error) {
	if err := send(sock, req); err != nil {
		return message{}, err
	}
	m, err := recv(sock, append(want, msgError)...)
	if err != nil {
		return message{}, err
	}
	if m.Type == msgError {
		return message{}, &remoteError{m.Error}
	}
	return m, nil
}

// answer sends msgOK, or msgError with err.
func answer(sock int, err error) error {
	if err != nil {
		return send(sock, message{Type: msgError, payload: payload{Error: err.Error()}})
	}
	return send(sock, message{Type: msgOK})
}
