package broker

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/godbus/dbus/v5"

	"airlock/portal/control"
	"airlock/portal/filechooser"
)

// errResumedGrant: the sandbox's /run/user/UID/doc is bound to the document
// store of the broker that died (its FUSE connection is gone: ENOTCONN), and
// only init could mount this broker's view over it. Rather than grant a file
// that could never appear inside, refuse, and say what to do.
var errResumedGrant = errors.New("cannot grant files to this sandbox: the broker it started with ended, and its document folder with it; restart the sandbox to grant files again")

func toControl(g Doc) control.Grant {
	return control.Grant{Sandbox: g.Sandbox, DocID: g.DocID, HostPath: g.HostPath, Inside: g.Inside, Writable: g.Writable, Dir: g.Dir}
}

// Grant adds a host file or folder to a running sandbox on the user's word
// (`airlock grant`, or a file named on `airlock run`'s command line).
func (o controlObject) Grant(sender dbus.Sender, id, path string, writable bool) (control.Grant, *dbus.Error) {
	b := o.b
	if !b.callerOK(sender) {
		return control.Grant{}, accessDenied("caller is not uid %d", b.uid)
	}
	if b.docs == nil {
		return control.Grant{}, failed("this broker has no document store (is FUSE available?)")
	}
	sb := b.Lookup(id)
	if sb == nil {
		return control.Grant{}, failed("no sandbox %s", id)
	}
	if sb.Resumed {
		return control.Grant{}, failed("%v", errResumedGrant)
	}
	if !filepath.IsAbs(path) {
		return control.Grant{}, failed("%q is not an absolute path", path)
	}
	st, err := os.Stat(path)
	if err != nil {
		return control.Grant{}, failed("cannot grant %s: %v", path, err)
	}
	g, err := b.docs.Grant(id, filepath.Clean(path), writable, st.IsDir())
	if err != nil {
		return control.Grant{}, failed("cannot grant %s: %v", path, err)
	}
	b.bindNative(id, g)
	b.saveGrants(b.Lookup(id))
	b.log.Info("granted", "sandbox_id", id, "host_path", g.HostPath, "doc", g.DocID, "writable", g.Writable, "by", "user")
	return toControl(g), nil
}

// Grants lists grants, of one sandbox or (id "") of all.
func (o controlObject) Grants(sender dbus.Sender, id string) ([]control.Grant, *dbus.Error) {
	b := o.b
	if !b.callerOK(sender) {
		return nil, accessDenied("caller is not uid %d", b.uid)
	}
	out := []control.Grant{}
	if b.docs == nil {
		return out, nil
	}
	var ids []string
	if id != "" {
		ids = []string{id}
	} else {
		for _, s := range b.List() {
			ids = append(ids, s.ID)
		}
	}
	for _, sid := range ids {
		for _, g := range b.docs.Grants(sid) {
			out = append(out, toControl(g))
		}
	}
	return out, nil
}

// Revoke removes one grant: gone from the sandbox at once.
func (o controlObject) Revoke(sender dbus.Sender, id, doc string) *dbus.Error {
	b := o.b
	if !b.callerOK(sender) {
		return accessDenied("caller is not uid %d", b.uid)
	}
	if b.docs == nil {
		return failed("this broker has no document store")
	}
	b.unbindNative(id, doc)
	if err := b.docs.Revoke(id, doc); err != nil {
		return failed("cannot revoke %s from %s: %v", doc, id, err)
	}
	b.saveGrants(b.Lookup(id))
	b.log.Info("revoked", "sandbox_id", id, "doc", doc)
	return nil
}

// granter adapts the document store to the FileChooser portal.
type granter struct{ b *Broker }

// Granter returns the FileChooser's view of the document store.
func (b *Broker) Granter() filechooser.Granter { return granter{b} }

func (g granter) Grant(sandbox, hostPath string, writable, dir, create bool) (filechooser.Granted, error) {
	d := g.b.docs
	if d == nil {
		return filechooser.Granted{}, fmt.Errorf("no document store")
	}
	if sb := g.b.Lookup(sandbox); sb != nil && sb.Resumed {
		return filechooser.Granted{}, errResumedGrant
	}
	var gr Doc
	var err error
	if create {
		gr, err = d.GrantNew(sandbox, hostPath)
	} else {
		gr, err = d.Grant(sandbox, hostPath, writable, dir)
	}
	if err != nil {
		return filechooser.Granted{}, err
	}
	g.b.bindNative(sandbox, gr)
	g.b.saveGrants(g.b.Lookup(sandbox))
	return filechooser.Granted{HostPath: gr.HostPath, InsidePath: gr.Inside, Dir: gr.Dir, Writable: gr.Writable}, nil
}

// Resolve maps a path inside the sandbox to the host path it was granted
// from. Paths are cleaned first, so ".." cannot climb out of a grant.
func (g granter) Resolve(sandbox, inside string) (filechooser.Granted, bool) {
	d := g.b.docs
	if d == nil || !filepath.IsAbs(inside) {
		return filechooser.Granted{}, false
	}
	inside = filepath.Clean(inside)
	for _, gr := range d.Grants(sandbox) {
		ip := gr.Inside
		if inside == ip {
			return filechooser.Granted{HostPath: gr.HostPath, InsidePath: ip, Dir: gr.Dir, Writable: gr.Writable}, true
		}
		if gr.Dir && strings.HasPrefix(inside, ip+"/") {
			hp := filepath.Join(gr.HostPath, strings.TrimPrefix(inside, ip+"/"))
			st, err := os.Stat(hp)
			return filechooser.Granted{HostPath: hp, InsidePath: inside, Dir: err == nil && st.IsDir(), Writable: gr.Writable}, true
		}
	}
	return filechooser.Granted{}, false
}

// bindNative asks the sandbox's launcher to bind a read-only file grant
// natively over its entry in the document store, so that reads run at the
// host's speed (the store's FUSE page cache on this kernel holds 4 KiB pages
// where ext4 holds 1 MiB folios: tests/bench/RESULTS.md). Writable grants
// and folders stay in the store, where saves by rename keep working. On any
// failure the grant still works through the store.
func (b *Broker) bindNative(id string, g Doc) {
	b.mu.Lock()
	sb := b.sandboxes[id]
	running := sb != nil && sb.ln != nil // its bus is attached: init runs
	b.mu.Unlock()
	if !running || !sb.NativeGrants || g.Writable || g.Dir || b.host == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := b.host.Object(sb.owner, control.LauncherPath).CallWithContext(ctx, control.LauncherInterface+".Bind", 0, id, g.HostPath, g.Inside).Err
	if err != nil {
		b.log.Info("native bind refused: the grant goes through the document store", "sandbox_id", id, "doc", g.DocID, "err", err)
		return
	}
	sb.boundMu.Lock()
	if sb.bound == nil {
		sb.bound = map[string]string{}
	}
	sb.bound[g.DocID] = g.Inside
	sb.boundMu.Unlock()
}

// unbindNative removes a native bind before its grant is revoked.
func (b *Broker) unbindNative(id, doc string) {
	sb := b.Lookup(id)
	if sb == nil {
		return
	}
	sb.boundMu.Lock()
	inside, ok := sb.bound[doc]
	delete(sb.bound, doc)
	sb.boundMu.Unlock()
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := b.host.Object(sb.owner, control.LauncherPath).CallWithContext(ctx, control.LauncherInterface+".Unbind", 0, id, inside).Err; err != nil {
		b.log.Warn("cannot remove a native bind", "sandbox_id", id, "doc", doc, "err", err)
	}
}
