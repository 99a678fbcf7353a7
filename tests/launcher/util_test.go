package launcher_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
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

	"airlock/tests/harness"
)

func itoa(i int) string { return strconv.Itoa(i) }

// runtimeIn is $XDG_RUNTIME_DIR as the application sees it.
func runtimeIn(e *harness.Env) string { return "/run/user/" + itoa(e.UID) }

// nettool builds the static probe once per test binary.
func nettool(t *testing.T, e *harness.Env) string {
	t.Helper()
	return e.Tool(t, "./tests/launcher/nettool")
}

// withTool is `-- /bin/sh -c SCRIPT sh TOOL`: the script finds the tool,
// handed in with --ro, as $NT (the launcher replaces the argument that
// equals the host path, not a path inside a script).
func withTool(tool, script string) []string {
	return []string{"--", "/bin/sh", "-c", `NT="$1"; ` + script, "sh", tool}
}

func cat(a, b []string) []string { return append(append([]string(nil), a...), b...) }

// uniq makes a name no other test uses, for --name and process markers.
var uniqN struct {
	sync.Mutex
	n int
}

func uniq(prefix string) string {
	uniqN.Lock()
	defer uniqN.Unlock()
	uniqN.n++
	return fmt.Sprintf("%s-%d-%d", prefix, os.Getpid(), uniqN.n)
}

// runEnv runs airlock with extra environment variables (later ones win).
func runEnv(t *testing.T, e *harness.Env, env []string, args ...string) harness.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := e.Airlock(ctx, args...)
	cmd.Env = append(cmd.Env, env...)
	return harness.RunCmd(cmd)
}

// writeProfile writes a profile file, readable by the test user, in a fresh
// folder and returns its path.
func writeProfile(t *testing.T, e *harness.Env, name, text string) string {
	t.Helper()
	p := filepath.Join(e.UserDir(t), name+".toml")
	e.WriteUserFile(t, p, text, 0o644)
	return p
}

// banner listens on a free host port of 127.0.0.1 and greets every client
// with one line.
func banner(t *testing.T, line string) (addr string, port int) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Write([]byte(line + "\n"))
			c.Close()
		}
	}()
	return l.Addr().String(), l.Addr().(*net.TCPAddr).Port
}

// unixBanner listens on a unix socket at path, owned by the test user.
func unixBanner(t *testing.T, e *harness.Env, path, line string) {
	t.Helper()
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	if e.AsRoot() {
		os.Chown(path, e.UID, e.GID)
	}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Write([]byte(line + "\n"))
			c.Close()
		}
	}()
}

// privateRuntime makes a fresh XDG_RUNTIME_DIR for the test user, so that a
// test can put sockets there or count leftovers without seeing other tests'.
func privateRuntime(t *testing.T, e *harness.Env) string {
	t.Helper()
	d := e.UserDir(t)
	os.Chmod(d, 0o700)
	return d
}

// running is a sandbox started in the background.
type running struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan string
	out   bytes.Buffer // everything read from stdout so far (guarded by mu)
	errb  bytes.Buffer
	mu    sync.Mutex
	done  chan harness.Result
	res   *harness.Result
}

// start runs airlock args... in the background with extra environment
// variables and extra files (fds 3, 4, ...).
func start(t *testing.T, e *harness.Env, env []string, extra []*os.File, args ...string) *running {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	cmd := e.Airlock(ctx, args...)
	cmd.Env = append(cmd.Env, env...)
	cmd.ExtraFiles = extra
	r := &running{cmd: cmd, lines: make(chan string, 100), done: make(chan harness.Result, 1)}
	var err error
	if r.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	outR, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = &syncWriter{mu: &r.mu, b: &r.errb}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(outR)
		for sc.Scan() {
			r.mu.Lock()
			r.out.WriteString(sc.Text() + "\n")
			r.mu.Unlock()
			select {
			case r.lines <- sc.Text():
			default:
			}
		}
		close(r.lines)
		err := cmd.Wait()
		cancel()
		res := harness.Result{Code: cmd.ProcessState.ExitCode()}
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			res.Code = 128 + int(ws.Signal())
		}
		if err != nil && cmd.ProcessState == nil {
			res.Code = -1
		}
		r.mu.Lock()
		res.Stdout, res.Stderr = r.out.String(), r.errb.String()
		r.mu.Unlock()
		r.done <- res
	}()
	t.Cleanup(func() {
		if r.res == nil {
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-r.done
		}
	})
	return r
}

type syncWriter struct {
	mu *sync.Mutex
	b  *bytes.Buffer
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

// waitLine waits until the application prints want on a line of its own.
func (r *running) waitLine(t *testing.T, want string) {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case l, ok := <-r.lines:
			if !ok {
				res := r.wait(t)
				t.Fatalf("sandbox ended before printing %q: %v", want, res)
			}
			if l == want {
				return
			}
		case <-timeout:
			r.mu.Lock()
			defer r.mu.Unlock()
			t.Fatalf("no line %q within 30s; stdout so far:\n%s\nstderr:\n%s", want, r.out.String(), r.errb.String())
		}
	}
}

// wait returns the sandbox's result (it must end within a minute).
func (r *running) wait(t *testing.T) harness.Result {
	t.Helper()
	if r.res != nil {
		return *r.res
	}
	select {
	case res := <-r.done:
		r.res = &res
		return res
	case <-time.After(60 * time.Second):
		t.Fatal("sandbox did not end within a minute")
	}
	return harness.Result{}
}

// record is the launcher's state file, read directly (not through airlock
// ps, which removes stale ones).
type record struct {
	ID, Name, Profile string
	Pid               int
	Launcher          int // the airlock run process
}

func records(t *testing.T, runtimeDir string) []record {
	t.Helper()
	d := filepath.Join(runtimeDir, "airlock", "sandboxes")
	ents, _ := os.ReadDir(d)
	var out []record
	for _, en := range ents {
		b, err := os.ReadFile(filepath.Join(d, en.Name()))
		if err != nil {
			continue
		}
		var r record
		if json.Unmarshal(b, &r) == nil {
			out = append(out, r)
		}
	}
	return out
}

// recordOf waits for the record of the sandbox named name.
func recordOf(t *testing.T, runtimeDir, name string) record {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		for _, r := range records(t, runtimeDir) {
			if r.Name == name {
				return r
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no record for sandbox %q", name)
	return record{}
}

// hostMounts is the set of the host's mount points and sources.
func hostMounts(t *testing.T) map[string]bool {
	t.Helper()
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]bool{}
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) > 5 {
			m[f[3]+" "+f[4]] = true
		}
	}
	return m
}

// assertGone checks that nothing of the sandbox named name (whose processes
// carry marker on their command line) is left: processes, record, host
// mounts, run-ID folder.
func assertGone(t *testing.T, e *harness.Env, runtimeDir, name, id, marker string, before map[string]bool) {
	t.Helper()
	// Processes die with the pid namespace: the kernel may take a moment
	// to reap them after init exits; poll with a generous limit.
	deadline := time.Now().Add(15 * time.Second)
	for len(e.ProcessesOf(marker)) > 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if p := e.ProcessesOf(marker); len(p) > 0 {
		t.Errorf("processes of sandbox %s survive: %v", name, p)
	}
	for _, r := range records(t, runtimeDir) {
		if r.Name == name {
			t.Errorf("record of sandbox %s left in %s", name, runtimeDir)
		}
	}
	if before != nil {
		for m := range hostMounts(t) {
			// Brokers of tests running in parallel mount their document
			// stores; a sandbox itself never mounts anything on the host.
			if strings.Contains(m, "/airlock/doc-") {
				continue
			}
			if !before[m] {
				t.Errorf("new host mount after the sandbox ended: %s", m)
			}
		}
	}
	if id != "" {
		if _, err := os.Stat(filepath.Join(runtimeDir, "airlock", "run-"+id)); !os.IsNotExist(err) {
			t.Errorf("run-%s folder left behind (stat: %v)", id, err)
		}
	}
}

// profileErr checks a refused profile's message: FILE:LINE: key "KEY".
func profileErr(t *testing.T, r harness.Result, file string, line int, key string) {
	t.Helper()
	want := fmt.Sprintf("%s:%d: key %q", file, line, key)
	if r.Code != 2 || !strings.Contains(r.Stderr, want) {
		t.Errorf("want exit 2 and %q in the message, got %v", want, r)
	}
}

var idRE = regexp.MustCompile(`^[0-9a-f]{12}$`)
