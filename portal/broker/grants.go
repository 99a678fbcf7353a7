package broker

import (
	"context"
	"time"

	"github.com/godbus/dbus/v5"

	"airlock/portal/control"
	"airlock/portal/grant"
	"airlock/portal/grants"
)

// Grant adds a host file or folder to a running sandbox on the user's word
// (`airlock grant`, or a file named on `airlock run`'s command line). The
// registry resolves and checks the path; the answer is its grant as is.
func (o controlObject) Grant(sender dbus.Sender, id, path string, writable bool) (grant.Grant, *dbus.Error) {
	b := o.b
	if !b.callerOK(sender) {
		return grant.Grant{}, accessDenied("caller is not uid %d", b.uid)
	}
	g, err := b.grants.Grant(id, path, grants.Open, writable)
	if err != nil {
		return grant.Grant{}, failed("%v", err)
	}
	b.log.Info("granted", "sandbox_id", id, "host_path", g.HostPath, "doc", g.DocID, "writable", g.Writable, "dir", g.Dir, "by", "user")
	return g, nil
}

// Grants lists grants, of one sandbox or (id "") of all.
func (o controlObject) Grants(sender dbus.Sender, id string) ([]grant.Grant, *dbus.Error) {
	if !o.b.callerOK(sender) {
		return nil, accessDenied("caller is not uid %d", o.b.uid)
	}
	return o.b.grants.Grants(id), nil
}

// Revoke removes one grant: gone from the sandbox at once. native says that
// the grant was bound natively (profile grants = "native-irrevocable"):
// descriptors the application opened before still read the file
// (grants.Registry.Revoke), which the caller tells the user.
func (o controlObject) Revoke(sender dbus.Sender, id, doc string) (native bool, derr *dbus.Error) {
	b := o.b
	if !b.callerOK(sender) {
		return false, accessDenied("caller is not uid %d", b.uid)
	}
	host := ""
	for _, g := range b.grants.Grants(id) {
		if g.DocID == doc {
			host = g.HostPath
		}
	}
	native, err := b.grants.Revoke(id, doc)
	if err != nil {
		return native, failed("%v", err)
	}
	b.log.Info("revoked", "sandbox_id", id, "doc", doc, "host_path", host, "native", native)
	return native, nil
}

// launcherBinder binds a sandbox's read-only file grants natively, through
// its launcher, over their entries in the document store, so that reads run
// at the host's speed (the store's FUSE page cache on this kernel holds 4 KiB
// pages where ext4 holds 1 MiB folios: tests/bench/RESULTS.md). The registry
// decides which grants; this is the call.
type launcherBinder struct {
	b  *Broker
	sb *Sandbox
}

func (l launcherBinder) call(method string, args ...any) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return l.b.host.Object(l.sb.owner, control.LauncherPath).CallWithContext(ctx, control.LauncherInterface+"."+method, 0, args...).Err
}

func (l launcherBinder) Bind(g grant.Grant) error {
	return l.call("Bind", l.sb.ID, g.HostPath, g.Inside)
}

func (l launcherBinder) Unbind(g grant.Grant) error {
	return l.call("Unbind", l.sb.ID, g.Inside)
}
