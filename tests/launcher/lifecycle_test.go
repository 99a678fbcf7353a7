package launcher_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"airlock/tests/harness"
)

func TestExitStatus(t *testing.T) {
	t.Parallel()
	e := harness.Get(t)
	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{"/bin/true"}, 0},
		{[]string{"/bin/false"}, 1},
		{[]string{"/bin/sh", "-c", "exit 42"}, 42},
		{[]string{"/bin/sh", "-c", "kill -KILL $$"}, 128 + 9},
		{[]string{"/bin/sh", "-c", "kill -TERM $$"}, 128 + 15},
		{[]string{"/bin/sh", "-c", "kill -USR1 $$"}, 128 + 10},
		{[]string{"/no/such/command"}, 127},
		{[]string{"no-such-command-anywhere"}, 127},
	} {
		r := e.Run(t, append([]string{"run", "--"}, tc.args...)...)
		if r.Code != tc.code {
			t.Errorf("%v: want exit %d, got %v", tc.args, tc.code, r)
		}
	}
}

func TestSignalForwarding(t *testing.T) {
	t.Parallel()
	e := harness.Get(t)
	for _, tc := range []struct {
		sig  syscall.Signal
		name string
		code int
	}{{syscall.SIGTERM, "TERM", 31}, {syscall.SIGINT, "INT", 32}, {syscall.SIGHUP, "HUP", 33}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			script := `trap 'echo "got ` + tc.name + `"; exit ` + itoa(tc.code) + `' ` + tc.name + `; echo ready; while :; do sleep 0.05; done`
			sb := start(t, e, nil, nil, "run", "--", "/bin/sh", "-c", script)
			sb.waitLine(t, "ready")
			// Only the airlock run process, not its group.
			if err := sb.cmd.Process.Signal(tc.sig); err != nil {
				t.Fatal(err)
			}
			r := sb.wait(t)
			if r.Code != tc.code || !strings.Contains(r.Stdout, "got "+tc.name) {
				t.Errorf("SIG%s not delivered to the application: %v", tc.name, r)
			}
		})
	}
}

func TestRootRefused(t *testing.T) {
	t.Parallel()
	e := harness.Get(t)
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	marker := uniq("root-ran")
	cmd := exec.Command(e.Bin, "run", "--", "/bin/echo", marker)
	cmd.Env = e.UserEnv()
	r := harness.RunCmd(cmd)
	if r.Code != 2 || strings.Contains(r.Stdout, marker) || !strings.Contains(r.Stderr, "refusing to run as root") {
		t.Errorf("airlock run as root: %v", r)
	}
}

func TestPsAndKill(t *testing.T) {
	t.Parallel()
	e := harness.Get(t)
	before := hostMounts(t)
	for _, tc := range []struct {
		how  string
		args func(rec record) []string
		code int
	}{
		{"by id", func(r record) []string { return []string{"kill", r.ID} }, 128 + 15},
		{"by name", func(r record) []string { return []string{"kill", r.Name} }, 128 + 15},
		{"by id prefix", func(r record) []string { return []string{"kill", r.ID[:8]} }, 128 + 15},
		{"signal KILL", func(r record) []string { return []string{"kill", "--signal", "KILL", r.Name} }, 128 + 9},
		{"signal 1", func(r record) []string { return []string{"kill", "--signal", "1", r.Name} }, 128 + 1},
	} {
		t.Run(tc.how, func(t *testing.T) {
			name := uniq("killme")
			// Each sandbox leaves a background child behind (a reparented
			// orphan in the sandbox) that must die with it too.
			marker := "9" + itoa(os.Getpid()%100000) + itoa(len(name)+int(time.Now().UnixNano()%100000))
			sb := start(t, e, nil, nil, "run", "--name", name, "--", "/bin/sh", "-c",
				"/bin/sleep "+marker+" & echo ready; exec /bin/sleep "+marker+"1")
			sb.waitLine(t, "ready")
			rec := recordOf(t, e.RuntimeDir, name)
			if !idRE.MatchString(rec.ID) || rec.Profile != "default" {
				t.Errorf("record: %+v", rec)
			}
			if r := e.Run(t, tc.args(rec)...); r.Code != 0 {
				t.Fatalf("airlock %v: %v", tc.args(rec), r)
			}
			if r := sb.wait(t); r.Code != tc.code {
				t.Errorf("want exit %d after airlock %v, got %v", tc.code, tc.args(rec), r)
			}
			assertGone(t, e, e.RuntimeDir, name, rec.ID, "sleep "+marker, before)
			if r := e.Run(t, "kill", name); r.Code != 1 || !strings.Contains(r.Stderr, "no running sandbox") {
				t.Errorf("kill of an ended sandbox: %v", r)
			}
		})
	}
	if r := e.Run(t, "kill", "--signal", "BOGUS", "x"); r.Code != 2 {
		t.Errorf("kill --signal BOGUS: %v", r)
	}
}

// Nothing is left after a normal end, with a background child still running.
func TestNothingLeftBehind(t *testing.T) {
	t.Parallel()
	e := harness.Get(t)
	rt := privateRuntime(t, e)
	before := hostMounts(t)
	name := uniq("leftover")
	marker := "7" + itoa(int(time.Now().UnixNano()%1000000))
	sb := start(t, e, []string{"XDG_RUNTIME_DIR=" + rt}, nil, "run", "--name", name, "--", "/bin/sh", "-c",
		// The script names sleep through $S, so that only the sleeps
		// themselves have "/bin/sleep MARKER" on their command line.
		"S=/bin/sleep; $S "+marker+" & $S "+marker+" & echo ready; read x; exit 5")
	sb.waitLine(t, "ready")
	rec := recordOf(t, rt, name)
	// The children may not have exec'd sleep yet when ready is printed.
	for deadline := time.Now().Add(15 * time.Second); len(e.ProcessesOf("/bin/sleep "+marker)) != 2 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if n := len(e.ProcessesOf("/bin/sleep " + marker)); n != 2 {
		t.Fatalf("%d background children running, want 2", n)
	}
	// Pid 1 is airlock-reaper (built beside airlock by the harness), which
	// init exec'd once the sandbox was built, not a resident Go init.
	if exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", rec.Pid)); err != nil || filepath.Base(exe) != "airlock-reaper" {
		t.Errorf("the sandbox's pid 1 runs %q (%v), want airlock-reaper", exe, err)
	}
	sb.stdin.Close()
	if r := sb.wait(t); r.Code != 5 {
		t.Errorf("want exit 5, got %v", r)
	}
	assertGone(t, e, rt, name, rec.ID, "sleep "+marker, before)
	// The session's /etc view (launcher/sandbox/etcview.go) stays for the
	// next sandbox; nothing else may.
	if ents, _ := os.ReadDir(rt + "/airlock"); len(ents) != 2 || ents[0].Name() != "etc" || ents[1].Name() != "sandboxes" {
		t.Errorf("left in the runtime folder: %v", ents)
	}
}

// When the airlock run process is SIGKILLed, the sandbox dies too.
func TestDieWithParent(t *testing.T) {
	t.Parallel()
	e := harness.Get(t)
	rt := privateRuntime(t, e)
	name := uniq("orphaned")
	marker := "8" + itoa(int(time.Now().UnixNano()%1000000))
	sb := start(t, e, []string{"XDG_RUNTIME_DIR=" + rt}, nil, "run", "--name", name, "--", "/bin/sh", "-c",
		"/bin/sleep "+marker+" & echo ready; exec /bin/sleep "+marker)
	sb.waitLine(t, "ready")
	rec := recordOf(t, rt, name)
	// Should the sandbox survive (the failure this test looks for), its
	// init holds the launcher's stdout open: end it so the test can end.
	t.Cleanup(func() { syscall.Kill(rec.Pid, syscall.SIGKILL) })
	if err := syscall.Kill(sb.cmd.Process.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for len(e.ProcessesOf("sleep "+marker)) > 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if p := e.ProcessesOf("sleep " + marker); len(p) > 0 {
		t.Errorf("sandbox processes survive the launcher's SIGKILL: %v", p)
		syscall.Kill(rec.Pid, syscall.SIGKILL)
	}
	if r := sb.wait(t); r.Code != 137 {
		t.Errorf("launcher: %v", r)
	}
	// Init may stay a zombie until the host's pid 1 reaps it: check its
	// state, not only that /proc/PID exists.
	for deadline := time.Now().Add(15 * time.Second); alive(rec.Pid) && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	if alive(rec.Pid) {
		t.Errorf("init %d survives", rec.Pid)
	}
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat("/proc/" + itoa(rec.Pid)); err != nil {
			break
		}
	}
	// The stale record is not listed and is cleaned by airlock ps.
	r := runEnv(t, e, []string{"XDG_RUNTIME_DIR=" + rt}, "ps")
	if strings.Contains(r.Stdout, name) {
		t.Errorf("ps lists a dead sandbox: %v", r)
	}
	if len(records(t, rt)) != 0 {
		t.Errorf("stale record kept after ps")
	}
}

// alive reports whether pid exists and is not a zombie.
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || len(s) < i+3 || s[i+2] != 'Z'
}

// Only 0, 1 and 2 reach the application, whatever airlock inherited.
func TestOnlyStdioInherited(t *testing.T) {
	t.Parallel()
	e := harness.Get(t)
	f, err := os.Open("/etc/hostname")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	g, err := os.Open("/")
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := e.Airlock(ctx, "run", "--", "/bin/ls", "/proc/self/fd")
	// fds 3 to 6 in airlock: 3 and 4 are overwritten by the descriptors
	// airlock hands its init, 5 and 6 would leak if init kept them.
	cmd.ExtraFiles = []*os.File{f, g, f, g}
	r := harness.RunCmd(cmd)
	// ls's own directory descriptor is 3.
	if r.Code != 0 || strings.Join(strings.Fields(r.Stdout), " ") != "0 1 2 3" {
		t.Errorf("descriptors inside: want 0 1 2 3 (ls's own), got %v", r)
	}
}
