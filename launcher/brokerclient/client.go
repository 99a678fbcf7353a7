// Package brokerclient is the launcher's side of the control interface
// (portal/control): it registers a sandbox with airlock-portal, hands it the
// sandbox's bus, answers the broker's calls for that sandbox, and brings the
// sandbox back on a new broker when the old one crashed.
package brokerclient

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/godbus/dbus/v5"

	"airlock/launcher/heldbus"
	"airlock/launcher/profile"
	"airlock/launcher/sandbox"
	"airlock/portal/control"
)

// Connect connects to airlock-portal, starting it when it does not run.
// With no session bus at all (a bare console, the benchmarks) it returns
// nil and the sandbox runs without a bus: it then has no portal either, and
// says so.
func Connect(log *slog.Logger) *Client {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	c, err := control.Connect(ctx)
	if err != nil {
		if errors.Is(err, control.ErrNoSessionBus) {
			log.Info("no session bus: the sandbox has no D-Bus and no portal")
		} else {
			log.Warn("the sandbox runs without a portal", "err", err)
		}
		return nil
	}
	return &Client{c: c, log: log}
}

// Client registers a sandbox with airlock-portal (it is the sandbox's
// sandbox.Broker), answers the broker's calls for it (object.go) and
// resumes it on a new broker when the old one crashed (resume.go).
type Client struct {
	c   *control.Client
	log *slog.Logger

	// mu guards the fields below.
	mu     sync.Mutex
	sb     *sandbox.Sandbox
	broker string // unique name of the broker the sandbox was registered with

	// regMu guards the fields below: what Register sent, for registering
	// again after a broker crash (resume.go).
	regMu   sync.Mutex
	regArgs []any
	display []any // AttachDisplay's arguments (nil: none)

	// kept holds the sandbox's bus while the broker serves it, so that a
	// broker crash closes none of its sockets (resume.go).
	kept heldbus.Bus
}

var _ sandbox.Broker = (*Client)(nil)

// Serve answers the broker's requests for the running sandbox: binding a
// read-only grant natively (control.LauncherInterface on this connection,
// object.go).
func (b *Client) Serve(sb *sandbox.Sandbox) error {
	var owner string
	if err := b.c.Conn().BusObject().Call("org.freedesktop.DBus.GetNameOwner", 0, control.BusName).Store(&owner); err != nil {
		return err
	}
	b.mu.Lock()
	b.sb, b.broker = sb, owner
	b.mu.Unlock()
	return export(b.c.Conn(), launcherObject{b})
}

func callCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 10*time.Second)
}

// A11yBus is the host's accessibility bus address ("" if none).
func (b *Client) A11yBus() string {
	ctx, cancel := callCtx()
	defer cancel()
	var addr string
	if err := b.c.Conn().Object("org.a11y.Bus", "/org/a11y/bus").CallWithContext(ctx, "org.a11y.Bus.GetAddress", 0).Store(&addr); err != nil {
		return ""
	}
	return addr
}

// InputMethodRunning says whether the host session runs IBus: ibus-portal
// owns its name, or the address file of ibus-daemon for this display
// ($XDG_CONFIG_HOME/ibus/bus/MACHINEID-unix-DISPLAY, as ibus_get_address
// reads it) names a live process. Nothing is started: ibus-portal is
// bus-activatable, and activated without a daemon it never answers.
func (b *Client) InputMethodRunning() bool {
	ctx, cancel := callCtx()
	defer cancel()
	var has bool
	if err := b.c.Conn().BusObject().CallWithContext(ctx, "org.freedesktop.DBus.NameHasOwner", 0, "org.freedesktop.portal.IBus").Store(&has); err == nil && has {
		return true
	}
	return ibusDaemonRunning()
}

// Register registers the sandbox (control.Client.Register) with the
// profile's options, and remembers them for a resume.
func (b *Client) Register(p *profile.Profile, id, name, a11yInside string) (string, error) {
	ctx, cancel := callCtx()
	defer cancel()
	dn := p.DisplayName
	if name != "" && name != p.Name {
		dn = name
	}
	opts := map[string]dbus.Variant{
		control.OptDisplayName:       dbus.MakeVariant(dn),
		control.OptIcon:              dbus.MakeVariant(p.Icon),
		control.OptBusNames:          dbus.MakeVariant(p.RelayedNames()),
		control.OptDefaultGrant:      dbus.MakeVariant(p.DefaultGrant),
		control.OptPersistentGrants:  dbus.MakeVariant(p.PersistentGrants),
		control.OptA11yBus:           dbus.MakeVariant(a11yInside),
		control.OptNativeGrants:      dbus.MakeVariant(p.Grants == profile.GrantsNative),
		control.OptOpenURI:           dbus.MakeVariant(p.OpenURI),
		control.OptClipboardCopy:     dbus.MakeVariant(p.ClipboardCopy),
		control.OptClipboardPaste:    dbus.MakeVariant(p.ClipboardPaste),
		control.OptClipboardMaxText:  dbus.MakeVariant(uint64(p.ClipboardMaxText)),
		control.OptClipboardMaxImage: dbus.MakeVariant(uint64(p.ClipboardMaxImage)),
		control.OptClipboardKeep:     dbus.MakeVariant(p.ClipboardKeep),
		control.OptPrint:             dbus.MakeVariant(p.Print),
		control.OptPrintSanitize:     dbus.MakeVariant(p.PrintSanitize),
		control.OptNetwork:           dbus.MakeVariant(p.Net),
		control.OptDisplay:           dbus.MakeVariant(p.Display),
		control.OptColor:             dbus.MakeVariant(p.ColorHex()),
	}
	b.regMu.Lock()
	b.regArgs = []any{id, name, p.Name, opts}
	b.regMu.Unlock()
	return b.c.Register(ctx, id, name, p.Name, opts)
}

// AttachDisplay registers the sandbox's nested X server with the broker,
// and remembers it for a resume.
func (b *Client) AttachDisplay(id, socket string, cookie []byte, pid int) error {
	ctx, cancel := callCtx()
	defer cancel()
	b.regMu.Lock()
	b.display = []any{id, socket, append([]byte(nil), cookie...), uint32(pid)}
	b.regMu.Unlock()
	return b.c.AttachDisplay(ctx, id, socket, cookie, uint32(pid))
}

// Grant makes a host file visible inside and returns its inside path.
func (b *Client) Grant(id, path string, writable bool) (string, error) {
	ctx, cancel := callCtx()
	defer cancel()
	g, err := b.c.Grant(ctx, id, path, writable)
	return g.Inside, err
}

// ReadOnlyFiles lists the sandbox's read-only file grants (host path to
// inside path); nil when the broker cannot say.
func (b *Client) ReadOnlyFiles(id string) map[string]string {
	ctx, cancel := callCtx()
	defer cancel()
	gs, err := b.c.Grants(ctx, id)
	if err != nil {
		return nil
	}
	out := map[string]string{}
	for _, g := range gs {
		if !g.Writable && !g.Dir {
			out[g.HostPath] = g.Inside
		}
	}
	return out
}

// AttachBus hands the sandbox's listening bus socket to the broker with a
// new keep channel, and holds the bus from then on (heldbus): without that
// the sandbox still runs, but does not survive a broker crash.
func (b *Client) AttachBus(id string, pid int, bus *os.File) error {
	ctx, cancel := callCtx()
	defer cancel()
	mine, theirs, err := control.KeepPair()
	if err != nil {
		return err
	}
	defer theirs.Close()
	if err := b.c.AttachBus(ctx, id, bus, theirs); err != nil {
		mine.Close()
		return err
	}
	if err := b.kept.Start(bus); err != nil {
		mine.Close()
		b.log.Warn("the sandbox's applications will not survive a crash of airlock-portal", "err", err)
		return nil
	}
	go b.keepLoop(id, mine)
	return nil
}

// Unregister tells the broker the sandbox ended, lets go of its bus and
// closes the connection.
func (b *Client) Unregister(id string) {
	// Stop first: the broker closing the keep channel now is no crash.
	b.kept.Stop()
	ctx, cancel := callCtx()
	defer cancel()
	b.c.Unregister(ctx, id)
	b.c.Close()
}
