package cli

import (
	"context"
	"errors"
	"os"
	"sync"
	"time"

	"github.com/godbus/dbus/v5"
	"golang.org/x/sys/unix"

	"airlock/portal/control"
)

// How long the launcher tries to bring a dead broker's sandbox back on a
// new one before it gives up and lets the sandbox's connections close (the
// behaviour without a keeper: GDBus applications then exit).
const resumeLimit = 60 * time.Second

// heldBus is what the launcher holds of its sandbox's bus so that a crash
// of airlock-portal closes none of its sockets: a duplicate of the
// listening socket, and of every connection the broker accepted there,
// with its latest state (control/keep.go). The launcher never reads from
// or writes to those connections: it only keeps them open, checks whether
// they ended (poll), and hands them to the next broker.
type heldBus struct {
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

// start holds a duplicate of the listening socket.
func (h *heldBus) start(ln *os.File) error {
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

func (h *heldBus) isStopped() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.stopped
}

// stop lets go of everything: the sandbox ended.
func (h *heldBus) stop() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.stopped = true
	h.releaseLocked()
}

func (h *heldBus) releaseLocked() {
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

// setKeep makes f the current keep channel, unless the sandbox ended.
func (h *heldBus) setKeep(f *os.File) bool {
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

// read applies the broker's records until the channel ends.
func (h *heldBus) read(f *os.File) {
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

// snapshot returns the held connections that are still open, with
// duplicates of their descriptors (the caller closes them), and the
// listening socket's duplicate.
func (h *heldBus) snapshot() (ln *os.File, recs []control.ConnRecord, fds []*os.File, err error) {
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

// keepLoop follows the broker through the keep channel: when the channel
// ends while the sandbox runs, the broker died (a crash: SIGKILL, OOM,
// a bug) without unregistering, and the sandbox is resumed on a new one.
func (b *portalBroker) keepLoop(id string, keep *os.File) {
	if !b.kept.setKeep(keep) {
		keep.Close()
		return
	}
	b.kept.read(keep)
	for !b.kept.isStopped() {
		b.mu.Lock()
		dead := b.broker
		b.mu.Unlock()
		b.log.Warn("airlock-portal ended under a running sandbox: resuming it on a new broker", "sandbox_id", id, "broker", dead)
		next, done := b.resume(id, dead)
		if next == nil {
			return
		}
		<-done
	}
}

// resume registers the sandbox again with a (new) broker and hands it the
// held bus, retrying until it works, the sandbox ends, or resumeLimit.
// It returns the new keep channel and a channel closed when it ends.
func (b *portalBroker) resume(id, dead string) (*os.File, <-chan struct{}) {
	deadline := time.Now().Add(resumeLimit)
	wait := 50 * time.Millisecond
	for time.Now().Before(deadline) && !b.kept.isStopped() {
		keep, done, err := b.resumeOnce(id, dead)
		if err == nil {
			b.log.Warn("sandbox resumed on a new airlock-portal; files granted before are gone from it until it restarts", "sandbox_id", id)
			return keep, done
		}
		b.log.Info("cannot resume the sandbox yet", "sandbox_id", id, "err", err)
		time.Sleep(wait)
		wait = min(2*wait, 2*time.Second)
	}
	if !b.kept.isStopped() {
		// Let the sockets close: the applications see their bus end, as
		// they would have without a keeper.
		b.log.Error("cannot resume the sandbox on a new airlock-portal: its bus closes", "sandbox_id", id)
		b.kept.mu.Lock()
		b.kept.releaseLocked()
		b.kept.mu.Unlock()
	}
	return nil, nil
}

func (b *portalBroker) resumeOnce(id, dead string) (*os.File, <-chan struct{}, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	// The dead broker's name may not have left the bus yet: a call to it
	// now would go nowhere.
	for i := 0; i < 100; i++ {
		if owner, err := b.c.Owner(ctx); err != nil || owner != dead {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := b.c.EnsureBroker(ctx); err != nil {
		return nil, nil, err
	}
	owner, err := b.c.Owner(ctx)
	if err != nil {
		return nil, nil, err
	}
	b.regMu.Lock()
	args := append([]any(nil), b.regArgs...)
	b.regMu.Unlock()
	if len(args) != 4 {
		return nil, nil, errors.New("the sandbox was never registered")
	}
	opts := map[string]dbus.Variant{}
	for k, v := range args[3].(map[string]dbus.Variant) {
		opts[k] = v
	}
	opts[control.OptResumed] = dbus.MakeVariant(true)
	var gotID, docView string
	if err := b.c.Conn().Object(control.BusName, control.ObjectPath).CallWithContext(ctx, control.Interface+".Register", 0, args[0], args[1], args[2], opts).Store(&gotID, &docView); err != nil {
		return nil, nil, err
	}
	// From here the new broker may call this launcher's object.
	b.mu.Lock()
	b.broker = owner
	b.mu.Unlock()

	ln, recs, fds, err := b.kept.snapshot()
	if err != nil {
		return nil, nil, err
	}
	mine, theirs, err := control.KeepPair()
	if err != nil {
		closeFiles(fds)
		return nil, nil, err
	}
	defer theirs.Close()
	if !b.kept.setKeep(mine) {
		mine.Close()
		closeFiles(fds)
		return nil, nil, errors.New("the sandbox ended")
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		b.kept.read(mine)
	}()
	// The broker reads the records while Resume runs: write them
	// concurrently, a channel's buffer may not hold them all.
	sent := make(chan error, 1)
	go func() {
		defer closeFiles(fds)
		for i, rec := range recs {
			if err := control.SendRecord(mine, rec, int(fds[i].Fd()), 10*time.Second); err != nil {
				sent <- err
				return
			}
		}
		sent <- nil
	}()
	err = b.c.Resume(ctx, id, ln, theirs, uint32(len(recs)))
	if serr := <-sent; err == nil && serr != nil {
		err = serr
	}
	if err != nil {
		// A Register that worked but a Resume that did not: drop it, so
		// that the next attempt can register again.
		b.c.Unregister(ctx, id)
		mine.Close()
		<-done
		return nil, nil, err
	}
	return mine, done, nil
}

func closeFiles(fs []*os.File) {
	for _, f := range fs {
		f.Close()
	}
}
