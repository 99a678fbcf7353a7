package nestedwm

import (
	"log/slog"
	"sync"
	"time"

	"github.com/jezek/xgb"
)

// maxQueued bounds the events waiting to be handled (about 100 bytes
// each). xgb's reader blocks when its own channel is full, and a reply the
// window manager waits for would then never be read: a client flooding the
// display with requests the WM must answer (ConfigureRequest, MapRequest)
// could hang it for good. The pump below always drains that channel; past
// maxQueued, new events are dropped and counted (the flooding client's own
// windows are the ones left unhandled).
const maxQueued = 1 << 16

type queued struct {
	ev  xgb.Event
	err xgb.Error
}

type queue struct {
	// mu guards items, closed and dropped; cond signals a change.
	mu      sync.Mutex
	cond    *sync.Cond
	items   []queued
	closed  bool
	dropped int
}

// newQueue starts the pump that moves X's events into the queue.
func newQueue(X *xgb.Conn) *queue {
	q := &queue{}
	q.cond = sync.NewCond(&q.mu)
	go func() {
		for {
			ev, err := X.WaitForEvent()
			q.mu.Lock()
			switch {
			case ev == nil && err == nil:
				q.closed = true
			case len(q.items) >= maxQueued:
				q.dropped++
			default:
				q.items = append(q.items, queued{ev, err})
			}
			closed := q.closed
			q.cond.Signal()
			q.mu.Unlock()
			if closed {
				return
			}
		}
	}()
	return q
}

// pop waits for the next event; ok is false once the connection is closed
// and every event before it was handled.
func (q *queue) pop() (xgb.Event, xgb.Error, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.items) == 0 && !q.closed {
		q.cond.Wait()
	}
	if len(q.items) == 0 {
		return nil, nil, false
	}
	it := q.items[0]
	q.items[0] = queued{}
	q.items = q.items[1:]
	if len(q.items) == 0 {
		q.items = nil // let the backing array go after a burst
	}
	return it.ev, it.err, true
}

func (q *queue) droppedCount() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.dropped
}

// rateLog writes one warning a second at most, with the number held back
// since: what clients make the WM log must not flood the launcher's log.
type rateLog struct {
	log  *slog.Logger
	msg  string
	last time.Time
	held int
}

// warn is called from the event loop only.
func (r *rateLog) warn(args ...any) {
	now := time.Now()
	if !r.last.IsZero() && now.Sub(r.last) < time.Second {
		r.held++
		return
	}
	if r.held > 0 {
		args = append(args, "suppressed", r.held)
	}
	r.last, r.held = now, 0
	r.log.Warn(r.msg, args...)
}
