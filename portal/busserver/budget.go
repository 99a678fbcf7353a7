package busserver

import (
	"sync"
	"sync/atomic"
	"time"
)

// Every sandbox shares one broker, so every sandbox gets a budget of what it
// may make the broker do (DESIGN.md: a sandbox must not "crash, hang or
// flood the broker so that other sandboxes lose service"). One Server is one
// sandbox, so the budget lives in the Server and is shared by all of the
// sandbox's connections:
//
//   - messages per second and decoding work per second, as token buckets: a
//     sandbox over budget is not refused, it is read more slowly. Its
//     connections' reader goroutines wait, the kernel's socket buffers fill,
//     and the sandbox's own writes block (backpressure) instead of a queue
//     in the broker growing without bound;
//   - bytes of large frames being received and estimated bytes being
//     decoded at once (semaphores), so that many connections each sending a
//     big message cannot add up;
//   - match rules across the sandbox's connections (dbusiface.go);
//   - bytes queued towards each connection (conn.go);
//   - its broadcasts, matched on the sandbox's own goroutine (broadcast.go).

// tokenBucket is a rate limiter that can go into debt: a request larger
// than the burst is let through when the bucket is not empty, and the debt
// is paid back by waiting before the next one. So a legitimate large message
// is never refused for its size, and the average rate still holds.
type tokenBucket struct {
	rate  float64 // tokens per second
	burst float64

	// mu guards the fields below.
	mu     sync.Mutex
	tokens float64
	last   time.Time
}

func newTokenBucket(rate, burst float64) *tokenBucket {
	return &tokenBucket{rate: rate, burst: burst, tokens: burst, last: time.Now()}
}

// take takes n tokens and returns 0, or returns how long to wait before
// trying again (taking nothing).
func (b *tokenBucket) take(n float64) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := time.Now()
	b.tokens += now.Sub(b.last).Seconds() * b.rate
	b.last = now
	if b.tokens > b.burst {
		b.tokens = b.burst
	}
	if b.tokens > 0 {
		b.tokens -= n
		return 0
	}
	d := time.Duration(-b.tokens / b.rate * float64(time.Second))
	if d < 100*time.Microsecond {
		d = 100 * time.Microsecond
	}
	return d
}

// wait takes n tokens, sleeping as long as needed; it reports false if done
// closed first. It returns whether it had to wait.
func (b *tokenBucket) wait(n float64, done <-chan struct{}) (ok, waited bool) {
	for {
		d := b.take(n)
		if d == 0 {
			return true, waited
		}
		waited = true
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-done:
			t.Stop()
			return false, waited
		}
	}
}

// byteSem is a weighted semaphore counting bytes. A request larger than the
// capacity waits for the semaphore to be empty and then takes all of it.
type byteSem struct {
	cap int64

	// mu guards the fields below.
	mu   sync.Mutex
	used int64
	wake chan struct{} // closed (and replaced) when bytes are released
}

func newByteSem(n int64) *byteSem {
	return &byteSem{cap: n, wake: make(chan struct{})}
}

// acquire takes n bytes (at most the capacity), waiting for them; it
// reports false if done closed first. The returned release must be called
// exactly once.
func (s *byteSem) acquire(n int64, done <-chan struct{}) (release func(), ok bool) {
	if n > s.cap {
		n = s.cap
	}
	if n <= 0 {
		return func() {}, true
	}
	for {
		s.mu.Lock()
		if s.used+n <= s.cap {
			s.used += n
			s.mu.Unlock()
			var once sync.Once
			return func() { once.Do(func() { s.release(n) }) }, true
		}
		ch := s.wake
		s.mu.Unlock()
		select {
		case <-ch:
		case <-done:
			return nil, false
		}
	}
}

func (s *byteSem) release(n int64) {
	s.mu.Lock()
	s.used -= n
	close(s.wake)
	s.wake = make(chan struct{})
	s.mu.Unlock()
}

// budget is one sandbox's share of the broker.
type budget struct {
	msgs      *tokenBucket // messages received per second
	work      *tokenBucket // estimated decode bytes + broadcast matching per second
	frameSem  *byteSem     // bytes of large frames being received
	decodeSem *byteSem     // estimated bytes being decoded
	rules     atomic.Int64 // match rules held by all connections
	// lastThrottleLog rate-limits the note that the sandbox is throttled.
	lastThrottleLog atomic.Int64
}

func newBudget(l Limits) *budget {
	return &budget{
		msgs:      newTokenBucket(l.MessagesPerSecond, float64(l.MessageBurst)),
		work:      newTokenBucket(float64(l.WorkPerSecond), float64(l.DecodeInFlight)),
		frameSem:  newByteSem(l.FramesInFlight),
		decodeSem: newByteSem(l.DecodeInFlight),
	}
}

// throttled reports whether to log that the sandbox is being slowed down:
// at most once every 10 seconds.
func (b *budget) throttled() bool {
	now := time.Now().UnixNano()
	last := b.lastThrottleLog.Load()
	return now-last > int64(10*time.Second) && b.lastThrottleLog.CompareAndSwap(last, now)
}

// Costs charged to the work bucket for a broadcast, in the same unit as
// decoding (estimated bytes allocated): measured, matching one rule costs
// about what allocating 64 bytes does.
const (
	costRuleMatch = 64
	costDelivery  = 512
)
