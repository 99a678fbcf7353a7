// Package profile reads Airlock sandbox profiles: TOML files that say what one
// application may see and do. A profile is refused as a whole, before anything
// starts, when any key is unknown or any value is out of range; the error names
// the file, the line and the key.
package profile

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/BurntSushi/toml"

	"airlock/po/i18n"
)

// Network modes.
const (
	NetNone = "none" // loopback only, in a fresh network namespace
	NetTor  = "tor"  // loopback only, plus 127.0.0.1:9050 forwarded to the host's Tor SOCKS port
	NetHost = "host" // the host's network namespace: weaker, documented as such
)

// Sound modes.
const (
	SoundNone = "none"
	SoundFull = "full" // the PulseAudio/PipeWire socket: playback and recording
)

// Input methods (key input_method).
const (
	InputMethodNone = "none"
	// InputMethodIBus relays the host's ibus-portal, narrowed to the
	// sandbox's own input contexts (portal/ibus).
	InputMethodIBus = "ibus"
)

// InputMethodBusName is what the broker relays for InputMethodIBus:
// ibus-portal's name, which bus_names cannot list (portal names are the
// broker's).
const InputMethodBusName = "org.freedesktop.portal.IBus"

// Display modes.
const (
	DisplayNone   = "none"
	DisplayXephyr = "xephyr" // a nested X server per sandbox
	DisplayX11    = "x11"    // the host X server, untrusted cookie: weak
)

// Window managers of a nested display (key window_manager).
const (
	// WMAirlock: Airlock's own, outside the sandbox (launcher/nestedwm):
	// every window placed and kept on the nested screen, movable. The
	// default.
	WMAirlock = "airlock"
	// WMNone: none; the application (a whole desktop session, say) brings
	// its own, or windows open where they ask.
	WMNone = "none"
)

// How granted files reach the sandbox (key grants).
const (
	// GrantsRevocable: every grant is served by the document store only;
	// revoking it cuts descriptors the application opened before. The
	// default.
	GrantsRevocable = "revocable"
	// GrantsNative: read-only file grants are also bound from the host
	// file itself, read at host speed, but revoking cannot cut a
	// descriptor the application already opened. The value says so: the
	// key's old value "native" meant the same binds without saying it, and
	// is refused (grantsOldNative) so that nobody keeps them unknowingly.
	GrantsNative = "native-irrevocable"
	// GrantsPrivate is the older name of GrantsRevocable, still read.
	GrantsPrivate = "private"

	grantsOldNative = "native"
)

// Sanitisers of print_sanitize.
const (
	PrintRewrite   = "rewrite"
	PrintRasterize = "rasterize"
	PrintNone      = "none"
)

// Policies of open_uri.
const (
	OpenURIAsk  = "ask"
	OpenURINone = "none"
)

// Grant modes for files handed in by the user.
const (
	GrantReadOnly  = "ro"
	GrantReadWrite = "rw"
)

// Persist binds one host folder read-write into the sandbox, so that an
// application can keep data across runs. Everything else is amnesic.
type Persist struct {
	Host    string `toml:"host"`    // host folder; ~ and $XDG_DATA_HOME are expanded; created 0700 if missing
	Sandbox string `toml:"sandbox"` // where it appears inside; ~ is the sandbox's home
	// Bookmark lists the folder in the sidebar of the application's own
	// file dialogs (GTK's bookmarks), as Tails lists its Persistent folder.
	Bookmark bool `toml:"bookmark"`
}

// File dialogs of GTK 3 applications that draw their own (file_dialog).
const (
	// FileDialogAirlock routes them to Airlock's chooser on the host.
	FileDialogAirlock = "airlock"
	// FileDialogApp leaves them alone: they list only what the sandbox
	// holds (its home, persistent folders, files granted before).
	FileDialogApp = "app"
)

// Profile is one sandbox profile as written in its file, defaults filled in.
type Profile struct {
	// Name is the profile's file name without .toml; not a key.
	Name string `toml:"-"`
	// Path is the file it came from; not a key.
	Path string `toml:"-"`

	DisplayName string `toml:"display_name"`
	Description string `toml:"description"`
	Icon        string `toml:"icon"`
	// Color marks which windows are this sandbox's: the nested display's
	// desktop and title, Airlock's dialogs and the grant manager. A label
	// of Qubes OS (Labels) or "#rrggbb".
	Color   string   `toml:"color"`
	Command []string `toml:"command"`
	// Packages names the Debian packages that provide Command, so that a
	// missing application is answered with what to install
	// (`airlock run` prints "sudo apt install ...").
	Packages []string `toml:"packages"`

	Net       string `toml:"net"`
	TorSocks  string `toml:"tor_socks"`
	Sound     string `toml:"sound"`
	Display   string `toml:"display"`
	XephyrRes string `toml:"xephyr_screen"`
	// WindowManager is the nested display's window manager (display =
	// "xephyr" only): WMAirlock or WMNone.
	WindowManager string `toml:"window_manager"`
	GPU           bool   `toml:"gpu"`
	Hostname      string `toml:"hostname"`

	ReadOnly     []string          `toml:"expose_ro"`
	ReadWrite    []string          `toml:"expose_rw"`
	Persist      []Persist         `toml:"persist"`
	Env          map[string]string `toml:"env"`
	DefaultGrant string            `toml:"default_grant"`
	// PersistentGrants keeps files the user granted through the chooser across
	// runs of this profile (off: grants end with the sandbox).
	PersistentGrants bool `toml:"persistent_grants"`
	// Grants says how granted files reach the sandbox: "revocable" (only
	// through the document store: revoking cuts open descriptors, no host
	// path shows) or "native-irrevocable" (read-only files also bound from
	// the host: host speed, but revoking cannot cut a descriptor the
	// application already opened, and /proc/self/mountinfo inside shows
	// the file's host path). "private" is read as "revocable".
	Grants string `toml:"grants"`
	// BusNames lists host session bus names that the broker relays for this
	// sandbox (for example org.freedesktop.Notifications).
	BusNames []string `toml:"bus_names"`
	// InputMethod is "none" or "ibus": the host's IBus reached through
	// ibus-portal, for the application's own keys (CJK input in Tails).
	InputMethod string `toml:"input_method"`
	// MaxOpenFiles is the application's RLIMIT_NOFILE, soft and hard. It
	// also bounds how many descriptors the sandbox can keep in flight over
	// unix sockets, which the kernel counts per user against the sender's
	// RLIMIT_NOFILE (net/unix too_many_unix_fds): see airlock-profile(5).
	MaxOpenFiles int `toml:"max_open_files"`
	// FileDialog says what a GTK 3 application's own file dialog
	// (GtkFileChooserDialog) shows: "airlock" (Airlock's chooser, through
	// the portal; the default) or "app" (the application's dialog, which
	// sees only the sandbox).
	FileDialog string `toml:"file_dialog"`
	// OpenURI says whether the application may open a link or a granted
	// file in a host application (the OpenURI portal): "ask" (each time,
	// in a dialog Airlock draws) or "none" (refused).
	OpenURI string `toml:"open_uri"`
	// ClipboardCopy and ClipboardPaste are the clipboard policy per
	// direction: copy takes this sandbox's CLIPBOARD into Airlock's
	// clipboard, paste offers Airlock's clipboard to it. "allow" (the
	// user's action is the consent), "ask" (a dialog Airlock draws) or
	// "none".
	ClipboardCopy  string `toml:"clipboard_copy"`
	ClipboardPaste string `toml:"clipboard_paste"`
	// ClipboardMaxText and ClipboardMaxImage lower the broker's caps
	// (bytes; 1 MiB of text, 16 MiB of image).
	ClipboardMaxText  int64 `toml:"clipboard_max_text"`
	ClipboardMaxImage int64 `toml:"clipboard_max_image"`
	// ClipboardKeep keeps a copy made from this sandbox in Airlock's
	// clipboard after it was pasted, until the timeout (default: wiped
	// after one paste).
	ClipboardKeep bool `toml:"clipboard_keep"`
	// Print lets the application print through the Print portal (a
	// dialog Airlock draws, every time); false refuses.
	Print bool `toml:"print"`
	// PrintSanitize is what the broker does to a document before CUPS
	// gets it: "rewrite" (a new PDF, metadata gone), "rasterize" (every
	// page an image, in a throwaway sandbox) or "none".
	PrintSanitize string `toml:"print_sanitize"`
}

// Labels are the colour names of the key color, those of Qubes OS, with
// the Tango palette's shades that Qubes draws them in.
var Labels = map[string]string{
	"red":    "#cc0000",
	"orange": "#f57900",
	"yellow": "#edd400",
	"green":  "#73d216",
	"gray":   "#555753",
	"blue":   "#3465a4",
	"purple": "#75507b",
	"black":  "#000000",
}

// DefaultColor is the label of a profile that names none.
const DefaultColor = "gray"

var colorRE = lazyRE(`^#[0-9A-Fa-f]{6}$`)

// ColorHex is the profile's colour as "#rrggbb" (lowercase).
func (p *Profile) ColorHex() string {
	if h, ok := Labels[p.Color]; ok {
		return h
	}
	if colorRE().MatchString(p.Color) {
		return strings.ToLower(p.Color)
	}
	return Labels[DefaultColor]
}

// maxPackages bounds the packages key.
const maxPackages = 8

// Clipboard policies and caps.
const (
	ClipboardNone  = "none"
	ClipboardAsk   = "ask"
	ClipboardAllow = "allow"

	MaxClipboardText  = 1 << 20
	MaxClipboardImage = 16 << 20
)

// Bounds of max_open_files: below the minimum toolkits fail to start; the
// maximum is the kernel's default fs.nr_open.
const (
	MinOpenFiles = 64
	MaxOpenFiles = 1 << 20
	// DefaultOpenFiles plus the 253 descriptors one message may carry
	// (SCM_MAX_FD) stays below 1024, systemd's default soft limit for user
	// processes: a sandbox at the default cannot push the user's in-flight
	// count past what such a host process may send.
	DefaultOpenFiles = 512
)

// Defaults are the strict settings every profile starts from.
func Defaults() Profile {
	return Profile{
		Net:           NetNone,
		TorSocks:      "127.0.0.1:9050",
		Sound:         SoundNone,
		Display:       DisplayNone,
		XephyrRes:     "1280x800",
		WindowManager: WMAirlock,
		Hostname:      "localhost",
		Color:         DefaultColor,
		DefaultGrant:  GrantReadOnly,
		Grants:        GrantsRevocable,
		// Not org.a11y.Bus: even through its filtering proxy, the
		// accessibility bus shows which applications run; a profile opts in.
		BusNames:     []string{"org.freedesktop.Notifications"},
		InputMethod:  InputMethodNone,
		MaxOpenFiles: DefaultOpenFiles,
		FileDialog:   FileDialogAirlock,
		OpenURI:      OpenURIAsk,

		ClipboardCopy:     ClipboardAllow,
		ClipboardPaste:    ClipboardAllow,
		ClipboardMaxText:  MaxClipboardText,
		ClipboardMaxImage: MaxClipboardImage,

		Print:         true,
		PrintSanitize: PrintRewrite,
	}
}

// RelayedNames is what the broker relays to the host for this profile:
// bus_names, and ibus-portal's name when input_method is "ibus".
func (p *Profile) RelayedNames() []string {
	names := append([]string{}, p.BusNames...)
	if p.InputMethod == InputMethodIBus {
		names = append(names, InputMethodBusName)
	}
	return names
}

// Error is a refused profile: it names the file, the line and the key.
type Error struct {
	File string
	Line int // 0 when unknown
	Key  string
	Msg  string
}

func (e *Error) Error() string {
	loc := e.File
	if e.Line > 0 {
		loc = fmt.Sprintf("%s:%d", e.File, e.Line)
	}
	if e.Key != "" {
		return i18n.T("%s: key %q: %s", loc, e.Key, e.Msg)
	}
	return fmt.Sprintf("%s: %s", loc, e.Msg)
}

// Dirs returns the folders searched for profiles, lowest priority first: the
// shipped ones, then the user's own (~/.config/airlock/profiles), which override.
func Dirs() []string {
	var dirs []string
	if d := os.Getenv("AIRLOCK_DATADIR"); d != "" {
		dirs = append(dirs, filepath.Join(d, "profiles"))
	} else {
		dirs = append(dirs, systemDirs()...)
	}
	cfg := os.Getenv("XDG_CONFIG_HOME")
	if cfg == "" {
		if h, err := os.UserHomeDir(); err == nil {
			cfg = filepath.Join(h, ".config")
		}
	}
	if cfg != "" {
		dirs = append(dirs, filepath.Join(cfg, "airlock", "profiles"))
	}
	return dirs
}

// systemDirs are the shipped profile folders: beside the binary in a build
// tree (data/profiles), then the installed locations.
func systemDirs() []string {
	var dirs []string
	if exe, err := os.Executable(); err == nil {
		d := filepath.Dir(exe)
		for _, c := range []string{filepath.Join(d, "data", "profiles"), filepath.Join(d, "..", "data", "profiles"), filepath.Join(d, "..", "share", "airlock", "profiles")} {
			if st, err := os.Stat(c); err == nil && st.IsDir() {
				dirs = append(dirs, c)
				break
			}
		}
	}
	return append(dirs, "/usr/local/share/airlock/profiles", "/usr/share/airlock/profiles")
}

var nameRE = lazyRE(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// List returns every profile name found, with the file that wins for each.
func List() (map[string]string, error) {
	found := map[string]string{}
	for _, d := range Dirs() {
		ents, err := os.ReadDir(d)
		if err != nil {
			continue
		}
		for _, e := range ents {
			n, ok := strings.CutSuffix(e.Name(), ".toml")
			if !ok || !nameRE().MatchString(n) {
				continue
			}
			found[n] = filepath.Join(d, e.Name())
		}
	}
	return found, nil
}

// Names returns List's names, sorted.
func Names() []string {
	m, _ := List()
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Find loads a profile by name, or from a file when nameOrPath contains a slash
// or ends in .toml.
func Find(nameOrPath string) (*Profile, error) {
	if strings.ContainsRune(nameOrPath, '/') || strings.HasSuffix(nameOrPath, ".toml") {
		return LoadFile(nameOrPath)
	}
	if !nameRE().MatchString(nameOrPath) {
		return nil, errors.New(i18n.T("invalid profile name %q", nameOrPath))
	}
	m, _ := List()
	p, ok := m[nameOrPath]
	if !ok {
		return nil, errors.New(i18n.T("no profile named %q (searched %s)", nameOrPath, strings.Join(Dirs(), ", ")))
	}
	return LoadFile(p)
}

// LoadFile reads and validates one profile file.
func LoadFile(path string) (*Profile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read profile: %w", err)
	}
	name := strings.TrimSuffix(filepath.Base(path), ".toml")
	return Parse(path, name, data)
}

// Parse decodes and validates profile text; file is used in error messages.
func Parse(file, name string, data []byte) (*Profile, error) {
	p := Defaults()
	md, err := toml.NewDecoder(bytes.NewReader(data)).Decode(&p)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, &Error{File: file, Line: pe.Position.Line, Key: pe.LastKey, Msg: pe.Message}
		}
		// Type mismatches (net = 5) are plain errors from the decoder,
		// "toml: line N (last key "K"): MSG": keep their line and key.
		if m := typeErrRE().FindStringSubmatch(err.Error()); m != nil {
			line, _ := strconv.Atoi(m[1])
			if line == 0 {
				line = keyLine(data, toml.Key(strings.Split(m[2], ".")))
			}
			return nil, &Error{File: file, Line: line, Key: m[2], Msg: m[3]}
		}
		return nil, &Error{File: file, Msg: err.Error()}
	}
	if und := md.Undecoded(); len(und) > 0 {
		k := und[0]
		// Keys under [env] are free-form and decoded into the map, so any
		// undecoded key is a typo or a key from another version.
		return nil, &Error{File: file, Line: keyLine(data, k), Key: k.String(), Msg: i18n.T("unknown key (see airlock-profile(5))")}
	}
	p.Name = name
	p.Path = file
	if p.DisplayName == "" {
		p.DisplayName = name
	}
	if err := p.validate(); err != nil {
		var ve *Error
		if errors.As(err, &ve) {
			ve.File = file
			ve.Line = keyLine(data, toml.Key(strings.Split(ve.Key, ".")))
		}
		return nil, err
	}
	return &p, nil
}

// bad is a refused value; format is translated (po/extract collects the
// literal formats of bad's callers).
func bad(key, format string, args ...any) error {
	return &Error{Key: key, Msg: i18n.T(format, args...)}
}

var (
	hostnameRE = lazyRE(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)
	envKeyRE   = lazyRE(`^[A-Za-z_][A-Za-z0-9_]*$`)
	busNameRE  = lazyRE(`^[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z_][A-Za-z0-9_-]*)+$`)
	screenRE   = lazyRE(`^[1-9][0-9]{2,4}x[1-9][0-9]{2,4}$`)
	packageRE  = lazyRE(`^[a-z0-9][a-z0-9+.-]+$`)
	typeErrRE  = lazyRE(`^toml: (?:line (\d+) )?\(last key "([^"]*)"\): (.*)$`)
)

func oneOf(key, v string, allowed ...string) error {
	for _, a := range allowed {
		if v == a {
			return nil
		}
	}
	return bad(key, "%q is not one of %s", v, strings.Join(allowed, ", "))
}

func (p *Profile) validate() error {
	if err := oneOf("net", p.Net, NetNone, NetTor, NetHost); err != nil {
		return err
	}
	if err := oneOf("sound", p.Sound, SoundNone, SoundFull); err != nil {
		return err
	}
	if err := oneOf("input_method", p.InputMethod, InputMethodNone, InputMethodIBus); err != nil {
		return err
	}
	if err := oneOf("display", p.Display, DisplayNone, DisplayXephyr, DisplayX11); err != nil {
		return err
	}
	if err := oneOf("default_grant", p.DefaultGrant, GrantReadOnly, GrantReadWrite); err != nil {
		return err
	}
	if err := oneOf("open_uri", p.OpenURI, OpenURIAsk, OpenURINone); err != nil {
		return err
	}
	if err := oneOf("print_sanitize", p.PrintSanitize, PrintRewrite, PrintRasterize, PrintNone); err != nil {
		return err
	}
	if err := oneOf("clipboard_copy", p.ClipboardCopy, ClipboardNone, ClipboardAsk, ClipboardAllow); err != nil {
		return err
	}
	if err := oneOf("clipboard_paste", p.ClipboardPaste, ClipboardNone, ClipboardAsk, ClipboardAllow); err != nil {
		return err
	}
	// A profile may lower the caps, never raise them: the broker holds the
	// content in memory and re-encodes images, so the caps bound what one
	// sandbox can make it spend.
	if p.ClipboardMaxText < 1 || p.ClipboardMaxText > MaxClipboardText {
		return bad("clipboard_max_text", "%d is not between %d and %d", p.ClipboardMaxText, 1, MaxClipboardText)
	}
	if p.ClipboardMaxImage < 1 || p.ClipboardMaxImage > MaxClipboardImage {
		return bad("clipboard_max_image", "%d is not between %d and %d", p.ClipboardMaxImage, 1, MaxClipboardImage)
	}
	switch p.Grants {
	case GrantsPrivate:
		p.Grants = GrantsRevocable
	case grantsOldNative:
		// Refused rather than read either way: as "revocable" it would
		// slow down a profile that asked for speed without a word, as
		// "native-irrevocable" it would keep grants that revoking cannot
		// cut for someone who was never told.
		return bad("grants", "%q is no longer accepted: revoking such a grant cannot cut a file the application already opened; write %q to keep reading at host speed anyway, or remove the key for the default, %q", p.Grants, GrantsNative, GrantsRevocable)
	}
	if err := oneOf("grants", p.Grants, GrantsRevocable, GrantsNative); err != nil {
		return err
	}
	if err := oneOf("file_dialog", p.FileDialog, FileDialogAirlock, FileDialogApp); err != nil {
		return err
	}
	if p.MaxOpenFiles < MinOpenFiles || p.MaxOpenFiles > MaxOpenFiles {
		return bad("max_open_files", "%d is not between %d and %d", p.MaxOpenFiles, MinOpenFiles, MaxOpenFiles)
	}
	if err := checkHostPort(p.TorSocks); err != nil {
		return bad("tor_socks", "%v", err)
	}
	if err := oneOf("window_manager", p.WindowManager, WMAirlock, WMNone); err != nil {
		return err
	}
	if !screenRE().MatchString(p.XephyrRes) {
		return bad("xephyr_screen", "%q is not WIDTHxHEIGHT", p.XephyrRes)
	}
	if !hostnameRE().MatchString(p.Hostname) {
		return bad("hostname", "%q is not a valid host name", p.Hostname)
	}
	if _, ok := Labels[p.Color]; !ok && !colorRE().MatchString(p.Color) {
		return bad("color", "%q is neither #rrggbb nor one of red, orange, yellow, green, gray, blue, purple, black", p.Color)
	}
	if len(p.DisplayName) > 80 || strings.ContainsFunc(p.DisplayName, isControl) {
		return bad("display_name", "must be at most 80 printable characters")
	}
	for i, c := range p.Command {
		if c == "" || strings.ContainsRune(c, 0) {
			return bad("command", "element %d is empty or contains NUL", i)
		}
	}
	if len(p.Command) > 0 && !filepath.IsAbs(p.Command[0]) {
		return bad("command", "%q must be an absolute path", p.Command[0])
	}
	// The names are printed in a command line for the user to copy: only
	// what Debian policy allows in a package name (policy 5.6.1), so that
	// no shell syntax can hide in a shared profile's advice.
	if len(p.Packages) > maxPackages {
		return bad("packages", "more than %d packages", maxPackages)
	}
	for _, n := range p.Packages {
		if len(n) > 64 || !packageRE().MatchString(n) {
			return bad("packages", "%q is not a Debian package name", n)
		}
	}
	for _, l := range []struct {
		key   string
		paths []string
	}{{"expose_ro", p.ReadOnly}, {"expose_rw", p.ReadWrite}} {
		for _, path := range l.paths {
			if err := checkHostPath(path); err != nil {
				return bad(l.key, "%v", err)
			}
		}
	}
	for i, ps := range p.Persist {
		// Nested persistent folders: the sandbox could swap the inner one
		// for a symlink in the outer one and redirect the next run's bind.
		for j, other := range p.Persist {
			if i != j && strings.HasPrefix(filepath.Clean(ps.Host)+"/", filepath.Clean(other.Host)+"/") {
				return bad("persist.host", "entry %d: %q is inside entry %d's folder", i+1, ps.Host, j+1)
			}
		}
		if err := checkHostPath(ps.Host); err != nil {
			return bad("persist.host", "entry %d: %v", i+1, err)
		}
		if !strings.HasPrefix(ps.Sandbox, "~/") && !filepath.IsAbs(ps.Sandbox) {
			return bad("persist.sandbox", "entry %d: %q must start with ~/ or /", i+1, ps.Sandbox)
		}
		if strings.Contains(ps.Sandbox, "..") || filepath.Clean(ps.Sandbox) == "/" {
			return bad("persist.sandbox", "entry %d: %q may not contain .. or be /", i+1, ps.Sandbox)
		}
	}
	for k, v := range p.Env {
		if !envKeyRE().MatchString(k) || strings.ContainsRune(v, 0) {
			return bad("env."+k, "not a valid environment variable")
		}
		// Variables that would undo the sandbox's own wiring are refused:
		// the bus, the display and the runtime folder are Airlock's to set.
		switch k {
		case "DBUS_SESSION_BUS_ADDRESS", "DBUS_SYSTEM_BUS_ADDRESS", "DISPLAY", "XAUTHORITY", "WAYLAND_DISPLAY", "XDG_RUNTIME_DIR", "LD_PRELOAD", "LD_LIBRARY_PATH":
			return bad("env."+k, "is set by Airlock and cannot be overridden")
		}
	}
	for _, n := range p.BusNames {
		if !busNameRE().MatchString(n) || len(n) > 255 {
			return bad("bus_names", "%q is not a D-Bus well-known name", n)
		}
		if strings.HasPrefix(n, "org.freedesktop.DBus") || strings.HasPrefix(n, "org.freedesktop.portal.") || strings.HasPrefix(n, "org.freedesktop.systemd1") || strings.HasPrefix(n, "org.airlock.") {
			return bad("bus_names", "%q may not be relayed", n)
		}
	}
	return nil
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

func checkHostPath(p string) error {
	if p == "" || strings.ContainsRune(p, 0) {
		return errors.New(i18n.T("empty path or NUL in path"))
	}
	if !strings.HasPrefix(p, "~/") && !filepath.IsAbs(p) {
		return errors.New(i18n.T("%q must start with ~/ or /", p))
	}
	c := filepath.Clean(p)
	// The host's root, /proc, /dev, /sys, /run and the home folder as a whole
	// would hand the sandbox what it exists to withhold.
	for _, forbidden := range []string{"/", "/proc", "/sys", "/dev", "/run", "/etc", "/home", "/root", "~"} {
		if c == forbidden {
			return errors.New(i18n.T("%q may not be shared", p))
		}
	}
	for _, prefix := range []string{"/proc/", "/sys/", "/dev/", "/run/"} {
		if strings.HasPrefix(c, prefix) {
			return errors.New(i18n.T("%q may not be shared", p))
		}
	}
	return nil
}

func checkHostPort(s string) error {
	i := strings.LastIndexByte(s, ':')
	if i <= 0 || i == len(s)-1 {
		return errors.New(i18n.T("%q is not HOST:PORT", s))
	}
	for _, c := range s[i+1:] {
		if c < '0' || c > '9' {
			return errors.New(i18n.T("%q has a bad port", s))
		}
	}
	return nil
}

// keyLine finds the line that defines key (a dotted path) in TOML text: the
// decoder does not expose key positions. It tracks [table] and [[array]]
// headers and returns the first line that sets the key's last part inside the
// key's table, or 0.
func keyLine(data []byte, key toml.Key) int {
	if len(key) == 0 {
		return 0
	}
	table := strings.Join(key[:len(key)-1], ".")
	last := key[len(key)-1]
	cur := ""
	for i, line := range strings.Split(string(data), "\n") {
		t := strings.TrimSpace(line)
		if strings.HasPrefix(t, "[") {
			h := strings.Trim(t, "[] \t")
			if j := strings.IndexByte(h, '#'); j >= 0 {
				h = strings.Trim(h[:j], "[] \t")
			}
			cur = h
			// An unknown table is reported by its header's name.
			if h == key.String() {
				return i + 1
			}
			continue
		}
		k, _, ok := strings.Cut(t, "=")
		if !ok {
			continue
		}
		k = strings.Trim(strings.TrimSpace(k), `"'`)
		full := k
		if cur != "" {
			full = cur + "." + k
		}
		if (cur == table && k == last) || full == key.String() {
			return i + 1
		}
		// An inline table or a persist entry: `persist = [{ host = ... }]`.
		if cur == "" && k == key[0] {
			return i + 1
		}
	}
	return 0
}

// ExpandHome replaces a leading ~ with home.
func ExpandHome(p, home string) string {
	if p == "~" {
		return home
	}
	if rest, ok := strings.CutPrefix(p, "~/"); ok {
		return filepath.Join(home, rest)
	}
	return p
}

// Show renders the effective settings as TOML, for `airlock profile show`.
func (p *Profile) Show() string {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# profile %q from %s (defaults filled in)\n", p.Name, p.Path)
	enc := toml.NewEncoder(&b)
	enc.Indent = ""
	_ = enc.Encode(p)
	return b.String()
}

// lazyRE compiles a pattern on first use: the same binary is the sandbox's
// init, whose start-up should not pay for profile validation.
func lazyRE(pattern string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(pattern) })
}
