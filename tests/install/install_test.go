// Package install_test installs Airlock with meson into a temporary prefix
// (and a DESTDIR stage) and uses only what was installed: the files are
// where the system looks for them (man pages, bash completion, desktop
// entries, the AppArmor profile, the D-Bus service file), and a session
// whose bus knows only PREFIX/share/dbus-1/services starts the broker by
// D-Bus activation, runs a sandbox, grants a file through the installed
// chooser under Xvfb, and reads it all back with airlock ps and airlock log.
package install_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"airlock/chooser-ui/protocol"
	"airlock/tests/harness"
)

// layout is one meson install.
type layout struct {
	prefix string // the installed prefix
	stage  string // DESTDIR of a second install of the same build
	build  string
}

var (
	installOnce sync.Once
	installed   layout
	installErr  error
)

// TestMain removes the install once every test used it.
func TestMain(m *testing.M) {
	code := m.Run()
	for _, d := range []string{installed.prefix, installed.stage, installed.build} {
		if d != "" {
			os.RemoveAll(d)
		}
	}
	os.Exit(code)
}

// mkdirPublic makes a folder every user can read (the sandbox runs as the
// test user, the build as root).
func mkdirPublic(pattern string) (string, error) {
	d, err := os.MkdirTemp("", pattern)
	if err != nil {
		return "", err
	}
	return d, os.Chmod(d, 0o755)
}

func run(dir string, env []string, name string, args ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return nil
}

// install builds the repository with meson once per test binary and
// installs it twice: into a DESTDIR stage, and for real into the prefix.
func install(t *testing.T) layout {
	t.Helper()
	harness.NeedBins(t, "meson", "ninja", "msgfmt", "go")
	e := harness.Get(t)
	installOnce.Do(func() {
		var l layout
		if l.prefix, installErr = mkdirPublic("airlock-prefix-"); installErr != nil {
			return
		}
		if l.stage, installErr = mkdirPublic("airlock-destdir-"); installErr != nil {
			return
		}
		if l.build, installErr = mkdirPublic("airlock-meson-"); installErr != nil {
			return
		}
		os.Remove(l.build) // meson setup makes it
		// apparmor enabled, into the prefix: the test must not touch the
		// machine's /etc/apparmor.d.
		if installErr = run(e.Root, nil, "meson", "setup", l.build, "--prefix="+l.prefix,
			"-Dapparmor=enabled", "-Dapparmor_dir="+filepath.Join(l.prefix, "etc", "apparmor.d")); installErr != nil {
			return
		}
		if installErr = run(e.Root, nil, "meson", "compile", "-C", l.build); installErr != nil {
			return
		}
		if installErr = run(e.Root, []string{"DESTDIR=" + l.stage}, "meson", "install", "-C", l.build, "--no-rebuild"); installErr != nil {
			return
		}
		if installErr = run(e.Root, nil, "meson", "install", "-C", l.build, "--no-rebuild"); installErr != nil {
			return
		}
		// Every folder on the way must be readable by the test user.
		installErr = filepath.WalkDir(l.prefix, func(p string, d os.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				err = os.Chmod(p, 0o755)
			}
			return err
		})
		installed = l
	})
	if installErr != nil {
		t.Fatalf("meson install: %v", installErr)
	}
	return installed
}

// files every install must hold, relative to the prefix.
var wantFiles = []string{
	"bin/airlock", "bin/airlock-portal", "bin/airlock-chooser",
	"lib/airlock/libairlock-gtkdialog.so",
	"share/airlock/profiles/default.toml", "share/airlock/profiles/text-editor.toml",
	"share/locale/de/LC_MESSAGES/airlock.mo",
	"share/dbus-1/services/org.airlock.Portal.service",
	"share/dbus-1/interfaces/org.airlock.Portal1.xml",
	"lib/systemd/user/airlock-portal.service",
	"share/man/man1/airlock.1", "share/man/man1/airlock-portal.1", "share/man/man1/airlock-chooser.1",
	"share/man/man5/airlock-profile.5",
	"share/bash-completion/completions/airlock",
	"share/applications/airlock-text-editor.desktop", "share/applications/airlock-document-viewer.desktop",
	"share/applications/airlock-office.desktop", "share/applications/airlock-tor-browser.desktop",
	"share/airlock/apparmor.d/airlock",
	"etc/apparmor.d/airlock",
}

// TestInstalledFiles: both installs hold every file, the service files
// name the installed binaries, and every man page formats without a warning.
func TestInstalledFiles(t *testing.T) {
	l := install(t)
	for _, f := range wantFiles {
		for _, root := range []string{l.prefix, filepath.Join(l.stage, l.prefix)} {
			if _, err := os.Stat(filepath.Join(root, f)); err != nil {
				t.Errorf("not installed: %v", err)
			}
		}
	}
	for f, want := range map[string]string{
		"share/dbus-1/services/org.airlock.Portal.service": "Exec=" + l.prefix + "/bin/airlock-portal --runtime-log\n",
		"lib/systemd/user/airlock-portal.service":          "ExecStart=" + l.prefix + "/bin/airlock-portal\n",
	} {
		b, _ := os.ReadFile(filepath.Join(l.prefix, f))
		if !strings.Contains(string(b), want) {
			t.Errorf("%s lacks %q:\n%s", f, want, b)
		}
	}
	harness.NeedBins(t, "man")
	for _, m := range []string{"man1/airlock.1", "man1/airlock-portal.1", "man1/airlock-chooser.1", "man5/airlock-profile.5"} {
		cmd := exec.Command("man", "--warnings", "-E", "UTF-8", "-l", filepath.Join(l.prefix, "share", "man", m))
		cmd.Env = append(os.Environ(), "MANWIDTH=80", "LC_ALL=C.UTF-8", "MAN_DISABLE_SECCOMP=1")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil || stderr.Len() > 0 || len(out) < 200 {
			t.Errorf("man -l %s: %v (%d bytes)\n%s", m, err, len(out), stderr.String())
		}
	}
}

// TestDesktopEntries: each launcher validates, runs the installed airlock
// with its profile and hands files in read-only, names the application it
// needs in TryExec (menus show only those installed), and is translated.
func TestDesktopEntries(t *testing.T) {
	harness.NeedBins(t, "desktop-file-validate")
	l := install(t)
	entries, _ := filepath.Glob(filepath.Join(l.prefix, "share", "applications", "*.desktop"))
	if len(entries) != 4 {
		t.Fatalf("installed desktop entries: %v", entries)
	}
	for _, f := range entries {
		if out, err := exec.Command("desktop-file-validate", f).CombinedOutput(); err != nil || len(bytes.TrimSpace(out)) > 0 {
			t.Errorf("desktop-file-validate %s: %v\n%s", f, err, out)
		}
	}
	b, err := os.ReadFile(filepath.Join(l.prefix, "share", "applications", "airlock-text-editor.desktop"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"\nName=Text Editor (sandboxed)\n",
		"\nName[de]=Texteditor (in der Sandbox)\n",
		"\nExec=" + l.prefix + "/bin/airlock run --files ro text-editor %F\n",
		"\nTryExec=/usr/bin/gedit\n",
		"\nMimeType=text/plain;\n",
		"\nIcon=accessories-text-editor\n",
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("airlock-text-editor.desktop lacks %q:\n%s", strings.TrimSpace(want), b)
		}
	}
}

// TestAppArmorProfile: the installed profile names the installed airlock,
// allows user namespaces and parses. Debian 12's parser (AppArmor 3.0)
// predates the userns rule (4.0): there the rest of the profile is parsed
// and the rule checked as text; a parser that knows it parses it whole.
func TestAppArmorProfile(t *testing.T) {
	harness.NeedBins(t, "apparmor_parser")
	l := install(t)
	p := filepath.Join(l.prefix, "etc", "apparmor.d", "airlock")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	for _, want := range []string{"profile airlock " + l.prefix + "/bin/airlock flags=(unconfined) {", "\n  userns,\n", "abi <abi/4.0>,"} {
		if !strings.Contains(text, want) {
			t.Errorf("%s lacks %q:\n%s", p, want, text)
		}
	}
	if c, _ := os.ReadFile(filepath.Join(l.prefix, "share", "airlock", "apparmor.d", "airlock")); string(c) != text {
		t.Errorf("the copy in share/airlock/apparmor.d differs from %s", p)
	}
	parse := func(profile string) ([]byte, error) {
		f := filepath.Join(t.TempDir(), "airlock")
		os.WriteFile(f, []byte(profile), 0o644)
		return exec.Command("apparmor_parser", "-Q", "-K", f).CombinedOutput()
	}
	if _, err := parse("abi <abi/4.0>,\nprofile probe /probe {\n  userns,\n}\n"); err != nil {
		t.Logf("apparmor_parser predates the userns rule: parsing the profile without it")
		text = strings.Replace(strings.Replace(text, "\n  userns,\n", "\n", 1), "abi <abi/4.0>,", "abi <abi/3.0>,", 1)
	}
	if out, err := parse(text); err != nil {
		t.Errorf("apparmor_parser -Q %s: %v\n%s", p, err, out)
	}
}

// TestBashCompletion: the installed completion completes subcommands,
// flag values and the installed profiles' names.
func TestBashCompletion(t *testing.T) {
	l := install(t)
	const lib = "/usr/share/bash-completion/bash_completion"
	if _, err := os.Stat(lib); err != nil {
		t.Fatalf("bash-completion is not installed (tests/lib.sh installs it): %v", err)
	}
	comp := filepath.Join(l.prefix, "share", "bash-completion", "completions", "airlock")
	for line, want := range map[string]string{
		"airlock ru":              "run",
		"airlock run --net ":      "none tor host",
		"airlock run tex":         "text-editor",
		"airlock run --profile d": "default document-viewer",
		"airlock clipboard s":     "show",
		"airlock log --s":         "--sandbox --since",
	} {
		words := strings.Fields(line)
		cword := len(words) - 1
		if strings.HasSuffix(line, " ") {
			words = append(words, "")
			cword++
		}
		quoted := make([]string, len(words))
		for i, w := range words {
			quoted[i] = strconv.Quote(w)
		}
		script := fmt.Sprintf(`. %s; . %s; COMP_WORDS=(%s); COMP_CWORD=%d; COMP_LINE=%q; COMP_POINT=${#COMP_LINE}; _airlock; echo "${COMPREPLY[*]}"`,
			lib, comp, strings.Join(quoted, " "), cword, line)
		cmd := exec.Command("bash", "-c", script)
		cmd.Env = []string{"PATH=" + l.prefix + "/bin:/usr/bin:/bin", "HOME=" + t.TempDir(), "XDG_CONFIG_HOME=" + t.TempDir(), "LANG=C.UTF-8"}
		out, err := cmd.Output()
		if got := strings.Join(strings.Fields(string(out)), " "); err != nil || got != want {
			t.Errorf("completing %q: %q (%v), want %q", line, got, err, want)
		}
	}
}

// TestInstalledLookups: the installed airlock finds its profiles, the
// file-dialog library and its translations in the prefix; an airlock
// with nothing installed beside it says where it looked for profiles.
func TestInstalledLookups(t *testing.T) {
	l := install(t)
	e := harness.Get(t)
	bin := filepath.Join(l.prefix, "bin", "airlock")
	env := []string{"PATH=" + l.prefix + "/bin:/usr/bin:/bin", "HOME=" + e.Home, "XDG_CONFIG_HOME=" + e.UserDir(t), "LANG=C.UTF-8"}
	runAs := func(env []string, name string, args ...string) harness.Result {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cmd := e.Command(ctx, name, args...)
		cmd.Env = env
		return harness.RunCmd(cmd)
	}
	r := runAs(env, bin, "profiles")
	if r.Code != 0 || !strings.Contains(r.Stdout, filepath.Join(l.prefix, "share", "airlock", "profiles", "text-editor.toml")) {
		t.Errorf("installed airlock profiles: %v", r)
	}
	r = runAs(env, bin, "run", "--dry-run", "--profile", "text-editor", "--", "/bin/true")
	if want := "ro-bind " + filepath.Join(l.prefix, "lib", "airlock", "libairlock-gtkdialog.so") + " "; r.Code != 0 || !strings.Contains(r.Stdout, want) {
		t.Errorf("installed airlock does not bind its file-dialog library (%q): %v", want, r)
	}
	r = runAs(append(env, "LANGUAGE=de"), bin)
	if !strings.HasPrefix(r.Stderr, "Aufruf:") {
		t.Errorf("installed airlock with LANGUAGE=de is not translated: %v", r)
	}
	// The harness's airlock, alone in its folder, with no installed
	// profiles on this machine.
	for _, d := range []string{"/usr/local/share/airlock/profiles", "/usr/share/airlock/profiles"} {
		if _, err := os.Stat(d); err == nil {
			t.Skipf("%s exists: an uninstalled airlock finds profiles there", d)
		}
	}
	r = runAs(env, e.Bin, "profiles")
	if r.Code != 1 || !strings.Contains(r.Stderr, "no profiles found (searched ") || !strings.Contains(r.Stderr, "/usr/share/airlock/profiles") {
		t.Errorf("uninstalled airlock profiles does not say where it looked: %v", r)
	}
}

// session is a desktop session that knows only the installed files.
type session struct {
	t       *testing.T
	e       *harness.Env
	l       layout
	x       *harness.Xvfb
	env     []string
	runtime string
	trace   string
	bus     *exec.Cmd
	busLog  harness.SyncBuffer // dbus-daemon's messages: activations
}

func newSession(t *testing.T) *session {
	t.Helper()
	harness.NeedBins(t, "dbus-daemon", "Xvfb", "Xephyr", "xdotool", "zenity")
	if err := os.Chmod("/dev/fuse", 0o666); err != nil && os.Geteuid() == 0 {
		t.Fatalf("chmod /dev/fuse: %v", err)
	}
	l := install(t)
	e := harness.Get(t)
	s := &session{t: t, e: e, l: l, x: e.StartXvfb(t)}
	s.runtime = e.UserDir(t)
	os.Chmod(s.runtime, 0o700)
	dir := e.UserDir(t)
	s.trace = filepath.Join(dir, "chooser-trace")
	sock := filepath.Join(dir, "bus")
	// A session bus whose only services are the installed ones.
	conf := filepath.Join(dir, "session.conf")
	e.WriteUserFile(t, conf, `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=`+sock+`</listen>
  <auth>EXTERNAL</auth>
  <servicedir>`+filepath.Join(l.prefix, "share", "dbus-1", "services")+`</servicedir>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`, 0o644)
	s.env = append([]string{
		"PATH=" + l.prefix + "/bin:/usr/bin:/bin",
		"HOME=" + e.Home, "USER=" + e.User, "LOGNAME=" + e.User,
		"XDG_RUNTIME_DIR=" + s.runtime,
		"XDG_CONFIG_HOME=" + e.UserDir(t),
		"XDG_STATE_HOME=" + e.UserDir(t),
		"LANG=C.UTF-8", "NO_AT_BRIDGE=1", "GSETTINGS_BACKEND=memory",
		"DBUS_SESSION_BUS_ADDRESS=unix:path=" + sock,
		protocol.EnvTrace + "=" + s.trace,
	}, s.x.Env()...)
	// The bus as the session's: the broker it starts inherits this
	// environment (display, runtime folder), as on a desktop.
	s.bus = s.command(context.Background(), "dbus-daemon", "--config-file="+conf, "--nofork", "--nopidfile")
	s.bus.Stdout, s.bus.Stderr = &s.busLog, &s.busLog
	if err := s.bus.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, pid := range s.brokers() {
			syscall.Kill(pid, syscall.SIGTERM)
		}
		s.bus.Process.Kill()
		s.bus.Wait()
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := os.Stat(sock); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("dbus-daemon did not listen")
		}
		time.Sleep(10 * time.Millisecond)
	}
	return s
}

func (s *session) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := s.e.Command(ctx, name, args...)
	cmd.Env = s.env
	return cmd
}

// airlock runs the installed airlock (found on PATH) as the test user.
func (s *session) airlock(args ...string) harness.Result {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	return harness.RunCmd(s.command(ctx, filepath.Join(s.l.prefix, "bin", "airlock"), args...))
}

func (s *session) portalLog() string {
	b, _ := os.ReadFile(filepath.Join(s.runtime, "airlock", "portal.log"))
	return string(b)
}

// brokers lists the installed airlock-portal processes of this session.
func (s *session) brokers() []int {
	var out []int
	for _, pid := range s.e.ProcessesOf(filepath.Join(s.l.prefix, "bin", "airlock-portal")) {
		env, _ := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
		if bytes.Contains(env, []byte("XDG_RUNTIME_DIR="+s.runtime+"\x00")) {
			out = append(out, pid)
		}
	}
	return out
}

func (s *session) xdo(args ...string) string {
	s.t.Helper()
	out, err := s.x.Host("xdotool", args...)
	if err != nil {
		s.t.Fatalf("xdotool %v: %v", args, err)
	}
	return strings.TrimSpace(out)
}

// waitFor polls cond until it holds; the limit only guards against hangs.
func (s *session) waitFor(what string, cond func() bool, diag func() string) {
	s.t.Helper()
	deadline := time.Now().Add(120 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			s.t.Fatalf("gave up waiting for %s\n%s\nportal log:\n%s", what, diag(), s.portalLog())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestInstalledSession: with only the installed files (PATH=PREFIX/bin, a
// bus whose service folder is PREFIX/share/dbus-1/services), airlock run
// gets its broker by D-Bus activation, the application's portal request
// shows the installed chooser, the file the user types in is granted, and
// airlock ps, grants, revoke and log report it, never its content.
func TestInstalledSession(t *testing.T) {
	s := newSession(t)
	if b := s.brokers(); len(b) != 0 {
		t.Fatalf("a broker runs before the first sandbox: %v", b)
	}
	dir := s.e.UserDir(t)
	file := filepath.Join(dir, "letter.txt")
	content := fmt.Sprintf("installed grant %d\n", time.Now().UnixNano())
	s.e.WriteUserFile(t, file, content, 0o644)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	app := s.command(ctx, filepath.Join(s.l.prefix, "bin", "airlock"), "run", "--display", "xephyr", "--name", "inst", "--",
		"/bin/sh", "-c", `p=$(zenity --file-selection); echo "rc=$? path=$p"; cat "$p"; echo END; read x || true`)
	stdinR, stdinW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	var out, errOut harness.SyncBuffer
	app.Stdin, app.Stdout, app.Stderr = stdinR, &out, &errOut
	if err := app.Start(); err != nil {
		t.Fatal(err)
	}
	stdinR.Close()
	done := make(chan error, 1)
	go func() { done <- app.Wait() }()
	defer func() {
		stdinW.Close()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			syscall.Kill(-app.Process.Pid, syscall.SIGKILL)
			<-done
		}
	}()
	diag := func() string { return "stdout:\n" + out.String() + "\nstderr:\n" + errOut.String() }

	// The chooser: the installed binary, titled with the sandbox's name.
	var wid string
	s.waitFor("the chooser's window", func() bool {
		w := s.x.Windows("--onlyvisible", "--class", "^airlock-chooser$")
		if len(w) == 1 {
			wid = w[0]
		}
		return wid != ""
	}, diag)
	if got := s.xdo("getwindowname", wid); got != "inst wants to open a file" {
		t.Errorf("chooser title %q", got)
	}
	if pid, err := strconv.Atoi(s.xdo("getwindowpid", wid)); err == nil {
		if exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid)); exe != filepath.Join(s.l.prefix, "bin", "airlock-chooser") {
			t.Errorf("the chooser runs %q, not the installed one", exe)
		}
	}
	// The broker: the installed one, started by the bus (dbus-daemon
	// says so; its helper process has gone, so the broker's parent is not
	// the bus) with the service file's options, which the launcher's own
	// fallback never passes.
	brokers := s.brokers()
	if len(brokers) != 1 {
		t.Fatalf("installed brokers of this session: %v", brokers)
	}
	if bl := s.busLog.String(); !strings.Contains(bl, "Activating service name='org.airlock.Portal'") || !strings.Contains(bl, "Successfully activated service 'org.airlock.Portal'") {
		t.Errorf("the session bus did not start the broker:\n%s", bl)
	}
	if cl, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", brokers[0])); !bytes.Contains(cl, []byte("--runtime-log")) {
		t.Errorf("the broker's command line %q is not the service file's: not started by D-Bus activation", cl)
	}

	// The user types the file's path, as in tests/filechooser.
	s.xdo("windowfocus", "--sync", wid)
	s.xdo("key", "--clearmodifiers", "ctrl+l")
	s.xdo("type", "--clearmodifiers", "--delay", "20", file)
	s.waitFor("the typed path in the chooser", func() bool {
		tr := protocol.ReadTrace(s.trace)
		return tr.HasEntry && tr.Entry.Text == file
	}, func() string { b, _ := os.ReadFile(s.trace); return string(b) })
	for try := 0; try < 5 && protocol.ReadTrace(s.trace).Responses == 0; try++ {
		s.xdo("key", "--clearmodifiers", "Return")
		for until := time.Now().Add(3 * time.Second); time.Now().Before(until) && protocol.ReadTrace(s.trace).Responses == 0; {
			time.Sleep(20 * time.Millisecond)
		}
	}
	rx := regexp.MustCompile(`rc=0 path=(/run/user/\d+/doc/[^/\n]+/letter\.txt)\n`)
	s.waitFor("the application's answer", func() bool { return strings.Contains(out.String(), "END\n") }, diag)
	if !rx.MatchString(out.String()) || !strings.Contains(out.String(), content) {
		t.Fatalf("the sandbox did not read the granted file:\n%s", diag())
	}

	r := s.airlock("ps")
	if r.Code != 0 || !regexp.MustCompile(`(?m)^\S+\s+inst\s+default\s.*yes, 1 grants`).MatchString(r.Stdout) {
		t.Errorf("airlock ps: %v", r)
	}
	r = s.airlock("grants", "inst")
	lines := strings.Split(strings.TrimSpace(r.Stdout), "\n")
	if r.Code != 0 || len(lines) != 2 || !strings.Contains(lines[1], file) {
		t.Fatalf("airlock grants inst: %v", r)
	}
	doc := strings.Fields(lines[1])[1]
	if r = s.airlock("revoke", "inst", doc); r.Code != 0 {
		t.Fatalf("airlock revoke: %v", r)
	}

	// What happened, from the log the activated broker wrote.
	s.checkLog(file, doc, content)
}

// checkLog reads airlock log after one grant through the chooser and its
// revocation.
func (s *session) checkLog(file, doc, content string) {
	t := s.t
	r := s.airlock("log")
	if r.Code != 0 {
		t.Fatalf("airlock log: %v\nportal log:\n%s", r, s.portalLog())
	}
	t.Logf("airlock log:\n%s", r.Stdout)
	lines := strings.Split(strings.TrimSpace(r.Stdout), "\n")
	if !strings.HasPrefix(lines[0], "TIME") {
		t.Errorf("airlock log: no header: %v", r)
	}
	find := func(lines []string, event string) string {
		for _, l := range lines {
			f := strings.Fields(l)
			if len(f) > 4 && f[2] == "inst" && f[4] == event {
				return l
			}
		}
		return ""
	}
	grant, revoke := find(lines, "grant"), find(lines, "revoke")
	if !strings.Contains(grant, "host_path="+file) || !strings.Contains(grant, "writable=false") {
		t.Errorf("airlock log shows no grant of %s to inst:\n%s", file, r.Stdout)
	}
	if !strings.Contains(revoke, "doc="+doc) || !strings.Contains(revoke, "host_path="+file) {
		t.Errorf("airlock log shows no revocation of %s:\n%s", doc, r.Stdout)
	}
	if find(lines, "start") == "" {
		t.Errorf("airlock log shows no start of inst:\n%s", r.Stdout)
	}
	if strings.Contains(r.Stdout, strings.TrimSpace(content)) {
		t.Errorf("airlock log shows the file's content:\n%s", r.Stdout)
	}
	r = s.airlock("log", "--sandbox", "inst")
	if n := len(strings.Split(strings.TrimSpace(r.Stdout), "\n")); r.Code != 0 || n < 4 {
		t.Errorf("airlock log --sandbox inst: %v", r)
	}
	r = s.airlock("log", "--sandbox", "nosuchsandbox")
	if n := len(strings.Split(strings.TrimSpace(r.Stdout), "\n")); r.Code != 0 || n != 1 {
		t.Errorf("airlock log --sandbox nosuchsandbox shows other sandboxes' events: %v", r)
	}
	r = s.airlock("log", "--since", time.Now().Add(time.Hour).Format("2006-01-02 15:04"))
	if n := len(strings.Split(strings.TrimSpace(r.Stdout), "\n")); r.Code != 0 || n != 1 {
		t.Errorf("airlock log --since in an hour shows events: %v", r)
	}
	r = s.airlock("log", "--since", "10m")
	if r.Code != 0 || find(strings.Split(r.Stdout, "\n"), "revoke") == "" {
		t.Errorf("airlock log --since 10m: %v", r)
	}
}

// TestFilesReadOnly: the launchers' --files ro hands the files named on the
// command line in read-only, though the profile grants writable by
// default; without it the profile's default_grant holds.
func TestFilesReadOnly(t *testing.T) {
	s := newSession(t)
	var cfg string
	for _, kv := range s.env {
		if v, ok := strings.CutPrefix(kv, "XDG_CONFIG_HOME="); ok {
			cfg = v
		}
	}
	profDir := filepath.Join(cfg, "airlock", "profiles")
	os.MkdirAll(profDir, 0o755)
	os.Chown(filepath.Join(cfg, "airlock"), s.e.UID, s.e.GID)
	os.Chown(profDir, s.e.UID, s.e.GID)
	s.e.WriteUserFile(t, filepath.Join(profDir, "files.toml"), `display_name = "Files"
command = ["/bin/sh", "-c", "for f; do echo \"read $(cat \"$f\")\"; if echo more >> \"$f\"; then echo WROTE; else echo READONLY; fi; done", "sh"]
default_grant = "rw"
`, 0o644)
	dir := s.e.UserDir(t)
	file := filepath.Join(dir, "note.txt")
	s.e.WriteUserFile(t, file, "original\n", 0o644)

	r := s.airlock("run", "--files", "ro", "files", file)
	if r.Code != 0 || !strings.Contains(r.Stdout, "read original\n") || !strings.Contains(r.Stdout, "READONLY\n") {
		t.Errorf("airlock run --files ro files FILE: %v\nportal log:\n%s", r, s.portalLog())
	}
	if b, _ := os.ReadFile(file); string(b) != "original\n" {
		t.Errorf("a file handed in with --files ro was changed: %q", b)
	}
	r = s.airlock("run", "files", file)
	if r.Code != 0 || !strings.Contains(r.Stdout, "WROTE\n") {
		t.Errorf("airlock run files FILE (default_grant rw): %v", r)
	}
	if b, _ := os.ReadFile(file); string(b) != "original\nmore\n" {
		t.Errorf("a file handed in writable was not written: %q", b)
	}
	if r = s.airlock("run", "--files", "all", "files", file); r.Code != 2 {
		t.Errorf("airlock run --files all: %v", r)
	}
}

// TestUsernsRestrictedAdvice: where the kernel refuses the sandbox its user
// namespace, airlock run says which setting does and what to do. A user
// namespace of the test's own, whose user.max_user_namespaces it sets to 0
// (a per-namespace limit: the machine's is untouched), is a real such
// system: the clone of the sandbox fails with ENOSPC there.
func TestUsernsRestrictedAdvice(t *testing.T) {
	harness.NeedBins(t, "unshare", "setpriv")
	l := install(t)
	e := harness.Get(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := e.Command(ctx, "unshare", "--user", "--map-current-user", "--keep-caps", "/bin/sh", "-c",
		`echo 0 > /proc/sys/user/max_user_namespaces && exec setpriv --inh-caps=-all --ambient-caps=-all "$0" run -- /bin/true`,
		filepath.Join(l.prefix, "bin", "airlock"))
	cmd.Env = []string{"PATH=" + l.prefix + "/bin:/usr/bin:/bin", "HOME=" + e.Home, "XDG_RUNTIME_DIR=" + e.UserDir(t), "XDG_CONFIG_HOME=" + e.UserDir(t), "LANG=C.UTF-8"}
	r := harness.RunCmd(cmd)
	if r.Code != 125 {
		t.Fatalf("airlock run where no user namespace may be made: %v", r)
	}
	for _, want := range []string{"user.max_user_namespaces = 0", "sudo sysctl -w user.max_user_namespaces=15000", "/etc/sysctl.d/50-airlock.conf"} {
		if !strings.Contains(r.Stderr, want) {
			t.Errorf("the advice lacks %q: %v", want, r)
		}
	}
}
