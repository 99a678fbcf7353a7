package launcher_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"airlock/tests/harness"
)

func TestProfileHostnameAndEnv(t *testing.T) {
	t.Parallel()
	e := harness.Get(t)
	p := writeProfile(t, e, "keys", `hostname = "sandbox-7"
[env]
AIRLOCK_TEST_VAR = "hello world"
`)
	r := e.Run(t, "run", "--profile", p, "--", "/bin/sh", "-c", `hostname; cat /etc/hostname; echo "$AIRLOCK_TEST_VAR"`)
	if r.Code != 0 || r.Stdout != "sandbox-7\nsandbox-7\nhello world\n" {
		t.Errorf("hostname and env: %v", r)
	}
}

func TestProfileExpose(t *testing.T) {
	t.Parallel()
	e := harness.Get(t)
	d := e.UserDir(t)
	ro, rw := filepath.Join(d, "ro"), filepath.Join(d, "rw")
	for _, p := range []string{ro, rw} {
		os.Mkdir(p, 0o755)
		os.Chown(p, e.UID, e.GID)
	}
	e.WriteUserFile(t, filepath.Join(ro, "a.txt"), "ro-content\n", 0o644)
	e.WriteUserFile(t, filepath.Join(rw, "b.txt"), "rw-content\n", 0o644)
	p := writeProfile(t, e, "expose", fmt.Sprintf("expose_ro = [%q]\nexpose_rw = [%q]\n", ro, rw))
	script := fmt.Sprintf(`cat %[1]s/a.txt %[2]s/b.txt
if echo x > %[1]s/a.txt; then echo RO-WROTE; fi
if touch %[1]s/new; then echo RO-CREATED; fi
echo changed > %[2]s/b.txt && touch %[2]s/new && echo RW-OK
ls -A %[3]s`, ro, rw, d)
	r := e.Run(t, "run", "--profile", p, "--", "/bin/sh", "-c", script)
	// The same paths inside; the parent shows the two exposed folders only.
	if r.Stdout != "ro-content\nrw-content\nRW-OK\nro\nrw\n" || !strings.Contains(r.Stderr, "Read-only file system") {
		t.Errorf("expose_ro/expose_rw: %v", r)
	}
	if b, _ := os.ReadFile(filepath.Join(ro, "a.txt")); string(b) != "ro-content\n" {
		t.Errorf("expose_ro: host file changed: %q", b)
	}
	if b, _ := os.ReadFile(filepath.Join(rw, "b.txt")); string(b) != "changed\n" {
		t.Errorf("expose_rw: host file not changed: %q", b)
	}
	if _, err := os.Stat(filepath.Join(rw, "new")); err != nil {
		t.Errorf("expose_rw: new file not on the host: %v", err)
	}
	// Without the profile, none of it is there.
	r = e.Run(t, "run", "--", "/bin/sh", "-c", "ls "+d)
	if r.Code == 0 {
		t.Errorf("folder visible without expose: %v", r)
	}
}

func TestProfilePersistAndAmnesia(t *testing.T) {
	t.Parallel()
	e := harness.Get(t)
	d := e.UserDir(t)
	host := filepath.Join(d, "state", "app")
	p := writeProfile(t, e, "persist", fmt.Sprintf("[[persist]]\nhost = %q\nsandbox = \"~/.local/share/app\"\n", host))
	script := `ls -A ~/.local/share/app; ls -A ~ | grep -v '^.local$'; echo kept > ~/.local/share/app/data; echo lost > ~/scratch; true`
	r := e.Run(t, "run", "--profile", p, "--", "/bin/sh", "-c", script)
	if r.Code != 0 || r.Stdout != "" {
		t.Fatalf("first run: want empty persistent folder and home, got %v", r)
	}
	st, err := os.Stat(host)
	if err != nil || st.Mode().Perm() != 0o700 || !st.IsDir() {
		t.Fatalf("persistent folder: want a 0700 folder, got %v %v", st, err)
	}
	if b, _ := os.ReadFile(filepath.Join(host, "data")); string(b) != "kept\n" {
		t.Errorf("persistent data not on the host: %q", b)
	}
	// Second run: the persistent file is there, the scratch file is not.
	r = e.Run(t, "run", "--profile", p, "--", "/bin/sh", "-c", script)
	if r.Code != 0 || r.Stdout != "data\n" {
		t.Errorf("second run: want data kept and home otherwise empty, got %v", r)
	}
	// The host home was not written by either run.
	if _, err := os.Stat(filepath.Join(e.Home, "scratch")); err == nil {
		t.Errorf("the sandbox's home wrote to the host home")
	}
}

func TestProfileGPU(t *testing.T) {
	t.Parallel()
	e := harness.Get(t)
	if _, err := os.Stat("/dev/dri"); err != nil {
		// Without it, gpu = true must still start (the bind is optional)
		// and show nothing.
		p := writeProfile(t, e, "gpu", "gpu = true\n")
		r := e.Run(t, "run", "--profile", p, "--", "/bin/sh", "-c", "test -e /dev/dri && echo PRESENT; echo done")
		if r.Code != 0 || r.Stdout != "done\n" {
			t.Errorf("gpu = true without host /dev/dri: %v", r)
		}
		t.Skip("the host has no /dev/dri")
	}
	for _, gpu := range []bool{true, false} {
		p := writeProfile(t, e, "gpu", fmt.Sprintf("gpu = %v\n", gpu))
		r := e.Run(t, "run", "--profile", p, "--", "/bin/sh", "-c", "ls /dev/dri")
		if (r.Code == 0) != gpu {
			t.Errorf("gpu = %v: /dev/dri listing: %v", gpu, r)
		}
	}
}

// Profiles are refused before anything starts, with FILE:LINE: key "KEY".
func TestBadProfilesRefused(t *testing.T) {
	t.Parallel()
	e := harness.Get(t)
	marker := uniq("must-not-run")
	for _, tc := range []struct {
		name, text string
		line       int
		key        string
	}{
		{"unknown key", "net = \"none\"\n\nbogus = 1\n", 3, "bogus"},
		{"unknown key in table", "[[persist]]\nhost = \"/tmp/x\"\nsandbox = \"~/x\"\nmode = 1\n", 4, "persist.mode"},
		{"unknown table", "\n[sandbox]\nfoo = 1\n", 2, "sandbox"},
		{"wrong type", "display_name = \"x\"\nnet = 5\n", 2, "net"},
		{"wrong type bool", "\ngpu = \"yes\"\n", 2, "gpu"},
		{"bad net", "# c\nnet = \"lan\"\n", 2, "net"},
		{"bad sound", "sound = \"loud\"\n", 1, "sound"},
		{"bad display", "\n\ndisplay = \"vnc\"\n", 3, "display"},
		{"bad default_grant", "default_grant = \"all\"\n", 1, "default_grant"},
		{"relative command", "description = \"d\"\ncommand = [\"sh\", \"-c\", \"true\"]\n", 2, "command"},
		{"expose root", "expose_ro = [\"/\"]\n", 1, "expose_ro"},
		{"expose proc", "\nexpose_rw = [\"/proc\"]\n", 2, "expose_rw"},
		{"expose proc sub", "expose_ro = [\"/tmp\", \"/proc/1\"]\n", 1, "expose_ro"},
		{"bad hostname", "icon = \"x\"\nhostname = \"Bad_Host\"\n", 2, "hostname"},
		{"bad tor_socks", "tor_socks = \"9050\"\n", 1, "tor_socks"},
		{"bad xephyr_screen", "xephyr_screen = \"big\"\n", 1, "xephyr_screen"},
		{"refused env", "[env]\nFOO = \"1\"\nLD_PRELOAD = \"/tmp/x.so\"\n", 3, "env.LD_PRELOAD"},
		{"refused env display", "[env]\nDISPLAY = \":5\"\n", 2, "env.DISPLAY"},
		{"bad bus name", "bus_names = [\"not a name\"]\n", 1, "bus_names"},
		{"relayed bus name", "\nbus_names = [\"org.freedesktop.DBus\"]\n", 2, "bus_names"},
		{"bad persistent_grants", "persistent_grants = \"yes\"\n", 1, "persistent_grants"},
		{"persist sandbox relative", "[[persist]]\nhost = \"~/x\"\nsandbox = \"rel\"\n", 3, "persist.sandbox"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := writeProfile(t, e, "bad", tc.text)
			r := e.Run(t, "run", "--profile", p, "--", "/bin/echo", marker)
			profileErr(t, r, p, tc.line, tc.key)
			if strings.Contains(r.Stdout, marker) {
				t.Errorf("the command ran")
			}
			// The same refusal through airlock run FILE.
			r = e.Run(t, "run", p)
			profileErr(t, r, p, tc.line, tc.key)
		})
	}
}

func TestProfilesListAndOverride(t *testing.T) {
	t.Parallel()
	e := harness.Get(t)
	cfg := e.UserDir(t)
	env := []string{"XDG_CONFIG_HOME=" + cfg}
	shipped, _ := filepath.Glob(filepath.Join(e.Root, "data", "profiles", "*.toml"))
	if len(shipped) == 0 {
		t.Fatal("no shipped profiles")
	}
	r := runEnv(t, e, env, "profiles")
	if r.Code != 0 || strings.Contains(r.Stdout, "(invalid") {
		t.Fatalf("airlock profiles: %v", r)
	}
	for _, s := range shipped {
		n := strings.TrimSuffix(filepath.Base(s), ".toml")
		if !strings.Contains(r.Stdout, "\n"+n+" ") || !strings.Contains(r.Stdout, s) {
			t.Errorf("shipped profile %s not listed: %v", n, r)
		}
	}
	// The user's own default.toml wins over the shipped one.
	ud := filepath.Join(cfg, "airlock", "profiles")
	os.MkdirAll(ud, 0o755)
	for _, p := range []string{filepath.Join(cfg, "airlock"), ud} {
		os.Chown(p, e.UID, e.GID)
	}
	own := filepath.Join(ud, "default.toml")
	e.WriteUserFile(t, own, "display_name = \"Overridden\"\nhostname = \"mine\"\n", 0o644)
	r = runEnv(t, e, env, "profiles")
	if !strings.Contains(r.Stdout, "Overridden") || !strings.Contains(r.Stdout, own) {
		t.Errorf("user profile does not override: %v", r)
	}
	r = runEnv(t, e, env, "run", "--", "/bin/hostname")
	if strings.TrimSpace(r.Stdout) != "mine" {
		t.Errorf("airlock run does not use the user's default profile: %v", r)
	}
	r = runEnv(t, e, env, "profile", "show", "default")
	if !strings.Contains(r.Stdout, `display_name = "Overridden"`) || !strings.Contains(r.Stdout, own) {
		t.Errorf("profile show default: %v", r)
	}
}

func TestProfileShowDefaults(t *testing.T) {
	t.Parallel()
	e := harness.Get(t)
	p := writeProfile(t, e, "show", `display_name = "My Tool"
description = "Does things"
icon = "my-icon"
persistent_grants = true
bus_names = ["org.example.Thing"]
`)
	r := e.Run(t, "profile", "show", p)
	for _, want := range []string{
		`display_name = "My Tool"`, `description = "Does things"`, `icon = "my-icon"`,
		`persistent_grants = true`, `bus_names = ["org.example.Thing"]`,
		// Defaults filled in.
		`net = "none"`, `sound = "none"`, `display = "none"`, `tor_socks = "127.0.0.1:9050"`,
		`xephyr_screen = "1280x800"`, `hostname = "localhost"`, `default_grant = "ro"`, `gpu = false`,
	} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("profile show: %q missing: %v", want, r)
		}
	}
	r = e.Run(t, "profile", "show", "default")
	if r.Code != 0 || !strings.Contains(r.Stdout, `bus_names = ["org.freedesktop.Notifications"]`) {
		t.Errorf("profile show default: %v", r)
	}
	// An invalid one is refused with its location.
	bad := writeProfile(t, e, "bad", "\nnet = \"lan\"\n")
	if r := e.Run(t, "profile", "show", bad); r.Code == 0 || !strings.Contains(r.Stderr, bad+`:2: key "net"`) {
		t.Errorf("profile show of a bad profile: %v", r)
	}
}

// TestHostApplicationsHidden: the sandbox sees no desktop entries of the
// host's applications, so GLib's "open this link" finds no local handler
// and goes to the OpenURI portal (gio/gappinfo.c tries local handlers
// first), and the list of installed applications does not leave the host.
func TestHostApplicationsHidden(t *testing.T) {
	t.Parallel()
	host, err := os.ReadDir("/usr/share/applications")
	if err != nil || len(host) == 0 {
		t.Fatalf("the host's /usr/share/applications is empty or missing (%v): nothing to hide", err)
	}
	e := harness.Get(t)
	r := e.Run(t, "run", "--", "/bin/sh", "-c", `ls -A /usr/share/applications; echo "n=$(ls -A /usr/share/applications | wc -l)"; if touch /usr/share/applications/x.desktop 2>/dev/null; then echo writable; fi`)
	if r.Code != 0 || r.Stdout != "n=0\n" {
		t.Errorf("/usr/share/applications inside: %v (host has %d entries)", r, len(host))
	}
}
