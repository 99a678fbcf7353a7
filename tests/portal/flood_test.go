package portal_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"airlock/tests/harness"
)

// floodbench builds the flooder of tests/bench/flood.sh once per test binary.
func floodbench(t *testing.T) string {
	t.Helper()
	e := harness.Get(t)
	return e.Tool(t, "./tests/bench/floodbench")
}

// TestBudgetedFloods has one sandbox flood the broker in the four ways of
// issue 8 at once (1 MiB messages of a(yy) and of av, broadcast signals
// against 1000 match rules, calls refused and logged), and, once every
// flood is known to be under way, another sandbox make its calls: they are
// all answered, while the floods still run. Nothing is timed. Then the
// broker is the same process, holds a bounded amount of memory (it grew to
// 2.37 GB under the first flood alone before the budget), and its log is
// capped and says how many lines it dropped.
func TestBudgetedFloods(t *testing.T) {
	t.Parallel()
	s := newSession(t)
	p := probe(t)
	fb := floodbench(t)
	if r := s.sh(t, []string{"--ro", p}, `"$1" check`, p); r.Code != 0 {
		t.Fatalf("warm-up sandbox: %v", r)
	}
	pid := s.broker(t)
	dir := s.e.UserDir(t)
	modes := []string{"struct", "variant", "broadcast", "log"}
	flood := s.sandbox(t, "run", "--name", "flooder", "--ro", fb, "--rw", dir, "--", "/bin/sh", "-c", `
for m in struct variant broadcast log; do
	"$1" flood -mode $m -conns 2 -rules 1000 -max 4m -mark "$2/under-way-$m" &
done
wait`, "sh", fb, dir)
	waitFor(t, 120*time.Second, "every flood to be under way", func() bool {
		for _, m := range modes {
			if _, err := os.Stat(filepath.Join(dir, "under-way-"+m)); err != nil {
				return flood.exited()
			}
		}
		return true
	})
	if flood.exited() {
		t.Fatalf("the flooder ended early: %v", flood.res)
	}
	victim := s.sh(t, []string{"--name", "victim", "--ro", p}, `
i=0; while [ $i -lt 20 ]; do "$1" check || exit 1; i=$((i+1)); done
"$1" calls 200
gdbus call --session -d org.freedesktop.portal.Desktop -o /org/freedesktop/portal/desktop -m org.freedesktop.portal.Settings.ReadOne org.freedesktop.appearance color-scheme
`, p)
	stillFlooding := !flood.exited()
	rss := vmRSS(pid)
	lines := strings.Split(victim.Stdout, "\n")
	if victim.Code != 0 || len(lines) != 23 || lines[20] != "ok=200 failed=0 first_error=<nil>" || !strings.HasPrefix(lines[21], "(<uint32 ") {
		t.Errorf("the other sandbox's calls during the floods: %v", victim)
	}
	if !stillFlooding {
		t.Fatalf("the floods ended before the other sandbox finished: the test proved nothing: %v", flood.res)
	}
	if !alive(pid) || s.broker(t) != pid {
		t.Fatalf("broker pid %d is gone or replaced (now %v)\n%s", pid, s.brokers(), tail(s.portalLog(), 40))
	}
	// Generous: the budget keeps it near 40 MB on the benchmark.
	if rss > 200<<10 {
		t.Errorf("the broker holds %d kB under the floods", rss)
	}
	log := filepath.Join(s.runtime, "airlock", "portal.log")
	for _, f := range []string{log, log + ".1"} {
		if st, err := os.Stat(f); err == nil && st.Size() > 4<<20 {
			t.Errorf("%s is %d bytes, over its cap of 4 MiB", f, st.Size())
		}
	}
	all := s.portalLog()
	if b, err := os.ReadFile(log + ".1"); err == nil {
		all = string(b) + all
	}
	for _, want := range []string{"log lines dropped", "decoding the message would allocate too much"} {
		if !strings.Contains(all, want) {
			t.Errorf("the broker's log does not say %q:\n%s", want, tail(all, 40))
		}
	}
	t.Logf("broker VmRSS under the floods: %d kB", rss)
}

// vmRSS returns a process's resident memory in kB (0 if unknown).
func vmRSS(pid int) int {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			return n
		}
	}
	return 0
}

func tail(s string, n int) string {
	l := strings.Split(s, "\n")
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, "\n")
}
