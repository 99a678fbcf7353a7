package filechooser

import (
	"errors"
	"sync"
	"time"

	"airlock/portal/ratelimit"
)

// How often one sandbox may put a chooser on the host display. A review's
// attack from a sandbox flashed 191 dialogs on the host display in 10 s:
// a user clicking through such a storm accepts what they did not read, and
// nothing else on the screen can be used meanwhile.
//
// One dialog at a time: a second request while one is open waits its turn
// (xdg-desktop-portal-gtk shows every request at once; a trusted dialog
// that covers another is exactly what a spoofing app wants). At most
// MaxQueued wait; more are answered with response 2 at once. And a token
// bucket: DialogBurst requests, then one per DialogEvery; over that, the
// request is answered with response 2 and the broker logs once per burst.
const (
	MaxQueued   = 2
	DialogBurst = 4
	DialogEvery = 3 * time.Second
)

var (
	errRateLimited = errors.New("too many file choosers in a short time")
	errQueueFull   = errors.New("too many file choosers waiting")
)

// dialogGate is one sandbox's turn-taking and rate limit for choosers.
type dialogGate struct {
	now       func() time.Time
	maxQueued int

	// mu guards the fields below.
	mu      sync.Mutex
	bucket  ratelimit.Bucket
	busy    bool // a dialog holds the turn
	queue   []chan struct{}
	refused int // requests refused since the last one admitted
}

func newDialogGate() *dialogGate {
	return &dialogGate{now: time.Now, maxQueued: MaxQueued, bucket: ratelimit.New(DialogBurst, DialogEvery)}
}

// admit takes a request in. turn is closed when its dialog may show. On
// refusal, first says that this refusal starts a burst of them (log it);
// on success, ended is how many were refused before it (the burst is over).
func (g *dialogGate) admit() (turn chan struct{}, first bool, ended int, err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.now()
	switch {
	case !g.bucket.Has(now):
		err = errRateLimited
	case g.busy && len(g.queue) >= g.maxQueued:
		err = errQueueFull
	}
	if err != nil {
		g.refused++
		return nil, g.refused == 1, 0, err
	}
	g.bucket.Take(now)
	ended, g.refused = g.refused, 0
	turn = make(chan struct{})
	if g.busy {
		g.queue = append(g.queue, turn)
	} else {
		g.busy = true
		close(turn)
	}
	return turn, false, ended, nil
}

// leave ends a request admitted with turn: its dialog ended, or it stopped
// waiting (closed by the application). The next waiting request gets the
// turn.
func (g *dialogGate) leave(turn chan struct{}) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for i, q := range g.queue {
		if q == turn { // still waiting: it never held the turn
			g.queue = append(g.queue[:i], g.queue[i+1:]...)
			return
		}
	}
	if len(g.queue) > 0 {
		next := g.queue[0]
		g.queue = g.queue[1:]
		close(next)
		return
	}
	g.busy = false
}
