package launcher_test

import (
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"airlock/tests/harness"
)

// --profile takes a name (searched in the shipped folder) or a file.
func TestRunProfileNameAndFile(t *testing.T) {
	t.Parallel()
	e := harness.Get(t)
	// By name: the shipped default profile, whose hostname is the default.
	r := e.Run(t, "run", "--profile", "default", "--", "/bin/hostname")
	if r.Code != 0 || strings.TrimSpace(r.Stdout) != "localhost" {
		t.Errorf("--profile default: %v", r)
	}
	// By file: its hostname shows inside.
	p := writeProfile(t, e, "byfile", `hostname = "fromfile"`+"\n")
	r = e.Run(t, "run", "--profile", p, "--", "/bin/hostname")
	if r.Code != 0 || strings.TrimSpace(r.Stdout) != "fromfile" {
		t.Errorf("--profile FILE: %v", r)
	}
	r = e.Run(t, "run", "--profile", "no-such-profile", "--", "/bin/true")
	if r.Code != 2 || !strings.Contains(r.Stderr, `no profile named "no-such-profile"`) {
		t.Errorf("unknown profile: %v", r)
	}
}

func TestRunNameShowsInPs(t *testing.T) {
	t.Parallel()
	e := harness.Get(t)
	name := uniq("named")
	sb := start(t, e, nil, nil, "run", "--name", name, "--", "/bin/sh", "-c", "echo ready; read x || true")
	sb.waitLine(t, "ready")
	ps := e.Run(t, "ps")
	var line string
	for _, l := range strings.Split(ps.Stdout, "\n") {
		if f := strings.Fields(l); len(f) > 1 && f[1] == name {
			line = l
		}
	}
	if ps.Code != 0 || line == "" {
		t.Fatalf("airlock ps does not list %s: %v", name, ps)
	}
	f := strings.Fields(line)
	// ID NAME PROFILE PID UPTIME PORTAL COMMAND... (no session bus here:
	// the PORTAL column says "-")
	if len(f) < 7 || !idRE.MatchString(f[0]) || f[2] != "default" || f[5] != "-" || f[6] != "/bin/sh" {
		t.Errorf("ps line %q: want ID NAME default PID UPTIME - /bin/sh ...", line)
	}
	if n, err := fmt.Sscanf(f[3], "%d", new(int)); err != nil || n != 1 {
		t.Errorf("ps line %q: PID is not a number", line)
	} else if _, err := os.Stat("/proc/" + f[3]); err != nil {
		t.Errorf("ps PID %s is not a running process: %v", f[3], err)
	}
	if !strings.HasSuffix(f[4], "s") {
		t.Errorf("ps line %q: UPTIME %q is not a duration", line, f[4])
	}
	sb.stdin.Close()
	if r := sb.wait(t); r.Code != 0 {
		t.Errorf("sandbox: %v", r)
	}
}

func TestNetNone(t *testing.T) {
	t.Parallel()
	e := harness.Get(t)
	nt := nettool(t, e)
	addr, _ := banner(t, "HOST-LISTENER")
	for _, flags := range [][]string{{"--net", "none"}, nil} { // none is also the default
		args := append([]string{"run", "--ro", nt}, flags...)
		r := e.Run(t, append(args, withTool(nt, "$NT ifaces; $NT tcp "+addr)...)...)
		if r.Code != 3 || !strings.Contains(r.Stdout, "FAIL") || strings.Contains(r.Stdout, "HOST-LISTENER") {
			t.Errorf("%v: host listener %s reachable or probe broken: %v", flags, addr, r)
		}
		if ifs := strings.Fields(strings.Split(r.Stdout, "FAIL")[0]); len(ifs) != 1 || ifs[0] != "lo" {
			t.Errorf("%v: interfaces inside %v, want only lo", flags, ifs)
		}
	}
}

func TestNetHost(t *testing.T) {
	t.Parallel()
	e := harness.Get(t)
	nt := nettool(t, e)
	addr, _ := banner(t, "HOST-LISTENER")
	r := e.Run(t, "run", "--ro", nt, "--net", "host", "--", nt, "tcp", addr)
	if r.Code != 0 || strings.TrimSpace(r.Stdout) != "OK HOST-LISTENER" {
		t.Errorf("--net host: host listener %s not reachable: %v", addr, r)
	}
}

func TestNetTor(t *testing.T) {
	t.Parallel()
	e := harness.Get(t)
	nt := nettool(t, e)
	addr, _ := banner(t, "FAKE-SOCKS")
	script := "$NT tcp 127.0.0.1:9050; $NT tcp " + addr + "; $NT ifaces"
	check := func(what string, r harness.Result) {
		t.Helper()
		lines := strings.Split(strings.TrimSpace(r.Stdout), "\n")
		if len(lines) != 3 || lines[0] != "OK FAKE-SOCKS" || !strings.HasPrefix(lines[1], "FAIL") || lines[2] != "lo" {
			t.Errorf("%s: want the SOCKS banner through 9050, the listener's own port refused, only lo; got %v", what, r)
		}
	}
	// Both keys in the profile.
	p := writeProfile(t, e, "tor", fmt.Sprintf("net = \"tor\"\ntor_socks = %q\n", addr))
	check("profile net = tor", e.Run(t, cat([]string{"run", "--profile", p, "--ro", nt}, withTool(nt, script))...))
	// The flag turns it on for a profile that only names the SOCKS port.
	p2 := writeProfile(t, e, "torsocks", fmt.Sprintf("tor_socks = %q\n", addr))
	check("--net tor", e.Run(t, cat([]string{"run", "--profile", p2, "--net", "tor", "--ro", nt}, withTool(nt, script))...))
	// Without tor, 9050 is nothing.
	r := e.Run(t, "run", "--profile", p2, "--ro", nt, "--", nt, "tcp", "127.0.0.1:9050")
	if r.Code != 3 {
		t.Errorf("net none: 127.0.0.1:9050 reachable: %v", r)
	}
}

// TestNetTorFlood opens thousands of connections to the Tor forwarder from
// inside (issue 8: 3,376 of them exhausted the launcher's descriptors, after
// which it refused every connection): the launcher carries at most 256 at
// once and closes the others at once, its descriptors stay bounded, and
// once the flood is closed a normal connection goes through again.
func TestNetTorFlood(t *testing.T) {
	t.Parallel()
	e := harness.Get(t)
	nt := nettool(t, e)
	rt := privateRuntime(t, e)
	socks := holdListener(t)
	const flood, limit = 3000, 256
	name := uniq("torflood")
	p := writeProfile(t, e, "torflood", fmt.Sprintf("net = \"tor\"\ntor_socks = %q\n", socks.addr))
	script := fmt.Sprintf(`$NT flood 127.0.0.1:9050 %d
i=0
until $NT tcp 127.0.0.1:9050 | grep -q '^OK FAKE-SOCKS'; do
	i=$((i+1)); [ $i -ge 200 ] && break; sleep 0.1
done
$NT tcp 127.0.0.1:9050`, flood)
	sb := start(t, e, []string{"XDG_RUNTIME_DIR=" + rt}, nil, cat([]string{"run", "--profile", p, "--name", name, "--ro", nt}, withTool(nt, script))...)
	sb.waitLine(t, "held")
	rec := recordOf(t, rt, name)
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", rec.Launcher))
	if err != nil {
		t.Fatalf("launcher's descriptors: %v", err)
	}
	// Two per forwarded connection, and the launcher's own.
	if len(fds) > 2*limit+128 {
		t.Errorf("the launcher holds %d descriptors with %d connections open inside", len(fds), flood)
	}
	if m := socks.maxOpen(); m > limit || m == 0 {
		t.Errorf("%d connections forwarded to Tor at once, want 1 to %d", m, limit)
	}
	sb.stdin.Write([]byte("\n"))
	sb.stdin.Close()
	r := sb.wait(t)
	lines := strings.Split(strings.TrimSpace(r.Stdout), "\n")
	var served, closed, failed, unreached int
	if len(lines) > 0 {
		fmt.Sscanf(lines[0], "SERVED %d CLOSED %d FAILED %d UNREACHED %d", &served, &closed, &failed, &unreached)
	}
	// Over the limit a connection is closed at once, never left waiting
	// (FAILED counts those that neither got a greeting nor were closed
	// within 5 s); one the kernel refused because the listener's backlog
	// overflowed (a busy machine) never reached the forwarder at all.
	if served == 0 || served > limit || failed != 0 || served+closed+unreached != flood {
		t.Errorf("flood: want at most %d served and the rest closed at once: %v", limit, r)
	}
	if r.Code != 0 || lines[len(lines)-1] != "OK FAKE-SOCKS" {
		t.Errorf("after the flood, a normal connection does not reach Tor: %v", r)
	}
}

// held is a fake SOCKS port that greets each client with a line and keeps
// the connection open until the client closes it, counting how many are
// open at once.
type held struct {
	addr string
	mu   sync.Mutex
	open int
	max  int
}

func (h *held) maxOpen() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.max
}

func holdListener(t *testing.T) *held {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	h := &held{addr: l.Addr().String()}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			h.mu.Lock()
			h.open++
			h.max = max(h.max, h.open)
			h.mu.Unlock()
			go func() {
				c.Write([]byte("FAKE-SOCKS\n"))
				io.Copy(io.Discard, c)
				c.Close()
				h.mu.Lock()
				h.open--
				h.mu.Unlock()
			}()
		}
	}()
	return h
}

func TestBadFlagValues(t *testing.T) {
	t.Parallel()
	e := harness.Get(t)
	for _, f := range [][]string{{"--net", "lan"}, {"--sound", "playback-all"}, {"--display", "vnc"}} {
		marker := uniq("badflag")
		r := e.Run(t, "run", f[0], f[1], "--", "/bin/echo", marker)
		if r.Code != 2 || strings.Contains(r.Stdout, marker) || !strings.Contains(r.Stderr, f[0]+": \""+f[1]+"\" is not one of") {
			t.Errorf("%v: want exit 2 before anything runs: %v", f, r)
		}
	}
}

func TestSound(t *testing.T) {
	t.Parallel()
	e := harness.Get(t)
	nt := nettool(t, e)
	rt := privateRuntime(t, e)
	pulse := filepath.Join(rt, "pulse")
	os.Mkdir(pulse, 0o700)
	os.Chown(pulse, e.UID, e.GID)
	unixBanner(t, e, filepath.Join(pulse, "native"), "FAKE-PULSE")
	inside := runtimeIn(e) + "/pulse/native"
	script := `echo "PULSE=${PULSE_SERVER-unset}"; $NT unix ` + inside
	r := runEnv(t, e, []string{"XDG_RUNTIME_DIR=" + rt}, cat([]string{"run", "--sound", "full", "--ro", nt}, withTool(nt, script))...)
	want := "PULSE=unix:" + inside + "\nOK FAKE-PULSE\n"
	if r.Code != 0 || r.Stdout != want {
		t.Errorf("--sound full: want %q, got %v", want, r)
	}
	for _, f := range [][]string{{"--sound", "none"}, nil} {
		args := append([]string{"run", "--ro", nt}, f...)
		r = runEnv(t, e, []string{"XDG_RUNTIME_DIR=" + rt}, append(args, withTool(nt, script+"; test -e "+inside+" && echo PRESENT")...)...)
		if !strings.HasPrefix(r.Stdout, "PULSE=unset\nFAIL") || strings.Contains(r.Stdout, "PRESENT") {
			t.Errorf("%v: the sound socket is there: %v", f, r)
		}
	}
	// The profile key does the same as the flag.
	p := writeProfile(t, e, "sound", "sound = \"full\"\n")
	r = runEnv(t, e, []string{"XDG_RUNTIME_DIR=" + rt}, cat([]string{"run", "--profile", p, "--ro", nt}, withTool(nt, script))...)
	if r.Code != 0 || r.Stdout != want {
		t.Errorf("sound = full: want %q, got %v", want, r)
	}
}

func TestRoFile(t *testing.T) {
	t.Parallel()
	e := harness.Get(t)
	d := e.UserDir(t)
	f := filepath.Join(d, "report.txt")
	e.WriteUserFile(t, f, "original\n", 0o644)
	// The argument equal to the host path is replaced by the inside path.
	script := `echo "ARG=$1"; cat "$1"; if echo changed > "$1"; then echo WROTE; fi; if echo more >> "$1"; then echo APPENDED; fi`
	r := e.Run(t, "run", "--ro", f, "--", "/bin/sh", "-c", script, "sh", f)
	lines := strings.Split(r.Stdout, "\n")
	prefix := "ARG=" + runtimeIn(e) + "/doc/"
	if len(lines) < 2 || !strings.HasPrefix(lines[0], prefix) || !strings.HasSuffix(lines[0], "/report.txt") || lines[1] != "original" {
		t.Errorf("--ro: want the file at %s<id>/report.txt, readable: %v", prefix, r)
	}
	if strings.Contains(r.Stdout, "WROTE") || strings.Contains(r.Stdout, "APPENDED") || !strings.Contains(r.Stderr, "Read-only file system") {
		t.Errorf("--ro: writing was not refused with EROFS: %v", r)
	}
	if b, _ := os.ReadFile(f); string(b) != "original\n" {
		t.Errorf("--ro: host file changed to %q", b)
	}
	// The document's folder holds it alone; nothing else of d is there.
	r = e.Run(t, "run", "--ro", f, "--", "/bin/sh", "-c", `ls -A "$(dirname "$1")"; ls -A `+runtimeIn(e)+`/doc | wc -l`, "sh", f)
	if r.Code != 0 || r.Stdout != "report.txt\n1\n" {
		t.Errorf("--ro: document folder: %v", r)
	}
}

func TestRwFile(t *testing.T) {
	t.Parallel()
	e := harness.Get(t)
	d := e.UserDir(t)
	f := filepath.Join(d, "notes.txt")
	e.WriteUserFile(t, f, "before\n", 0o644)
	r := e.Run(t, "run", "--rw", f, "--", "/bin/sh", "-c", `cat "$1" && echo after > "$1" && echo appended >> "$1"`, "sh", f)
	if r.Code != 0 || r.Stdout != "before\n" {
		t.Errorf("--rw: %v", r)
	}
	if b, _ := os.ReadFile(f); string(b) != "after\nappended\n" {
		t.Errorf("--rw: host file is %q, want the sandbox's write", b)
	}
}

func TestRoFolder(t *testing.T) {
	t.Parallel()
	e := harness.Get(t)
	d := e.UserDir(t)
	shared := filepath.Join(d, "shared")
	for _, p := range []string{shared, filepath.Join(shared, "sub")} {
		os.Mkdir(p, 0o755)
		os.Chown(p, e.UID, e.GID)
	}
	e.WriteUserFile(t, filepath.Join(shared, "sub", "inner.txt"), "inner\n", 0o644)
	e.WriteUserFile(t, filepath.Join(d, "sibling-secret.txt"), "secret\n", 0o644)
	script := `cd "$1" && cat sub/inner.txt && ls -A .. && ls -A ../.. | wc -l && if touch new 2>/dev/null; then echo WROTE; fi; cat ../sibling-secret.txt 2>/dev/null; cat ` + d + `/sibling-secret.txt 2>/dev/null; true`
	r := e.Run(t, "run", "--ro", shared, "--", "/bin/sh", "-c", script, "sh", shared)
	if r.Code != 0 || r.Stdout != "inner\nshared\n1\n" {
		t.Errorf("--ro folder: want its subtree and nothing above, got %v", r)
	}
	if _, err := os.Stat(filepath.Join(shared, "new")); err == nil {
		t.Errorf("--ro folder: a file was created on the host")
	}
}

func TestRunProfileWithFiles(t *testing.T) {
	t.Parallel()
	e := harness.Get(t)
	d := e.UserDir(t)
	f := filepath.Join(d, "letter.txt")
	e.WriteUserFile(t, f, "dear\n", 0o644)
	for _, tc := range []struct {
		grant string
		rw    bool
	}{{"", false}, {"ro", false}, {"rw", true}} {
		text := `command = ["/bin/sh", "-c", "echo \"ARG=$0\"; cat \"$0\"; echo edited$0 >> \"$0\""]` + "\n"
		if tc.grant != "" {
			text += fmt.Sprintf("default_grant = %q\n", tc.grant)
		}
		p := writeProfile(t, e, "viewer", text)
		e.WriteUserFile(t, f, "dear\n", 0o644)
		r := e.Run(t, "run", p, f)
		if !strings.HasPrefix(r.Stdout, "ARG="+runtimeIn(e)+"/doc/") || !strings.Contains(r.Stdout, "/letter.txt\ndear\n") {
			t.Errorf("default_grant %q: the file was not handed in: %v", tc.grant, r)
		}
		b, _ := os.ReadFile(f)
		if changed := string(b) != "dear\n"; changed != tc.rw {
			t.Errorf("default_grant %q: host file %q (written: %v, want %v): %v", tc.grant, b, changed, tc.rw, r)
		}
	}
	// A profile without a command cannot take files.
	p := writeProfile(t, e, "nocmd", "net = \"none\"\n")
	if r := e.Run(t, "run", p, f); r.Code != 2 || !strings.Contains(r.Stderr, "has no command") {
		t.Errorf("profile without command: %v", r)
	}
}
