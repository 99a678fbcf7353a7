// Package control is the contract between the launcher and the broker: the
// broker's control interface on the host session bus (PortalXML), the
// client the launcher uses, the interface every launcher serves for the
// broker (LauncherXML) and the keep channel (keep.go). No sandbox can reach it: sandboxes never see the host
// session bus, only their own bus served by the broker.
package control

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/godbus/dbus/v5"

	"airlock/portal/grant"
)

// The broker's well-known name, object and interface on the host session
// bus (PortalXML).
const (
	BusName    = "org.airlock.Portal"
	ObjectPath = dbus.ObjectPath("/org/airlock/Portal")
	Interface  = "org.airlock.Portal1"
)

// Option keys of Register.
const (
	OptDisplayName      = "display_name"      // s
	OptIcon             = "icon"              // s
	OptBusNames         = "bus_names"         // as: host names relayed for this sandbox
	OptDefaultGrant     = "default_grant"     // s: "ro" or "rw"
	OptPersistentGrants = "persistent_grants" // b
	OptPid              = "pid"               // u: host pid of the sandbox's init, for listings only
	OptA11yBus          = "a11y_bus"          // s: the accessibility bus address inside, when the launcher bound it
	OptNativeGrants     = "native_grants"     // b: read-only file grants are bound natively by the launcher
	OptOpenURI          = "open_uri"          // s: "ask" or "none" (the OpenURI portal); absent: "ask"
	// Clipboard policy of the profile, per direction: s, "none", "ask" or
	// "allow" (absent: "allow"). Copy is from this sandbox into Airlock's
	// clipboard, paste from it into this sandbox.
	OptClipboardCopy  = "clipboard_copy"
	OptClipboardPaste = "clipboard_paste"
	// Caps of the profile: t, bytes (absent or 0: the broker's caps, which
	// a profile can only lower).
	OptClipboardMaxText  = "clipboard_max_text"
	OptClipboardMaxImage = "clipboard_max_image"
	// OptClipboardKeep: b, a copy from this sandbox survives a paste.
	OptClipboardKeep = "clipboard_keep"
	// OptResumed: b, the sandbox already runs and its broker died: its
	// document view went with that broker (see Resume).
	OptResumed = "resumed"
	// OptPrint: b, the application may print (absent: true);
	// OptPrintSanitize: s, "rewrite", "rasterize" or "none" (absent or
	// unknown: "rewrite").
	OptPrint         = "print"
	OptPrintSanitize = "print_sanitize"
	// The profile's net and display (s), and its colour (s, "#rrggbb"):
	// what the grant manager shows (Describe) and the colour of Airlock's
	// dialogs for this sandbox.
	OptNetwork = "network"
	OptDisplay = "display"
	OptColor   = "color"

	// The launcher's own object, on its connection to the host bus: the
	// broker asks it to bind a read-only grant natively into its sandbox
	// (LauncherXML).
	LauncherPath      = dbus.ObjectPath("/org/airlock/Launcher")
	LauncherInterface = "org.airlock.Launcher1"
)

// Sandbox is one registered sandbox as the broker lists it.
type Sandbox struct {
	ID      string
	Name    string
	Profile string
	Started int64 // unix seconds
	Pid     uint32
}

// Info is one sandbox as Describe lists it, for the grant manager.
type Info struct {
	ID, Name, Profile string
	Started           int64 // unix seconds
	Pid               uint32
	Network, Display  string
	Color             string // "#rrggbb", "" for none
}

// Signals of Interface, for live listings (WatchChanges).
const (
	SignalSandboxesChanged = Interface + ".SandboxesChanged"
	SignalGrantsChanged    = Interface + ".GrantsChanged"
)

// Client talks to the broker for one launcher.
type Client struct {
	conn *dbus.Conn
	obj  dbus.BusObject
}

// ErrNoSessionBus means the caller has no session bus to find the broker on.
var ErrNoSessionBus = errors.New("no session bus (DBUS_SESSION_BUS_ADDRESS is not set)")

// Connect connects to the host session bus and makes sure a broker runs:
// D-Bus activation first (the installed service file), else the
// airlock-portal binary found beside the calling binary or on PATH, started
// in a session of its own so that it outlives this launcher.
func Connect(ctx context.Context) (*Client, error) {
	return connect(ctx, true)
}

// ErrNotRunning means no broker runs (ConnectRunning does not start one).
var ErrNotRunning = errors.New("airlock-portal is not running")

// ConnectRunning connects to a running broker and never starts one: for
// listings, grants and revocations, which only make sense while it runs.
func ConnectRunning(ctx context.Context) (*Client, error) {
	return connect(ctx, false)
}

func connect(ctx context.Context, start bool) (*Client, error) {
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		return nil, ErrNoSessionBus
	}
	conn, err := dbus.ConnectSessionBus()
	if err != nil {
		return nil, fmt.Errorf("cannot connect to the session bus: %w", err)
	}
	c := &Client{conn: conn, obj: conn.Object(BusName, ObjectPath)}
	switch {
	case c.running(ctx):
	case !start:
		conn.Close()
		return nil, ErrNotRunning
	default:
		if err := c.EnsureBroker(ctx); err != nil {
			conn.Close()
			return nil, err
		}
	}
	return c, nil
}

func (c *Client) running(ctx context.Context) bool {
	var has bool
	err := c.conn.BusObject().CallWithContext(ctx, "org.freedesktop.DBus.NameHasOwner", 0, BusName).Store(&has)
	return err == nil && has
}

// EnsureBroker starts a broker unless one runs (D-Bus activation, else the
// binary), and waits until it owns BusName.
func (c *Client) EnsureBroker(ctx context.Context) error {
	if c.running(ctx) {
		return nil
	}
	var reply uint32
	if err := c.conn.BusObject().CallWithContext(ctx, "org.freedesktop.DBus.StartServiceByName", 0, BusName, uint32(0)).Store(&reply); err == nil {
		return nil
	}
	bin, err := PortalBinary()
	if err != nil {
		return err
	}
	cmd := exec.Command(bin)
	cmd.Env = os.Environ()
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if logf, err := portalLog(); err == nil {
		cmd.Stdout, cmd.Stderr = logf, logf
		defer logf.Close()
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("cannot start %s: %w", bin, err)
	}
	go cmd.Wait()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if c.running(ctx) {
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	return fmt.Errorf("%s did not take %s on the session bus", bin, BusName)
}

// PortalBinary finds airlock-portal: $AIRLOCK_PORTAL, beside the running
// binary, then PATH.
func PortalBinary() (string, error) {
	if p := os.Getenv("AIRLOCK_PORTAL"); p != "" {
		return p, nil
	}
	if exe, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(exe), "airlock-portal")
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p, nil
		}
	}
	p, err := exec.LookPath("airlock-portal")
	if err != nil {
		return "", errors.New("airlock-portal is not installed (not beside airlock, not on PATH)")
	}
	return p, nil
}

func portalLog() (*os.File, error) {
	p, err := LogFile()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return nil, err
	}
	return os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
}

// Register announces a sandbox before it starts. The broker answers with the
// host path of the sandbox's document view (empty when the broker has no
// document store), which the launcher binds at /run/user/UID/doc inside.
func (c *Client) Register(ctx context.Context, id, name, profile string, opts map[string]dbus.Variant) (docView string, err error) {
	var got string
	err = c.obj.CallWithContext(ctx, Interface+".Register", 0, id, name, profile, opts).Store(&got, &docView)
	return docView, err
}

// AttachBus hands the sandbox's listening bus socket to the broker, which
// serves it from then on: the socket is the sandbox's identity. keep is the
// broker's end of the keep channel (KeepPair).
func (c *Client) AttachBus(ctx context.Context, id string, bus, keep *os.File) error {
	return c.obj.CallWithContext(ctx, Interface+".AttachBus", 0, id, dbus.UnixFD(bus.Fd()), dbus.UnixFD(keep.Fd())).Err
}

// Resume is AttachBus for a sandbox whose broker died: before it serves the
// listening socket, the broker reads n connection records (each with its
// descriptor) from keep and adopts those connections, so they carry on
// with the same unique names, match rules and owned names. The caller
// writes the records into its end of the channel while the call runs.
func (c *Client) Resume(ctx context.Context, id string, bus, keep *os.File, n uint32) error {
	return c.obj.CallWithContext(ctx, Interface+".Resume", 0, id, dbus.UnixFD(bus.Fd()), dbus.UnixFD(keep.Fd()), n).Err
}

// Owner returns the unique name of the broker that owns BusName now.
func (c *Client) Owner(ctx context.Context) (string, error) {
	var owner string
	err := c.conn.BusObject().CallWithContext(ctx, "org.freedesktop.DBus.GetNameOwner", 0, BusName).Store(&owner)
	return owner, err
}

// Grant makes a host file or folder visible in a running sandbox. The
// answer is the registry's own grant.Grant: (ssssbbb) on the wire.
func (c *Client) Grant(ctx context.Context, id, path string, writable bool) (grant.Grant, error) {
	var g grant.Grant
	err := c.obj.CallWithContext(ctx, Interface+".Grant", 0, id, path, writable).Store(&g)
	return g, err
}

// Grants lists a sandbox's grants ("" for every sandbox's).
func (c *Client) Grants(ctx context.Context, id string) ([]grant.Grant, error) {
	var gs []grant.Grant
	err := c.obj.CallWithContext(ctx, Interface+".Grants", 0, id).Store(&gs)
	return gs, err
}

// Revoke removes a grant: the file is gone from the sandbox at once. native
// says it was bound natively: descriptors the application opened before
// still read it.
func (c *Client) Revoke(ctx context.Context, id, doc string) (native bool, err error) {
	err = c.obj.CallWithContext(ctx, Interface+".Revoke", 0, id, doc).Store(&native)
	return native, err
}

// AttachDisplay tells the broker where the sandbox's nested X server listens
// (its host-side socket path) and its cookie: the broker reaches the
// sandbox's clipboard there, as an X client the sandbox cannot see.
func (c *Client) AttachDisplay(ctx context.Context, id, socket string, cookie []byte, pid uint32) error {
	return c.obj.CallWithContext(ctx, Interface+".AttachDisplay", 0, id, socket, cookie, pid).Err
}

// ClipboardDomainHost names the host display as a clipboard domain.
const ClipboardDomainHost = "host"

// ClipboardInfo describes Airlock's clipboard, never its content.
type ClipboardInfo struct {
	Kind   string // "text" or "image"; "" when empty
	Size   uint64
	Source string
}

// ClipboardCopy copies domain's (a sandbox id or "host") CLIPBOARD into
// Airlock's clipboard.
func (c *Client) ClipboardCopy(ctx context.Context, domain string) (ClipboardInfo, error) {
	var i ClipboardInfo
	err := c.obj.CallWithContext(ctx, Interface+".ClipboardCopy", 0, domain).Store(&i.Kind, &i.Size)
	return i, err
}

// ClipboardPaste offers Airlock's clipboard on domain's CLIPBOARD.
func (c *Client) ClipboardPaste(ctx context.Context, domain string) (ClipboardInfo, error) {
	var i ClipboardInfo
	err := c.obj.CallWithContext(ctx, Interface+".ClipboardPaste", 0, domain).Store(&i.Kind, &i.Size, &i.Source)
	return i, err
}

// ClipboardShow describes Airlock's clipboard.
func (c *Client) ClipboardShow(ctx context.Context) (ClipboardInfo, error) {
	var i ClipboardInfo
	err := c.obj.CallWithContext(ctx, Interface+".ClipboardShow", 0).Store(&i.Kind, &i.Size, &i.Source)
	return i, err
}

// ClipboardClear wipes Airlock's clipboard.
func (c *Client) ClipboardClear(ctx context.Context) error {
	return c.obj.CallWithContext(ctx, Interface+".ClipboardClear", 0).Err
}

// Unregister tells the broker the sandbox ended (it also notices by itself
// when this client's connection goes away).
func (c *Client) Unregister(ctx context.Context, id string) error {
	return c.obj.CallWithContext(ctx, Interface+".Unregister", 0, id).Err
}

// List returns the broker's sandboxes.
func (c *Client) List(ctx context.Context) ([]Sandbox, error) {
	call := c.obj.CallWithContext(ctx, Interface+".List", 0)
	if call.Err != nil {
		return nil, call.Err
	}
	var out []Sandbox
	if err := call.Store(&out); err != nil {
		return nil, err
	}
	return out, nil
}

// Describe lists the broker's sandboxes with what the grant manager shows.
func (c *Client) Describe(ctx context.Context) ([]Info, error) {
	var out []Info
	err := c.obj.CallWithContext(ctx, Interface+".Describe", 0).Store(&out)
	return out, err
}

// GrantTimes says when each grant of sandbox id was made (doc id to unix
// seconds).
func (c *Client) GrantTimes(ctx context.Context, id string) (map[string]int64, error) {
	var out map[string]int64
	err := c.obj.CallWithContext(ctx, Interface+".GrantTimes", 0, id).Store(&out)
	return out, err
}

// End asks the broker to end sandbox id (through its launcher).
func (c *Client) End(ctx context.Context, id string) error {
	return c.obj.CallWithContext(ctx, Interface+".End", 0, id).Err
}

// WatchChanges delivers the broker's SandboxesChanged and GrantsChanged
// signals on ch (godbus closes ch when the connection ends).
func (c *Client) WatchChanges(ch chan<- *dbus.Signal) error {
	if err := c.conn.AddMatchSignal(dbus.WithMatchSender(BusName), dbus.WithMatchObjectPath(ObjectPath), dbus.WithMatchInterface(Interface)); err != nil {
		return err
	}
	c.conn.Signal(ch)
	return nil
}

// Conn is the client's session bus connection.
func (c *Client) Conn() *dbus.Conn { return c.conn }

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }
