// Package ratelimit holds the token bucket that bounds how often one
// sandbox may make the broker show something to the user (file choosers,
// questions, notifications): a burst, then one per interval.
package ratelimit

import "time"

// Bucket is a token bucket; the zero value is empty and unusable: make it
// with New. It is not safe for concurrent use: its owner's lock guards it.
type Bucket struct {
	burst  float64
	every  time.Duration
	tokens float64
	last   time.Time // when tokens was last refilled
}

// New returns a full bucket of burst tokens, refilled by one every every.
func New(burst int, every time.Duration) Bucket {
	return Bucket{burst: float64(burst), every: every, tokens: float64(burst)}
}

// refill adds what the time since the last call earned, up to the burst.
func (b *Bucket) refill(now time.Time) {
	if !b.last.IsZero() && b.every > 0 {
		b.tokens = min(b.burst, b.tokens+float64(now.Sub(b.last))/float64(b.every))
	}
	b.last = now
}

// Take takes a token at now, or reports that there is none.
func (b *Bucket) Take(now time.Time) bool {
	b.refill(now)
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// Has says whether a token is there at now, without taking it.
func (b *Bucket) Has(now time.Time) bool {
	b.refill(now)
	return b.tokens >= 1
}

// Full says whether the bucket is full at now (the sandbox has been quiet
// long enough to earn its whole burst back).
func (b *Bucket) Full(now time.Time) bool {
	b.refill(now)
	return b.tokens >= b.burst
}
