package notification

import (
	"log/slog"
	"sync"
	"time"

	"airlock/portal/ratelimit"
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
	burst int
	rate  float64
	log   *slog.Logger
	now   func() time.Time

	// mu guards the fields below.
	mu       sync.Mutex
	bucket   ratelimit.Bucket
	refusing bool // refusing since the bucket was last full: one flood
}

// NewLimiter returns a full bucket of burst tokens refilled at rate per
// second; log (with the sandbox's name) gets the refusals.
func NewLimiter(burst int, rate float64, log *slog.Logger) *Limiter {
	if log == nil {
		log = slog.Default()
	}
	var every time.Duration // 0: never refilled
	if rate > 0 {
		every = time.Duration(float64(time.Second) / rate)
	}
	return &Limiter{burst: burst, rate: rate, log: log, now: time.Now, bucket: ratelimit.New(burst, every)}
}

// Allow takes a token, or reports that the sandbox is over its rate.
func (l *Limiter) Allow() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	// A flood ends when the sandbox has been quiet long enough to fill the
	// bucket again; the trickle it gets through meanwhile (one a second)
	// is part of the same flood and logs nothing new.
	if l.bucket.Full(now) {
		l.refusing = false
	}
	if l.bucket.Take(now) {
		return true
	}
	if !l.refusing {
		l.refusing = true
		l.log.Warn("too many notifications: refusing them until the sandbox slows down", "burst", l.burst, "per_second", l.rate)
	}
	return false
}
