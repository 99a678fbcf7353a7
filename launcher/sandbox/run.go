package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"airlock/launcher/profile"
	"airlock/po/i18n"
)

// Doc is a file or folder the user hands to the application on the command
// line. It appears inside at /run/user/UID/doc/<id>/<basename>.
type Doc struct {
	Path string // as given
	RW   bool
}

// Broker is the seam to airlock-portal. Nil runs the sandbox without a bus.
type Broker interface {
	// Register announces the sandbox before it starts; docView is the host
	// folder bound at /run/user/UID/doc inside ("" for none). a11yInside is
	// the accessibility bus address inside, when the launcher binds it.
	Register(p *profile.Profile, id, name, a11yInside string) (docView string, err error)
	// A11yBus is the host's accessibility bus address ("" if none).
	A11yBus() string
	// InputMethodRunning says whether the host session runs IBus.
	InputMethodRunning() bool
	// AttachDisplay registers the sandbox's nested X server (its host-side
	// socket and cookie) for the broker's clipboard.
	// xephyrPid is the nested server's host pid.
	AttachDisplay(id, socket string, cookie []byte, xephyrPid int) error
	// Grant makes a host file visible inside and returns its inside path.
	Grant(id, hostPath string, writable bool) (inside string, err error)
	// ReadOnlyFiles lists the sandbox's read-only file grants so far (host
	// path to inside path): the profile's persistent grants, restored at
	// Register.
	ReadOnlyFiles(id string) map[string]string
	// AttachBus hands over the sandbox's listening bus socket.
	AttachBus(id string, pid int, busListener *os.File) error
	Unregister(id string)
}

// Options describe one run.
type Options struct {
	Profile *profile.Profile // effective settings (flags already applied)
	Name    string
	Docs    []Doc
	Args    []string
	Broker  Broker
	Logger  *slog.Logger
	// DryRun prepares the plan without side effects: nothing is started,
	// registered or created; any Broker is replaced by DryRunBroker, and
	// values that exist only at run time are placeholders.
	DryRun bool
}

// DryRunBroker stands for airlock-portal in a dry run: it registers nothing
// and answers with placeholders, so that the plan shows a run with a portal.
type DryRunBroker struct{}

func (DryRunBroker) Register(*profile.Profile, string, string, string) (string, error) {
	return PlaceholderDocView, nil
}
func (DryRunBroker) A11yBus() string          { return "unix:path=" + PlaceholderA11yBus }
func (DryRunBroker) InputMethodRunning() bool { return true }
func (DryRunBroker) Grant(_, hostPath string, _ bool) (string, error) {
	return filepath.Join("/run/user", strconv.Itoa(os.Getuid()), "doc", PlaceholderDocID, filepath.Base(hostPath)), nil
}
func (DryRunBroker) ReadOnlyFiles(string) map[string]string          { return nil }
func (DryRunBroker) AttachBus(string, int, *os.File) error           { return errors.New("a dry run has no bus") }
func (DryRunBroker) Unregister(string)                               {}
func (DryRunBroker) AttachDisplay(string, string, []byte, int) error { return nil }

// Sandbox is a prepared run.
type Sandbox struct {
	opts Options
	plan Plan
	// binds are the profile's binds, in order, until Prepare puts them in
	// the plan after the system's ops.
	binds   []Op
	log     *slog.Logger
	cleanup []func()
	// newDirs are the persistent folders (and their parents) this run
	// created, outermost first: a start that fails removes them again
	// while they are empty (removeNewDirs).
	newDirs []string

	// etcView names the /etc view the sandbox binds, for its record
	// (pruneEtcViews keeps it while the sandbox runs).
	etcView string

	// ctlMu guards ctl, init's control socket while the application runs
	// (nil before and after): one request and its answer at a time.
	ctlMu sync.Mutex
	ctl   *os.File

	// ending is closed by End (the user ended the sandbox in airlock
	// manager); endOnce makes it once.
	endOnce sync.Once
	ending  chan struct{}
}

// endGrace is how long End leaves the application to quit on SIGTERM
// before everything in the sandbox is killed.
const endGrace = 5 * time.Second

func (s *Sandbox) endChan() chan struct{} {
	s.endOnce.Do(func() { s.ending = make(chan struct{}) })
	return s.ending
}

// End ends the running sandbox: SIGTERM for the application (through
// init, as a signal to the launcher would be), then SIGKILL for init, and
// so for every process of its pid namespace, if it still runs after
// endGrace: an application that ignores SIGTERM cannot stay.
func (s *Sandbox) End() {
	ch := s.endChan()
	select {
	case <-ch:
	default:
		close(ch)
	}
}

// ErrNotRunning: the sandbox's init cannot take requests (not started yet,
// or ended).
var ErrNotRunning = errors.New("the sandbox is not running")

// ID is the sandbox's id.
func (s *Sandbox) ID() string { return s.plan.ID }

// request sends one request to init and waits for its answer. A broken
// exchange ends the channel: later requests fail with ErrNotRunning.
func (s *Sandbox) request(m message) error {
	s.ctlMu.Lock()
	defer s.ctlMu.Unlock()
	if s.ctl == nil {
		return ErrNotRunning
	}
	ctl := int(s.ctl.Fd())
	_, err := call(ctl, m, msgOK)
	var refused *remoteError
	if err == nil || errors.As(err, &refused) {
		return err
	}
	unix.Shutdown(ctl, unix.SHUT_RDWR)
	s.ctl = nil
	return fmt.Errorf("cannot reach the sandbox's init: %w", err)
}

// Bind makes a host file visible read-only at inside (a document's path in
// the sandbox), through a mount made by init: reads are native speed.
func (s *Sandbox) Bind(host, inside string) error {
	return s.request(message{Type: msgBind, payload: payload{Host: host, Inside: inside}})
}

// Unbind removes a Bind at once.
func (s *Sandbox) Unbind(inside string) error {
	return s.request(message{Type: msgUnbind, payload: payload{Inside: inside}})
}

// bind appends one of the profile's binds.
func (s *Sandbox) bind(kind OpKind, src, dst string, try bool) {
	s.binds = append(s.binds, Op{Kind: kind, Src: src, Dst: dst, Try: try})
}

// Prepare resolves everything on the host side: paths, documents, display,
// sound and network, into a Plan for init.
func Prepare(o Options) (sb *Sandbox, err error) {
	if o.DryRun && o.Broker != nil {
		o.Broker = DryRunBroker{}
	}
	p := o.Profile
	acct := CurrentAccount()
	id := RandomHex(6)
	name := o.Name
	if name == "" {
		name = p.Name
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	log = log.With("sandbox", name, "id", id)
	s := &Sandbox{opts: o, log: log}
	defer func() {
		if err != nil {
			s.removeNewDirs()
		}
	}()
	runtimeIn := "/run/user/" + strconv.Itoa(acct.UID)
	s.plan = Plan{
		ID: id, Name: name, Profile: p.Name,
		UID: acct.UID, GID: acct.GID,
		Hostname: p.Hostname,
		Net:      p.Net,
		Cwd:      acct.Home,
		ShareNet: p.Net == profile.NetHost,
		DryRun:   o.DryRun,
		// The kernel counts descriptors in flight per user against the
		// sender's limit: this bounds the sandbox's share (profile.go).
		MaxOpenFiles: uint64(p.MaxOpenFiles),
	}
	args := append([]string(nil), o.Args...)
	if len(args) == 0 {
		return nil, errors.New("no command to run")
	}
	docView := ""
	if o.Broker != nil {
		a11yInside := ""
		if slices.Contains(p.BusNames, "org.a11y.Bus") {
			// Orca reads applications over the session's accessibility
			// bus: a filtering proxy's socket is bound in (a11y.go), and
			// the broker answers org.a11y.Bus.GetAddress with the path
			// inside.
			a11yInside = s.shareA11yBus(o.Broker.A11yBus(), runtimeIn)
		}
		if p.InputMethod == profile.InputMethodIBus && !o.Broker.InputMethodRunning() {
			// No IBus in the host session: an input method module inside
			// would wait on a portal that never answers, and the
			// application would take no keys (GTK's ibus module).
			log.Info("IBus does not run in this session: no input method inside")
			np := *p
			np.InputMethod = profile.InputMethodNone
			p = &np
		}
		v, err := o.Broker.Register(p, id, name, a11yInside)
		if err != nil {
			log.Warn("the sandbox runs without a portal", "err", err)
			s.opts.Broker = nil
		} else {
			docView = v
			s.cleanup = append(s.cleanup, func() { o.Broker.Unregister(id) })
		}
	}
	if docView != "" {
		// The broker's document store: files granted later (the file
		// chooser, airlock grant) appear here without touching the
		// sandbox's mounts.
		s.bind(OpBind, docView, runtimeIn+"/doc", false)
		if p.Grants == profile.GrantsNative && p.PersistentGrants {
			// Restored grants read at native speed too, like new ones.
			for host, inside := range s.opts.Broker.ReadOnlyFiles(id) {
				s.binds = append(s.binds, Op{Kind: OpROBind, Src: host, Dst: inside, Try: true, Exact: true})
			}
		}
	}
	// Documents: each in a folder of its own with a random name, so that
	// the application learns nothing from the path but the file's name.
	for _, d := range o.Docs {
		abs, err := filepath.Abs(d.Path)
		if err != nil {
			return nil, err
		}
		real, err := filepath.EvalSymlinks(abs)
		if err != nil {
			return nil, fmt.Errorf("cannot share %s: %w", d.Path, err)
		}
		var dst string
		if docView != "" {
			// Through the document store: saves by rename keep working.
			inside, err := s.opts.Broker.Grant(id, real, d.RW)
			if err != nil {
				s.Close()
				return nil, fmt.Errorf("cannot share %s: %w", d.Path, err)
			}
			dst = inside
			if st, err := os.Stat(real); err == nil && st.Mode().IsRegular() && !d.RW && p.Grants == profile.GrantsNative {
				// Read at native speed: the host file itself, read-only,
				// over the document's entry in the store's view.
				s.bind(OpROBind, real, inside, false)
			}
		} else {
			// No broker: a bind mount of its own, read-only unless --rw.
			dst = filepath.Join(runtimeIn, "doc", RandomHex(4), filepath.Base(abs))
			s.bind(bindKind(d.RW), real, dst, false)
		}
		args = replaceDocArgs(args, []string{d.Path, abs}, dst)
		log.Info("document shared", "inside", dst, "path", real, "rw", d.RW)
	}
	var bookmarks []string
	for _, ps := range p.Persist {
		hostDir := profile.ExpandHome(ps.Host, acct.Home)
		real := hostDir
		if !o.DryRun {
			made, err := mkdirAllNew(hostDir, 0o700)
			s.newDirs = append(s.newDirs, made...)
			if err != nil {
				return nil, fmt.Errorf("cannot create persistent folder %s: %w", hostDir, err)
			}
			if real, err = filepath.EvalSymlinks(hostDir); err != nil {
				return nil, err
			}
		}
		inside := profile.ExpandHome(ps.Sandbox, acct.Home)
		s.bind(OpBind, real, inside, false)
		if ps.Bookmark {
			bookmarks = append(bookmarks, inside)
		}
	}
	if len(bookmarks) > 0 {
		// The folders in the sidebar of the application's own dialogs.
		// Read-only: the application's own bookmarks are not kept.
		s.binds = append(s.binds, Op{Kind: OpROBindData, Dst: filepath.Join(acct.Home, ".config", "gtk-3.0", "bookmarks"), Data: gtkBookmarks(bookmarks)})
	}
	for _, l := range []struct {
		paths []string
		rw    bool
	}{{p.ReadOnly, false}, {p.ReadWrite, true}} {
		for _, path := range l.paths {
			hp := profile.ExpandHome(path, acct.Home)
			real, err := filepath.EvalSymlinks(hp)
			if err != nil {
				return nil, fmt.Errorf("profile %s: cannot expose %s: %w", p.Name, path, err)
			}
			s.bind(bindKind(l.rw), real, hp, false)
		}
	}
	if p.GPU {
		s.bind(OpDevBind, "/dev/dri", "/dev/dri", true)
	}
	env := baseEnv(acct, runtimeIn)
	hostRuntime, _ := RuntimeDir()
	if p.Sound == profile.SoundFull {
		s.bind(OpBind, filepath.Join(hostRuntime, "pulse/native"), runtimeIn+"/pulse/native", true)
		s.bind(OpBind, filepath.Join(hostRuntime, "pipewire-0"), runtimeIn+"/pipewire-0", true)
		env = append(env, "PULSE_SERVER=unix:"+runtimeIn+"/pulse/native")
	}
	denv, err := s.prepareDisplay(runtimeIn)
	if err != nil {
		s.Close()
		return nil, err
	}
	env = append(env, denv...)
	s.plan.TorListener = p.Net == profile.NetTor
	if p.Net == profile.NetHost && p.Display != profile.DisplayX11 && LandlockABI() < 6 {
		// Without Landlock's scope (Linux 6.12), the host's network
		// namespace brings the host's abstract unix sockets with it, the X
		// server's @/tmp/.X11-unix/X0 among them: say it, loudly.
		log.Warn("net = host on this kernel lets the sandbox reach the host's abstract unix sockets, the X server's included (Landlock ABI 6 needed, Linux 6.12)", "landlock_abi", LandlockABI())
		fmt.Fprintln(os.Stderr, i18n.T("airlock: warning: with --net host this kernel lets the application reach the host's X server and other abstract sockets (needs Linux 6.12)"))
	}
	s.plan.BusSocket = s.opts.Broker != nil
	s.plan.NativeGrants = s.plan.BusSocket && p.Grants == profile.GrantsNative
	s.plan.Handshake = s.plan.BusSocket || s.plan.TorListener
	if !s.plan.NativeGrants {
		s.plan.Reaper = FindReaper()
	}
	if s.plan.BusSocket {
		env = append(env, "DBUS_SESSION_BUS_ADDRESS=unix:path="+runtimeIn+"/bus")
		if p.InputMethod == profile.InputMethodIBus {
			// IBus's client libraries (GTK 3 and 4 modules, Qt's
			// plugin) use ibus-portal on the session bus when
			// IBUS_USE_PORTAL is set (ibusbus.c), as in Flatpak; the
			// broker relays it (portal/ibus).
			env = append(env, "GTK_IM_MODULE=ibus", "QT_IM_MODULE=ibus", "IBUS_USE_PORTAL=1")
		}
	}
	gtkDialog := ""
	if s.plan.BusSocket && p.FileDialog == profile.FileDialogAirlock {
		// The portal answers on this bus: GTK 3's own file dialogs show
		// Airlock's chooser instead.
		if gtkDialog = FindGtkDialogLib(); gtkDialog != "" {
			env = append(env, "LD_PRELOAD="+gtkDialogDir+"/"+GtkDialogLib)
		} else {
			log.Warn("the file-dialog library is not installed: GTK 3 applications that draw their own file dialog will show the sandbox's folders only", "lib", GtkDialogLib)
		}
	}
	for k, v := range p.Env {
		env = append(env, k+"="+v)
	}
	s.plan.Env = env
	s.plan.Args = args
	// Init opens every source without following symlinks (a folder the
	// sandbox can write could hold a planted one): resolve them all now,
	// on the user's behalf.
	for i, b := range s.binds {
		if b.Exact {
			continue
		}
		if real, err := filepath.EvalSymlinks(b.Src); err == nil {
			s.binds[i].Src = real
		}
	}
	ident := rootIdentity{acct: acct, hostname: p.Hostname, machineID: RandomHex(16), bootID: randomUUID(), shareNet: s.plan.ShareNet, gtkDialog: gtkDialog}
	// A profile's bind into /etc needs its mount point made there, which
	// the read-only view cannot take: such a sandbox gets the host's
	// entries bound one by one, as before the view.
	etcBinds := slices.ContainsFunc(s.binds, func(b Op) bool { return b.Dst == "/etc" || strings.HasPrefix(b.Dst, "/etc/") })
	if etcBinds {
		log.Info("a profile path lies in /etc: its entries are bound one by one")
	} else if o.DryRun {
		ident.etcView = PlaceholderEtcView
	} else if v, err := currentEtcView(acct); err == nil {
		ident.etcView = v
	} else {
		log.Warn("cannot prepare the /etc view: the host's entries are bound one by one", "err", err)
	}
	if ident.etcView != "" {
		s.etcView = etcViewName(ident.etcView)
		s.plan.Etc = &EtcView{Copies: EtcEntries(), Files: map[string]string{}, Links: map[string]string{}}
		for _, f := range etcAccountFiles(acct) {
			s.plan.Etc.Files[f[0]] = f[1]
		}
		for _, l := range etcLinks {
			s.plan.Etc.Links[l] = etcRunDir + "/" + l
		}
	}
	s.plan.Ops = append(append(systemOps(ident), s.binds...),
		// The root folder itself is read-only: only the tmpfs mounts below
		// it (/tmp, $HOME, /run/user/UID, /dev/shm) and writable binds take
		// writes.
		Op{Kind: OpRemountRO, Dst: "/"})
	s.binds = nil
	return s, nil
}

func bindKind(rw bool) OpKind {
	if rw {
		return OpBind
	}
	return OpROBind
}

// baseEnv is the application's environment: nothing of the host's but the
// user's language and terminal settings.
func baseEnv(a Account, runtimeIn string) []string {
	env := []string{
		"PATH=/usr/local/bin:/usr/bin:/bin",
		"HOME=" + a.Home,
		"USER=" + a.Name,
		"LOGNAME=" + a.Name,
		"SHELL=/bin/sh",
		"XDG_RUNTIME_DIR=" + runtimeIn,
		// Toolkits talk to the portal, never to host services directly.
		"GTK_USE_PORTAL=1",
		"GDK_DEBUG=portals",
		"QT_QPA_PLATFORMTHEME=xdgdesktopportal",
		"container=airlock",
		gsettingsBackend(os.Getenv("GSETTINGS_BACKEND")),
	}
	for _, k := range []string{"LANG", "LANGUAGE", "LC_ALL", "LC_MESSAGES", "LC_CTYPE", "LC_TIME", "LC_NUMERIC", "LC_COLLATE", "LC_MONETARY", "LC_PAPER", "TZ", "TERM", "COLORTERM", "NO_AT_BRIDGE", "GDK_BACKEND", "GTK_THEME"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// gsettingsBackend picks GSettings' backend inside: GLib's keyfile backend,
// as Flatpak does, so settings live in the sandbox's own
// ~/.config/glib-2.0/settings/keyfile (kept between runs when the profile
// keeps ~/.config). The default backend, dconf, reaches ca.desrt.dconf on
// the session bus: the sandbox's bus has no such name (the host's dconf
// would be every application's settings, shared), so GTK logged a warning
// per write and kept nothing. Of the host's choice only "memory" (tests,
// nothing written) passes through; anything else means a host service.
func gsettingsBackend(host string) string {
	if host == "memory" {
		return "GSETTINGS_BACKEND=memory"
	}
	return "GSETTINGS_BACKEND=keyfile"
}

// Plan returns the prepared plan (for tests and `airlock run --dry-run`).
func (s *Sandbox) Plan() *Plan { return &s.plan }

// mkdirAllNew is os.MkdirAll that returns the folders it created, outermost
// first. A folder that appears meanwhile (EEXIST) is someone else's.
func mkdirAllNew(dir string, perm os.FileMode) ([]string, error) {
	var missing []string
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		if _, err := os.Lstat(d); err == nil {
			break
		} else if !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
		missing = append(missing, d)
		if d == filepath.Dir(d) {
			break
		}
	}
	var made []string
	for i := len(missing) - 1; i >= 0; i-- {
		if err := os.Mkdir(missing[i], perm); err != nil {
			if errors.Is(err, os.ErrExist) {
				continue
			}
			return made, err
		}
		made = append(made, missing[i])
	}
	// The last element may be a symbolic link to a folder (left to
	// EvalSymlinks); anything else is refused as os.MkdirAll does.
	if st, err := os.Stat(dir); err != nil {
		return made, err
	} else if !st.IsDir() {
		return made, &os.PathError{Op: "mkdir", Path: dir, Err: syscall.ENOTDIR}
	}
	return made, nil
}

// removeNewDirs removes the folders this run created, innermost first, each
// only while it is empty: rmdir(2) refuses a folder with anything in it and
// does not follow a symbolic link put in its place, so no user data can go.
func (s *Sandbox) removeNewDirs() {
	if len(s.newDirs) == 0 {
		return
	}
	// Another sandbox of the profile started meanwhile may have bound
	// them (a folder removed under its mount takes no new files): keep.
	recs, _ := List()
	for _, r := range recs {
		if r.Profile == s.plan.Profile && r.ID != s.plan.ID {
			s.log.Info("persistent folders kept after the failed start: another sandbox of the profile runs", "other", r.ID)
			s.newDirs = nil
			return
		}
	}
	for i := len(s.newDirs) - 1; i >= 0; i-- {
		if err := unix.Rmdir(s.newDirs[i]); err != nil {
			s.log.Info("persistent folder kept after the failed start", "path", s.newDirs[i], "err", err)
			continue
		}
		s.log.Info("removed the persistent folder created by the failed start", "path", s.newDirs[i])
	}
	s.newDirs = nil
}

// Close releases what Prepare started (a Xephyr server) without running.
func (s *Sandbox) Close() {
	for i := len(s.cleanup) - 1; i >= 0; i-- {
		s.cleanup[i]()
	}
	s.cleanup = nil
}

// Run starts the sandbox and waits for it. It returns the application's exit
// status (128+N when killed by signal N, 125 when the sandbox could not be set up).
func (s *Sandbox) Run() (code int, err error) {
	defer s.Close()
	defer func() {
		// A start that failed (set-up, or init could not run the
		// command) leaves no new persistent folder behind. An application
		// exiting 126 or 127 itself looks the same; only empty folders
		// are removed, so that costs nothing.
		if err != nil || code == ExitSetup || code == ExitNoExec || code == ExitNotFound {
			s.removeNewDirs()
		}
	}()
	if s.plan.DryRun {
		return ExitSetup, errors.New("a dry run cannot run")
	}
	planJSON, err := json.Marshal(&s.plan)
	if err != nil {
		return ExitSetup, err
	}
	pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return ExitSetup, err
	}
	control := os.NewFile(uintptr(pair[0]), "control")
	initEnd := os.NewFile(uintptr(pair[1]), "control-init")
	defer control.Close()

	flags := uintptr(unix.CLONE_NEWUSER | unix.CLONE_NEWNS | unix.CLONE_NEWPID | unix.CLONE_NEWIPC | unix.CLONE_NEWUTS | unix.CLONE_NEWCGROUP)
	if !s.plan.ShareNet {
		flags |= unix.CLONE_NEWNET
	}
	uid, gid := s.plan.UID, s.plan.GID
	// A host file as 0, 1 or 2 is replaced by a pipe (stdio.go).
	std, err := newStdio(s.log)
	if err != nil {
		return ExitSetup, fmt.Errorf("cannot set up the sandbox's standard streams: %w", err)
	}
	// syscall.ForkExec rather than os/exec, whose first start forks a
	// throw-away child to probe for pidfd support: a launch should not pay
	// for it.
	attr := &syscall.ProcAttr{
		Env: []string{envPlan + "=" + string(planJSON)},
		// stdin, stdout, stderr, then the control socket (3): nothing
		// else, numbered explicitly.
		Files: []uintptr{std.files[0], std.files[1], std.files[2], initEnd.Fd()},
		Sys: &syscall.SysProcAttr{
			Cloneflags: flags,
			// The caller's ids mapped 1:1: nobody is root inside, and
			// files keep their owner across the boundary.
			UidMappings:                []syscall.SysProcIDMap{{ContainerID: uid, HostID: uid, Size: 1}},
			GidMappings:                []syscall.SysProcIDMap{{ContainerID: gid, HostID: gid, Size: 1}},
			GidMappingsEnableSetgroups: false,
			// The caller is not root inside, so execve would clear the
			// new namespace's capabilities (capabilities(7), "Capabilities
			// and execution of programs by root" does not apply). Init keeps
			// just the three it needs as ambient capabilities, and clears
			// them before the application starts.
			AmbientCaps: []uintptr{unix.CAP_SYS_ADMIN, unix.CAP_NET_ADMIN, unix.CAP_SETPCAP},
			Pdeathsig:   syscall.SIGKILL,
			Setsid:      true,
		},
	}
	// Signals are caught before init exists: without a handshake the
	// application may run (and be signalled) before this function gets
	// further, and an uncaught TERM would end the launcher instead of
	// reaching the application.
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, unix.SIGINT, unix.SIGTERM, unix.SIGHUP, unix.SIGQUIT, unix.SIGUSR1, unix.SIGUSR2)
	defer signal.Stop(sigs)
	// Pdeathsig fires when the thread that forked init exits, not the
	// process: start and wait on one locked thread.
	started := make(chan error, 1)
	done := make(chan syscall.WaitStatus, 1)
	var pid int
	go func() {
		runtime.LockOSThread()
		var err error
		pid, err = syscall.ForkExec("/proc/self/exe", []string{InitArg0}, attr)
		started <- err
		if err != nil {
			return
		}
		var ws syscall.WaitStatus
		for {
			if _, err := syscall.Wait4(pid, &ws, 0, nil); err != syscall.EINTR {
				break
			}
		}
		done <- ws
	}()
	if err := <-started; err != nil {
		std.abort()
		return ExitSetup, fmt.Errorf("cannot start sandbox: %w", err)
	}
	initEnd.Close()
	std.started()
	// Every return below waits for init's end first; the output is then
	// drained before airlock exits.
	defer std.wait()

	log := s.log.With("pid", pid)
	ctl := int(control.Fd())
	var busFD, torFD *os.File
	if s.plan.Handshake {
		busFD, torFD, err = s.handshake(ctl)
		if err == io.EOF {
			// init failed during set-up and said why on stderr.
			return s.finish(<-done), nil
		}
		if err != nil {
			syscall.Kill(pid, syscall.SIGKILL)
			<-done
			return ExitSetup, fmt.Errorf("cannot start the sandbox: %w", err)
		}
	}
	if torFD != nil {
		go s.forwardTor(torFD, log)
	}
	if busFD != nil {
		err := s.opts.Broker.AttachBus(s.plan.ID, pid, busFD)
		busFD.Close()
		if err != nil {
			if err := send(ctl, message{Type: msgAbort}); err != nil {
				log.Warn("cannot stop the sandbox's init", "err", err)
			}
			return s.finish(<-done), fmt.Errorf("cannot hand the sandbox's bus to airlock-portal: %w", err)
		}
	}
	tick, _ := processStartTick(pid)
	rec := &Record{ID: s.plan.ID, Name: s.plan.Name, Profile: s.plan.Profile, Pid: pid, StartTick: tick,
		Launcher: os.Getpid(), Started: time.Now(), Command: s.opts.Args, EtcView: s.etcView}
	if p, err := writeRecord(rec); err == nil {
		defer func() {
			if err := os.Remove(p); err != nil {
				log.Warn("cannot remove the sandbox's record", "err", err)
			}
		}()
	} else {
		log.Warn("cannot record the sandbox for airlock ps", "err", err)
	}
	if s.plan.Handshake {
		if err := send(ctl, message{Type: msgGo}); err != nil {
			return s.finish(<-done), nil
		}
	}
	s.ctlMu.Lock()
	s.ctl = control
	s.ctlMu.Unlock()
	defer func() {
		s.ctlMu.Lock()
		s.ctl = nil
		s.ctlMu.Unlock()
	}()
	log.Info("sandbox started", "profile", s.plan.Profile, "command", s.opts.Args[0], "net", s.opts.Profile.Net, "display", s.opts.Profile.Display)
	ending := s.endChan()
	var kill <-chan time.Time
	for {
		select {
		case <-ending:
			ending = nil
			log.Info("ending the sandbox on the user's word")
			syscall.Kill(pid, syscall.SIGTERM)
			kill = time.After(endGrace)
		case <-kill:
			// The pid namespace's init: its death kills every process
			// in the namespace (pid_namespaces(7)).
			log.Info("the sandbox did not end on SIGTERM: killing it")
			syscall.Kill(pid, syscall.SIGKILL)
		case sig := <-sigs:
			log.Info("forwarding signal", "signal", sig.String())
			syscall.Kill(pid, sig.(syscall.Signal))
		case st := <-done:
			code := s.finish(st)
			log.Info("sandbox ended", "status", code)
			return code, nil
		}
	}
}

func (s *Sandbox) finish(ws syscall.WaitStatus) int {
	switch {
	case ws.Signaled():
		return exitSignalBase + int(ws.Signal())
	case ws.Exited():
		return ws.ExitStatus()
	}
	return ExitSetup
}

// handshake receives, in order, what init sends once the root is built: the
// Tor listener, the bus listener (as the plan asks), then "ready". It returns
// io.EOF when init ended during set-up.
func (s *Sandbox) handshake(ctl int) (bus, tor *os.File, err error) {
	var steps []msgType
	if s.plan.TorListener {
		steps = append(steps, msgTorSocket)
	}
	if s.plan.BusSocket {
		steps = append(steps, msgBusSocket)
	}
	for _, t := range append(steps, msgReady) {
		m, err := recv(ctl, t)
		if err != nil {
			for _, f := range []*os.File{bus, tor} {
				if f != nil {
					f.Close()
				}
			}
			return nil, nil, err
		}
		switch t {
		case msgTorSocket:
			tor = os.NewFile(uintptr(m.FDs[0]), "tor")
		case msgBusSocket:
			bus = os.NewFile(uintptr(m.FDs[0]), "bus")
		}
	}
	return bus, tor, nil
}

// torMaxConns caps the connections forwardTor carries at once: each takes
// two of the launcher's descriptors (the sandbox's end and Tor's), and a
// sandbox that opened thousands (3,376 in issue 8) exhausted them, after
// which the launcher could not accept anything at all. Tor Browser keeps a
// few dozen open.
const torMaxConns = 256

// torFDReserve is how many descriptors the launcher keeps for itself (its
// control socket, the broker, logs, Xephyr) whatever the sandbox does.
const torFDReserve = 128

// torConnLimit is torMaxConns, lowered when the launcher's descriptor limit
// could not hold them beside torFDReserve.
func torConnLimit() int {
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err != nil || rl.Cur > 1<<20 {
		return torMaxConns
	}
	return max(1, min(torMaxConns, (int(rl.Cur)-torFDReserve)/2))
}

// forwardTor accepts connections on the sandbox's 127.0.0.1:9050 (a socket in
// the sandbox's network namespace, made by init) and joins each to a new
// connection to the host's Tor SOCKS port: the sandbox's only way out. Past
// torConnLimit connections at once, a new one is closed at once, not queued:
// the sandbox cannot make the launcher hold more descriptors, and its own
// later connections work again as soon as it closes some.
func (s *Sandbox) forwardTor(f *os.File, log *slog.Logger) {
	defer f.Close()
	l, err := net.FileListener(f)
	if err != nil {
		log.Error("cannot use the Tor listener", "err", err)
		return
	}
	defer l.Close()
	target := s.opts.Profile.TorSocks
	slots := make(chan struct{}, torConnLimit())
	refused := &rateLog{log: log, msg: "too many connections to Tor at once: refused", every: time.Second}
	unreachable := &rateLog{log: log, msg: "cannot reach Tor", every: time.Second}
	failed := &rateLog{log: log, msg: "cannot accept a connection for Tor", every: time.Second}
	var backoff time.Duration
	for {
		c, err := l.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// EMFILE and friends pass: never stop forwarding for good
			// (the sandbox would lose Tor until restarted).
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			failed.warn("err", err)
			time.Sleep(backoff)
			continue
		}
		backoff = 0
		select {
		case slots <- struct{}{}:
		default:
			c.Close()
			refused.warn("limit", cap(slots))
			continue
		}
		go func() {
			defer func() { <-slots }()
			defer c.Close()
			up, err := net.DialTimeout("tcp", target, 10*time.Second)
			if err != nil {
				unreachable.warn("socks", target, "err", err)
				return
			}
			defer up.Close()
			go func() {
				copyPlain(up, c)
				up.(*net.TCPConn).CloseWrite()
			}()
			copyPlain(c, up)
		}()
	}
}

// copyPlain copies through io.Copy's 32 KiB buffer (16 MiB at most over
// torMaxConns connections): io.Copy between two TCP connections would
// splice through a pipe per direction, four more descriptors per connection
// (six in all, measured) than torConnLimit counts.
func copyPlain(dst io.Writer, src io.Reader) {
	io.Copy(struct{ io.Writer }{dst}, struct{ io.Reader }{src})
}

// rateLog writes one warning at most every so often, with the number of
// those it held back since: a sandbox must not flood the launcher's log.
type rateLog struct {
	log   *slog.Logger
	msg   string
	every time.Duration

	// mu guards last and held.
	mu   sync.Mutex
	last time.Time
	held int
}

func (r *rateLog) warn(args ...any) {
	r.mu.Lock()
	now := time.Now()
	if !r.last.IsZero() && now.Sub(r.last) < r.every {
		r.held++
		r.mu.Unlock()
		return
	}
	held := r.held
	r.last, r.held = now, 0
	r.mu.Unlock()
	if held > 0 {
		args = append(args, "suppressed", held)
	}
	r.log.Warn(r.msg, args...)
}

// hostDisplay returns the host X display number from $DISPLAY (":N" or ":N.S").
func hostDisplay() (int, error) {
	d := os.Getenv("DISPLAY")
	rest, ok := strings.CutPrefix(d, ":")
	if !ok {
		return 0, fmt.Errorf("DISPLAY=%q is not a local X display", d)
	}
	rest, _, _ = strings.Cut(rest, ".")
	return strconv.Atoi(rest)
}

// replaceDocArgs puts dst in place of any argument that names the document,
// as a whole or as the value of an --option=PATH.
func replaceDocArgs(args, names []string, dst string) []string {
	for i, a := range args {
		for _, n := range names {
			if a == n {
				args[i] = dst
			} else if strings.HasSuffix(a, "="+n) && strings.HasPrefix(a, "-") {
				args[i] = strings.TrimSuffix(a, n) + dst
			}
		}
	}
	return args
}
