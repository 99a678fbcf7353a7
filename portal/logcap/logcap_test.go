package logcap

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestLimiterDropsAndReports(t *testing.T) {
	var buf bytes.Buffer
	clk := &clock{t: time.Unix(1000, 0)}
	lim := NewLimiter(slog.NewTextHandler(&buf, nil), LimiterOptions{PerSecond: 10, Burst: 5, Now: clk.now})
	log := slog.New(lim)
	flooder := log.With("sandbox", "a", Key, "sb-a")
	other := log.With("sandbox", "b", Key, "sb-b")
	for i := 0; i < 1000; i++ {
		flooder.Warn("refused call", "i", i)
	}
	// Another sandbox's budget is its own.
	other.Info("quiet sandbox line")
	// A line naming its sandbox in the record, not through With.
	log.Info("registered", Key, "sb-c")
	out := buf.String()
	if n := strings.Count(out, "refused call"); n != 5 {
		t.Fatalf("%d lines of the flooding sandbox let through, want its burst of 5:\n%s", n, out)
	}
	if !strings.Contains(out, "quiet sandbox line") || !strings.Contains(out, "registered") {
		t.Fatalf("other sandboxes' lines were dropped:\n%s", out)
	}
	if strings.Contains(out, "dropped") {
		t.Fatalf("drops reported before the sandbox was under budget again:\n%s", out)
	}
	// Later the flooder has a budget again: its next line is preceded by
	// the count of what was dropped.
	clk.advance(6 * time.Second)
	buf.Reset()
	flooder.Warn("refused call", "i", 1000)
	out = buf.String()
	if !strings.Contains(out, "dropped=995") || !strings.Contains(out, "sandbox_id=sb-a") {
		t.Fatalf("no report of 995 dropped lines for sb-a:\n%s", out)
	}
	if strings.Index(out, "dropped=995") > strings.Index(out, "i=1000") {
		t.Fatalf("the report does not come before the line:\n%s", out)
	}
	// A sandbox that stays over budget gets one report per period, not
	// one per line let through.
	buf.Reset()
	for i := 0; i < 40; i++ { // 4 s at 10 lines per 100 ms: 5 pass each time
		for j := 0; j < 10; j++ {
			flooder.Warn("steady flood")
		}
		clk.advance(100 * time.Millisecond)
	}
	out = buf.String()
	if n := strings.Count(out, "dropped="); n != 0 {
		t.Fatalf("%d reports within 4 s of the last one:\n%s", n, out)
	}
	clk.advance(time.Second)
	flooder.Warn("steady flood")
	if n := strings.Count(buf.String(), "dropped="); n != 1 {
		t.Fatalf("%d reports after 5 s, want 1:\n%s", n, buf.String())
	}
	// A sandbox that goes quiet after dropping gets its report from Flush.
	buf.Reset()
	for i := 0; i < 100; i++ {
		flooder.Warn("again")
	}
	lim.Flush()
	if out := buf.String(); !strings.Contains(out, "dropped=") {
		t.Fatalf("Flush did not report pending drops:\n%s", out)
	}
	buf.Reset()
	lim.Flush()
	if buf.Len() != 0 {
		t.Fatalf("a second Flush reported again: %s", buf.String())
	}
	// Quiet sandboxes are forgotten.
	clk.advance(time.Minute)
	lim.Flush()
	if n := len(lim.st.buckets); n != 0 {
		t.Fatalf("%d buckets kept for sandboxes silent for a minute", n)
	}
}

func TestRotationCapsTheFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "portal.log")
	const max = 64 << 10
	r, err := OpenRotating(path, max, false)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	log := slog.New(slog.NewTextHandler(r, nil))
	for i := 0; i < 20000; i++ { // about 2 MiB of lines
		log.Info("a line of the flood", "i", i, "pad", strings.Repeat("x", 40))
	}
	if _, err := r.Write(bytes.Repeat([]byte("y"), 3*max)); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
		st, _ := os.Stat(filepath.Join(dir, e.Name()))
		if st.Size() > max {
			t.Errorf("%s is %d bytes, over the cap of %d", e.Name(), st.Size(), max)
		}
	}
	if fmt.Sprint(names) != "[portal.log portal.log.1]" {
		t.Fatalf("files %v, want portal.log and portal.log.1", names)
	}
	// The newest lines are in the current file, the ones before in .1.
	r.Write([]byte("last line\n"))
	b, _ := os.ReadFile(path)
	if !strings.HasSuffix(string(b), "last line\n") {
		t.Fatalf("portal.log does not end with the last line")
	}
	b, _ = os.ReadFile(path + ".1")
	if !strings.HasPrefix(string(b), "yyyy") {
		t.Fatalf("portal.log.1 does not hold the previous chunk")
	}
}
