package brokerclient

import (
	"context"
	"errors"
	"os"
	"time"

	"github.com/godbus/dbus/v5"

	"airlock/portal/control"
)

// How long the launcher tries to bring a dead broker's sandbox back on a
// new one before it gives up and lets the sandbox's connections close (the
// behaviour without a keeper: GDBus applications then exit).
const resumeLimit = 60 * time.Second

// keepLoop follows the broker through the keep channel: when the channel
// ends while the sandbox runs, the broker died (a crash: SIGKILL, OOM,
// a bug) without unregistering, and the sandbox is resumed on a new one.
func (b *Client) keepLoop(id string, keep *os.File) {
	if !b.kept.SetKeep(keep) {
		keep.Close()
		return
	}
	b.kept.Read(keep)
	for !b.kept.Stopped() {
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
func (b *Client) resume(id, dead string) (*os.File, <-chan struct{}) {
	deadline := time.Now().Add(resumeLimit)
	wait := 50 * time.Millisecond
	for time.Now().Before(deadline) && !b.kept.Stopped() {
		keep, done, err := b.resumeOnce(id, dead)
		if err == nil {
			b.log.Warn("sandbox resumed on a new airlock-portal; files granted before are gone from it until it restarts", "sandbox_id", id)
			return keep, done
		}
		b.log.Info("cannot resume the sandbox yet", "sandbox_id", id, "err", err)
		time.Sleep(wait)
		wait = min(2*wait, 2*time.Second)
	}
	if !b.kept.Stopped() {
		// Let the sockets close: the applications see their bus end, as
		// they would have without a keeper.
		b.log.Error("cannot resume the sandbox on a new airlock-portal: its bus closes", "sandbox_id", id)
		b.kept.Release()
	}
	return nil, nil
}

func (b *Client) resumeOnce(id, dead string) (*os.File, <-chan struct{}, error) {
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

	ln, recs, fds, err := b.kept.Snapshot()
	if err != nil {
		return nil, nil, err
	}
	mine, theirs, err := control.KeepPair()
	if err != nil {
		closeFiles(fds)
		return nil, nil, err
	}
	defer theirs.Close()
	if !b.kept.SetKeep(mine) {
		mine.Close()
		closeFiles(fds)
		return nil, nil, errors.New("the sandbox ended")
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		b.kept.Read(mine)
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
	b.regMu.Lock()
	disp := b.display
	b.regMu.Unlock()
	if len(disp) == 4 {
		if err := b.c.AttachDisplay(ctx, disp[0].(string), disp[1].(string), disp[2].([]byte), disp[3].(uint32)); err != nil {
			b.log.Warn("the new airlock-portal cannot reach the sandbox's display: its clipboard stays its own", "sandbox_id", id, "err", err)
		}
	}
	return mine, done, nil
}

func closeFiles(fs []*os.File) {
	for _, f := range fs {
		f.Close()
	}
}
