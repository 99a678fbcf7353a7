package portal_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestBadInputFromInside writes what no D-Bus client would to the
// sandbox's bus socket: random bytes instead of the handshake, a malformed
// frame after a proper Hello, a call declaring a 200 MiB body, and a SASL
// EXTERNAL claim of another uid. Each connection is refused on its own; a
// second client of the same sandbox and a client of another sandbox still
// get answers, and the broker is the same process throughout.
func TestBadInputFromInside(t *testing.T) {
	t.Parallel()
	s := newSession(t)
	p := probe(t)
	if r := s.sh(t, []string{"--ro", p}, `"$1" check`, p); r.Code != 0 || r.Stdout != "version=2\n" {
		t.Fatalf("warm-up sandbox: %v", r)
	}
	pid := s.broker(t)

	r := s.sh(t, []string{"--name", "hostile", "--ro", p}, `
echo "== garbage"; "$1" garbage 2>&1
echo "== printf"; printf 'GET / HTTP/1.1\r\nHost: bus\r\n\r\n\377\376\375' | "$1" pipe 2>&1
echo "== badframe"; "$1" badframe 2>&1
echo "== oversize"; "$1" oversize 2>&1
echo "== baduid"; "$1" baduid 2>&1
echo "== second"; "$1" check 2>&1
echo "== gdbus"; gdbus call --session -d org.freedesktop.portal.Desktop -o /org/freedesktop/portal/desktop -m org.freedesktop.DBus.Properties.Get org.freedesktop.portal.Settings version 2>&1
true
`, p)
	if r.Code != 0 {
		t.Fatalf("hostile sandbox: %v", r)
	}
	sec := sections(r.Stdout)
	for name, want := range map[string]string{
		"garbage":  "closed after garbage handshake, reply=\"\"\n",
		"printf":   "closed after piped bytes, reply=\"\"\n",
		"badframe": "closed after malformed frame\n",
		"oversize": "closed after oversize message, replies=0\n",
		"baduid":   "closed after uid claim " + strconv.Itoa(s.e.UID+1) + ", reply=\"REJECTED EXTERNAL\\r\\n\"\n",
		"second":   "version=2\n",
		"gdbus":    "(<uint32 2>,)\n",
	} {
		if sec[name] != want {
			t.Errorf("%s: got %q, want %q", name, sec[name], want)
		}
	}
	other := s.sh(t, []string{"--name", "bystander", "--ro", p}, `"$1" check`, p)
	if other.Code != 0 || other.Stdout != "version=2\n" {
		t.Errorf("another sandbox after the bad input: %v", other)
	}
	if !alive(pid) || s.broker(t) != pid {
		t.Errorf("broker pid %d is gone or replaced (now %v): the bad input crashed it\n%s", pid, s.brokers(), s.portalLog())
	}
	log := s.portalLog()
	for _, want := range []string{
		`first byte is 0xff, not NUL`,
		`exceeds limit of 1048576`,
		`claimed uid ` + strconv.Itoa(s.e.UID+1) + ` is not peer uid ` + strconv.Itoa(s.e.UID),
	} {
		if !strings.Contains(log, want) {
			t.Errorf("the broker's log does not record %q:\n%s", want, log)
		}
	}
}

// TestConcurrentLoad runs 10 sandboxes at once, each firing 100 concurrent
// Settings.ReadOne calls from a static godbus client: all 1000 are answered.
func TestConcurrentLoad(t *testing.T) {
	t.Parallel()
	s := newSession(t)
	p := probe(t)
	// Start the broker first: this test is about load, not about ten
	// launchers racing to start it.
	if r := s.sh(t, []string{"--ro", p}, `"$1" check`, p); r.Code != 0 {
		t.Fatalf("warm-up sandbox: %v", r)
	}
	pid := s.broker(t)
	const sandboxes, perSandbox = 10, 100
	var wg sync.WaitGroup
	results := make([]string, sandboxes)
	fails := make([]string, sandboxes)
	for i := 0; i < sandboxes; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := s.run(t, "run", "--name", "load-"+strconv.Itoa(i), "--ro", p, "--", p, "calls", strconv.Itoa(perSandbox))
			results[i] = r.Stdout
			if r.Code != 0 {
				fails[i] = r.String()
			}
		}()
	}
	wg.Wait()
	re := regexp.MustCompile(`^ok=(\d+) failed=(\d+) first_error=(.*)\n$`)
	total := 0
	for i, out := range results {
		if fails[i] != "" {
			t.Errorf("sandbox %d: %s", i, fails[i])
			continue
		}
		m := re.FindStringSubmatch(out)
		if m == nil {
			t.Errorf("sandbox %d: unexpected output %q", i, out)
			continue
		}
		n, _ := strconv.Atoi(m[1])
		if n != perSandbox {
			t.Errorf("sandbox %d: %s", i, strings.TrimSpace(out))
		}
		total += n
	}
	if total != sandboxes*perSandbox {
		t.Errorf("%d of %d concurrent calls answered", total, sandboxes*perSandbox)
	}
	if s.broker(t) != pid {
		t.Errorf("the broker changed under load")
	}
}

// TestFloodDoesNotStarveOthers floods the broker from one sandbox (32
// goroutines calling as fast as they are answered) and, while the flood is
// known to be running, has another sandbox make its calls: they complete.
// Nothing here is timed: the flood stops only after the other sandbox is
// done, so the two overlap by construction; it also goes on until it has
// made 50000 calls (a few seconds at the rates seen here).
func TestFloodDoesNotStarveOthers(t *testing.T) {
	t.Parallel()
	s := newSession(t)
	p := probe(t)
	dir := s.e.UserDir(t)
	// The folder's path inside is only known to the sandbox: an argument
	// equal to the host path is replaced, a longer one is not.
	flood := s.sandbox(t, "run", "--name", "flooder", "--ro", p, "--rw", dir, "--", "/bin/sh", "-c", `exec "$1" flood "$2/flooding" "$2/stop" 50000`, "sh", p, dir)
	waitFor(t, 60*time.Second, "the flood to reach 2000 calls", func() bool {
		_, err := os.Stat(filepath.Join(dir, "flooding"))
		return err == nil || flood.exited()
	})
	if flood.exited() {
		t.Fatalf("flooder ended early: %v", flood.res)
	}
	victim := s.sh(t, []string{"--name", "victim", "--ro", p}, `
i=0; while [ $i -lt 20 ]; do "$1" check || exit 1; i=$((i+1)); done
"$1" calls 200
gdbus call --session -d org.freedesktop.portal.Desktop -o /org/freedesktop/portal/desktop -m org.freedesktop.portal.Settings.ReadOne org.freedesktop.appearance color-scheme
`, p)
	stillFlooding := !flood.exited()
	os.WriteFile(filepath.Join(dir, "stop"), nil, 0o644)
	fr := flood.wait(t, 60*time.Second)
	if !stillFlooding {
		t.Fatalf("the flood ended before the other sandbox finished: the test proved nothing: %v", fr)
	}
	lines := strings.Split(victim.Stdout, "\n")
	if victim.Code != 0 || len(lines) != 23 || lines[20] != "ok=200 failed=0 first_error=<nil>" || !strings.HasPrefix(lines[21], "(<uint32 ") {
		t.Errorf("the other sandbox's calls during the flood: %v", victim)
	}
	m := regexp.MustCompile(`^calls=(\d+) failed=(\d+)\n$`).FindStringSubmatch(fr.Stdout)
	if fr.Code != 0 || m == nil {
		t.Fatalf("flooder: %v", fr)
	}
	if n, _ := strconv.Atoi(m[1]); n < 50000 || m[2] != "0" {
		t.Errorf("flooder: %s calls, %s failed: want at least 50000, all answered", m[1], m[2])
	}
	t.Logf("flooder: %s", strings.TrimSpace(fr.Stdout))
}
