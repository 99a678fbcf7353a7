package clipboard

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"sync"
	"time"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"
)

func init() {
	// xgb logs to stderr on its own (a failed authority lookup, a closed
	// connection): the broker logs what matters itself.
	xgb.Logger = log.New(io.Discard, "", 0)
}

// Display is how the broker reaches one domain's X server: a sandbox's
// nested display (its host-side socket and cookie, registered by the
// launcher) or the host display.
type Display struct {
	// Socket is the unix socket path; Cookie its MIT-MAGIC-COOKIE-1.
	Socket string
	Cookie []byte
	// Name is an X display name ("" for $DISPLAY) used when Socket is
	// empty: the host display, with the broker's own XAUTHORITY.
	Name string
}

// Timeouts: a hostile owner can stall, never answer, or answer slowly. Each
// step has its own deadline and the whole transfer one more.
const (
	stepTimeout     = 3 * time.Second
	transferTimeout = 20 * time.Second
	// maxEvents bounds how many events one transfer reads: a client of the
	// same display can send any number of SelectionNotify or change our
	// window's properties (X lets every client do both).
	maxEvents = 1 << 16
	// chunk is the size of each INCR piece and of each GetProperty read.
	chunk = 64 << 10
)

func (d Display) dial() (*xgb.Conn, error) {
	if d.Socket == "" {
		return xgb.NewConnDisplay(d.Name)
	}
	nc, err := net.DialTimeout("unix", d.Socket, stepTimeout)
	if err != nil {
		return nil, err
	}
	// The handshake must not hang on a stalled server.
	nc.SetDeadline(time.Now().Add(stepTimeout))
	c, err := xgb.NewConnNet(&cookieConn{Conn: nc, cookie: d.Cookie})
	if err != nil {
		nc.Close()
		return nil, err
	}
	nc.SetDeadline(time.Time{})
	return c, nil
}

// cookieConn sends the connection setup with the display's own cookie: xgb
// takes authentication only from $XAUTHORITY, shared by the whole process,
// so the first write (xgb's setup request) is replaced by ours.
type cookieConn struct {
	net.Conn
	cookie []byte
	sent   bool
}

func (c *cookieConn) Write(p []byte) (int, error) {
	if c.sent {
		return c.Conn.Write(p)
	}
	c.sent = true
	const name = "MIT-MAGIC-COOKIE-1"
	buf := make([]byte, 12+xgb.Pad(len(name))+xgb.Pad(len(c.cookie)))
	buf[0] = 'l' // little endian, as xgb speaks
	binary.LittleEndian.PutUint16(buf[2:], 11)
	binary.LittleEndian.PutUint16(buf[6:], uint16(len(name)))
	binary.LittleEndian.PutUint16(buf[8:], uint16(len(c.cookie)))
	copy(buf[12:], name)
	copy(buf[12+xgb.Pad(len(name)):], c.cookie)
	if _, err := c.Conn.Write(buf); err != nil {
		return 0, err
	}
	return len(p), nil
}

// atoms the broker uses on every display.
type atoms struct {
	clipboard, targets, multiple, timestamp, incr, prop           xproto.Atom
	utf8, textPlain, textPlainUTF8, str, png, jpeg, atom, integer xproto.Atom
}

func intern(c *xgb.Conn) (*atoms, error) {
	names := []string{"CLIPBOARD", "TARGETS", "MULTIPLE", "TIMESTAMP", "INCR", "AIRLOCK_CLIPBOARD",
		"UTF8_STRING", "text/plain", "text/plain;charset=utf-8", "STRING", "image/png", "image/jpeg", "ATOM", "INTEGER"}
	cookies := make([]xproto.InternAtomCookie, len(names))
	for i, n := range names {
		cookies[i] = xproto.InternAtom(c, false, uint16(len(n)), n)
	}
	got := make([]xproto.Atom, len(names))
	for i := range cookies {
		r, err := replyWithin(func() (*xproto.InternAtomReply, error) { return cookies[i].Reply() })
		if err != nil {
			return nil, fmt.Errorf("cannot intern %s: %w", names[i], err)
		}
		got[i] = r.Atom
	}
	return &atoms{clipboard: got[0], targets: got[1], multiple: got[2], timestamp: got[3], incr: got[4], prop: got[5],
		utf8: got[6], textPlain: got[7], textPlainUTF8: got[8], str: got[9], png: got[10], jpeg: got[11], atom: got[12], integer: got[13]}, nil
}

var errTimeout = errors.New("the display did not answer in time")

// replyWithin waits for a reply at most stepTimeout: xgb's Reply blocks
// until the server answers, and a nested server is the sandbox's.
func replyWithin[T any](f func() (T, error)) (T, error) {
	type res struct {
		v   T
		err error
	}
	ch := make(chan res, 1)
	go func() { v, err := f(); ch <- res{v, err} }()
	t := time.NewTimer(stepTimeout)
	defer t.Stop()
	select {
	case r := <-ch:
		return r.v, r.err
	case <-t.C:
		var zero T
		return zero, errTimeout
	}
}

// window makes an unmapped window of our own on the root, listening for
// property changes (INCR).
func window(c *xgb.Conn) (xproto.Window, error) {
	setup := xproto.Setup(c)
	if setup == nil || len(setup.Roots) == 0 {
		return 0, errors.New("the display has no screen")
	}
	root := setup.Roots[0]
	id, err := xproto.NewWindowId(c)
	if err != nil {
		return 0, err
	}
	err = xproto.CreateWindowChecked(c, 0, id, root.Root, -10, -10, 1, 1, 0, xproto.WindowClassInputOnly, root.RootVisual,
		xproto.CwEventMask, []uint32{xproto.EventMaskPropertyChange}).Check()
	if err != nil {
		return 0, fmt.Errorf("cannot create a window: %w", err)
	}
	return id, nil
}

// events pumps a connection's events into a channel, which closes when the
// connection does. stop ends the pump even when nobody reads any more (a
// flood filled the channel after its reader returned).
func events(c *xgb.Conn, stop <-chan struct{}) <-chan xgb.Event {
	ch := make(chan xgb.Event, 256)
	go func() {
		defer close(ch)
		for {
			ev, err := c.WaitForEvent()
			if ev == nil && err == nil {
				return
			}
			if ev == nil {
				continue
			}
			select {
			case ch <- ev:
			case <-stop:
				return
			}
		}
	}()
	return ch
}

// reader reads one selection from one display.
type reader struct {
	c      *xgb.Conn
	a      *atoms
	win    xproto.Window
	ev     <-chan xgb.Event
	end    time.Time
	nEvent int
}

// Read copies the CLIPBOARD selection of display d: text (UTF8_STRING,
// text/plain;charset=utf-8, STRING) or an image (image/png, image/jpeg),
// checked and capped (maxText, maxImage). Only CLIPBOARD: PRIMARY (what is
// merely highlighted) never crosses.
func Read(d Display, maxText, maxImage int64) (*Content, error) {
	c, err := d.dial()
	if err != nil {
		return nil, fmt.Errorf("cannot reach the display: %w", err)
	}
	defer c.Close()
	stop := make(chan struct{})
	defer close(stop)
	a, err := intern(c)
	if err != nil {
		return nil, err
	}
	win, err := window(c)
	if err != nil {
		return nil, err
	}
	r := &reader{c: c, a: a, win: win, ev: events(c, stop), end: time.Now().Add(transferTimeout)}
	targets, err := r.targets()
	if err != nil {
		return nil, err
	}
	has := map[xproto.Atom]bool{}
	for _, t := range targets {
		has[t] = true
	}
	var order []xproto.Atom
	switch {
	case has[a.png]:
		order = []xproto.Atom{a.png}
	case has[a.jpeg]:
		order = []xproto.Atom{a.jpeg}
	case len(targets) == 0:
		// An owner that does not answer TARGETS (old toolkits): ask for
		// text directly.
		order = []xproto.Atom{a.utf8, a.str}
	default:
		for _, t := range []xproto.Atom{a.utf8, a.textPlainUTF8, a.str} {
			if has[t] {
				order = append(order, t)
			}
		}
	}
	if len(order) == 0 {
		return nil, errors.New("the clipboard holds neither text nor an image")
	}
	var lastErr error = errors.New("the clipboard is empty")
	for _, t := range order {
		max := maxText
		if t == a.png || t == a.jpeg {
			max = maxImage
		}
		data, err := r.convert(t, max)
		if err != nil {
			var tl *TooLargeError
			if errors.As(err, &tl) {
				if max == maxText {
					tl.Kind = KindText
				} else {
					tl.Kind = KindImage
				}
				return nil, tl
			}
			lastErr = err
			continue
		}
		switch t {
		case a.png, a.jpeg:
			return cleanImage(data, maxImage)
		case a.str:
			data = latin1ToUTF8(data)
		}
		return cleanText(data, maxText)
	}
	return nil, lastErr
}

// next returns the next event before the transfer's deadline or the
// step's, whichever comes first.
func (r *reader) next(stepEnd time.Time) (xgb.Event, error) {
	end := stepEnd
	if r.end.Before(end) {
		end = r.end
	}
	r.nEvent++
	if r.nEvent > maxEvents {
		return nil, errors.New("too many events from the display")
	}
	t := time.NewTimer(time.Until(end))
	defer t.Stop()
	select {
	case ev, ok := <-r.ev:
		if !ok {
			return nil, errors.New("the display closed the connection")
		}
		return ev, nil
	case <-t.C:
		return nil, errTimeout
	}
}

// request asks the owner to convert CLIPBOARD to target into our property,
// and waits for its answer. ok is false when it refused.
func (r *reader) request(target xproto.Atom) (bool, error) {
	xproto.DeleteProperty(r.c, r.win, r.a.prop)
	xproto.ConvertSelection(r.c, r.win, r.a.clipboard, target, r.a.prop, xproto.TimeCurrentTime)
	stepEnd := time.Now().Add(stepTimeout)
	for {
		ev, err := r.next(stepEnd)
		if err != nil {
			return false, err
		}
		// Any client can send us a SelectionNotify: only one for our
		// request counts, and its content is read from our own property
		// anyway, which only clients of this display can set.
		if n, ok := ev.(xproto.SelectionNotifyEvent); ok && n.Requestor == r.win && n.Selection == r.a.clipboard && n.Target == target {
			return n.Property == r.a.prop, nil
		}
	}
}

func (r *reader) targets() ([]xproto.Atom, error) {
	ok, err := r.request(r.a.targets)
	if err == errTimeout {
		return nil, errors.New("the clipboard's owner does not answer")
	}
	if err != nil || !ok {
		return nil, err
	}
	reply, err := replyWithin(func() (*xproto.GetPropertyReply, error) {
		return xproto.GetProperty(r.c, true, r.win, r.a.prop, xproto.AtomAny, 0, 1024).Reply()
	})
	if err != nil {
		return nil, err
	}
	if reply.Format != 32 {
		return nil, nil
	}
	out := make([]xproto.Atom, 0, len(reply.Value)/4)
	for i := 0; i+4 <= len(reply.Value); i += 4 {
		out = append(out, xproto.Atom(xgb.Get32(reply.Value[i:])))
	}
	return out, nil
}

// convert reads one target, directly or in INCR pieces, never more than max
// bytes.
func (r *reader) convert(target xproto.Atom, max int64) ([]byte, error) {
	ok, err := r.request(target)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errors.New("the clipboard's owner refused the conversion")
	}
	head, err := r.getProperty(false, 0)
	if err != nil {
		return nil, err
	}
	if head.Type == r.a.incr {
		return r.incr(max, head)
	}
	size := int64(head.BytesAfter)
	if size > max {
		xproto.DeleteProperty(r.c, r.win, r.a.prop)
		return nil, &TooLargeError{Size: size, Max: max}
	}
	return r.readAll(max)
}

func (r *reader) getProperty(del bool, offset uint32) (*xproto.GetPropertyReply, error) {
	return replyWithin(func() (*xproto.GetPropertyReply, error) {
		return xproto.GetProperty(r.c, del, r.win, r.a.prop, xproto.AtomAny, offset, chunk/4).Reply()
	})
}

// readAll reads the whole property in pieces and deletes it.
func (r *reader) readAll(max int64) ([]byte, error) {
	var out []byte
	for off := uint32(0); ; {
		reply, err := r.getProperty(false, off)
		if err != nil {
			return nil, err
		}
		out = append(out, reply.Value...)
		if int64(len(out)) > max {
			return nil, &TooLargeError{Size: int64(len(out)), Max: max}
		}
		if reply.BytesAfter == 0 || len(reply.Value) == 0 {
			break
		}
		off += uint32(len(reply.Value) / 4)
	}
	xproto.DeleteProperty(r.c, r.win, r.a.prop)
	return out, nil
}

// incr receives an INCR transfer (ICCCM 2.7.2): deleting the property
// starts it, each new value is one piece, an empty one ends it.
func (r *reader) incr(max int64, head *xproto.GetPropertyReply) ([]byte, error) {
	if head.Format == 32 && len(head.Value) >= 4 {
		// The owner's announced size is a lower bound: refuse early.
		if n := int64(xgb.Get32(head.Value)); n > max {
			xproto.DeleteProperty(r.c, r.win, r.a.prop)
			return nil, &TooLargeError{Size: n, Max: max}
		}
	}
	xproto.DeleteProperty(r.c, r.win, r.a.prop)
	var out []byte
	for {
		stepEnd := time.Now().Add(stepTimeout)
		var piece []byte
		for {
			ev, err := r.next(stepEnd)
			if err != nil {
				return nil, err
			}
			p, ok := ev.(xproto.PropertyNotifyEvent)
			if !ok || p.Window != r.win || p.Atom != r.a.prop || p.State != xproto.PropertyNewValue {
				continue
			}
			got, err := r.readAll(max)
			if err != nil {
				return nil, err
			}
			if n := int64(len(out) + len(got)); n > max {
				// The owner sends more than it announced: at least n.
				return nil, &TooLargeError{Size: n, Max: max}
			}
			piece = got
			break
		}
		if len(piece) == 0 {
			return out, nil
		}
		out = append(out, piece...)
	}
}

// Owner owns one display's CLIPBOARD and offers one content there until
// another client takes the selection or Close.
type Owner struct {
	c   *xgb.Conn
	a   *atoms
	win xproto.Window
	log func(msg string, args ...any)

	// mu guards the fields below.
	mu      sync.Mutex
	content *Content
	sends   map[sendKey]*incrSend
	done    chan struct{}
}

type sendKey struct {
	win  xproto.Window
	prop xproto.Atom
}

// incrSend is one INCR transfer to one requestor.
type incrSend struct {
	data []byte
	typ  xproto.Atom
	off  int
	end  time.Time
}

// maxSends bounds concurrent INCR transfers on one display: each holds the
// content and a piece of our attention.
const maxSends = 8

// Own takes display d's CLIPBOARD and offers content there.
func Own(d Display, content *Content, logf func(msg string, args ...any)) (*Owner, error) {
	c, err := d.dial()
	if err != nil {
		return nil, fmt.Errorf("cannot reach the display: %w", err)
	}
	a, err := intern(c)
	if err != nil {
		c.Close()
		return nil, err
	}
	win, err := window(c)
	if err != nil {
		c.Close()
		return nil, err
	}
	o := &Owner{c: c, a: a, win: win, log: logf, content: content, sends: map[sendKey]*incrSend{}, done: make(chan struct{})}
	xproto.SetSelectionOwner(c, win, a.clipboard, xproto.TimeCurrentTime)
	reply, err := replyWithin(func() (*xproto.GetSelectionOwnerReply, error) {
		return xproto.GetSelectionOwner(c, a.clipboard).Reply()
	})
	if err != nil || reply.Owner != win {
		c.Close()
		return nil, errors.New("cannot take the display's clipboard")
	}
	go o.serve(events(c, o.done))
	return o, nil
}

// Done is closed when the owner stopped offering (another client took the
// selection, the display went away, or Close).
func (o *Owner) Done() <-chan struct{} { return o.done }

// Close stops offering and closes the connection.
func (o *Owner) Close() { o.c.Close() }

func (o *Owner) serve(ev <-chan xgb.Event) {
	defer close(o.done)
	defer o.c.Close()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case e, ok := <-ev:
			if !ok {
				return
			}
			switch e := e.(type) {
			case xproto.SelectionClearEvent:
				if e.Owner == o.win && e.Selection == o.a.clipboard {
					return
				}
			case xproto.SelectionRequestEvent:
				if e.Owner == o.win && e.Selection == o.a.clipboard {
					o.answer(e)
				}
			case xproto.PropertyNotifyEvent:
				if e.State == xproto.PropertyDelete {
					o.nextPiece(sendKey{e.Window, e.Atom})
				}
			}
		case <-tick.C:
			// A requestor that stopped reading loses its transfer.
			o.mu.Lock()
			for k, s := range o.sends {
				if time.Now().After(s.end) {
					delete(o.sends, k)
				}
			}
			o.mu.Unlock()
		}
	}
}

func (o *Owner) targets() []xproto.Atom {
	if o.content.Kind == KindImage {
		return []xproto.Atom{o.a.targets, o.a.timestamp, o.a.png}
	}
	return []xproto.Atom{o.a.targets, o.a.timestamp, o.a.utf8, o.a.textPlainUTF8, o.a.str, o.a.textPlain}
}

// answer handles one SelectionRequest: the content in the asked type, or a
// refusal (property None) for anything else.
func (o *Owner) answer(e xproto.SelectionRequestEvent) {
	prop := e.Property
	if prop == xproto.AtomNone {
		prop = e.Target // an obsolete requestor (ICCCM 2.2)
	}
	ok := o.convert(e.Requestor, e.Target, prop)
	if !ok {
		prop = xproto.AtomNone
	}
	n := xproto.SelectionNotifyEvent{Time: e.Time, Requestor: e.Requestor, Selection: e.Selection, Target: e.Target, Property: prop}
	xproto.SendEvent(o.c, false, e.Requestor, 0, string(n.Bytes()))
}

func (o *Owner) convert(win xproto.Window, target, prop xproto.Atom) bool {
	a := o.a
	var data []byte
	switch {
	case target == a.targets:
		ts := o.targets()
		buf := make([]byte, 4*len(ts))
		for i, t := range ts {
			xgb.Put32(buf[4*i:], uint32(t))
		}
		xproto.ChangeProperty(o.c, xproto.PropModeReplace, win, prop, a.atom, 32, uint32(len(ts)), buf)
		return true
	case target == a.timestamp:
		buf := make([]byte, 4)
		xproto.ChangeProperty(o.c, xproto.PropModeReplace, win, prop, a.integer, 32, 1, buf)
		return true
	case o.content.Kind == KindImage && target == a.png:
		data = o.content.Data
	case o.content.Kind == KindText && (target == a.utf8 || target == a.textPlainUTF8):
		data = o.content.Data
	case o.content.Kind == KindText && (target == a.str || target == a.textPlain):
		data = utf8ToLatin1(o.content.Data)
	default:
		// MULTIPLE and anything else: refused.
		return false
	}
	if len(data) <= chunk {
		xproto.ChangeProperty(o.c, xproto.PropModeReplace, win, prop, target, 8, uint32(len(data)), data)
		return true
	}
	// Too large for one request: INCR (ICCCM 2.7.2). The requestor deletes
	// the property after each piece; we watch it for that.
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.sends) >= maxSends {
		return false
	}
	xproto.ChangeWindowAttributes(o.c, win, xproto.CwEventMask, []uint32{xproto.EventMaskPropertyChange})
	o.sends[sendKey{win, prop}] = &incrSend{data: data, typ: target, end: time.Now().Add(transferTimeout)}
	size := make([]byte, 4)
	xgb.Put32(size, uint32(len(data)))
	xproto.ChangeProperty(o.c, xproto.PropModeReplace, win, prop, a.incr, 32, 1, size)
	return true
}

// nextPiece writes the next INCR piece once the requestor deleted the
// last; an empty piece ends the transfer.
func (o *Owner) nextPiece(k sendKey) {
	o.mu.Lock()
	defer o.mu.Unlock()
	s, ok := o.sends[k]
	if !ok {
		return
	}
	n := min(chunk, len(s.data)-s.off)
	xproto.ChangeProperty(o.c, xproto.PropModeReplace, k.win, k.prop, s.typ, 8, uint32(n), s.data[s.off:s.off+n])
	s.off += n
	if n == 0 {
		delete(o.sends, k)
	}
}
