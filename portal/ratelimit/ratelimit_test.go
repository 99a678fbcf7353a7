package ratelimit

import (
	"testing"
	"time"
)

func TestBucket(t *testing.T) {
	b := New(2, time.Second)
	t0 := time.Unix(1000, 0)
	for i, c := range []struct {
		at   time.Duration
		want bool
	}{
		{0, true}, {0, true}, {0, false}, // the burst, then nothing
		{500 * time.Millisecond, false}, // half a token earned
		{time.Second, true},             // one earned
		{time.Second, false},
		{10 * time.Second, true}, {10 * time.Second, true}, {10 * time.Second, false}, // capped at the burst
	} {
		if got := b.Take(t0.Add(c.at)); got != c.want {
			t.Errorf("take %d at %v: %v, want %v", i, c.at, got, c.want)
		}
	}
	if b.Full(t0.Add(10 * time.Second)) {
		t.Error("full right after the burst was taken")
	}
	if !b.Full(t0.Add(13 * time.Second)) {
		t.Error("not full after three quiet seconds")
	}
}
