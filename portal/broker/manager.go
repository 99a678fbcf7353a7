package broker

import (
	"context"
	"sort"
	"time"

	"github.com/godbus/dbus/v5"

	"airlock/portal/control"
)

// What the grant manager (airlock manager) needs of the broker: a listing
// with the profile's words, when each grant was made, ending a sandbox, and
// signals when any of it changes, so that it never polls.

// emit broadcasts one of the control interface's signals on the host bus.
// They carry no names or paths, only a sandbox id: the user's other
// processes on the session bus learn that something changed, which they
// could learn from List anyway.
func (b *Broker) emit(name string, args ...any) {
	if b.host == nil {
		return
	}
	if err := b.host.Emit(control.ObjectPath, name, args...); err != nil {
		b.log.Debug("cannot emit a signal", "signal", name, "err", err)
	}
}

// grantsChanged is the registry's change hook (grants.Registry.SetOnChange).
func (b *Broker) grantsChanged(id string) { b.emit(control.SignalGrantsChanged, id) }

// Describe lists the sandboxes with what the grant manager shows, oldest
// first.
func (o controlObject) Describe(sender dbus.Sender) ([]control.Info, *dbus.Error) {
	b := o.b
	if !b.callerOK(sender) {
		return nil, accessDenied("caller is not uid %d", b.uid)
	}
	b.mu.Lock()
	out := make([]control.Info, 0, len(b.sandboxes))
	for _, sb := range b.sandboxes {
		out = append(out, control.Info{ID: sb.ID, Name: sb.DisplayName, Profile: sb.Profile, Started: sb.Started.Unix(),
			Pid: sb.Pid, Network: sb.Network, Display: sb.Display, Color: sb.Color})
	}
	b.mu.Unlock()
	sort.Slice(out, func(i, j int) bool {
		if out[i].Started != out[j].Started {
			return out[i].Started < out[j].Started
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

// GrantTimes says when each grant of sandbox id was made.
func (o controlObject) GrantTimes(sender dbus.Sender, id string) (map[string]int64, *dbus.Error) {
	b := o.b
	if !b.callerOK(sender) {
		return nil, accessDenied("caller is not uid %d", b.uid)
	}
	out := map[string]int64{}
	for doc, t := range b.grants.Since(id) {
		out[doc] = t.Unix()
	}
	return out, nil
}

// End ends a sandbox on the user's word: its launcher, which started it,
// stops it (org.airlock.Launcher1.End). The broker signals no process
// itself: the pid it holds is the launcher's word, and could be reused.
func (o controlObject) End(sender dbus.Sender, id string) *dbus.Error {
	b := o.b
	if !b.callerOK(sender) {
		return accessDenied("caller is not uid %d", b.uid)
	}
	sb := b.Lookup(id)
	if sb == nil {
		return failed("no sandbox %s", id)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := b.host.Object(sb.owner, control.LauncherPath).CallWithContext(ctx, control.LauncherInterface+".End", 0, sb.ID).Err; err != nil {
		b.log.Warn("cannot end a sandbox", "sandbox", sb.DisplayName, "sandbox_id", sb.ID, "err", err)
		return failed("cannot end sandbox %s: %v", sb.DisplayName, err)
	}
	b.log.Info("sandbox ended by the user", "sandbox", sb.DisplayName, "sandbox_id", sb.ID, "by", "user")
	return nil
}
