package profile

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseValid(t *testing.T) {
	p, err := Parse("/x/tor.toml", "tor", []byte(`
display_name = "Tor Browser"
description = "d"
icon = "torbrowser"
command = ["/usr/bin/torbrowser-launcher", "--verbose"]
net = "tor"
tor_socks = "127.0.0.1:9150"
sound = "full"
display = "xephyr"
xephyr_screen = "1024x768"
gpu = true
hostname = "amnesia"
expose_ro = ["~/Public"]
expose_rw = ["/srv/share"]
default_grant = "rw"
persistent_grants = true
grants = "native-irrevocable"
bus_names = ["org.example.Foo"]
input_method = "ibus"
max_open_files = 4096
file_dialog = "app"
open_uri = "none"
print = false
print_sanitize = "rasterize"
color = "purple"

[[persist]]
host = "~/.local/share/airlock/tor"
sandbox = "~/.tor"
bookmark = true

[env]
TOR_SKIP_LAUNCH = "1"
`))
	if err != nil {
		t.Fatal(err)
	}
	want := &Profile{
		Name: "tor", Path: "/x/tor.toml", DisplayName: "Tor Browser", Description: "d", Icon: "torbrowser", Color: "purple",
		Command: []string{"/usr/bin/torbrowser-launcher", "--verbose"}, Net: NetTor, TorSocks: "127.0.0.1:9150",
		Sound: SoundFull, Display: DisplayXephyr, XephyrRes: "1024x768", WindowManager: WMAirlock, GPU: true, Hostname: "amnesia",
		ReadOnly: []string{"~/Public"}, ReadWrite: []string{"/srv/share"},
		Persist:      []Persist{{Host: "~/.local/share/airlock/tor", Sandbox: "~/.tor", Bookmark: true}},
		Env:          map[string]string{"TOR_SKIP_LAUNCH": "1"},
		DefaultGrant: GrantReadWrite, PersistentGrants: true, Grants: GrantsNative, BusNames: []string{"org.example.Foo"},
		InputMethod: InputMethodIBus, MaxOpenFiles: 4096, FileDialog: FileDialogApp, OpenURI: OpenURINone,
		ClipboardCopy: ClipboardAllow, ClipboardPaste: ClipboardAllow,
		ClipboardMaxText: MaxClipboardText, ClipboardMaxImage: MaxClipboardImage,
		Print: false, PrintSanitize: PrintRasterize,
	}
	if !reflect.DeepEqual(p, want) {
		t.Errorf("got %+v\nwant %+v", p, want)
	}
}

func TestParseDefaults(t *testing.T) {
	p, err := Parse("f.toml", "empty", nil)
	if err != nil {
		t.Fatal(err)
	}
	d := Defaults()
	d.Name, d.Path, d.DisplayName = "empty", "f.toml", "empty"
	if !reflect.DeepEqual(*p, d) {
		t.Errorf("empty profile: got %+v, want the defaults %+v", *p, d)
	}
	if p.Net != NetNone || p.Sound != SoundNone || p.Display != DisplayNone || p.DefaultGrant != GrantReadOnly || p.GPU || p.InputMethod != InputMethodNone || len(p.RelayedNames()) != 1 {
		t.Errorf("defaults are not strict: %+v", p)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		line       int
		key        string
		msg        string
	}{
		{"syntax", "net = \"none\"\nsound = \n", 2, "sound", "expected value"},
		{"unterminated string", "\n\nhostname = \"abc\n", 3, "hostname", "newlines"},
		{"unknown key", "net = \"none\"\nnetwork = \"tor\"\n", 2, "network", "unknown key"},
		{"unknown table key", "[[persist]]\nhost = \"~/a\"\nsandbox = \"~/a\"\nrw = true\n", 4, "persist.rw", "unknown key"},
		{"unknown table", "\n[sandbox]\nfoo = 1\n", 2, "sandbox", "unknown key"},
		{"unknown array table", "net = \"none\"\n[[mounts]]\nsrc = \"/a\"\n", 2, "mounts", "unknown key"},
		{"wrong type string", "\ndisplay = 1\n", 2, "display", "incompatible types"},
		{"wrong type bool", "gpu = 1\n", 1, "gpu", "incompatible types"},
		{"wrong type list", "command = \"/bin/sh\"\n", 1, "command", "incompatible types"},
		{"bad net", "net = \"lan\"\n", 1, "net", `"lan" is not one of none, tor, host`},
		{"bad sound", "\n\n\nsound = \"playback\"\n", 4, "sound", "is not one of"},
		{"bad display", "display = \"wayland-raw\"\n", 1, "display", "is not one of"},
		{"bad default_grant", "default_grant = \"all\"\n", 1, "default_grant", "is not one of"},
		{"bad open_uri", "open_uri = \"always\"\n", 1, "open_uri", "is not one of"},
		{"bad print_sanitize", "print_sanitize = \"ocr\"\n", 1, "print_sanitize", "is not one of"},
		{"bad print", "print = \"yes\"\n", 1, "print", ""},
		{"bad clipboard_copy", "\nclipboard_copy = \"yes\"\n", 2, "clipboard_copy", `"yes" is not one of none, ask, allow`},
		{"bad clipboard_paste", "clipboard_paste = \"never\"\n", 1, "clipboard_paste", "is not one of"},
		{"clipboard_max_text too high", "clipboard_max_text = 2000000\n", 1, "clipboard_max_text", "is not between 1 and 1048576"},
		{"clipboard_max_image zero", "clipboard_max_image = 0\n", 1, "clipboard_max_image", "is not between"},
		{"bad tor_socks", "tor_socks = \"localhost\"\n", 1, "tor_socks", "HOST:PORT"},
		{"bad tor_socks port", "tor_socks = \"127.0.0.1:x9\"\n", 1, "tor_socks", "bad port"},
		{"bad screen", "xephyr_screen = \"10x10\"\n", 1, "xephyr_screen", "WIDTHxHEIGHT"},
		{"bad color", "color = \"pink\"\n", 1, "color", "#rrggbb"},
		{"bad color hex", "color = \"#12345\"\n", 1, "color", "#rrggbb"},
		{"bad file_dialog", "file_dialog = \"portal\"\n", 1, "file_dialog", `"portal" is not one of airlock, app`},
		{"bad persist bookmark", "[[persist]]\nhost = \"~/p\"\nsandbox = \"~/p\"\nbookmark = \"yes\"\n", 4, "persist.bookmark", "incompatible types"},
		{"bad window manager", "window_manager = \"xmonad\"\n", 1, "window_manager", "is not one of airlock, none"},
		{"max_open_files too low", "max_open_files = 10\n", 1, "max_open_files", "is not between 64 and 1048576"},
		{"max_open_files too high", "\nmax_open_files = 2000000\n", 2, "max_open_files", "is not between"},
		{"bad hostname upper", "hostname = \"Host\"\n", 1, "hostname", "not a valid host name"},
		{"bad hostname dash", "# x\nhostname = \"-a\"\n", 2, "hostname", "not a valid host name"},
		{"bad hostname long", "hostname = \"" + strings.Repeat("a", 64) + "\"\n", 1, "hostname", "not a valid host name"},
		{"display_name control", "display_name = \"a\\u0007b\"\n", 1, "display_name", "printable"},
		{"display_name long", "display_name = \"" + strings.Repeat("x", 81) + "\"\n", 1, "display_name", "at most 80"},
		{"relative command", "command = [\"firefox\"]\n", 1, "command", "absolute path"},
		{"empty command element", "command = [\"/bin/sh\", \"\"]\n", 1, "command", "empty"},
		{"expose root", "expose_ro = [\"/\"]\n", 1, "expose_ro", "may not be shared"},
		{"expose proc", "expose_ro = [\"/proc\"]\n", 1, "expose_ro", "may not be shared"},
		{"expose proc child", "\nexpose_rw = [\"/proc/self\"]\n", 2, "expose_rw", "may not be shared"},
		{"expose sys child", "expose_rw = [\"/sys/class\"]\n", 1, "expose_rw", "may not be shared"},
		{"expose dotdot root", "expose_ro = [\"/tmp/..\"]\n", 1, "expose_ro", "may not be shared"},
		{"expose home", "expose_rw = [\"~\"]\n", 1, "expose_rw", "start with ~/ or /"},
		{"expose home slash", "expose_rw = [\"~/\"]\n", 1, "expose_rw", "may not be shared"},
		{"expose etc", "expose_ro = [\"/etc/\"]\n", 1, "expose_ro", "may not be shared"},
		{"expose relative", "expose_ro = [\"docs\"]\n", 1, "expose_ro", "start with ~/ or /"},
		{"persist host forbidden", "[[persist]]\nhost = \"/run\"\nsandbox = \"~/x\"\n", 2, "persist.host", "may not be shared"},
		{"persist sandbox relative", "[[persist]]\nhost = \"~/x\"\nsandbox = \"x\"\n", 3, "persist.sandbox", "must start with"},
		{"persist nested", "[[persist]]\nhost = \"~/a\"\nsandbox = \"~/a\"\n[[persist]]\nhost = \"~/a/b\"\nsandbox = \"~/b\"\n", 2, "persist.host", "inside entry 1"},
		{"persist sandbox dotdot", "[[persist]]\nhost = \"~/x\"\nsandbox = \"~/../etc\"\n", 3, "persist.sandbox", ".."},
		{"persist sandbox root", "[[persist]]\nhost = \"~/x\"\nsandbox = \"/\"\n", 3, "persist.sandbox", "be /"},
		{"env LD_PRELOAD", "[env]\nA = \"1\"\nLD_PRELOAD = \"/x.so\"\n", 3, "env.LD_PRELOAD", "cannot be overridden"},
		{"env LD_LIBRARY_PATH", "[env]\nLD_LIBRARY_PATH = \"/x\"\n", 2, "env.LD_LIBRARY_PATH", "cannot be overridden"},
		{"env bus", "[env]\nDBUS_SESSION_BUS_ADDRESS = \"unix:path=/x\"\n", 2, "env.DBUS_SESSION_BUS_ADDRESS", "cannot be overridden"},
		{"env xdg runtime", "[env]\nXDG_RUNTIME_DIR = \"/tmp\"\n", 2, "env.XDG_RUNTIME_DIR", "cannot be overridden"},
		{"env bad name", "[env]\n\"A-B\" = \"1\"\n", 2, "env.A-B", "not a valid environment variable"},
		{"bus name one part", "bus_names = [\"Notifications\"]\n", 1, "bus_names", "not a D-Bus well-known name"},
		{"bus name dbus", "bus_names = [\"org.freedesktop.DBus\"]\n", 1, "bus_names", "may not be relayed"},
		{"bus name portal", "bus_names = [\"org.freedesktop.portal.Desktop\"]\n", 1, "bus_names", "may not be relayed"},
		{"bus name systemd", "bus_names = [\"org.freedesktop.systemd1\"]\n", 1, "bus_names", "may not be relayed"},
		{"bus name airlock", "bus_names = [\"org.airlock.Portal\"]\n", 1, "bus_names", "may not be relayed"},
		{"bus name type", "bus_names = \"org.a.B\"\n", 1, "bus_names", "incompatible types"},
		{"persistent_grants type", "persistent_grants = \"yes\"\n", 1, "persistent_grants", "incompatible types"},
		// The old "native" made grants that revoking cannot cut, unsaid:
		// refused with what to write instead.
		{"grants old native", "net = \"none\"\ngrants = \"native\"\n", 2, "grants", `write "native-irrevocable" to keep reading at host speed anyway, or remove the key`},
		{"bad grants", "grants = \"fast\"\n", 1, "grants", `"fast" is not one of revocable, native-irrevocable`},
		{"package with shell syntax", "packages = [\"gedit; rm -rf ~\"]\n", 1, "packages", "not a Debian package name"},
		{"package upper case", "\npackages = [\"Gedit\"]\n", 2, "packages", "not a Debian package name"},
		{"package option", "packages = [\"-y\"]\n", 1, "packages", "not a Debian package name"},
		{"package one letter", "packages = [\"a\"]\n", 1, "packages", "not a Debian package name"},
		{"packages string", "packages = \"gedit\"\n", 1, "packages", "incompatible types"},
		{"too many packages", "packages = [\"a1\",\"a2\",\"a3\",\"a4\",\"a5\",\"a6\",\"a7\",\"a8\",\"a9\"]\n", 1, "packages", "more than 8"},
		{"bad input_method", "\ninput_method = \"fcitx\"\n", 2, "input_method", `"fcitx" is not one of none, ibus`},
		// ibus-portal only through input_method, whose relay is narrowed.
		{"ibus portal in bus_names", "bus_names = [\"org.freedesktop.portal.IBus\"]\n", 1, "bus_names", "may not be relayed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("/p/bad.toml", "bad", []byte(tc.text))
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("want a *profile.Error, got %T %v", err, err)
			}
			if pe.File != "/p/bad.toml" || pe.Line != tc.line || pe.Key != tc.key || !strings.Contains(pe.Msg, tc.msg) {
				t.Errorf("got file %q line %d key %q msg %q; want line %d key %q msg containing %q",
					pe.File, pe.Line, pe.Key, pe.Msg, tc.line, tc.key, tc.msg)
			}
			if !strings.HasPrefix(err.Error(), "/p/bad.toml:"+itoa(tc.line)+": ") {
				t.Errorf("message %q does not start with FILE:LINE", err)
			}
			if tc.key != "" && !strings.Contains(err.Error(), `key "`+tc.key+`"`) {
				t.Errorf("message %q does not name key %q", err, tc.key)
			}
		})
	}
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b []byte
	for ; i > 0; i /= 10 {
		b = append([]byte{byte('0' + i%10)}, b...)
	}
	return string(b)
}

func TestParseAccepts(t *testing.T) {
	for _, text := range []string{
		"expose_ro = [\"~/Documents\", \"/srv/data\"]\n",
		"hostname = \"a\"\n",
		"hostname = \"" + strings.Repeat("a", 63) + "\"\n",
		"tor_socks = \"[::1]:9050\"\n",
		"xephyr_screen = \"800x600\"\n",
		"[env]\nGTK_THEME = \"Adwaita:dark\"\n_X = \"\"\n",
		"bus_names = []\n",
		"bus_names = [\"org.freedesktop.Notifications\", \"org.a11y.Bus\", \"org.mpris.MediaPlayer2.vlc\"]\n",
		"[[persist]]\nhost = \"~/a\"\nsandbox = \"/opt/app/data\"\n[[persist]]\nhost = \"/srv/b\"\nsandbox = \"~/b\"\n",
		"command = [\"/usr/bin/env\", \"FOO=1\", \"prog\"]\n",
		"packages = [\"libreoffice-writer\", \"libreoffice-gtk3\", \"g++\", \"libc6.1\"]\n",
	} {
		if _, err := Parse("ok.toml", "ok", []byte(text)); err != nil {
			t.Errorf("%q refused: %v", text, err)
		}
	}
}

func TestKeyLine(t *testing.T) {
	data := []byte(`# comment
net = "none"
  hostname = "x"   # indented

[env]
net = "shadow"
FOO = "1"

[[persist]]  # first
host = "~/a"
[[persist]]
host = "~/b"
`)
	for _, tc := range []struct {
		key  []string
		line int
	}{
		{[]string{"net"}, 2},
		{[]string{"hostname"}, 3},
		{[]string{"env", "net"}, 6},
		{[]string{"env", "FOO"}, 7},
		{[]string{"persist", "host"}, 10},
		{[]string{"missing"}, 0},
		{nil, 0},
	} {
		if got := keyLine(data, tc.key); got != tc.line {
			t.Errorf("keyLine(%v) = %d, want %d", tc.key, got, tc.line)
		}
	}
}

func TestExpandHome(t *testing.T) {
	for in, want := range map[string]string{"~": "/home/u", "~/a/b": "/home/u/a/b", "/x": "/x", "~x": "~x"} {
		if got := ExpandHome(in, "/home/u"); got != want {
			t.Errorf("ExpandHome(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFindAndOverride(t *testing.T) {
	data, cfg := t.TempDir(), t.TempDir()
	t.Setenv("AIRLOCK_DATADIR", data)
	t.Setenv("XDG_CONFIG_HOME", cfg)
	shipped := filepath.Join(data, "profiles")
	own := filepath.Join(cfg, "airlock", "profiles")
	for _, d := range []string{shipped, own} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(p, s string) {
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(shipped, "editor.toml"), "display_name = \"Shipped\"\n")
	write(filepath.Join(shipped, "viewer.toml"), "display_name = \"Viewer\"\n")
	write(filepath.Join(shipped, ".hidden.toml"), "")
	write(filepath.Join(shipped, "notes.txt"), "")
	write(filepath.Join(own, "editor.toml"), "display_name = \"Mine\"\n")

	if got, want := Dirs(), []string{shipped, own}; !reflect.DeepEqual(got, want) {
		t.Errorf("Dirs() = %v, want %v", got, want)
	}
	if got := Names(); !reflect.DeepEqual(got, []string{"editor", "viewer"}) {
		t.Errorf("Names() = %v", got)
	}
	p, err := Find("editor")
	if err != nil || p.DisplayName != "Mine" || p.Path != filepath.Join(own, "editor.toml") {
		t.Errorf("the user's profile does not override the shipped one: %+v %v", p, err)
	}
	if p, err := Find("viewer"); err != nil || p.DisplayName != "Viewer" {
		t.Errorf("Find(viewer): %+v %v", p, err)
	}
	if _, err := Find("nope"); err == nil || !strings.Contains(err.Error(), `no profile named "nope"`) {
		t.Errorf("Find(nope): %v", err)
	}
	if _, err := Find("../etc"); err == nil {
		t.Errorf("Find(../etc) accepted")
	}
	// A path is read as a file.
	if p, err := Find(filepath.Join(shipped, "viewer.toml")); err != nil || p.Name != "viewer" {
		t.Errorf("Find(path): %+v %v", p, err)
	}
}

func TestShowIncludesDefaults(t *testing.T) {
	p, err := Parse("/p/x.toml", "x", []byte("display_name = \"X\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	s := p.Show()
	for _, want := range []string{`# profile "x" from /p/x.toml`, `display_name = "X"`, `net = "none"`, `tor_socks = "127.0.0.1:9050"`,
		`xephyr_screen = "1280x800"`, `window_manager = "airlock"`, `hostname = "localhost"`, `default_grant = "ro"`, `gpu = false`} {
		if !strings.Contains(s, want) {
			t.Errorf("Show() lacks %q:\n%s", want, s)
		}
	}
	// What Show prints parses back to the same profile.
	body := strings.SplitN(s, "\n", 2)[1]
	q, err := Parse("/p/x.toml", "x", []byte(body))
	if err != nil || !reflect.DeepEqual(p, q) {
		t.Errorf("Show() does not round-trip: %v\n%+v\n%+v", err, p, q)
	}
}

// TestGrantsRevocableByDefault: with no grants key, or the older
// "private", grants are revocable.
func TestGrantsRevocableByDefault(t *testing.T) {
	for _, text := range []string{"", "grants = \"private\"\n", "grants = \"revocable\"\n"} {
		p, err := Parse("ok.toml", "ok", []byte(text))
		if err != nil || p.Grants != GrantsRevocable {
			t.Errorf("%q: grants %q, %v; want %q", text, p.Grants, err, GrantsRevocable)
		}
	}
}

// The shipped profiles all parse, and each says how its grants are made
// (the choice between revocation and speed is the profile's to state).
func TestShippedProfiles(t *testing.T) {
	files, _ := filepath.Glob("../../data/profiles/*.toml")
	if len(files) == 0 {
		t.Fatal("no shipped profiles found")
	}
	for _, f := range files {
		if _, err := LoadFile(f); err != nil {
			t.Errorf("%v", err)
		}
		b, _ := os.ReadFile(f)
		if p, _ := LoadFile(f); p != nil && len(p.Command) > 0 && len(p.Packages) == 0 {
			t.Errorf("%s: a shipped profile with a command names the packages that provide it", f)
		}
		if keyLine(b, []string{"grants"}) == 0 {
			t.Errorf("%s: no grants key: a shipped profile chooses revocable or native-irrevocable grants explicitly", f)
		}
	}
}

// TestColorHex: a label is its Qubes colour, a hex colour itself, and a
// profile that names none is gray.
func TestColorHex(t *testing.T) {
	for _, tc := range []struct{ color, want string }{
		{"red", "#cc0000"}, {"purple", "#75507b"}, {"#A0b1C2", "#a0b1c2"}, {"", "#555753"},
	} {
		p := Defaults()
		p.Color = tc.color
		if got := p.ColorHex(); got != tc.want {
			t.Errorf("color %q: %s, want %s", tc.color, got, tc.want)
		}
	}
}
