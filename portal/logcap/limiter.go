// Package logcap bounds what the broker's log can cost: lines per second
// per sandbox (Limiter), and bytes on disk (RotatingFile). The log lives on
// the user's runtime directory, a tmpfs on real desktops, that is RAM: a
// sandbox making refused calls in a loop grew it by 356 MiB in ten
// seconds before these caps.
package logcap

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Key is the attribute that says which sandbox a line is about: every line
// the broker logs on a sandbox's behalf carries it.
const Key = "sandbox_id"

// LimiterOptions sets the budget of lines.
type LimiterOptions struct {
	PerSecond float64 // lines per second per sandbox; default 20
	Burst     int     // default 100
	// Unkeyed is the budget of lines that name no sandbox (the broker's
	// own), per second; default 100, burst 10 times that.
	Unkeyed float64
	// Now is the clock (tests); default time.Now.
	Now func() time.Time
}

// Limiter is an slog.Handler that lets through at most a budget of lines
// per second for each sandbox, drops the rest, and says how many it dropped
// in a line of its own: before the sandbox's next line let through (at most
// once every 5 seconds), or at the next Flush.
type Limiter struct {
	inner slog.Handler
	st    *limitState
	key   string // the sandbox of attributes added with With, or ""
	hasK  bool
}

type limitState struct {
	opts LimiterOptions

	// mu guards the fields below.
	mu      sync.Mutex
	buckets map[string]*lineBucket
}

type lineBucket struct {
	tokens  float64
	last    time.Time
	dropped int
	rate    float64
	burst   float64
	inner   slog.Handler // where to report drops: the handler of the last line dropped
	hasKey  bool         // whether inner carries the sandbox's id already
	// lastReport is when drops were last reported.
	lastReport time.Time
}

// NewLimiter wraps inner.
func NewLimiter(inner slog.Handler, opts LimiterOptions) *Limiter {
	if opts.PerSecond <= 0 {
		opts.PerSecond = 20
	}
	if opts.Burst <= 0 {
		opts.Burst = 100
	}
	if opts.Unkeyed <= 0 {
		opts.Unkeyed = 100
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Limiter{inner: inner, st: &limitState{opts: opts, buckets: map[string]*lineBucket{}}}
}

func (l *Limiter) Enabled(ctx context.Context, level slog.Level) bool {
	return l.inner.Enabled(ctx, level)
}

func (l *Limiter) WithAttrs(attrs []slog.Attr) slog.Handler {
	n := *l
	n.inner = l.inner.WithAttrs(attrs)
	for _, a := range attrs {
		if a.Key == Key {
			n.key, n.hasK = a.Value.String(), true
		}
	}
	return &n
}

func (l *Limiter) WithGroup(name string) slog.Handler {
	n := *l
	n.inner = l.inner.WithGroup(name)
	return &n
}

func (l *Limiter) Handle(ctx context.Context, r slog.Record) error {
	key, has := l.key, l.hasK
	if !has {
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == Key {
				key, has = a.Value.String(), true
				return false
			}
			return true
		})
	}
	bucketKey := "\x00" // the broker's own lines
	if has {
		bucketKey = key
	}
	ok, dropped := l.st.admit(bucketKey, has, l.inner, l.hasK)
	if dropped > 0 {
		l.report(ctx, l.inner, key, has && !l.hasK, dropped, r.Time)
	}
	if !ok {
		return nil
	}
	return l.inner.Handle(ctx, r)
}

// report logs that n lines were dropped, through h; addKey adds the
// sandbox's id when h does not already carry it.
func (l *Limiter) report(ctx context.Context, h slog.Handler, key string, addKey bool, n int, t time.Time) {
	rec := slog.NewRecord(t, slog.LevelWarn, "log lines dropped: over the budget of lines per second", 0)
	rec.AddAttrs(slog.Int("dropped", n))
	if addKey {
		rec.AddAttrs(slog.String(Key, key))
	}
	h.Handle(ctx, rec)
}

// admit takes a token for key. It returns whether the line passes and, if
// it does, how many lines were dropped before it (to be reported first).
func (s *limitState) admit(key string, keyed bool, h slog.Handler, hasKey bool) (bool, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opts.Now()
	b := s.buckets[key]
	if b == nil {
		b = &lineBucket{rate: s.opts.PerSecond, burst: float64(s.opts.Burst), last: now}
		if !keyed {
			b.rate, b.burst = s.opts.Unkeyed, 10*s.opts.Unkeyed
		}
		b.tokens = b.burst
		s.buckets[key] = b
	}
	b.tokens += now.Sub(b.last).Seconds() * b.rate
	b.last = now
	if b.tokens > b.burst {
		b.tokens = b.burst
	}
	if b.tokens < 1 {
		b.dropped++
		b.inner, b.hasKey = h, hasKey
		return false, 0
	}
	b.tokens--
	// Reported at most once every reportEvery, so that a sandbox that
	// stays over budget costs one report line per period, not one per
	// line let through.
	if b.dropped == 0 || now.Sub(b.lastReport) < reportEvery {
		return true, 0
	}
	d := b.dropped
	b.dropped, b.inner, b.lastReport = 0, nil, now
	return true, d
}

// reportEvery is how often drops are reported per sandbox, at most.
const reportEvery = 5 * time.Second

// Flush reports the lines dropped for sandboxes that have been silent
// since, and forgets sandboxes with nothing to report whose budget is full
// again (so the table does not grow with every sandbox ever seen).
func (l *Limiter) Flush() {
	type pending struct {
		key    string
		addKey bool
		n      int
		h      slog.Handler
	}
	var out []pending
	s := l.st
	s.mu.Lock()
	now := s.opts.Now()
	for k, b := range s.buckets {
		if b.dropped > 0 && b.inner != nil {
			out = append(out, pending{k, k != "\x00" && !b.hasKey, b.dropped, b.inner})
			b.dropped, b.inner, b.lastReport = 0, nil, now
			continue
		}
		if b.tokens+now.Sub(b.last).Seconds()*b.rate >= b.burst {
			delete(s.buckets, k)
		}
	}
	s.mu.Unlock()
	for _, p := range out {
		l.report(context.Background(), p.h, p.key, p.addKey, p.n, now)
	}
}

// Run calls Flush every period until ctx ends.
func (l *Limiter) Run(ctx context.Context, period time.Duration) {
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			l.Flush()
			return
		case <-t.C:
			l.Flush()
		}
	}
}
