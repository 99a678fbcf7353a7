// Package heldbus is the launcher's side of the keep channel (control/keep.go):
// it holds the sandbox's bus sockets while airlock-portal serves them, so
// that a crash of the broker closes none of them.
package heldbus

import (
	"errors"
	"os"
	"sync"

	"golang.org/x/sys/unix"

	"airlock/portal/control"
)

// Bus is what the launcher holds of its sandbox's bus so that a crash of
// airlock-portal closes none of its sockets: a duplicate of the
// listening socket, and of every connection the broker accepted there,
// with its latest state (control/keep.go). The launcher never reads from
// or writes to those connections: it only keeps them open, checks whether
// they ended (poll), and hands them to the next broker.
type Bus struct {
	// mu guards the fields below.
	mu      sync.Mutex
	ln      *os.File // the listening socket (nil: nothing held)
	conns   map[string]*heldConn
	keep    *os.File // the current keep channel
	stopped bool     // the sandbox ended: a closing channel is no crash
}

type heldConn struct {
	rec control.ConnRecord
	f   *os.File
}

// Start holds a duplicate of the listening socket.
func (h *Bus) Start(ln *os.File) error {
	fd, err := unix.FcntlInt(ln.Fd(), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.ln = os.NewFile(uintptr(fd), "bus-listener")
	h.conns = map[string]*heldConn{}
	return nil
}

// Stopped reports whether the sandbox ended (Stop).
func (h *Bus) Stopped() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.stopped
}

// Stop lets go of everything: the sandbox ended.
func (h *Bus) Stop() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.stopped = true
	h.releaseLocked()
}

// Release lets go of everything held, as when no broker could take the
// sandbox back: the applications see their bus end, as they would have
// without a keeper. Unlike Stop, a later keep channel is still taken.
func (h *Bus) Release() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.releaseLocked()
}

func (h *Bus) releaseLocked() {
	if h.keep != nil {
		h.keep.Close()
		h.keep = nil
	}
	for u, c := range h.conns {
		c.f.Close()
		delete(h.conns, u)
	}
	if h.ln != nil {
		h.ln.Close()
		h.ln = nil
	}
}

// SetKeep makes f the current keep channel, unless the sandbox ended.
func (h *Bus) SetKeep(f *os.File) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.stopped {
		return false
	}
	if h.keep != nil && h.keep != f {
		h.keep.Close() // the channel of a broker that ended
	}
	h.keep = f
	return true
}

// Read applies the broker's records until the channel ends.
func (h *Bus) Read(f *os.File) {
	for {
		rec, cf, err := control.RecvRecord(f)
		if err != nil {
			return
		}
		h.mu.Lock()
		switch rec.Op {
		case control.OpKeep:
			old := h.conns[rec.Unique]
			switch {
			case cf != nil && control.CheckConn(cf) != nil:
				cf.Close()
			case cf != nil:
				if old != nil {
					old.f.Close()
				}
				h.conns[rec.Unique] = &heldConn{rec: rec, f: cf}
			case old != nil:
				old.rec = rec
			}
		case control.OpDrop:
			if old := h.conns[rec.Unique]; old != nil {
				old.f.Close()
				delete(h.conns, rec.Unique)
			}
			if cf != nil {
				cf.Close()
			}
		default:
			if cf != nil {
				cf.Close()
			}
		}
		h.mu.Unlock()
	}
}

// Snapshot returns the held connections that are still open, with
// duplicates of their descriptors (the caller closes them), and the
// listening socket's duplicate.
func (h *Bus) Snapshot() (ln *os.File, recs []control.ConnRecord, fds []*os.File, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.ln == nil {
		return nil, nil, nil, errors.New("nothing held")
	}
	for u, c := range h.conns {
		// Ended while no broker served it (the application closed it):
		// nothing to resume.
		if control.Hung(c.f) {
			c.f.Close()
			delete(h.conns, u)
			continue
		}
		fd, err := unix.FcntlInt(c.f.Fd(), unix.F_DUPFD_CLOEXEC, 0)
		if err != nil {
			for _, f := range fds {
				f.Close()
			}
			return nil, nil, nil, err
		}
		recs = append(recs, c.rec)
		fds = append(fds, os.NewFile(uintptr(fd), "kept-conn"))
	}
	return h.ln, recs, fds, nil
}
