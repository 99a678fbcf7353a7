package cli

import (
	"strings"
	"testing"
	"time"
)

const sampleLog = `time=2026-11-30T21:00:00.000Z level=INFO msg="sandbox registered" sandbox=ed sandbox_id=aa11bb22cc33 profile=text-editor
time=2026-11-30T21:00:01.000Z level=INFO msg=granted sandbox_id=aa11bb22cc33 host_path="/home/u/My File.txt" doc=d1 writable=true dir=false by=user
time=2026-11-30T21:00:02.000Z level=WARN msg="refused call" sandbox=ed sandbox_id=aa11bb22cc33 conn=:1.3 member="Evil\x1b[2J" reason=denied
panic: a trace line that is not logfmt
time=2026-11-30T21:00:03.000Z level=INFO msg="clipboard crossed" source=ed source_id=aa11bb22cc33 destination=web destination_id=ff00 type=text size=12
time=2026-11-30T21:00:04.000Z level=INFO msg=revoked sandbox=ed sandbox_id=aa11bb22cc33 doc=d1 host_path="/home/u/My File.txt" native=false
time=2026-11-30T21:00:05.000Z level=INFO msg="sandbox bus attached" sandbox=ed sandbox_id=aa11bb22cc33
time=2026-11-30T21:00:06.000Z level=INFO msg="sandbox registered" sandbox=web sandbox_id=ff00 profile=default
`

func TestParseLog(t *testing.T) {
	evs := parseLog(strings.NewReader(sampleLog))
	var kinds []string
	for _, e := range evs {
		kinds = append(kinds, e.kind)
	}
	if got, want := strings.Join(kinds, ","), "start,grant,refused,clipboard,revoke,start"; got != want {
		t.Fatalf("kinds %s, want %s", got, want)
	}
	g := evs[1]
	if g.sandbox() != "ed (aa11bb22cc33)" {
		t.Errorf("grant's sandbox %q: the name comes from its registration", g.sandbox())
	}
	if d := g.details(); !strings.Contains(d, `host_path="/home/u/My File.txt"`) || !strings.Contains(d, "writable=true") {
		t.Errorf("grant details %q", d)
	}
	if d := evs[2].details(); strings.ContainsRune(d, 0x1b) || !strings.Contains(d, `\x1b[2J`) {
		t.Errorf("a sandbox's member name reaches the terminal raw: %q", d)
	}
	for key, want := range map[string]int{"ed": 5, "aa11": 5, "web": 2, "ff00": 2, "nobody": 0} {
		n := 0
		for _, e := range evs {
			if e.about(key) {
				n++
			}
		}
		if n != want {
			t.Errorf("--sandbox %s: %d events, want %d", key, n, want)
		}
	}
}

func TestParseSince(t *testing.T) {
	now := time.Date(2026, 11, 30, 21, 30, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"10m":                  now.Add(-10 * time.Minute),
		"21:05":                time.Date(2026, 11, 30, 21, 5, 0, 0, time.UTC),
		"2026-11-29 08:00":     time.Date(2026, 11, 29, 8, 0, 0, 0, time.UTC),
		"2026-11-29T08:00:00Z": time.Date(2026, 11, 29, 8, 0, 0, 0, time.UTC),
	} {
		got, err := parseSince(in, now)
		if err != nil || !got.Equal(want) {
			t.Errorf("parseSince(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := parseSince("yesterday-ish", now); err == nil {
		t.Error("parseSince accepted nonsense")
	}
}
