package notification

import (
	"log/slog"
	"sync"
	"time"
)

// Default rate of one sandbox's notifications, through the portal and the
// relayed Notify together: a burst of 10, then one a second. A person reads
// no more; 4,327 in 3 s (issue 8) buried every other notification and
// kept the shell busy drawing.
const (
	DefaultBurst = 10
	DefaultRate  = 1.0 // per second
)

// Limiter is one sandbox's token bucket. Over it, a notification is refused
// and one line is logged per burst of refusals, not one per refusal.
type Limiter struct {
	burst float64
	rate  float64
	log   *slog.Logger
	now   func() time.Time

	// mu guards the fields below.
	mu       sync.Mutex
	tokens   float64
	last     time.Time
	refusing bool // refusing since the bucket was last full: one flood
}

// NewLimiter returns a full bucket of burst tokens refilled at rate per
// second; log (with the sandbox's name) gets the refusals.
func NewLimiter(burst int, rate float64, log *slog.Logger) *Limiter {
	if log == nil {
		log = slog.Default()
	}
	return &Limiter{burst: float64(burst), rate: rate, log: log, now: time.Now, tokens: float64(burst)}
}

// Allow takes a token, or reports that the sandbox is over its rate.
func (l *Limiter) Allow() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if !l.last.IsZero() {
		l.tokens += now.Sub(l.last).Seconds() * l.rate
		if l.tokens > l.burst {
			l.tokens = l.burst
		}
	}
	l.last = now
	// A flood ends when the sandbox has been quiet long enough to fill the
	// bucket again; the trickle it gets through meanwhile (one a second)
	// is part of the same flood and logs nothing new.
	if l.tokens >= l.burst {
		l.refusing = false
	}
	if l.tokens >= 1 {
		l.tokens--
		return true
	}
	if !l.refusing {
		l.refusing = true
		l.log.Warn("too many notifications: refusing them until the sandbox slows down", "burst", int(l.burst), "per_second", l.rate)
	}
	return false
}
