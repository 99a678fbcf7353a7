// Package harness runs Airlock the way a user does, for the integration tests
// under tests/: it builds the binaries once, creates an ordinary user when the
// tests run as root (as CI does), and starts every sandbox as that user.
package harness

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"airlock/tests/testuser"
)

// TestUser is the ordinary account sandboxes are started as when the tests
// run as root.
const TestUser = testuser.Name

// Env is the test environment shared by a test binary.
type Env struct {
	Root       string // repository root
	BinDir     string // world-readable folder with the built binaries
	Bin        string // the airlock binary
	UID, GID   int
	User       string
	Home       string
	RuntimeDir string // the test user's XDG_RUNTIME_DIR
	Portal     string // the airlock-portal binary, beside airlock (where the launcher looks)
	Chooser    string // the airlock-chooser binary, when chooser-ui builds
	asRoot     bool
	extraEnv   []string
}

// WithEnv returns a copy of e whose commands get extra environment entries
// (KEY=VALUE), for example a session bus address.
func (e *Env) WithEnv(kv ...string) *Env {
	c := *e
	c.extraEnv = append(append([]string(nil), e.extraEnv...), kv...)
	return &c
}

var (
	once   sync.Once
	env    *Env
	envErr error
)

// Get sets the environment up once per test binary and returns it.
func Get(t testing.TB) *Env {
	t.Helper()
	once.Do(func() { env, envErr = setup() })
	if envErr != nil {
		t.Fatalf("test environment: %v", envErr)
	}
	return env
}

// RepoRoot walks up from the working folder to go.mod.
func RepoRoot() (string, error) {
	d, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		p := filepath.Dir(d)
		if p == d {
			return "", errors.New("go.mod not found above the working folder")
		}
		d = p
	}
}

func setup() (*Env, error) {
	root, err := RepoRoot()
	if err != nil {
		return nil, err
	}
	e := &Env{Root: root, asRoot: os.Geteuid() == 0}
	if e.asRoot {
		a, err := testuser.Ensure()
		if err != nil {
			return nil, err
		}
		e.UID, e.GID, e.User, e.Home = a.UID, a.GID, a.Name, a.Home
	} else {
		u, err := user.Current()
		if err != nil {
			return nil, err
		}
		e.UID, e.GID, e.User, e.Home = os.Getuid(), os.Getgid(), u.Username, u.HomeDir
	}
	// Binaries go to a fresh world-readable folder: the test user cannot
	// read a root-owned checkout's build cache.
	e.BinDir, err = os.MkdirTemp("", "airlock-bin-")
	if err != nil {
		return nil, err
	}
	os.Chmod(e.BinDir, 0o755)
	e.Bin = filepath.Join(e.BinDir, "airlock")
	// Static, as tests/lib.sh and meson.build build it: no dynamic loader
	// at each of a launch's two start-ups (RESULTS.md, Launch).
	if err := e.goBuild("./launcher", e.Bin, true); err != nil {
		return nil, err
	}
	e.Portal = filepath.Join(e.BinDir, "airlock-portal")
	if err := e.goBuild("./portal", e.Portal, false); err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(root, "chooser-ui", "main.go")); err == nil {
		e.Chooser = filepath.Join(e.BinDir, "airlock-chooser")
		if err := e.goBuild("./chooser-ui", e.Chooser, false); err != nil {
			// Tests that need the chooser fail on an empty Chooser; the
			// others still run.
			fmt.Fprintf(os.Stderr, "harness: %v\n", err)
			e.Chooser = ""
		}
	}
	// The file-dialog library the launcher finds beside its binary: built
	// by the same shell function as the suite's build (tests/lib.sh).
	// So is the reaper init execs (airlock-reaper).
	if b, err := exec.Command("bash", "-c", `. "$1/tests/lib.sh" && build_gtkdialog "$2" && build_reaper "$2"`, "-", root, e.BinDir).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("build_gtkdialog, build_reaper: %v: %s", err, b)
	}
	os.Chmod(filepath.Join(e.BinDir, "libairlock-gtkdialog.so"), 0o755)
	os.Chmod(filepath.Join(e.BinDir, "airlock-reaper"), 0o755)
	e.RuntimeDir = filepath.Join(os.TempDir(), fmt.Sprintf("airlock-test-runtime-%d", e.UID))
	if err := os.MkdirAll(e.RuntimeDir, 0o700); err != nil {
		return nil, err
	}
	os.Chmod(e.RuntimeDir, 0o700)
	if e.asRoot {
		if err := os.Chown(e.RuntimeDir, e.UID, e.GID); err != nil {
			return nil, err
		}
	}
	return e, nil
}

func (e *Env) goBuild(pkg, out string, static bool) error {
	cmd := exec.Command("go", "build", "-buildvcs=false", "-o", out, pkg)
	cmd.Dir = e.Root
	cmd.Env = os.Environ()
	if static {
		cmd.Env = append(cmd.Env, "CGO_ENABLED=0")
	}
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %v: %s", pkg, err, b)
	}
	return os.Chmod(out, 0o755)
}

// tools are the programs Tool built, by package.
var tools struct {
	sync.Mutex
	built map[string]string
	err   map[string]error
}

// Tool is BuildGo once per test binary: parallel tests share one build of
// a probe (and its failure).
func (e *Env) Tool(t testing.TB, pkg string) string {
	t.Helper()
	tools.Lock()
	defer tools.Unlock()
	if p, ok := tools.built[pkg]; ok {
		return p
	}
	if err, ok := tools.err[pkg]; ok {
		t.Fatalf("%s was not built: %v", pkg, err)
	}
	if tools.built == nil {
		tools.built, tools.err = map[string]string{}, map[string]error{}
	}
	out := filepath.Join(e.BinDir, filepath.Base(pkg))
	if err := e.goBuild(pkg, out, true); err != nil {
		tools.err[pkg] = err
		t.Fatal(err)
	}
	tools.built[pkg] = out
	return out
}

// BuildGo builds a Go package (path relative to the repository root) as a
// static binary in the world-readable folder and returns its path.
func (e *Env) BuildGo(t testing.TB, pkg string) string {
	t.Helper()
	out := filepath.Join(e.BinDir, filepath.Base(pkg))
	if err := e.goBuild(pkg, out, true); err != nil {
		t.Fatal(err)
	}
	return out
}

// UserEnv is the environment a sandbox is launched with: the test user's
// session, the repository's profiles, untranslated messages.
func (e *Env) UserEnv(extra ...string) []string {
	env := []string{
		"PATH=/usr/local/bin:/usr/bin:/bin",
		"HOME=" + e.Home,
		"USER=" + e.User,
		"LOGNAME=" + e.User,
		"XDG_RUNTIME_DIR=" + e.RuntimeDir,
		"XDG_CONFIG_HOME=" + filepath.Join(e.Home, ".config"),
		"AIRLOCK_DATADIR=" + filepath.Join(e.Root, "data"),
		"LANG=C.UTF-8",
		"NO_AT_BRIDGE=1",
		"GSETTINGS_BACKEND=memory",
	}
	env = append(env, e.extraEnv...)
	return append(env, extra...)
}

// Command prepares name args... to run as the test user.
func (e *Env) Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = e.UserEnv()
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if e.asRoot {
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: uint32(e.UID), Gid: uint32(e.GID), Groups: []uint32{}}
	}
	// Kill the whole group on timeout, not only the direct child.
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// Airlock prepares `airlock args...` as the test user.
func (e *Env) Airlock(ctx context.Context, args ...string) *exec.Cmd {
	return e.Command(ctx, e.Bin, args...)
}

// Result is a finished command.
type Result struct {
	Stdout, Stderr string
	Code           int
}

func (r Result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.Code, r.Stdout, r.Stderr)
}

// RunCmd runs cmd to completion and collects its output and status (-1 when
// it could not start or was killed by the timeout).
func RunCmd(cmd *exec.Cmd) Result {
	var out, errb bytes.Buffer
	if cmd.Stdout == nil {
		cmd.Stdout = &out
	}
	if cmd.Stderr == nil {
		cmd.Stderr = &errb
	}
	err := cmd.Run()
	r := Result{Stdout: out.String(), Stderr: errb.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		r.Code = ee.ExitCode()
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			r.Code = 128 + int(ws.Signal())
		}
	default:
		r.Code = -1
		r.Stderr += err.Error()
	}
	return r
}

// Run runs `airlock args...` as the test user with a one-minute limit.
func (e *Env) Run(t testing.TB, args ...string) Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	return RunCmd(e.Airlock(ctx, args...))
}

// Sandboxed runs a shell script inside a default sandbox with extra airlock
// run flags before the `--`.
func (e *Env) Sandboxed(t testing.TB, flags []string, script string) Result {
	t.Helper()
	args := append([]string{"run"}, flags...)
	args = append(args, "--", "/bin/sh", "-c", script)
	return e.Run(t, args...)
}

// UserDir makes a folder owned by the test user (removed at the test's end).
func (e *Env) UserDir(t testing.TB) string {
	t.Helper()
	d, err := os.MkdirTemp("", "airlock-user-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	if e.asRoot {
		if err := os.Chown(d, e.UID, e.GID); err != nil {
			t.Fatal(err)
		}
	}
	os.Chmod(d, 0o755)
	return d
}

// WriteUserFile writes a file owned by the test user.
func (e *Env) WriteUserFile(t testing.TB, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if e.asRoot {
		os.Chown(path, e.UID, e.GID)
	}
}

// AsRoot reports whether the tests switch to TestUser.
func (e *Env) AsRoot() bool { return e.asRoot }

// ProcessesOf lists the pids of the test user's processes whose command line
// contains needle (for "nothing left behind" checks).
func (e *Env) ProcessesOf(needle string) []int {
	var pids []int
	ents, _ := os.ReadDir("/proc")
	for _, d := range ents {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		var st syscall.Stat_t
		if syscall.Stat("/proc/"+d.Name(), &st) != nil || int(st.Uid) != e.UID {
			continue
		}
		cl, _ := os.ReadFile("/proc/" + d.Name() + "/cmdline")
		if strings.Contains(strings.ReplaceAll(string(cl), "\x00", " "), needle) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// SessionBus starts a private session dbus-daemon as the test user and
// returns an Env whose commands use it. The daemon, and the airlock-portal a
// launcher starts on it (which exits with its bus), are stopped by PID at the
// test's end.
func (e *Env) SessionBus(t testing.TB) *Env {
	t.Helper()
	dir := e.UserDir(t)
	sock := filepath.Join(dir, "session-bus")
	cmd := e.Command(context.Background(), "dbus-daemon", "--session", "--nofork", "--nopidfile", "--address=unix:path="+sock)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("dbus-daemon: %v", err)
	}
	addr := "unix:path=" + sock
	t.Cleanup(func() {
		// The broker first, so that it does not log the bus's death as a
		// failure; then the bus.
		for _, pid := range e.ProcessesOf(e.Portal) {
			if strings.Contains(readEnviron(pid), addr) {
				syscall.Kill(pid, syscall.SIGTERM)
			}
		}
		cmd.Process.Kill()
		cmd.Wait()
	})
	for i := 0; i < 200; i++ {
		if _, err := os.Stat(sock); err == nil {
			return e.WithEnv("DBUS_SESSION_BUS_ADDRESS=" + addr)
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("dbus-daemon did not create %s", sock)
	return nil
}

func readEnviron(pid int) string {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
	return strings.ReplaceAll(string(b), "\x00", "\n")
}

// NeedBins skips the test when a program it drives is not installed, on a
// developer's machine. Under CI (CI set, as .ci/run does) it fails instead:
// tests/lib.sh installs every program the suite drives there, and a test
// skipped in CI would never run at all.
func NeedBins(t testing.TB, bins ...string) {
	t.Helper()
	for _, b := range bins {
		if _, err := exec.LookPath(b); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is not installed (tests/lib.sh installs it): %v", b, err)
			}
			t.Skipf("%s is not installed", b)
		}
	}
}

// UserCopy copies a file of the repository (rel, from its root) to a place
// the test user can read, with mode, and returns that path.
func (e *Env) UserCopy(t *testing.T, rel string, mode os.FileMode) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(e.Root, rel))
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(e.UserDir(t), filepath.Base(rel))
	e.WriteUserFile(t, p, string(b), mode)
	return p
}
