package broker

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"
	"time"

	"github.com/godbus/dbus/v5"

	"airlock/portal/busserver"
	"airlock/portal/control"
)

// keepTimeout bounds one record sent to the launcher. Records are sent on
// the client connection's own reader goroutine, so a launcher that stops
// reading stalls only that sandbox, and only this long per change.
const keepTimeout = 2 * time.Second

// resumeTimeout bounds reading the records a launcher hands back in Resume.
const resumeTimeout = 10 * time.Second

// keeper is the broker's end of a sandbox's keep channel (control/keep.go):
// it hands the launcher a duplicate of every connection of the sandbox's
// bus, and each connection's state, so that the sockets outlive this
// process and a next broker can adopt them if it crashes.
type keeper struct {
	log *slog.Logger
	f   *os.File

	// mu guards the fields below, and serialises sends.
	mu     sync.Mutex
	held   map[string]bool // unique names whose descriptor the launcher holds
	broken bool            // the channel failed: stop trying
}

func newKeeper(log *slog.Logger, f *os.File) *keeper {
	return &keeper{log: log, f: f, held: map[string]bool{}}
}

// Keep implements busserver.Keeper.
func (k *keeper) Keep(uc *net.UnixConn, st busserver.ConnState) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.broken {
		return
	}
	rec := control.ConnRecord{Op: control.OpKeep, Unique: st.Unique, Matches: st.Matches, Names: st.Names, UnixFD: st.UnixFD}
	var err error
	if k.held[st.Unique] {
		err = control.SendRecord(k.f, rec, -1, keepTimeout)
	} else {
		raw, rerr := uc.SyscallConn()
		if rerr != nil {
			return // closed already: nothing to keep
		}
		// SCM_RIGHTS duplicates the descriptor into the launcher.
		if cerr := raw.Control(func(fd uintptr) { err = control.SendRecord(k.f, rec, int(fd), keepTimeout) }); cerr != nil {
			return
		}
		if err == nil {
			k.held[st.Unique] = true
		}
	}
	if err == nil {
		return
	}
	if k.held[st.Unique] {
		// Too big a state (or a transient failure): the launcher's copy
		// would be stale, so it lets go; this connection then ends with
		// this broker, as it did before connections were kept.
		if control.SendRecord(k.f, control.ConnRecord{Op: control.OpDrop, Unique: st.Unique}, -1, keepTimeout) == nil {
			delete(k.held, st.Unique)
		}
	}
	k.log.Warn("cannot hand a connection's state to the launcher: it would not survive a broker crash", "conn", st.Unique, "err", err)
	if !errors.Is(err, control.ErrRecordTooBig) {
		// The launcher is gone or stuck: do not make every later change
		// wait keepTimeout for it.
		k.broken = true
	}
}

// Forget implements busserver.Keeper.
func (k *keeper) Forget(unique string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.broken || !k.held[unique] {
		return
	}
	delete(k.held, unique)
	if err := control.SendRecord(k.f, control.ConnRecord{Op: control.OpDrop, Unique: unique}, -1, keepTimeout); err != nil {
		k.broken = true
	}
}

func (k *keeper) Close() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.broken = true
	k.f.Close()
}

// adopted is one connection handed back by a launcher.
type adopted struct {
	uc *net.UnixConn
	st busserver.ConnState
}

// readKept reads n connection records from a launcher's keep channel.
func readKept(f *os.File, n uint32) ([]adopted, error) {
	f.SetReadDeadline(time.Now().Add(resumeTimeout))
	defer f.SetReadDeadline(time.Time{})
	var out []adopted
	fail := func(err error) ([]adopted, error) {
		for _, a := range out {
			a.uc.Close()
		}
		return nil, err
	}
	for i := uint32(0); i < n; i++ {
		rec, cf, err := control.RecvRecord(f)
		if err != nil {
			return fail(fmt.Errorf("cannot read connection %d of %d: %w", i+1, n, err))
		}
		if rec.Op != control.OpKeep || cf == nil {
			if cf != nil {
				cf.Close()
			}
			return fail(fmt.Errorf("connection %d of %d: a %q record without a connection", i+1, n, rec.Op))
		}
		// Own every descriptor received: check it before use.
		if err := control.CheckConn(cf); err != nil {
			cf.Close()
			return fail(fmt.Errorf("connection %s: %w", rec.Unique, err))
		}
		uc, err := control.FileConn(cf)
		if err != nil {
			return fail(fmt.Errorf("connection %s: %w", rec.Unique, err))
		}
		out = append(out, adopted{uc: uc, st: busserver.ConnState{Unique: rec.Unique, Matches: rec.Matches, Names: rec.Names, UnixFD: rec.UnixFD}})
	}
	return out, nil
}

// Resume is AttachBus for a sandbox that was served by a broker that died:
// the launcher held the bus's listening socket and every connection of it,
// and hands them here, so that the sandbox's applications carry on. Calls
// the dead broker had not answered, and its portal requests, are lost.
func (o controlObject) Resume(sender dbus.Sender, id string, bus, keep dbus.UnixFD, connections uint32) *dbus.Error {
	b := o.b
	sb, f, kf, derr := b.busHandles(sender, id, bus, keep)
	if derr != nil {
		return derr
	}
	defer f.Close()
	if connections > 4096 {
		kf.Close()
		return failed("%d connections is more than a sandbox bus holds", connections)
	}
	conns, err := readKept(kf, connections)
	if err != nil {
		kf.Close()
		return failed("%v", err)
	}
	ln, err := net.FileListener(f)
	if err != nil {
		kf.Close()
		for _, a := range conns {
			a.uc.Close()
		}
		return failed("cannot use the bus socket: %v", err)
	}
	if derr := b.attach(sb, ln, kf); derr != nil {
		for _, a := range conns {
			a.uc.Close()
		}
		return derr
	}
	b.serve(sb, conns)
	b.log.Info("sandbox resumed after its broker ended", "sandbox", sb.DisplayName, "sandbox_id", sb.ID, "connections", len(conns))
	return nil
}
