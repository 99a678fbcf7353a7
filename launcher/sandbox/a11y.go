package sandbox

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"airlock/po/i18n"
)

// The session's accessibility bus (AT-SPI) is a control channel, not only a
// reading one: any client on it can call actions on any application's
// objects (press a button of Airlock's own file chooser), register keystroke
// and event listeners (log what the user types into other windows) and
// synthesize keys (GenerateKeyboardEvent). Issue 8 showed a sandbox doing all
// three over the host's socket bound in. A screen reader on the host needs
// the sandboxed application's tree, not the application's power over others,
// so the sandbox gets its own filtering xdg-dbus-proxy in front of that bus,
// never the bus itself. The rules are Flatpak's
// (flatpak_run_add_a11y_dbus_args, common/flatpak-run-dbus.c), tightened
// where they leak; see a11yProxyRules and a11yFilter.

// a11yInsideSocket is where the proxy's socket appears inside the sandbox,
// under /run/user/UID; the broker answers org.a11y.Bus.GetAddress with it.
const a11yInsideSocket = "at-spi/bus"

// a11yProxyRules are xdg-dbus-proxy's rules for the sandbox's connection to
// the accessibility bus. What they mean there (xdg-dbus-proxy 0.1.4 to
// 0.1.7, flatpak-proxy.c):
//   - --filter: the sandbox may call only what a --call rule names; every
//     other peer is hidden (ServiceUnknown) or, once seen, refused
//     (AccessDenied). So no call reaches another application's objects
//     (GetChildren, DoAction, Text, EditableText ...), nor the registry's
//     RegisterEvent, nor the DeviceEventController's
//     RegisterKeystrokeListener, RegisterDeviceEventListener,
//     GenerateKeyboardEvent or GenerateMouseEvent.
//   - Broadcast signals reach the sandbox only from a sender it may TALK to
//     or that a --broadcast rule names: other applications' AT-SPI events
//     (object:text-changed, focus: what the user types elsewhere) never
//     reach it, even with a match rule and --sloppy-names, which only shows
//     NameOwnerChanged for unique names (atk-bridge tracks its listeners'
//     lifetimes with it): the sandbox sees unique names come and go, and
//     cannot call them. From the registry, only the --broadcast rules'
//     EventListenerRegistered/Deregistered pass in 0.1.4; since 0.1.6 all
//     of its broadcasts do (pointer, modifier keys, the desktop's
//     ChildrenChanged), which a11yFilter drops.
//   - Calls from other peers (the screen reader reading the application's
//     tree) reach the sandbox unfiltered, and its replies go back: that is
//     what a screen reader needs.
//
// Tightened beyond Flatpak:
//   - Socket.Unembed is not allowed. at-spi2-registryd (registry.c,
//     impl_Unembed, at-spi2-core 2.46) removes the application named in the
//     message body, not the caller: with the unique names it sees come and
//     go a sandbox could take any application, Airlock's chooser included, off
//     the desktop the screen reader reads, and drop its device listeners
//     (spi_remove_device_listeners). No client needs it: atk-bridge leaves
//     with DeregisterApplication (not allowed either), and the registry drops
//     an application whose connection ends.
//
// Kept from Flatpak, with what they let through:
//   - Socket.Embed registers the application (atk-bridge's first call). It
//     too trusts the body's bus name: a sandbox can list another application
//     a second time, and the registry then sets that application's Id
//     property. It reads nothing and presses nothing.
//   - DeviceEventController.NotifyListenersSync/Async carry the sandboxed
//     application's own key events to the screen reader's keystroke
//     listeners (key echo, Orca's commands while the application has focus).
//     The reply is one boolean, whether a listener consumed the event: they
//     tell the sandbox nothing of the keys typed elsewhere (checked in
//     deviceeventcontroller.c, impl_notify_listeners_sync). The sandbox can
//     make up key events for the screen reader, as the focused application
//     can on any desktop.
//   - GetKeystrokeListeners, GetDeviceEventListeners and
//     Registry.GetRegisteredEvents tell atk-bridge which events anyone
//     listens to, so that it sends only those; they name the listeners' bus
//     names and the keys they watch, not the keys typed.
var a11yProxyRules = []string{
	"--filter",
	"--sloppy-names",
	"--broadcast=org.a11y.atspi.Registry=org.a11y.atspi.Registry.EventListenerRegistered@/org/a11y/atspi/registry",
	"--broadcast=org.a11y.atspi.Registry=org.a11y.atspi.Registry.EventListenerDeregistered@/org/a11y/atspi/registry",
	"--call=org.a11y.atspi.Registry=org.a11y.atspi.Socket.Embed@/org/a11y/atspi/accessible/root",
	"--call=org.a11y.atspi.Registry=org.a11y.atspi.Registry.GetRegisteredEvents@/org/a11y/atspi/registry",
	"--call=org.a11y.atspi.Registry=org.a11y.atspi.DeviceEventController.GetKeystrokeListeners@/org/a11y/atspi/registry/deviceeventcontroller",
	"--call=org.a11y.atspi.Registry=org.a11y.atspi.DeviceEventController.GetDeviceEventListeners@/org/a11y/atspi/registry/deviceeventcontroller",
	"--call=org.a11y.atspi.Registry=org.a11y.atspi.DeviceEventController.NotifyListenersSync@/org/a11y/atspi/registry/deviceeventcontroller",
	"--call=org.a11y.atspi.Registry=org.a11y.atspi.DeviceEventController.NotifyListenersAsync@/org/a11y/atspi/registry/deviceeventcontroller",
}

// dbusProxyProgram is the xdg-dbus-proxy the launcher runs (a variable for
// tests).
var dbusProxyProgram = "xdg-dbus-proxy"

// a11yProxy is one running xdg-dbus-proxy: the sandbox's filtered view of
// the session's accessibility bus.
type a11yProxy struct {
	cmd    *exec.Cmd
	sync   *os.File // our end of --fd: when it closes, the proxy exits
	done   chan struct{}
	dir    string      // private folder holding the sockets
	filter *a11yFilter // the second stage, in the launcher (a11yfilter.go)
	socket string      // the filter's socket: the one bound into the sandbox
}

// startA11yProxy starts xdg-dbus-proxy as the user, in front of the
// accessibility bus at hostAddr, listening on a socket in a private folder
// under dir, and returns once the proxy listens.
func startA11yProxy(hostAddr, dir string) (*a11yProxy, error) {
	if !strings.HasPrefix(hostAddr, "unix:") {
		return nil, fmt.Errorf("accessibility bus address %q is not a unix socket", hostAddr)
	}
	prog, err := exec.LookPath(dbusProxyProgram)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	sockDir, err := os.MkdirTemp(dir, "a11y-")
	if err != nil {
		return nil, err
	}
	p := &a11yProxy{dir: sockDir, socket: filepath.Join(sockDir, "bus"), done: make(chan struct{})}
	proxySocket := filepath.Join(sockDir, "proxy")
	// The proxy stops when its end of this pair sees our end close: when
	// Stop closes it, and when the launcher dies, however it dies (the
	// kernel closes our descriptors), so the proxy never outlives the
	// launcher. SOCK_CLOEXEC: nothing else the launcher starts, the
	// sandbox's init least of all, may hold either end.
	pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		os.RemoveAll(sockDir)
		return nil, err
	}
	// Non-blocking, so that the wait for "ready" below can time out.
	unix.SetNonblock(pair[0], true)
	p.sync = os.NewFile(uintptr(pair[0]), "a11y-proxy-sync")
	theirs := os.NewFile(uintptr(pair[1]), "a11y-proxy-sync-child")
	args := append([]string{"--fd=3", hostAddr, proxySocket}, a11yProxyRules...)
	p.cmd = exec.Command(prog, args...)
	p.cmd.ExtraFiles = []*os.File{theirs} // fd 3
	p.cmd.Stderr = os.Stderr
	// Its own process group: a Ctrl+C on the terminal goes to the
	// launcher, which forwards it to the application; the proxy stays
	// until the sandbox ends.
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	p.cmd.Env = []string{"PATH=/usr/bin:/bin", "LANG=C.UTF-8"}
	err = p.cmd.Start()
	theirs.Close()
	if err != nil {
		p.sync.Close()
		os.RemoveAll(sockDir)
		return nil, fmt.Errorf("cannot start %s: %w", prog, err)
	}
	go func() { p.cmd.Wait(); close(p.done) }()
	// xdg-dbus-proxy writes one byte on --fd once it listens.
	p.sync.SetReadDeadline(time.Now().Add(10 * time.Second))
	b := make([]byte, 1)
	if n, err := p.sync.Read(b); n != 1 {
		p.Stop()
		if err == nil {
			err = errors.New("no answer")
		}
		return nil, fmt.Errorf("%s did not start listening: %w", prog, err)
	}
	if p.filter, err = newA11yFilter(p.socket, proxySocket); err != nil {
		p.Stop()
		return nil, err
	}
	return p, nil
}

// Stop ends the proxy (by closing its --fd, then by PID if it lingers) and
// removes its socket.
func (p *a11yProxy) Stop() {
	if p.filter != nil {
		p.filter.Close()
	}
	p.sync.Close()
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
	}
	os.RemoveAll(p.dir)
}

// shareA11yBus gives the sandbox a filtered accessibility bus: it starts the
// proxy in front of the host's bus at hostAddr, binds its socket at
// runtimeIn/at-spi/bus, stops it when the sandbox ends, and returns the
// address inside ("" when the sandbox gets no accessibility bus). Without
// xdg-dbus-proxy the sandbox gets none: never the unfiltered bus.
func (s *Sandbox) shareA11yBus(hostAddr, runtimeIn string) string {
	if hostAddr == "" {
		return ""
	}
	inside := runtimeIn + "/" + a11yInsideSocket
	if s.plan.DryRun {
		// Nothing starts in a dry run: the proxy's socket is a placeholder.
		s.bind(OpBind, PlaceholderA11yProxy, inside, false)
		return "unix:path=" + inside
	}
	rt, err := RuntimeDir()
	if err == nil {
		var p *a11yProxy
		p, err = startA11yProxy(hostAddr, filepath.Join(rt, "airlock", "a11y"))
		if err == nil {
			s.cleanup = append(s.cleanup, p.Stop)
			s.bind(OpBind, p.socket, inside, false)
			s.log.Info("accessibility bus shared through a filtering proxy", "pid", p.cmd.Process.Pid)
			return "unix:path=" + inside
		}
	}
	s.log.Warn("the sandbox gets no accessibility bus", "err", err)
	fmt.Fprintln(os.Stderr, i18n.T("airlock: warning: screen readers cannot read this application: it gets no accessibility bus, because the filtering proxy (xdg-dbus-proxy) did not start: %v", err))
	return ""
}
