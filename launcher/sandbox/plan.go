package sandbox

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// OpKind is what one setup operation does. The kinds follow bubblewrap's
// SetupOp table (bubblewrap.c): the sandbox's root is a list of them, built
// on the host side by Prepare and run by init in one loop (setup, in
// root_linux.go).
type OpKind string

const (
	// OpTmpfs mounts an empty tmpfs (nosuid, nodev; noexec when NoExec).
	OpTmpfs OpKind = "tmpfs"
	// OpROBind binds a host path read-only, nosuid, nodev, with every
	// mount below it. Init opens Src without following any symlink and
	// binds what it opened (the launcher resolved Src).
	OpROBind OpKind = "ro-bind"
	// OpBind is OpROBind, writable.
	OpBind OpKind = "bind"
	// OpDevBind is OpBind with device nodes usable (/dev/null, /dev/dri).
	OpDevBind OpKind = "dev-bind"
	// OpSymlink creates Dst as a symbolic link to Src.
	OpSymlink OpKind = "symlink"
	// OpFile creates Dst, a new file with Data (/etc/passwd).
	OpFile OpKind = "file"
	// OpROBindData binds a read-only file holding Data over Dst, an
	// existing file (/proc/sys/kernel/random/boot_id) or a new empty one.
	OpROBindData OpKind = "ro-bind-data"
	// OpProc mounts a new proc with hidepid=invisible.
	OpProc OpKind = "proc"
	// OpDevpts mounts a new devpts instance.
	OpDevpts OpKind = "devpts"
	// OpRemountRO makes Dst and every mount below it read-only: Dst is
	// bound onto itself first unless it is a mount point already.
	OpRemountRO OpKind = "remount-ro"
)

// Mode is a file mode in the octal notation of chmod (1777 for /tmp).
type Mode uint32

func (m Mode) String() string { return fmt.Sprintf("%04o", uint32(m)) }

// MarshalJSON writes the mode as an octal string: "0755", not 493.
func (m Mode) MarshalJSON() ([]byte, error) { return json.Marshal(m.String()) }

// UnmarshalJSON reads an octal string.
func (m *Mode) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := strconv.ParseUint(s, 8, 32)
	if err != nil || v > 0o7777 {
		return fmt.Errorf("bad mode %q", s)
	}
	*m = Mode(v)
	return nil
}

// Op is one setup operation. Dst is always a path inside the sandbox; Src is
// a host path (binds) or a link's target (symlink).
type Op struct {
	Kind   OpKind `json:"op"`
	Src    string `json:"src,omitempty"`
	Dst    string `json:"dst"`
	Mode   Mode   `json:"mode,omitempty"`   // tmpfs, file
	Data   string `json:"data,omitempty"`   // file, ro-bind-data
	NoExec bool   `json:"noexec,omitempty"` // tmpfs
	Try    bool   `json:"try,omitempty"`    // skipped when the source (or, for remount-ro, Dst) is missing
	// Exact (binds): Src is a restored grant, used as the broker checked
	// it and never resolved again: a symlink on its way now was planted
	// since, and the bind is skipped (with Try).
	Exact bool `json:"exact,omitempty"`
}

// String is the op as one line of `airlock run --dry-run`.
func (o Op) String() string {
	var b strings.Builder
	b.WriteString(string(o.Kind))
	if o.Try {
		b.WriteString("-try")
	}
	if o.Src != "" {
		b.WriteString(" " + o.Src)
	}
	b.WriteString(" " + o.Dst)
	if o.Mode != 0 {
		b.WriteString(" mode=" + o.Mode.String())
	}
	if o.NoExec {
		b.WriteString(" noexec")
	}
	if o.Exact {
		b.WriteString(" exact")
	}
	if o.Kind == OpProc {
		b.WriteString(" hidepid=invisible")
	}
	if o.Kind == OpFile || o.Kind == OpROBindData {
		b.WriteString(" " + strconv.Quote(o.Data))
	}
	return b.String()
}

// Writable says whether the op makes a host path writable inside.
func (o Op) Writable() bool { return o.Kind == OpBind || o.Kind == OpDevBind }

// IsBind says whether the op binds a host path.
func (o Op) IsBind() bool { return o.Kind == OpROBind || o.Kind == OpBind || o.Kind == OpDevBind }

// Placeholders stand for values that exist only once the sandbox runs; they
// appear in the plan that `airlock run --dry-run` prints, never in a plan
// that init runs (Run refuses a dry run).
const (
	PlaceholderDocView    = "<document-store-view>"
	PlaceholderDocID      = "<doc-id>"
	PlaceholderA11yBus    = "<host-accessibility-bus>"
	PlaceholderA11yProxy  = "<accessibility-bus-filtering-proxy>"
	PlaceholderXephyr     = "<xephyr-socket>"
	PlaceholderXephyrAuth = "<xephyr-xauthority>"
	// The nested server's socket folder and screen size (the profile's
	// xephyr_screen, capped to the host screen when it starts).
	PlaceholderXephyrDir    = "<xephyr-socket-folder>"
	PlaceholderXephyrScreen = "<xephyr_screen-capped-to-host-screen>"
	PlaceholderHostCookie   = "<host-display-cookie>"
	PlaceholderX11Auth      = "<untrusted-xauthority>"
	// The /etc view (etcview.go), which a dry run does not prepare.
	PlaceholderEtcView = "<etc-view-of-this-session>"
)

// Plan is everything init needs, decided on the host side: the root file
// system as a list of ops, then the application's command and environment.
// Init trusts it: it comes from the launcher in init's environment, which
// nothing in the sandbox can read. `airlock run --dry-run --json` prints
// exactly this JSON.
type Plan struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Profile string `json:"profile"`
	UID     int    `json:"uid"`
	GID     int    `json:"gid"`

	Hostname string `json:"hostname"`
	// Net is the profile's network mode (none, tor, host), for the reader;
	// init acts on ShareNet and TorListener.
	Net string `json:"net"`
	// Ops build the root, in order. The last is remount-ro /.
	Ops []Op `json:"ops"`

	Args []string `json:"args"`
	Env  []string `json:"env"`
	Cwd  string   `json:"cwd"`

	// TorListener asks init to listen on 127.0.0.1:9050 inside and hand the
	// listening socket to the host side, which forwards each connection to
	// the host's Tor SOCKS port.
	TorListener bool `json:"tor_listener,omitempty"`
	// BusSocket asks init to create the sandbox's D-Bus socket at
	// $XDG_RUNTIME_DIR/bus and hand the listening socket to the host side,
	// which gives it to the broker.
	BusSocket bool `json:"bus_socket,omitempty"`
	// ShareNet: the host network namespace is kept (net = host).
	ShareNet bool `json:"share_net,omitempty"`
	// Handshake: init reports "ready" and waits for the launcher's "go"
	// (needed when the launcher has something to do first: hand the bus
	// socket to the broker, forward Tor). Without it the application
	// starts as soon as the sandbox is built.
	Handshake bool `json:"handshake,omitempty"`
	// NativeGrants: init starts the host-view process before building the
	// root and keeps the thread that binds read-only grants into the
	// running sandbox (only with a broker to ask for them).
	NativeGrants bool `json:"native_grants,omitempty"`
	// Etc says what the folder bound at /etc holds when it is a view
	// prepared once per session (etcview.go); nil when the host's entries
	// are bound one by one.
	Etc *EtcView `json:"etc,omitempty"`
	// Reaper is the host path of airlock-reaper (reaper.go): init opens it
	// before leaving the host's tree and execs it, with the application's
	// command, once the sandbox is built and its privileges are dropped.
	// Empty: init stays the reaper (and always with NativeGrants, whose
	// mounter thread lives in init).
	Reaper string `json:"reaper,omitempty"`
	// MaxOpenFiles is the application's RLIMIT_NOFILE, soft and hard, set
	// by init before it starts the application (0: init's own, unchanged).
	MaxOpenFiles uint64 `json:"max_open_files,omitempty"`
	// DryRun marks a plan with placeholders: init refuses it.
	DryRun bool `json:"dry_run,omitempty"`
	// Display is the nested X server's own sandbox (display = xephyr),
	// which the launcher starts before this one, in new user, mount, pid,
	// ipc, uts, net and cgroup namespaces. For the reader: init ignores it.
	Display *Plan `json:"display,omitempty"`
	// WM is the nested display's window manager's own sandbox, started
	// right after the nested server, in namespaces of its own too. For the
	// reader: init ignores it.
	WM *Plan `json:"window_manager,omitempty"`
}

// EtcView describes the sandbox's /etc view.
type EtcView struct {
	// Copies are the host's /etc entries it copies when they exist.
	Copies []string `json:"copies"`
	// Files are the files it generates, with their content.
	Files map[string]string `json:"files"`
	// Links are its links to this sandbox's own files, which init writes
	// in /run/airlock/etc (see the ops).
	Links map[string]string `json:"links"`
}

// String is the plan as `airlock run --dry-run` prints it: one op per line,
// then what init does after the root is built.
func (p *Plan) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# sandbox %s (profile %s), uid %d gid %d\n", p.Name, p.Profile, p.UID, p.GID)
	for _, o := range p.Ops {
		b.WriteString(o.String() + "\n")
	}
	if p.Etc != nil {
		b.WriteString("# /etc: copies of the host's /etc/{" + strings.Join(p.Etc.Copies, ",") + "}")
		for _, f := range slices.Sorted(maps.Keys(p.Etc.Files)) {
			b.WriteString(", " + f + " " + strconv.Quote(p.Etc.Files[f]))
		}
		for _, l := range slices.Sorted(maps.Keys(p.Etc.Links)) {
			b.WriteString(", " + l + " -> " + p.Etc.Links[l])
		}
		b.WriteString("\n")
	}
	if p.NativeGrants {
		b.WriteString("host-view (started before the root, for native read-only grants)\n")
	}
	fmt.Fprintf(&b, "hostname %s\n", p.Hostname)
	fmt.Fprintf(&b, "net %s\n", p.Net)
	if p.TorListener {
		b.WriteString("listen tcp 127.0.0.1:9050 (forwarded to the host's Tor SOCKS port)\n")
	}
	if p.BusSocket {
		fmt.Fprintf(&b, "listen unix /run/user/%d/bus (handed to airlock-portal)\n", p.UID)
	}
	if p.MaxOpenFiles > 0 {
		fmt.Fprintf(&b, "rlimit nofile %d (soft and hard)\n", p.MaxOpenFiles)
	}
	if p.Reaper != "" {
		fmt.Fprintf(&b, "reaper %s (exec'd by init once the sandbox is built)\n", p.Reaper)
	}
	fmt.Fprintf(&b, "cwd %s\n", p.Cwd)
	for _, e := range p.Env {
		b.WriteString("env " + e + "\n")
	}
	b.WriteString("exec")
	for _, a := range p.Args {
		b.WriteString(" " + strconv.Quote(a))
	}
	b.WriteString("\n")
	if p.Display != nil {
		b.WriteString("# nested X server (Xephyr), started first in new user, mount, pid, ipc, uts, net and cgroup namespaces\n")
		_, d, _ := strings.Cut(p.Display.String(), "\n")
		b.WriteString(d)
	}
	if p.WM != nil {
		b.WriteString("# the nested display's window manager, started next in new user, mount, pid, ipc, uts, net and cgroup namespaces\n")
		_, d, _ := strings.Cut(p.WM.String(), "\n")
		b.WriteString(d)
	}
	return b.String()
}

// etcEntries are the host /etc entries a desktop application needs: dynamic
// linking, fonts, locales, time zone, TLS certificates, GTK and MIME settings.
// Nothing else of /etc is visible (no shadow, ssh, NetworkManager, cups, ...).
var etcEntries = []string{
	"ld.so.cache", "ld.so.conf", "ld.so.conf.d", "alternatives",
	"fonts", "locale.alias", "locale.conf", "default/locale", "localtime", "timezone",
	"ssl", "ca-certificates", "ca-certificates.conf", "pki", "crypto-policies", "gnutls",
	"gtk-2.0", "gtk-3.0", "gtk-4.0", "xdg", "dconf", "mime.types", "mailcap",
	"nsswitch.conf", "host.conf", "gai.conf", "services", "protocols",
	"os-release", "lsb-release", "debian_version", "shells", "inputrc", "bash.bashrc", "profile", "environment",
	"pulse", "vulkan", "drirc", "glvnd", "X11/xkb", "X11/Xresources",
	"python3", "python3.11", "python3.12", "perl", "magic",
	"sgml", "xml", "papersize", "libpaper.d", "ImageMagick-6", "gimp", "libreoffice", "vim",
}

// EtcEntries lists the host /etc entries a sandbox sees (for the benchmark,
// which gives bubblewrap the same mounts).
func EtcEntries() []string { return append([]string(nil), etcEntries...) }

// devNodes are the only devices: no disks, console, input, sound or GPU.
var devNodes = []string{"null", "zero", "full", "random", "urandom", "tty"}

// rootIdentity is what the generated files of the root say.
type rootIdentity struct {
	acct      Account
	hostname  string
	machineID string // 32 hex digits
	bootID    string // a UUID
	shareNet  bool
	// gtkDialog is the host path of the file-dialog library (gtkdialog.go),
	// bound at gtkDialogDir; "" for none.
	gtkDialog string
	// etcView is the host folder bound at /etc (etcview.go); "" binds the
	// host's entries one by one instead.
	etcView string
}

// hostPaths resolves the host paths of the system's ops: one lstat per
// path, and one filepath.EvalSymlinks per parent folder (the launcher runs
// this at every start). Init opens every bind's source without following
// any symlink, so the folders on the way are resolved here.
type hostPaths map[string]string // parent folder to its resolved path, "" when missing

func (h hostPaths) parent(dir string) string {
	real, ok := h[dir]
	if !ok {
		real, _ = filepath.EvalSymlinks(dir)
		h[dir] = real
	}
	return real
}

// linkOrBind copies the host's path as a symbolic link when it is one,
// binds it read-only when it exists (only a folder when dirOnly), and adds
// nothing when it does not.
func (h hostPaths) linkOrBind(ops []Op, path string, dirOnly bool) []Op {
	st, err := os.Lstat(path)
	switch {
	case err != nil:
		return ops
	case st.Mode()&os.ModeSymlink != 0:
		if target, err := os.Readlink(path); err == nil {
			return append(ops, Op{Kind: OpSymlink, Src: target, Dst: path})
		}
		return ops
	case dirOnly && !st.IsDir():
		return ops
	}
	if dir := h.parent(filepath.Dir(path)); dir != "" {
		return append(ops, Op{Kind: OpROBind, Src: filepath.Join(dir, filepath.Base(path)), Dst: path})
	}
	return ops
}

// bind binds the host's path read-only, through any symlink, when it exists.
func (h hostPaths) bind(ops []Op, path string) []Op {
	st, err := os.Lstat(path)
	if err != nil {
		return ops
	}
	real := ""
	if st.Mode()&os.ModeSymlink != 0 {
		real, _ = filepath.EvalSymlinks(path)
	} else if dir := h.parent(filepath.Dir(path)); dir != "" {
		real = filepath.Join(dir, filepath.Base(path))
	}
	if real == "" {
		return ops
	}
	return append(ops, Op{Kind: OpROBind, Src: real, Dst: path})
}

// systemOps is the part of the root that does not depend on the profile but
// for the generated identity: the host's programs and libraries, a minimal
// /etc, /proc, /dev, /sys, and the amnesic writable places. The profile's
// binds come after it, and remount-ro / last.
func systemOps(id rootIdentity) []Op {
	a := id.acct
	runtimeDir := "/run/user/" + strconv.Itoa(a.UID)
	h := hostPaths{}
	ops := []Op{{Kind: OpTmpfs, Dst: "/", Mode: 0o755}}
	ops = h.bind(ops, "/usr")
	// The host's applications stay out of sight, as a Flatpak application
	// sees only its runtime's: GLib's g_app_info_launch_default_for_uri
	// (gio/gappinfo.c) tries a handler it finds in applications/ first and
	// asks the OpenURI portal only when there is none, so a link would open
	// in a browser inside this sandbox, unasked, instead of on the host
	// after the user's answer in Airlock's dialog (and the host's list of
	// installed applications is one more trait of the machine).
	for _, d := range []string{"/usr/share/applications", "/usr/local/share/applications"} {
		if st, err := os.Stat(d); err == nil && st.IsDir() {
			ops = append(ops, Op{Kind: OpTmpfs, Dst: d, Mode: 0o755, NoExec: true}, Op{Kind: OpRemountRO, Dst: d})
		}
	}
	// Merged /usr: /bin, /lib, ... are links; on an unmerged system they
	// are folders, bound read-only like /usr.
	for _, d := range []string{"/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"} {
		ops = h.linkOrBind(ops, d, true)
	}
	// The per-sandbox files of /etc: in it, or, with a view, where the
	// view's links point.
	perSandbox := "/etc"
	if id.etcView != "" {
		// The prepared view (etcview.go): one mount.
		ops = append(ops, Op{Kind: OpROBind, Src: id.etcView, Dst: "/etc"})
		perSandbox = etcRunDir
	} else {
		for _, e := range etcEntries {
			ops = h.linkOrBind(ops, "/etc/"+e, false)
		}
		for _, f := range etcAccountFiles(a) {
			ops = append(ops, Op{Kind: OpFile, Dst: "/etc/" + f[0], Mode: 0o644, Data: f[1]})
		}
	}
	idFiles := []Op{
		// A fresh machine id per sandbox: the host's would link this
		// application's traces to every other on the machine.
		{Kind: OpFile, Dst: perSandbox + "/machine-id", Mode: 0o644, Data: id.machineID + "\n"},
		{Kind: OpFile, Dst: perSandbox + "/hostname", Mode: 0o644, Data: id.hostname + "\n"},
		{Kind: OpFile, Dst: perSandbox + "/hosts", Mode: 0o644, Data: fmt.Sprintf("127.0.0.1\tlocalhost %s\n::1\tlocalhost ip6-localhost ip6-loopback\n", id.hostname)},
	}
	if id.shareNet {
		// Often a link (systemd-resolved, NetworkManager): its target,
		// bound as it is now (a bind or a copy alike miss a later
		// replacement by rename: RESULTS.md, Launch).
		if real, err := filepath.EvalSymlinks("/etc/resolv.conf"); err == nil {
			idFiles = append(idFiles, Op{Kind: OpROBind, Src: real, Dst: perSandbox + "/resolv.conf"})
		}
	}
	if id.etcView == "" {
		ops = append(ops, idFiles...)
	}
	ops = append(ops,
		// hidepid=invisible (Linux 5.8): a process the application may not
		// ptrace is not listed at all. That hides init (non-dumpable) and
		// the host-view process of native grants, whose
		// /proc/PID/mountinfo (readable by anyone, no ptrace check) would
		// list the host's mounts.
		Op{Kind: OpProc, Dst: "/proc"},
	)
	// Kernel knobs stay read-only, as bubblewrap does (cover_proc_dirs).
	for _, d := range []string{"/proc/sys", "/proc/sysrq-trigger", "/proc/irq", "/proc/bus"} {
		ops = append(ops, Op{Kind: OpRemountRO, Dst: d, Try: true})
	}
	ops = append(ops,
		// A fresh boot_id: the host's identifies this boot of this machine.
		Op{Kind: OpROBindData, Dst: "/proc/sys/kernel/random/boot_id", Data: id.bootID + "\n"},
		// The kernel command line carries root=UUID=..., an identifier of
		// the installation that outlives any fresh machine-id.
		Op{Kind: OpROBindData, Dst: "/proc/cmdline", Data: "BOOT_IMAGE=/vmlinuz ro quiet\n"},
		Op{Kind: OpTmpfs, Dst: "/dev", Mode: 0o755, NoExec: true},
	)
	for _, n := range devNodes {
		ops = append(ops, Op{Kind: OpDevBind, Src: "/dev/" + n, Dst: "/dev/" + n})
	}
	// A new devpts instance: the host's terminals are not in it.
	ops = append(ops, Op{Kind: OpDevpts, Dst: "/dev/pts"})
	for _, l := range [][2]string{{"pts/ptmx", "ptmx"}, {"/proc/self/fd", "fd"}, {"/proc/self/fd/0", "stdin"}, {"/proc/self/fd/1", "stdout"}, {"/proc/self/fd/2", "stderr"}} {
		ops = append(ops, Op{Kind: OpSymlink, Src: l[0], Dst: "/dev/" + l[1]})
	}
	ops = append(ops,
		Op{Kind: OpTmpfs, Dst: "/dev/shm", Mode: 0o1777},
		// An empty read-only /sys but for the CPU topology, which runtimes
		// read to size thread pools. DMI (/sys/class/dmi: serial numbers),
		// network interfaces (MAC addresses), block devices (disk serials)
		// and firmware are not there at all.
		Op{Kind: OpTmpfs, Dst: "/sys", Mode: 0o755, NoExec: true},
	)
	ops = h.bind(ops, "/sys/devices/system/cpu")
	ops = append(ops,
		Op{Kind: OpRemountRO, Dst: "/sys"},
		// The amnesic, writable places.
		Op{Kind: OpTmpfs, Dst: "/tmp", Mode: 0o1777},
		Op{Kind: OpTmpfs, Dst: "/run", Mode: 0o755},
	)
	if id.etcView != "" {
		ops = append(ops, idFiles...)
	}
	ops = append(ops,
		Op{Kind: OpTmpfs, Dst: runtimeDir, Mode: 0o700},
		Op{Kind: OpTmpfs, Dst: a.Home, Mode: 0o700},
	)
	if id.gtkDialog != "" {
		ops = append(ops, Op{Kind: OpROBind, Src: id.gtkDialog, Dst: gtkDialogDir + "/" + GtkDialogLib})
	}
	ops = append(ops,
		// /run itself read-only: its tmpfs belongs to the user, and a
		// writable /run would let the application rename /run/user away
		// from under the paths init later mounts onto or unmounts (native
		// grants).
		Op{Kind: OpRemountRO, Dst: "/run"},
		Op{Kind: OpSymlink, Src: "/tmp", Dst: "/var/tmp"},
		Op{Kind: OpSymlink, Src: "/etc/machine-id", Dst: "/var/lib/dbus/machine-id"},
		Op{Kind: OpSymlink, Src: "/run", Dst: "/var/run"},
	)
	return h.bind(ops, "/var/cache/fontconfig")
}

// Print writes the plan as text (String) or as the JSON init receives.
func (p *Plan) Print(w io.Writer, asJSON bool) error {
	if !asJSON {
		_, err := io.WriteString(w, p.String())
		return err
	}
	e := json.NewEncoder(w)
	e.SetIndent("", "  ")
	return e.Encode(p)
}
