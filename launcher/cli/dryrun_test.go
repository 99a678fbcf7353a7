package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"airlock/launcher/sandbox"
)

const testHome = "/home/airlock-plan-test"

// dryRun runs `airlock run --dry-run --json ARGS...` and decodes the plan.
func dryRun(t *testing.T, args ...string) *sandbox.Plan {
	t.Helper()
	p := dryRunPlan(t, args...)
	checkInvariants(t, p)
	return p
}

// dryRunPlan is dryRun without the invariants' check.
func dryRunPlan(t *testing.T, args ...string) *sandbox.Plan {
	t.Helper()
	var out, errs bytes.Buffer
	stdout, stderr = &out, &errs
	t.Cleanup(func() { stdout, stderr = os.Stdout, os.Stderr })
	if code := Main(append([]string{"run", "--dry-run", "--json"}, args...)); code != 0 {
		t.Fatalf("airlock run --dry-run %q: exit %d: %s", args, code, errs.String())
	}
	var p sandbox.Plan
	if err := json.Unmarshal(out.Bytes(), &p); err != nil {
		t.Fatalf("cannot decode the plan: %v\n%s", err, out.String())
	}
	return &p
}

// planEnv gives every dry run the same, fake, account and session.
func planEnv(t *testing.T) {
	t.Setenv("HOME", testHome)
	t.Setenv("DISPLAY", ":7")
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
}

func profilePath(name string) string {
	return filepath.Join("..", "..", "data", "profiles", name+".toml")
}

func find(p *sandbox.Plan, dst string) (sandbox.Op, bool) {
	for _, o := range p.Ops {
		if o.Dst == dst {
			return o, true
		}
	}
	return sandbox.Op{}, false
}

// findKind returns the op of that kind at dst.
func findKind(p *sandbox.Plan, kind sandbox.OpKind, dst string) (sandbox.Op, bool) {
	for _, o := range p.Ops {
		if o.Dst == dst && o.Kind == kind {
			return o, true
		}
	}
	return sandbox.Op{}, false
}

func under(path, dir string) bool {
	return dir == "/" || path == dir || strings.HasPrefix(path, dir+"/")
}

func hasEnv(p *sandbox.Plan, prefix string) bool {
	return slices.ContainsFunc(p.Env, func(e string) bool { return strings.HasPrefix(e, prefix) })
}

// checkInvariants checks what every plan must keep, whatever the profile
// and the flags.
func checkInvariants(t *testing.T, p *sandbox.Plan) {
	t.Helper()
	ops := p.Ops
	if len(ops) < 2 || ops[0].Kind != sandbox.OpTmpfs || ops[0].Dst != "/" {
		t.Fatalf("the plan does not start with tmpfs /: %v", ops[:min(1, len(ops))])
	}
	if last := ops[len(ops)-1]; last.Kind != sandbox.OpRemountRO || last.Dst != "/" {
		t.Errorf("the last op is %v, want remount-ro /", last)
	}
	runtimeDir := "/run/user/" + strconv.Itoa(p.UID)
	for _, want := range []struct {
		kind sandbox.OpKind
		dst  string
		mode sandbox.Mode
	}{
		{sandbox.OpTmpfs, "/tmp", 0o1777},
		{sandbox.OpTmpfs, testHome, 0o700},
		{sandbox.OpTmpfs, runtimeDir, 0o700},
		{sandbox.OpTmpfs, "/dev", 0o755},
		{sandbox.OpTmpfs, "/sys", 0o755},
		{sandbox.OpProc, "/proc", 0},
		{sandbox.OpDevpts, "/dev/pts", 0},
		{sandbox.OpRemountRO, "/run", 0},
		{sandbox.OpRemountRO, "/sys", 0},
		{sandbox.OpRemountRO, "/proc/sys", 0},
	} {
		o, ok := findKind(p, want.kind, want.dst)
		if !ok || o.Mode != want.mode {
			t.Errorf("%s: got %v, want %s mode %v", want.dst, o, want.kind, want.mode)
		}
	}
	if o, _ := find(p, "/usr"); o.Kind != sandbox.OpROBind || o.Src != "/usr" {
		t.Errorf("/usr: got %v, want ro-bind /usr /usr", o)
	}
	// Generated identity: never the host's.
	// /etc is one view prepared per session (its per-sandbox files are
	// links into /run/airlock/etc), or the host's entries bound one by one.
	idDir := "/etc"
	if p.Etc != nil {
		idDir = "/run/airlock/etc"
		if o, _ := find(p, "/etc"); o.Kind != sandbox.OpROBind || o.Src != sandbox.PlaceholderEtcView {
			t.Errorf("/etc: got %v, want ro-bind of the view", o)
		}
		for _, e := range p.Etc.Copies {
			if !slices.Contains(sandbox.EtcEntries(), e) {
				t.Errorf("the /etc view copies %s, not an allowed entry", e)
			}
		}
		for _, l := range []string{"machine-id", "hostname", "hosts", "resolv.conf"} {
			if p.Etc.Links[l] != idDir+"/"+l {
				t.Errorf("/etc/%s: links to %q, want %s/%s", l, p.Etc.Links[l], idDir, l)
			}
		}
	}
	if o, _ := find(p, idDir+"/machine-id"); o.Kind != sandbox.OpFile || !regexp.MustCompile(`^[0-9a-f]{32}\n$`).MatchString(o.Data) {
		t.Errorf("/etc/machine-id: got %v, want a generated file", o)
	} else if host, err := os.ReadFile("/etc/machine-id"); err == nil && string(host) == o.Data {
		t.Errorf("/etc/machine-id is the host's")
	}
	if o, _ := find(p, "/proc/sys/kernel/random/boot_id"); o.Kind != sandbox.OpROBindData || len(o.Data) != 37 {
		t.Errorf("boot_id: got %v, want a generated UUID", o)
	} else if host, err := os.ReadFile("/proc/sys/kernel/random/boot_id"); err == nil && string(host) == o.Data {
		t.Errorf("boot_id is the host's")
	}
	if o, _ := find(p, "/proc/cmdline"); o.Kind != sandbox.OpROBindData || strings.Contains(o.Data, "root=") {
		t.Errorf("/proc/cmdline: got %v, want a neutral one", o)
	}
	passwd := ""
	if p.Etc != nil {
		passwd = p.Etc.Files["passwd"]
	} else if o, _ := find(p, "/etc/passwd"); o.Kind == sandbox.OpFile {
		passwd = o.Data
	}
	if strings.Count(passwd, "\n") != 2 || !strings.Contains(passwd, "\nnobody:") {
		t.Errorf("/etc/passwd: got %q, want the user and nobody only", passwd)
	}
	etc := sandbox.EtcEntries()
	for i, o := range ops {
		if filepath.Clean(o.Dst) != o.Dst || !filepath.IsAbs(o.Dst) {
			t.Errorf("op %d %v: destination is not an absolute clean path", i, o)
		}
		// A mount is never hidden by a later tmpfs over it or its parent,
		// nor shadowed by a later op at the same place.
		for _, later := range ops[i+1:] {
			if later.Kind == sandbox.OpTmpfs && under(o.Dst, later.Dst) && i > 0 {
				t.Errorf("op %d %v lies under a later %v", i, o, later)
			}
			if later.Dst == o.Dst && later.Kind != sandbox.OpRemountRO && i > 0 {
				t.Errorf("op %d %v is shadowed by a later %v", i, o, later)
			}
		}
		if !o.IsBind() {
			continue
		}
		// Nothing of the host's /etc but the listed entries; nothing of
		// /sys but the CPU topology; no device but the minimal set and the
		// GPU when granted.
		switch {
		case o.Dst == "/etc" && p.Etc != nil:
			// The view, checked above.
		case o.Dst == "/run/airlock/etc/resolv.conf":
			if !p.ShareNet {
				t.Errorf("op %d %v: resolv.conf without net = host", i, o)
			}
		case under(o.Dst, "/etc"):
			e := strings.TrimPrefix(o.Dst, "/etc/")
			if !slices.Contains(etc, e) && !(e == "resolv.conf" && p.ShareNet) {
				t.Errorf("op %d %v: not an allowed /etc entry", i, o)
			}
		case under(o.Dst, "/sys"):
			if o.Dst != "/sys/devices/system/cpu" || o.Kind != sandbox.OpROBind {
				t.Errorf("op %d %v: /sys shows more than the CPU topology", i, o)
			}
		case under(o.Dst, "/dev"):
			if !slices.Contains([]string{"/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty", "/dev/dri"}, o.Dst) || o.Src != o.Dst {
				t.Errorf("op %d %v: not an allowed device", i, o)
			}
		case o.Kind == sandbox.OpDevBind:
			t.Errorf("op %d %v: device nodes outside /dev", i, o)
		}
	}
}

// hostX says whether the plan binds anything of the host's X sockets.
func hostX(p *sandbox.Plan) bool {
	return slices.ContainsFunc(p.Ops, func(o sandbox.Op) bool { return o.IsBind() && under(o.Src, "/tmp/.X11-unix") })
}

// writableBinds returns the sources of the writable binds but for the
// device nodes.
func writableBinds(p *sandbox.Plan) []string {
	var w []string
	for _, o := range p.Ops {
		if o.Writable() && !under(o.Dst, "/dev") {
			w = append(w, o.Src+" -> "+o.Dst)
		}
	}
	return w
}

func TestDryRunProfiles(t *testing.T) {
	planEnv(t)
	uid := strconv.Itoa(os.Getuid())
	rt := "/run/user/" + uid
	docView := sandbox.PlaceholderDocView + " -> " + rt + "/doc"
	xephyr := sandbox.PlaceholderXephyr + " -> /tmp/.X11-unix/X0"
	a11y := sandbox.PlaceholderA11yProxy + " -> " + rt + "/at-spi/bus"
	for _, c := range []struct {
		profile  string
		tor      bool
		display  bool
		writable []string
		env      []string
		argv0    string
	}{
		{"default", false, false, []string{docView}, nil, "/bin/true"},
		{"tor-browser", true, true, []string{docView, testHome + "/.local/share/airlock/tor-browser -> " + testHome + "/.local/share/torbrowser", xephyr}, []string{"TOR_SKIP_LAUNCH=1", "TOR_SOCKS_PORT=9050"}, "/usr/bin/torbrowser-launcher"},
		{"text-editor", false, true, []string{a11y, docView, testHome + "/.local/share/airlock/text-editor/config -> " + testHome + "/.config", xephyr}, nil, "/usr/bin/gedit"},
		{"document-viewer", false, true, []string{a11y, docView, xephyr}, nil, "/usr/bin/evince"},
		{"office", false, true, []string{a11y, docView, testHome + "/.local/share/airlock/office -> " + testHome + "/.config/libreoffice", xephyr}, []string{"SAL_USE_VCLPLUGIN=gtk3"}, "/usr/bin/libreoffice"},
	} {
		t.Run(c.profile, func(t *testing.T) {
			args := []string{profilePath(c.profile)}
			if c.profile == "default" {
				// The default profile has no command.
				args = []string{"--profile", profilePath(c.profile), "--", "/bin/true"}
			}
			p := dryRun(t, args...)
			if p.Profile != c.profile || p.Args[0] != c.argv0 {
				t.Errorf("profile %q command %q, want %q %q", p.Profile, p.Args, c.profile, c.argv0)
			}
			if got := writableBinds(p); !slices.Equal(got, c.writable) {
				t.Errorf("writable binds:\n got %q\nwant %q", got, c.writable)
			}
			if p.ShareNet || p.TorListener != c.tor || p.Net != map[bool]string{true: "tor", false: "none"}[c.tor] {
				t.Errorf("net %q share %v tor listener %v, want tor=%v and no host network", p.Net, p.ShareNet, p.TorListener, c.tor)
			}
			if !p.BusSocket || !p.Handshake || !p.DryRun {
				t.Errorf("bus %v handshake %v dry run %v, all wanted", p.BusSocket, p.Handshake, p.DryRun)
			}
			// Every shipped profile chose revocable grants: no native binds.
			if p.NativeGrants {
				t.Error("native grants: revoking could not cut open files")
			}
			if !slices.Contains(p.Env, "DBUS_SESSION_BUS_ADDRESS=unix:path="+rt+"/bus") {
				t.Errorf("no bus address in %q", p.Env)
			}
			if hostX(p) {
				t.Error("the host's X socket is bound")
			}
			if hasEnv(p, "DISPLAY=") != c.display {
				t.Errorf("DISPLAY set: %v, want %v", hasEnv(p, "DISPLAY="), c.display)
			}
			if o, ok := find(p, rt+"/Xauthority"); ok != c.display || ok && (o.Kind != sandbox.OpROBind || o.Src != sandbox.PlaceholderXephyrAuth) {
				t.Errorf("Xauthority: %v, want a read-only Xephyr cookie: %v", o, c.display)
			}
			// max_open_files: Firefox asks for 4096 itself; the rest keep
			// the default, which bounds descriptors in flight.
			nofile := map[bool]uint64{true: 4096, false: 512}[c.profile == "tor-browser"]
			if line := fmt.Sprintf("rlimit nofile %d (soft and hard)\n", nofile); p.MaxOpenFiles != nofile || !strings.Contains(p.String(), line) {
				t.Errorf("max_open_files %d, want %d and %q in the plan", p.MaxOpenFiles, nofile, line)
			}
			for _, e := range c.env {
				if !slices.Contains(p.Env, e) {
					t.Errorf("%s missing from %q", e, p.Env)
				}
			}
			for _, o := range p.Ops {
				if strings.HasSuffix(o.Dst, "/pulse/native") || strings.HasSuffix(o.Dst, "/pipewire-0") || o.Dst == "/etc/resolv.conf" || o.Dst == "/run/airlock/etc/resolv.conf" || o.Dst == "/dev/dri" {
					t.Errorf("%v: not granted by profile %s", o, c.profile)
				}
			}
		})
	}
}

func TestDryRunNoProfileIsDefault(t *testing.T) {
	planEnv(t)
	p := dryRun(t, "--", "/bin/echo", "hi")
	if !slices.Equal(p.Args, []string{"/bin/echo", "hi"}) || p.Net != "none" || hasEnv(p, "DISPLAY=") {
		t.Errorf("got net %q args %q env %q, want the strict default", p.Net, p.Args, p.Env)
	}
}

func TestDryRunFlags(t *testing.T) {
	planEnv(t)
	dir := t.TempDir()
	doc := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(doc, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	rt := "/run/user/" + strconv.Itoa(os.Getuid())
	insideDoc := rt + "/doc/" + sandbox.PlaceholderDocID + "/notes.txt"
	native := filepath.Join(dir, "native.toml")
	if err := os.WriteFile(native, []byte("grants = \"native-irrevocable\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		args  []string
		check func(t *testing.T, p *sandbox.Plan)
	}{
		{"net none", []string{"--net", "none"}, func(t *testing.T, p *sandbox.Plan) {
			if p.ShareNet || p.TorListener {
				t.Error("network reachable")
			}
		}},
		{"net tor", []string{"--net", "tor"}, func(t *testing.T, p *sandbox.Plan) {
			if p.ShareNet || !p.TorListener || !p.Handshake {
				t.Errorf("share %v tor %v handshake %v, want a private namespace with the Tor listener", p.ShareNet, p.TorListener, p.Handshake)
			}
		}},
		{"net host", []string{"--net", "host"}, func(t *testing.T, p *sandbox.Plan) {
			o, _ := find(p, "/run/airlock/etc/resolv.conf")
			if !p.ShareNet || p.TorListener || o.Kind != sandbox.OpROBind {
				t.Errorf("share %v tor %v resolv.conf %v", p.ShareNet, p.TorListener, o)
			}
		}},
		{"sound full", []string{"--sound", "full"}, func(t *testing.T, p *sandbox.Plan) {
			for _, dst := range []string{rt + "/pulse/native", rt + "/pipewire-0"} {
				if o, _ := find(p, dst); o.Kind != sandbox.OpBind || !o.Try {
					t.Errorf("%s: %v, want bind-try of the host's socket", dst, o)
				}
			}
			if !slices.Contains(p.Env, "PULSE_SERVER=unix:"+rt+"/pulse/native") {
				t.Errorf("no PULSE_SERVER in %q", p.Env)
			}
		}},
		{"sound none", []string{"--sound", "none"}, func(t *testing.T, p *sandbox.Plan) {
			if _, ok := find(p, rt+"/pulse/native"); ok || hasEnv(p, "PULSE_SERVER=") {
				t.Error("sound socket bound")
			}
		}},
		{"display x11", []string{"--display", "x11"}, func(t *testing.T, p *sandbox.Plan) {
			x, _ := find(p, "/tmp/.X11-unix/X0")
			a, _ := find(p, rt+"/Xauthority")
			if x.Kind != sandbox.OpBind || x.Src != "/tmp/.X11-unix/X7" || a.Kind != sandbox.OpROBind || a.Src != sandbox.PlaceholderX11Auth {
				t.Errorf("socket %v cookie %v, want the host's display 7 and an untrusted cookie", x, a)
			}
		}},
		{"display xephyr", []string{"--display", "xephyr"}, func(t *testing.T, p *sandbox.Plan) {
			if x, _ := find(p, "/tmp/.X11-unix/X0"); x.Src != sandbox.PlaceholderXephyr {
				t.Errorf("socket %v, want Xephyr's", x)
			}
		}},
		{"display none", []string{"--display", "none"}, func(t *testing.T, p *sandbox.Plan) {
			if _, ok := find(p, "/tmp/.X11-unix/X0"); ok || hasEnv(p, "DISPLAY=") {
				t.Error("a display")
			}
		}},
		{"ro", []string{"--ro", doc}, func(t *testing.T, p *sandbox.Plan) {
			// Revocable (the default): through the document store only.
			for _, o := range p.Ops {
				if o.Src == doc {
					t.Errorf("%v: a revocable document bound from the host", o)
				}
			}
			if p.NativeGrants {
				t.Error("native grants in the default profile")
			}
		}},
		{"ro native-irrevocable", []string{"--profile", native, "--ro", doc}, func(t *testing.T, p *sandbox.Plan) {
			// Through the document store, and read at native speed: the
			// host file itself, read-only, over the document's entry.
			if o, _ := find(p, insideDoc); o.Kind != sandbox.OpROBind || o.Src != doc || !p.NativeGrants {
				t.Errorf("%s: %v, native grants %v; want ro-bind of %s", insideDoc, o, p.NativeGrants, doc)
			}
		}},
		{"rw", []string{"--rw", doc}, func(t *testing.T, p *sandbox.Plan) {
			// Writable documents go through the document store only: no
			// bind of the host file at all.
			for _, o := range p.Ops {
				if o.Src == doc {
					t.Errorf("%v: a writable document bound from the host", o)
				}
			}
		}},
		{"name", []string{"--name", "mine"}, func(t *testing.T, p *sandbox.Plan) {
			if p.Name != "mine" {
				t.Errorf("name %q", p.Name)
			}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := dryRun(t, append(c.args, "--", "/bin/cat", doc)...)
			c.check(t, p)
			// The host's X socket is there only for display = x11.
			if hostX(p) != (c.name == "display x11") {
				t.Errorf("host X socket bound: %v", hostX(p))
			}
			if wantDoc := slices.Contains(c.args, "--ro") || slices.Contains(c.args, "--rw"); wantDoc != (p.Args[1] == insideDoc) {
				t.Errorf("args %q: document path replaced: %v, want %v", p.Args, p.Args[1] == insideDoc, wantDoc)
			}
			if w := writableBinds(p); !slices.Contains([]string{"display x11", "display xephyr", "sound full"}, c.name) && len(w) != 1 {
				t.Errorf("writable binds %q, want the document store's view only", w)
			}
		})
	}
}

func TestDryRunProfileWithFile(t *testing.T) {
	planEnv(t)
	doc := filepath.Join(t.TempDir(), "a.pdf")
	if err := os.WriteFile(doc, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	// document-viewer hands files in read-only, revocable: through the
	// store only, replaced by their inside path.
	p := dryRun(t, profilePath("document-viewer"), doc)
	inside := "/run/user/" + strconv.Itoa(os.Getuid()) + "/doc/" + sandbox.PlaceholderDocID + "/a.pdf"
	if !slices.Equal(p.Args, []string{"/usr/bin/evince", inside}) {
		t.Errorf("args %q", p.Args)
	}
	for _, o := range p.Ops {
		if o.Src == doc {
			t.Errorf("%v: a revocable document bound from the host", o)
		}
	}
	// office hands them in read-write: through the store only.
	p = dryRun(t, profilePath("office"), doc)
	for _, o := range p.Ops {
		if o.Src == doc {
			t.Errorf("%v: a read-write document bound from the host", o)
		}
	}
}

func TestDryRunRefusals(t *testing.T) {
	planEnv(t)
	for _, args := range [][]string{
		{"--net", "vpn", "--", "/bin/true"},
		{"--display", "wayland", "--", "/bin/true"},
		{"--ro", "/nonexistent/airlock", "--", "/bin/true"},
	} {
		var errs bytes.Buffer
		stdout, stderr = &bytes.Buffer{}, &errs
		code := Main(append([]string{"run", "--dry-run"}, args...))
		stdout, stderr = os.Stdout, os.Stderr
		if code == 0 || errs.Len() == 0 {
			t.Errorf("%q: exit %d, stderr %q: want a refusal", args, code, errs.String())
		}
	}
}

func TestDryRunText(t *testing.T) {
	planEnv(t)
	var out bytes.Buffer
	stdout = &out
	defer func() { stdout = os.Stdout }()
	if code := Main([]string{"run", "--dry-run", "--", "/bin/true"}); code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"\ntmpfs / mode=0755\n", "\nro-bind /usr /usr\n", "\nproc /proc hidepid=invisible\n", "\ntmpfs " + testHome + " mode=0700\n", "\nremount-ro /\n", "\nexec \"/bin/true\"\n"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("no %q in:\n%s", want, out.String())
		}
	}
}

// Exposed paths and the GPU, from a profile of one's own: read-only unless
// expose_rw, /dev/dri only with gpu.
func TestDryRunExposedPaths(t *testing.T) {
	planEnv(t)
	dir := t.TempDir()
	ro, rw := filepath.Join(dir, "ro"), filepath.Join(dir, "rw")
	for _, d := range []string{ro, rw} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	prof := filepath.Join(dir, "mine.toml")
	text := "command = [\"/bin/true\"]\ngpu = true\nexpose_ro = [\"" + ro + "\"]\nexpose_rw = [\"" + rw + "\"]\n"
	if err := os.WriteFile(prof, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	p := dryRun(t, prof)
	if o, _ := find(p, ro); o.Kind != sandbox.OpROBind || o.Src != ro {
		t.Errorf("%s: %v, want a read-only bind", ro, o)
	}
	if o, _ := find(p, rw); o.Kind != sandbox.OpBind || o.Src != rw {
		t.Errorf("%s: %v, want a writable bind", rw, o)
	}
	if o, _ := find(p, "/dev/dri"); o.Kind != sandbox.OpDevBind || !o.Try {
		t.Errorf("/dev/dri: %v, want dev-bind-try", o)
	}
	if w := writableBinds(p); len(w) != 2 {
		t.Errorf("writable binds %q, want the document store and %s", w, rw)
	}
}

// A profile path in /etc cannot be a mount point in the read-only /etc view:
// such a plan binds the host's entries one by one.
func TestDryRunEtcPathWithoutView(t *testing.T) {
	planEnv(t)
	// /etc itself is there on every Linux machine, and no sandbox sees it.
	prof := filepath.Join(t.TempDir(), "etcpath.toml")
	if err := os.WriteFile(prof, []byte("expose_ro = [\"/etc/apt\"]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// (A host path in /etc is outside checkInvariants' allowed entries.)
	p := dryRunPlan(t, "--profile", prof, "--", "/bin/true")
	if p.Etc != nil {
		t.Errorf("plan uses the /etc view with a profile path in /etc")
	}
	if o, _ := find(p, "/etc"); o.Kind != "" {
		t.Errorf("/etc bound whole: %v", o)
	}
	if o, _ := find(p, "/etc/apt"); o.Kind != sandbox.OpROBind {
		t.Errorf("/etc/apt: %v, want the profile's ro-bind", o)
	}
}
