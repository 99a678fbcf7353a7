package busserver

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"

	"github.com/godbus/dbus/v5"
	"golang.org/x/sys/unix"
)

// fixedHeaderLen is the part of every D-Bus message that precedes the header
// fields: endianness, type, flags, version, body length, serial, and the
// length of the header-field array.
const fixedHeaderLen = 16

// maxFDsPerMessage bounds how many descriptors one message may carry; the
// reference bus uses the same order of magnitude.
const maxFDsPerMessage = 64

// maxQueuedFDs bounds the descriptors a peer may park on its connection
// before a message claims them.
const maxQueuedFDs = 256

// errProtocol marks a violation of the wire protocol: the connection that
// sent it is closed, nothing else is affected.
var errProtocol = errors.New("protocol violation")

// msgSource is what the wire reader needs from a socket: *net.UnixConn
// satisfies it, and the fuzz targets feed it from memory.
type msgSource interface {
	ReadMsgUnix(b, oob []byte) (n, oobn, flags int, addr *net.UnixAddr, err error)
}

// wireReader buffers a connection's byte stream and the descriptors that
// arrive alongside it. It is used first by the SASL handshake (lines) and
// then by the message loop (frames), so bytes that a client pipelines after
// BEGIN are not lost.
type wireReader struct {
	src  msgSource
	buf  []byte
	r, w int
	oob  []byte
	fds  []int

	// Set by the message loop: the sandbox's budget (nil: none), closed
	// when the connection ends, the largest estimated decode cost of one
	// message, and what to do when the sandbox is slowed down.
	budget     *budget
	done       <-chan struct{}
	maxCost    int64
	onThrottle func()
}

func newWireReader(src msgSource) *wireReader {
	return &wireReader{
		src: src,
		buf: make([]byte, 64*1024),
		oob: make([]byte, unix.CmsgSpace(maxFDsPerMessage*4)),
	}
}

// fill reads more bytes from the source, collecting any descriptors.
func (wr *wireReader) fill() error {
	if wr.r > 0 {
		copy(wr.buf, wr.buf[wr.r:wr.w])
		wr.w -= wr.r
		wr.r = 0
	}
	if wr.w == len(wr.buf) {
		return fmt.Errorf("read buffer full: %w", errProtocol)
	}
	n, err := wr.readInto(wr.buf[wr.w:])
	wr.w += n
	return err
}

// readInto reads at most len(b) bytes from the source into b, collecting
// any descriptors; it returns io.EOF at the end of the stream.
func (wr *wireReader) readInto(b []byte) (int, error) {
	n, oobn, flags, _, err := wr.src.ReadMsgUnix(b, wr.oob)
	if oobn > 0 {
		if perr := wr.parseRights(wr.oob[:oobn]); perr != nil {
			return 0, perr
		}
	}
	if flags&unix.MSG_CTRUNC != 0 {
		// The kernel dropped descriptors: the message stream no longer
		// matches the descriptors we hold, so nothing after this is
		// trustworthy.
		return 0, fmt.Errorf("control message truncated: %w", errProtocol)
	}
	if n == 0 && err == nil {
		err = io.EOF
	}
	if n > 0 {
		return n, nil
	}
	return 0, err
}

func (wr *wireReader) parseRights(oob []byte) error {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return fmt.Errorf("cannot parse control message: %w", errProtocol)
	}
	for i := range msgs {
		if msgs[i].Header.Level != unix.SOL_SOCKET || msgs[i].Header.Type != unix.SCM_RIGHTS {
			continue
		}
		fds, err := unix.ParseUnixRights(&msgs[i])
		if err != nil {
			return fmt.Errorf("cannot parse passed descriptors: %w", errProtocol)
		}
		wr.fds = append(wr.fds, fds...)
	}
	if len(wr.fds) > maxQueuedFDs {
		return fmt.Errorf("too many queued descriptors: %w", errProtocol)
	}
	return nil
}

// takeFDs removes the first n queued descriptors.
func (wr *wireReader) takeFDs(n int) ([]int, error) {
	if n > len(wr.fds) {
		return nil, fmt.Errorf("message claims %d descriptors, %d received: %w", n, len(wr.fds), errProtocol)
	}
	fds := append([]int(nil), wr.fds[:n]...)
	wr.fds = wr.fds[n:]
	return fds, nil
}

// closeFDs closes every queued descriptor: we own what peers send us.
func (wr *wireReader) closeFDs() {
	closeAll(wr.fds)
	wr.fds = nil
}

func closeAll(fds []int) {
	for _, fd := range fds {
		unix.Close(fd)
	}
}

// readByte returns one byte.
func (wr *wireReader) readByte() (byte, error) {
	for wr.r == wr.w {
		if err := wr.fill(); err != nil {
			return 0, err
		}
	}
	b := wr.buf[wr.r]
	wr.r++
	return b, nil
}

// readLine returns one CRLF-terminated SASL line without its terminator.
func (wr *wireReader) readLine(max int) ([]byte, error) {
	for {
		if i := bytes.Index(wr.buf[wr.r:wr.w], []byte("\r\n")); i >= 0 {
			if i > max {
				return nil, fmt.Errorf("authentication line too long: %w", errProtocol)
			}
			line := append([]byte(nil), wr.buf[wr.r:wr.r+i]...)
			wr.r += i + 2
			return line, nil
		}
		if wr.w-wr.r > max+1 {
			return nil, fmt.Errorf("authentication line too long: %w", errProtocol)
		}
		if err := wr.fill(); err != nil {
			return nil, err
		}
	}
}

// readFull returns the next n bytes of the stream in a slice of their own.
// A frame larger than the buffer is read straight into its own slice, never
// past its end (so the buffer itself never grows); the caller has bounded n
// and, for large frames, charged it to the sandbox's budget.
func (wr *wireReader) readFull(n int) ([]byte, error) {
	if n > len(wr.buf) {
		b := make([]byte, n)
		k := copy(b, wr.buf[wr.r:wr.w])
		wr.r += k
		for k < n {
			m, err := wr.readInto(b[k:])
			k += m
			if err != nil {
				if errors.Is(err, io.EOF) && k > 0 {
					return nil, io.ErrUnexpectedEOF
				}
				return nil, err
			}
		}
		return b, nil
	}
	for wr.w-wr.r < n {
		if err := wr.fill(); err != nil {
			if errors.Is(err, io.EOF) && wr.w-wr.r > 0 {
				return nil, io.ErrUnexpectedEOF
			}
			return nil, err
		}
	}
	b := append([]byte(nil), wr.buf[wr.r:wr.r+n]...)
	wr.r += n
	return b, nil
}

// frame is one received message: its raw bytes (kept so that bodies are
// forwarded byte for byte), its decoded form, and the descriptors it owns.
type frame struct {
	raw       []byte
	order     binary.ByteOrder
	bodyStart int
	msg       *dbus.Message
	fds       []int
	// release returns what the frame holds of its sandbox's budget; it is
	// called once the frame is dispatched.
	release func()
}

// done releases the frame's share of the budget.
func (f *frame) done() {
	if f.release != nil {
		f.release()
		f.release = nil
	}
}

func align8(n uint64) uint64 { return (n + 7) &^ 7 }

// frameLength validates the fixed header and returns the total message size.
// The size is computed in 64 bits and checked against our own limit before a
// single body byte is buffered: a peer declaring a 200 MiB body is closed
// here, not after we allocated for it.
func frameLength(hdr []byte, max int) (int, binary.ByteOrder, error) {
	var order binary.ByteOrder
	switch hdr[0] {
	case 'l':
		order = binary.LittleEndian
	case 'B':
		order = binary.BigEndian
	default:
		return 0, nil, fmt.Errorf("invalid byte order %q: %w", hdr[0], errProtocol)
	}
	if hdr[3] != 1 {
		return 0, nil, fmt.Errorf("unsupported protocol version %d: %w", hdr[3], errProtocol)
	}
	bodyLen := uint64(order.Uint32(hdr[4:8]))
	fieldsLen := uint64(order.Uint32(hdr[12:16]))
	total := align8(fixedHeaderLen+fieldsLen) + bodyLen
	if total > uint64(max) {
		return 0, nil, fmt.Errorf("message of %d bytes exceeds limit of %d: %w", total, max, errProtocol)
	}
	return int(total), order, nil
}

// readFrame reads, bounds and decodes one message. Any error is fatal for
// the connection. With a budget (conn.loop sets one), reading and decoding
// wait for the sandbox's budget; the frame's release gives it back.
func (wr *wireReader) readFrame(maxSize int, fdsAllowed bool) (*frame, error) {
	for wr.w-wr.r < fixedHeaderLen {
		if err := wr.fill(); err != nil {
			if errors.Is(err, io.EOF) && wr.w-wr.r > 0 {
				return nil, io.ErrUnexpectedEOF
			}
			return nil, err
		}
	}
	total, order, err := frameLength(wr.buf[wr.r:wr.r+fixedHeaderLen], maxSize)
	if err != nil {
		return nil, err
	}
	var releases []func()
	release := func() {
		for _, r := range releases {
			r()
		}
	}
	b := wr.budget
	if b != nil && total > len(wr.buf) {
		r, ok := b.frameSem.acquire(int64(total), wr.done)
		if !ok {
			return nil, net.ErrClosed
		}
		releases = append(releases, r)
	}
	raw, err := wr.readFull(total)
	if err != nil {
		release()
		return nil, err
	}
	maxCost := wr.maxCost
	if maxCost <= 0 {
		maxCost = defaultMaxDecodeCost
	}
	cost, err := scanMessage(raw, order, maxCost)
	if err != nil {
		release()
		return nil, err
	}
	if b != nil {
		// Over its rate, the sandbox is read more slowly: this goroutine
		// waits, its socket fills, and its writers block.
		ok1, w1 := b.msgs.wait(1, wr.done)
		ok2, w2 := b.work.wait(float64(cost), wr.done)
		if !ok1 || !ok2 {
			release()
			return nil, net.ErrClosed
		}
		if (w1 || w2) && wr.onThrottle != nil {
			wr.onThrottle()
		}
		r, ok := b.decodeSem.acquire(cost, wr.done)
		if !ok {
			release()
			return nil, net.ErrClosed
		}
		releases = append(releases, r)
	}
	f, err := decodeFrame(raw, wr, fdsAllowed)
	if err != nil {
		release()
		return nil, err
	}
	f.release = release
	return f, nil
}

// defaultMaxDecodeCost bounds a message's estimated decode allocation when
// no Limits apply (the fuzz targets).
const defaultMaxDecodeCost = 8 << 20

// fdTaker hands a frame the descriptors its unix_fds header claims.
type fdTaker interface {
	takeFDs(n int) ([]int, error)
}

// decodeFrame decodes a complete, size-checked message. It is the single
// parser for everything a sandboxed client sends: whatever it accepts is
// re-emitted with a header we wrote ourselves, so there is no second parser
// to disagree with it (the CVE-2018-6560 class of bug in xdg-dbus-proxy was
// exactly such a differential between proxy and bus).
func decodeFrame(raw []byte, fdt fdTaker, fdsAllowed bool) (f *frame, err error) {
	defer func() {
		// The decoder recovers its own panics, but reflection over hostile
		// input is not somewhere to take chances.
		if r := recover(); r != nil {
			f, err = nil, fmt.Errorf("decoder panic %v: %w", r, errProtocol)
		}
	}()
	total, order, err := frameLength(raw[:fixedHeaderLen], len(raw))
	if err != nil {
		return nil, err
	}
	if total != len(raw) {
		return nil, fmt.Errorf("frame length mismatch: %w", errProtocol)
	}
	// First pass without descriptors: learn the header so we know how many
	// descriptors this message owns.
	msg, err := dbus.DecodeMessage(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("cannot decode message: %v: %w", err, errProtocol)
	}
	if msg.Serial() == 0 {
		return nil, fmt.Errorf("message with serial 0: %w", errProtocol)
	}
	nfds := 0
	if v, ok := msg.Headers[dbus.FieldUnixFDs]; ok {
		n, _ := v.Value().(uint32)
		if n > maxFDsPerMessage {
			return nil, fmt.Errorf("message claims %d descriptors: %w", n, errProtocol)
		}
		if n > 0 && !fdsAllowed {
			return nil, fmt.Errorf("descriptors sent without NEGOTIATE_UNIX_FD: %w", errProtocol)
		}
		nfds = int(n)
	}
	if err := checkHeader(msg); err != nil {
		return nil, err
	}
	var fds []int
	if nfds > 0 {
		if fds, err = fdt.takeFDs(nfds); err != nil {
			return nil, err
		}
		// Decode again so that 'h' values carry the real descriptors.
		msg, err = dbus.DecodeMessageWithFDs(bytes.NewReader(raw), fds)
		if err != nil {
			closeAll(fds)
			return nil, fmt.Errorf("cannot decode message: %v: %w", err, errProtocol)
		}
	}
	fieldsLen := uint64(order.Uint32(raw[12:16]))
	return &frame{
		raw:       raw,
		order:     order,
		bodyStart: int(align8(fixedHeaderLen + fieldsLen)),
		msg:       msg,
		fds:       fds,
	}, nil
}

// checkHeader adds the checks a bus must make that the decoder leaves out.
func checkHeader(msg *dbus.Message) error {
	if v, ok := msg.Headers[dbus.FieldDestination]; ok {
		d, _ := v.Value().(string)
		if !validBusName(d) {
			return fmt.Errorf("invalid destination %q: %w", d, errProtocol)
		}
	}
	if v, ok := msg.Headers[dbus.FieldSender]; ok {
		// Ignored (we overwrite it), but a malformed one is still a
		// malformed message.
		s, _ := v.Value().(string)
		if s != "" && !validBusName(s) {
			return fmt.Errorf("invalid sender %q: %w", s, errProtocol)
		}
	}
	if msg.Type == dbus.TypeMethodReply || msg.Type == dbus.TypeError {
		if v, ok := msg.Headers[dbus.FieldReplySerial]; !ok || v.Value().(uint32) == 0 {
			return fmt.Errorf("reply without reply serial: %w", errProtocol)
		}
	}
	if msg.Type == dbus.TypeSignal {
		if p, _ := msg.Headers[dbus.FieldPath].Value().(dbus.ObjectPath); p == "/org/freedesktop/DBus/Local" {
			return fmt.Errorf("signal on the reserved local path: %w", errProtocol)
		}
	}
	return nil
}

// outFrame is an encoded message ready to write, with the descriptors to
// pass alongside it (owned by the frame: closed once written or dropped).
type outFrame struct {
	b   []byte
	fds []int
}

// encodeMessage encodes a message generated by the broker with the given
// serial. godbus keeps the serial private, so it is patched into the fixed
// header (offset 8) after encoding.
func encodeMessage(msg *dbus.Message, serial uint32) (outFrame, error) {
	if len(msg.Body) > 0 {
		if _, ok := msg.Headers[dbus.FieldSignature]; !ok {
			msg.Headers[dbus.FieldSignature] = dbus.MakeVariant(dbus.SignatureOf(msg.Body...))
		}
	}
	var buf bytes.Buffer
	fds, err := msg.EncodeToWithFDs(&buf, binary.LittleEndian)
	if err != nil {
		return outFrame{}, fmt.Errorf("cannot encode message: %w", err)
	}
	b := buf.Bytes()
	binary.LittleEndian.PutUint32(b[8:12], serial)
	return outFrame{b: b, fds: fds}, nil
}

// reframe rebuilds a received message's header with the given fields and
// appends the original body bytes unchanged. godbus's decode/encode round
// trip is not faithful (structs decode to []any and would re-encode as
// arrays of variants), so bodies are never re-encoded: they were validated
// by decodeFrame and are forwarded exactly as validated.
func reframe(f *frame, headers map[dbus.HeaderField]dbus.Variant) (outFrame, error) {
	hmsg := &dbus.Message{Type: f.msg.Type, Flags: f.msg.Flags, Headers: headers}
	var buf bytes.Buffer
	if _, err := hmsg.EncodeToWithFDs(&buf, f.order); err != nil {
		return outFrame{}, fmt.Errorf("cannot encode header: %w", err)
	}
	b := buf.Bytes()
	body := f.raw[f.bodyStart:]
	f.order.PutUint32(b[4:8], uint32(len(body)))
	copy(b[8:12], f.raw[8:12]) // the sender's own serial
	b = append(b, body...)
	fds := f.fds
	f.fds = nil
	return outFrame{b: b, fds: fds}, nil
}

// writeFrame writes a frame; descriptors ride on the first chunk.
func writeFrame(c *net.UnixConn, of outFrame) error {
	if len(of.fds) == 0 {
		_, err := c.Write(of.b)
		return err
	}
	n, _, err := c.WriteMsgUnix(of.b, syscall.UnixRights(of.fds...), nil)
	if err != nil {
		return err
	}
	if n < len(of.b) {
		_, err = c.Write(of.b[n:])
	}
	return err
}
