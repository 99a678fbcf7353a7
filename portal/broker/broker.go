// Package broker is airlock-portal's core: the registry of sandboxes, the
// control interface the launcher uses on the host session bus, and one
// mediated bus (busserver + desktop portal) per sandbox.
package broker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/godbus/dbus/v5"
	"golang.org/x/sys/unix"

	"airlock/portal/busserver"
	"airlock/portal/clipboard"
	"airlock/portal/control"
	"airlock/portal/desktop"
	"airlock/portal/docstore"
	"airlock/portal/evinced"
	"airlock/portal/filechooser"
	"airlock/portal/grants"
	"airlock/portal/ibus"
	"airlock/portal/inhibit"
	"airlock/portal/notification"
	"airlock/portal/openuri"
	portalprint "airlock/portal/print"
	"airlock/portal/trash"
)

// Sandbox is one registered sandbox. Its identity towards the broker is the
// listening socket it was registered with: every message that arrives on a
// connection accepted there is this sandbox's, whatever the message says.
type Sandbox struct {
	ID, Name, Profile string
	DisplayName, Icon string
	DefaultGrant      string
	PersistentGrants  bool
	BusNames          []string
	A11yBus           string // the accessibility bus address inside ("" for none)
	NativeGrants      bool   // read-only file grants are bound natively by the launcher
	OpenURI           string // the profile's open_uri: openuri.PolicyAsk or PolicyNone
	Pid               uint32
	Started           time.Time
	Network, Display  string // the profile's net and display, for listings
	Color             string // "#rrggbb" or "": the profile's colour
	owner             string // the launcher's unique name on the host bus

	// Resumed: registered again by its launcher after the broker serving
	// it died. Its /run/user/UID/doc is still bound to that broker's
	// document store, which died with it (ENOTCONN): nothing granted here
	// could appear inside, so grants are refused until it restarts
	// (grants.ErrResumed).
	Resumed bool

	DocView string // host path of its document view ("" without a store)

	// Clipboard: the profile's policy per direction and caps, and its
	// nested display (AttachDisplay; "" before or without one).
	ClipCopy, ClipPaste       string
	ClipMaxText, ClipMaxImage int64
	XSocket                   string
	XCookie                   []byte
	XPid                      uint32 // the nested server's host pid (AttachDisplay)
	ClipKeep                  bool   // a copy from it survives a paste

	// Print and PrintSanitize: the profile's print and print_sanitize.
	Print         bool
	PrintSanitize string

	Server  *busserver.Server
	Desktop *desktop.Desktop
	Notes   *notification.Portal
	IBus    *ibus.Relay // nil unless the profile allows input methods
	ln      net.Listener
	keep    *keeper // the launcher's keep channel (nil before AttachBus)
}

// Broker serves every sandbox of one user session.
type Broker struct {
	log      *slog.Logger
	uid      int
	host     *dbus.Conn
	settings desktop.SettingsSource
	grants   *grants.Registry
	dialog   filechooser.Dialog // the session's one chooser pool
	folders  *filechooser.Folders
	notes    *notification.Hub // nil without a host bus
	clip     *clipboard.Clipboard
	// printOnce finds the launcher once; sanitizer runs print sanitisers.
	printOnce sync.Once
	sanitizer *portalprint.LauncherSanitizer

	// mu guards the fields below.
	mu        sync.Mutex
	sandboxes map[string]*Sandbox
	replaced  bool          // another broker took the name: no new sandboxes
	idle      chan struct{} // closed when replaced and the last sandbox ended
}

// New returns a broker using host (the host session bus; may be nil in
// tests) for the control interface and relays, reg for grants (nil: none can
// be made) and dialog for every sandbox's file chooser (nil: unavailable).
func New(log *slog.Logger, host *dbus.Conn, settings desktop.SettingsSource, reg *grants.Registry, dialog filechooser.Dialog) *Broker {
	if reg == nil {
		reg = grants.New(log, nil)
	}
	if dialog == nil {
		dialog = filechooser.Unavailable(errors.New("no file chooser"))
	}
	b := &Broker{log: log, uid: os.Getuid(), host: host, settings: settings, grants: reg, dialog: dialog,
		folders: filechooser.NewFolders(), sandboxes: map[string]*Sandbox{}, idle: make(chan struct{})}
	b.clip = clipboard.New(log, b.clipboardOptions())
	reg.SetOnChange(b.grantsChanged)
	if host != nil {
		b.notes = notification.NewHub(host, log)
	}
	return b
}

// Export publishes the control interface on the host bus. Call it before
// requesting the well-known name (snapd userd.go does the same).
func (b *Broker) Export() error {
	if err := b.host.Export(controlObject{b}, control.ObjectPath, control.Interface); err != nil {
		return err
	}
	data, err := control.Introspectable(control.PortalXML)
	if err != nil {
		return err
	}
	if err := b.host.Export(data, control.ObjectPath, "org.freedesktop.DBus.Introspectable"); err != nil {
		return err
	}
	// A launcher that dies without unregistering still ends its
	// sandboxes' service: its unique name going away is the signal.
	if err := b.host.AddMatchSignal(dbus.WithMatchInterface("org.freedesktop.DBus"), dbus.WithMatchMember("NameOwnerChanged"), dbus.WithMatchSender("org.freedesktop.DBus")); err != nil {
		return err
	}
	// The notification server's ActionInvoked and NotificationClosed,
	// routed back to the sandbox portals that sent those notifications.
	if err := b.notes.Watch(); err != nil {
		return err
	}
	return nil
}

// HandleSignal processes host bus signals (NameOwnerChanged, NameLost).
func (b *Broker) HandleSignal(sig *dbus.Signal) {
	if b.notes != nil && b.notes.HandleSignal(sig) {
		return
	}
	switch sig.Name {
	case "org.freedesktop.DBus.NameOwnerChanged":
		if len(sig.Body) != 3 {
			return
		}
		name, _ := sig.Body[0].(string)
		newOwner, _ := sig.Body[2].(string)
		if newOwner == "" && len(name) > 0 && name[0] == ':' {
			b.dropOwner(name)
		}
	case "org.freedesktop.DBus.NameLost":
		if len(sig.Body) == 1 && sig.Body[0] == control.BusName {
			b.mu.Lock()
			b.replaced = true
			n := len(b.sandboxes)
			b.mu.Unlock()
			b.log.Info("replaced by another broker: serving the running sandboxes until they end", "sandboxes", n)
			b.checkIdle()
		}
	}
}

// Replaced returns a channel closed once this broker was replaced and has no
// sandbox left to serve.
func (b *Broker) Replaced() <-chan struct{} { return b.idle }

func (b *Broker) checkIdle() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.replaced && len(b.sandboxes) == 0 {
		select {
		case <-b.idle:
		default:
			close(b.idle)
		}
	}
}

// controlObject carries the exported methods, so that the Broker's own
// methods are not all exported on the bus.
type controlObject struct{ b *Broker }

func accessDenied(format string, args ...any) *dbus.Error {
	return &dbus.Error{Name: "org.freedesktop.DBus.Error.AccessDenied", Body: []any{fmt.Sprintf(format, args...)}}
}

func failed(format string, args ...any) *dbus.Error {
	return &dbus.Error{Name: "org.freedesktop.DBus.Error.Failed", Body: []any{fmt.Sprintf(format, args...)}}
}

// callerOK checks the caller runs as this user. The session bus is the
// user's already; this is a second wall against a misconfigured bus.
func (b *Broker) callerOK(sender dbus.Sender) bool {
	var uid uint32
	err := b.host.BusObject().Call("org.freedesktop.DBus.GetConnectionUnixUser", 0, string(sender)).Store(&uid)
	return err == nil && int(uid) == b.uid
}

// Register announces a sandbox before it starts and answers with its document
// view, which the launcher binds into it.
func (o controlObject) Register(sender dbus.Sender, id, name, profile string, options map[string]dbus.Variant) (string, string, *dbus.Error) {
	b := o.b
	if !b.callerOK(sender) {
		return "", "", accessDenied("caller is not uid %d", b.uid)
	}
	if !validID(id) {
		return "", "", failed("bad sandbox id %q", id)
	}
	sb := &Sandbox{ID: id, Name: name, Profile: profile, DisplayName: name, DefaultGrant: "ro", Started: time.Now(), owner: string(sender)}
	readOpts(sb, options)
	if err := b.add(sb); err != nil {
		return "", "", failed("%v", err)
	}
	return id, sb.DocView, nil
}

// AttachBus starts serving the sandbox's bus on the listening socket its
// launcher hands in. From then on, that socket is the sandbox's identity.
// keep is the launcher's keep channel: every connection accepted there is
// handed to the launcher with its state (keep.go), so that it survives a
// crash of this broker.
func (o controlObject) AttachBus(sender dbus.Sender, id string, bus, keep dbus.UnixFD) *dbus.Error {
	b := o.b
	sb, f, kf, derr := b.busHandles(sender, id, bus, keep)
	if derr != nil {
		return derr
	}
	defer f.Close()
	ln, err := net.FileListener(f)
	if err != nil {
		kf.Close()
		return failed("cannot use the bus socket: %v", err)
	}
	if derr := b.attach(sb, ln, kf); derr != nil {
		return derr
	}
	b.serve(sb, nil)
	return nil
}

// busHandles takes ownership of the descriptors AttachBus and Resume are
// handed and checks them: the caller's own sandbox, a keep channel, a
// listening unix stream socket. On error every descriptor is closed.
func (b *Broker) busHandles(sender dbus.Sender, id string, bus, keep dbus.UnixFD) (*Sandbox, *os.File, *os.File, *dbus.Error) {
	f := os.NewFile(uintptr(bus), "sandbox-bus")
	kf, err := control.OpenKeep(int(keep))
	if err != nil {
		f.Close()
		return nil, nil, nil, failed("bad keep channel: %v", err)
	}
	sb, derr := b.ownSandbox(sender, id)
	if derr == nil {
		if err := checkListener(int(bus)); err != nil {
			derr = failed("bad bus socket: %v", err)
		}
	}
	if derr != nil {
		f.Close()
		kf.Close()
		return nil, nil, nil, derr
	}
	return sb, f, kf, nil
}

// attach records the sandbox's listener and keep channel, once.
func (b *Broker) attach(sb *Sandbox, ln net.Listener, kf *os.File) *dbus.Error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if sb.ln != nil {
		ln.Close()
		kf.Close()
		return failed("sandbox %s already has a bus", sb.ID)
	}
	sb.ln = ln
	sb.keep = newKeeper(b.log.With("sandbox", sb.DisplayName, "sandbox_id", sb.ID), kf)
	if sb.NativeGrants && b.host != nil {
		// Its init runs from now on: it can bind.
		b.grants.Attach(sb.ID, launcherBinder{b: b, sb: sb})
	}
	return nil
}

// ownSandbox returns the sandbox id registered by sender.
func (b *Broker) ownSandbox(sender dbus.Sender, id string) (*Sandbox, *dbus.Error) {
	if !b.callerOK(sender) {
		return nil, accessDenied("caller is not uid %d", b.uid)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	sb, ok := b.sandboxes[id]
	if !ok {
		return nil, failed("no sandbox %s", id)
	}
	// Only the launcher that registered a sandbox wires or ends it.
	if sb.owner != string(sender) {
		return nil, accessDenied("sandbox %s belongs to another launcher", id)
	}
	return sb, nil
}

func readOpts(sb *Sandbox, opts map[string]dbus.Variant) {
	if v, ok := opts[control.OptDisplayName].Value().(string); ok && v != "" {
		sb.DisplayName = v
	}
	if v, ok := opts[control.OptIcon].Value().(string); ok {
		sb.Icon = v
	}
	if v, ok := opts[control.OptBusNames].Value().([]string); ok {
		sb.BusNames = v
	}
	if v, ok := opts[control.OptDefaultGrant].Value().(string); ok && (v == "ro" || v == "rw") {
		sb.DefaultGrant = v
	}
	if v, ok := opts[control.OptPersistentGrants].Value().(bool); ok {
		sb.PersistentGrants = v
	}
	if v, ok := opts[control.OptA11yBus].Value().(string); ok && strings.HasPrefix(v, "unix:path=/run/user/") {
		sb.A11yBus = v
	}
	if v, ok := opts[control.OptNativeGrants].Value().(bool); ok {
		sb.NativeGrants = v
	}
	// Only "ask" asks; any other word refuses (a launcher that does not
	// send the key is an older one, whose profiles had no way to say
	// "none": it gets the default, "ask").
	sb.OpenURI = openuri.PolicyAsk
	if v, ok := opts[control.OptOpenURI].Value().(string); ok && v != openuri.PolicyAsk {
		sb.OpenURI = openuri.PolicyNone
	}
	if v, ok := opts[control.OptPid].Value().(uint32); ok {
		sb.Pid = v
	}
	// Any word but "allow" and "ask" refuses: an unknown policy fails
	// closed.
	sb.ClipCopy, sb.ClipPaste = clipPolicy(opts[control.OptClipboardCopy]), clipPolicy(opts[control.OptClipboardPaste])
	if v, ok := opts[control.OptClipboardMaxText].Value().(uint64); ok && v > 0 && v < 1<<40 {
		sb.ClipMaxText = int64(v)
	}
	if v, ok := opts[control.OptClipboardMaxImage].Value().(uint64); ok && v > 0 && v < 1<<40 {
		sb.ClipMaxImage = int64(v)
	}
	if v, ok := opts[control.OptClipboardKeep].Value().(bool); ok {
		sb.ClipKeep = v
	}
	// An older launcher sends neither: printing with the default
	// sanitiser. An unknown sanitiser fails closed to "rewrite" (the
	// print portal's own check).
	sb.Print, sb.PrintSanitize = true, portalprint.SanitizeRewrite
	if v, ok := opts[control.OptPrint].Value().(bool); ok {
		sb.Print = v
	}
	if v, ok := opts[control.OptPrintSanitize].Value().(string); ok {
		sb.PrintSanitize = v
	}
	if v, ok := opts[control.OptResumed].Value().(bool); ok {
		sb.Resumed = v
	}
	// Words for listings only, capped: nothing decides on them.
	if v, ok := opts[control.OptNetwork].Value().(string); ok && len(v) <= 16 {
		sb.Network = v
	}
	if v, ok := opts[control.OptDisplay].Value().(string); ok && len(v) <= 16 {
		sb.Display = v
	}
	if v, ok := opts[control.OptColor].Value().(string); ok && validColor(v) {
		sb.Color = v
	}
}

// validColor: "#rrggbb", lowercase or uppercase hex.
func validColor(s string) bool {
	if len(s) != 7 || s[0] != '#' {
		return false
	}
	for _, c := range s[1:] {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

func clipPolicy(v dbus.Variant) string {
	if v.Signature().String() == "" {
		return "allow" // an older launcher: the default
	}
	switch s, _ := v.Value().(string); s {
	case "allow", "ask":
		return s
	}
	return "none"
}

// AttachDisplay records the sandbox's nested X server, which the broker
// reaches as an X client for the clipboard.
func (o controlObject) AttachDisplay(sender dbus.Sender, id, socket string, cookie []byte, pid uint32) *dbus.Error {
	b := o.b
	sb, derr := b.ownSandbox(sender, id)
	if derr != nil {
		return derr
	}
	if err := checkXSocket(socket, b.uid); err != nil {
		return failed("bad display socket: %v", err)
	}
	// MIT-MAGIC-COOKIE-1 is 16 bytes.
	if len(cookie) != 16 {
		return failed("bad display cookie: %d bytes, want 16", len(cookie))
	}
	b.mu.Lock()
	sb.XSocket, sb.XCookie, sb.XPid = socket, append([]byte(nil), cookie...), pid
	b.mu.Unlock()
	b.log.Info("sandbox display attached", "sandbox", sb.DisplayName, "sandbox_id", sb.ID, "socket", socket)
	return nil
}

// checkXSocket insists on an absolute path to a unix socket that this user
// owns (a launcher runs as the broker's user; anything else was not made by
// it).
func checkXSocket(path string, uid int) error {
	if !strings.HasPrefix(path, "/") || len(path) > 107 {
		return fmt.Errorf("%q is not an absolute socket path", path)
	}
	var st unix.Stat_t
	if err := unix.Lstat(path, &st); err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFSOCK {
		return fmt.Errorf("%s is not a socket", path)
	}
	if int(st.Uid) != uid {
		return fmt.Errorf("%s belongs to uid %d", path, st.Uid)
	}
	return nil
}

func validID(id string) bool {
	if len(id) == 0 || len(id) > 64 {
		return false
	}
	for _, c := range id {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// checkListener insists on a listening unix stream socket: anything else
// handed in (a file, a connected socket) is refused before use.
func checkListener(fd int) error {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFSOCK {
		return fmt.Errorf("not a socket")
	}
	if d, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_DOMAIN); err != nil || d != unix.AF_UNIX {
		return fmt.Errorf("not a unix socket")
	}
	if t, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TYPE); err != nil || t != unix.SOCK_STREAM {
		return fmt.Errorf("not a stream socket")
	}
	if a, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ACCEPTCONN); err != nil || a != 1 {
		return fmt.Errorf("not listening")
	}
	return nil
}

// add records a sandbox and creates its document view.
func (b *Broker) add(sb *Sandbox) error {
	b.mu.Lock()
	if b.replaced {
		b.mu.Unlock()
		return fmt.Errorf("this broker was replaced; register with the new one")
	}
	if _, dup := b.sandboxes[sb.ID]; dup {
		b.mu.Unlock()
		return fmt.Errorf("sandbox %s is already registered", sb.ID)
	}
	b.sandboxes[sb.ID] = sb
	b.mu.Unlock()
	if sb.Resumed {
		b.log.Warn("sandbox registered again after its broker ended: its document view died with that broker, so files granted before are gone from it and new grants are refused until it restarts", "sandbox", sb.DisplayName, "sandbox_id", sb.ID)
	}
	view, err := b.grants.AddSandbox(grants.Sandbox{ID: sb.ID, Profile: sb.Profile, Label: docstore.Label{Name: sb.DisplayName, Icon: sb.Icon, Color: sb.Color}, Persistent: sb.PersistentGrants, Resumed: sb.Resumed})
	if err != nil {
		b.mu.Lock()
		delete(b.sandboxes, sb.ID)
		b.mu.Unlock()
		return err
	}
	sb.DocView = view
	b.emit(control.SignalSandboxesChanged)
	b.log.Info("sandbox registered", "sandbox", sb.DisplayName, "sandbox_id", sb.ID, "profile", sb.Profile, "relayed", sb.BusNames, "doc_view", sb.DocView)
	return nil
}

// serve creates the sandbox's bus and portals, adopts the connections a
// launcher handed back (Resume), and starts serving the listener.
func (b *Broker) serve(sb *Sandbox, conns []adopted) {
	lg := b.log.With("sandbox", sb.DisplayName, "sandbox_id", sb.ID)
	// One notification rate per sandbox, whichever way it notifies.
	limit := notification.NewLimiter(notification.DefaultBurst, notification.DefaultRate, lg)
	var relay busserver.Relay
	if b.host != nil && len(sb.BusNames) > 0 {
		r := newHostRelay(b.host, sb.BusNames, sb.A11yBus)
		r.name, r.icon, r.limit = sb.DisplayName, sb.Icon, limit
		if slices.Contains(sb.BusNames, ibus.Name) {
			// The input method (profile key input_method): a host
			// connection of the sandbox's own, opened at its first
			// input context (portal/ibus).
			sb.IBus = ibus.New(ibus.DialSession, lg)
			r.ibus = sb.IBus
		}
		relay = r
	}
	sb.Server = busserver.New(busserver.Config{SandboxID: sb.ID, SandboxName: sb.DisplayName, UID: b.uid, Logger: b.log, Relay: relay, Keeper: sb.keep})
	if sb.IBus != nil {
		sb.IBus.SetEmitter(sb.Server.EmitTo)
		sb.Server.OnDisconnect(sb.IBus.ClientGone)
	}
	sb.Desktop = desktop.Install(sb.Server, desktop.Options{Settings: b.settings, Logger: lg})
	// The portal is served to every sandbox (GTK looks for it), but it
	// shows notifications only for a profile that lets the sandbox notify:
	// a profile without org.freedesktop.Notifications in bus_names means
	// no notifications, whichever way the application tries.
	var host notification.Host
	if b.notes != nil && slices.Contains(sb.BusNames, notification.HostName) {
		host = b.notes
	}
	sb.Notes = notification.Install(sb.Desktop, sb.Server, notification.Sandbox{ID: sb.ID, Name: sb.DisplayName, Icon: sb.Icon}, host, limit, lg)
	filechooser.Install(sb.Desktop, filechooser.Sandbox{
		ID: sb.ID, Profile: sb.Profile, DisplayName: sb.DisplayName, Icon: sb.Icon,
		ReadOnlyDefault: sb.DefaultGrant != "rw", Color: sb.Color,
	}, b.grants, b.dialog, b.folders, b.log)
	inhibit.Install(sb.Desktop, lg)
	evinced.Install(sb.Server, lg)
	openuri.Install(sb.Desktop, openuri.Sandbox{ID: sb.ID, Name: sb.DisplayName, Icon: sb.Icon, Color: sb.Color, Policy: sb.OpenURI},
		b.grants, openuri.Dialog(b.dialog), nil, b.log)
	trash.Install(sb.Desktop, sb.ID, sb.DisplayName, b.grants, b.log)
	portalprint.Install(sb.Desktop, portalprint.Sandbox{ID: sb.ID, Name: sb.DisplayName, Icon: sb.Icon, Color: sb.Color,
		Allowed: sb.Print, Sanitize: sb.PrintSanitize}, b.printConfig(), b.log)
	// Adopted before the listener is served: a new connection's unique
	// name is then sure not to collide with a restored one.
	for _, a := range conns {
		if err := sb.Server.Adopt(a.uc, a.st); err != nil {
			b.log.Warn("cannot adopt a connection: it ends", "sandbox_id", sb.ID, "conn", a.st.Unique, "err", err)
		}
	}
	go func() {
		err := sb.Server.Serve(sb.ln)
		b.log.Debug("sandbox bus closed", "sandbox", sb.DisplayName, "sandbox_id", sb.ID, "err", err)
	}()
	b.log.Info("sandbox bus attached", "sandbox", sb.DisplayName, "sandbox_id", sb.ID)
}

func (o controlObject) Unregister(sender dbus.Sender, id string) *dbus.Error {
	b := o.b
	if !b.callerOK(sender) {
		return accessDenied("caller is not uid %d", b.uid)
	}
	b.mu.Lock()
	sb, ok := b.sandboxes[id]
	// Only the launcher that registered a sandbox ends it.
	if ok && sb.owner != string(sender) {
		b.mu.Unlock()
		return accessDenied("sandbox %s belongs to another launcher", id)
	}
	b.mu.Unlock()
	if ok {
		b.remove(id)
	}
	return nil
}

func (o controlObject) List(sender dbus.Sender) ([]control.Sandbox, *dbus.Error) {
	if !o.b.callerOK(sender) {
		return nil, accessDenied("caller is not uid %d", o.b.uid)
	}
	return o.b.List(), nil
}

// List returns the registered sandboxes, oldest first.
func (b *Broker) List() []control.Sandbox {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]control.Sandbox, 0, len(b.sandboxes))
	for _, sb := range b.sandboxes {
		out = append(out, control.Sandbox{ID: sb.ID, Name: sb.DisplayName, Profile: sb.Profile, Started: sb.Started.Unix(), Pid: sb.Pid})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Started < out[j].Started })
	return out
}

// Lookup returns a registered sandbox.
func (b *Broker) Lookup(id string) *Sandbox {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.sandboxes[id]
}

func (b *Broker) dropOwner(owner string) {
	b.mu.Lock()
	var ids []string
	for id, sb := range b.sandboxes {
		if sb.owner == owner {
			ids = append(ids, id)
		}
	}
	b.mu.Unlock()
	for _, id := range ids {
		b.remove(id)
	}
}

// remove forgets a sandbox: its bus closes, its requests and grants end.
func (b *Broker) remove(id string) {
	b.mu.Lock()
	sb, ok := b.sandboxes[id]
	delete(b.sandboxes, id)
	b.mu.Unlock()
	if !ok {
		return
	}
	if sb.Server != nil {
		sb.Server.Close()
	} else if sb.ln != nil {
		sb.ln.Close()
	}
	if sb.keep != nil {
		sb.keep.Close()
	}
	if sb.Notes != nil {
		sb.Notes.Close()
	}
	if sb.IBus != nil {
		sb.IBus.Close()
	}
	b.grants.RemoveSandbox(id)
	// What Airlock offered on its display goes; a copy made from it stays.
	b.clip.Forget(id)
	b.log.Info("sandbox ended", "sandbox", sb.DisplayName, "sandbox_id", sb.ID)
	b.emit(control.SignalSandboxesChanged)
	b.checkIdle()
}

// Close ends every sandbox bus.
func (b *Broker) Close() {
	b.mu.Lock()
	ids := make([]string, 0, len(b.sandboxes))
	for id := range b.sandboxes {
		ids = append(ids, id)
	}
	b.mu.Unlock()
	for _, id := range ids {
		b.remove(id)
	}
	b.clip.Close()
}

// Run serves host bus signals until ctx ends.
func (b *Broker) Run(ctx context.Context) {
	ch := make(chan *dbus.Signal, 64)
	b.host.Signal(ch)
	defer b.host.RemoveSignal(ch)
	for {
		select {
		case <-ctx.Done():
			return
		case s, ok := <-ch:
			if !ok {
				return
			}
			b.HandleSignal(s)
		}
	}
}
