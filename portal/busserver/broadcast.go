package busserver

import (
	"sync"

	"github.com/godbus/dbus/v5"
)

// Broadcasts are matched and delivered by one goroutine per sandbox, not by
// the sender's: matching a signal against every rule of the sandbox is the
// costliest thing a client can make the bus do with one small message, and
// a sandbox with many connections flooding broadcasts would otherwise keep
// as many goroutines (and every core) busy. With one broadcaster per
// sandbox, a broadcast storm occupies at most one goroutine, the Go
// scheduler shares the cores between sandboxes, and the work is charged to
// the sandbox's budget. The queue is bounded; the sender waits until its
// signal is delivered, so that messages it sends afterwards cannot overtake
// it (D-Bus keeps one sender's messages in order), and a flooding sender
// is slowed to what its sandbox's broadcaster can do.
type broadcaster struct {
	s    *Server
	jobs chan *bcastJob
	quit chan struct{}
	// exited is closed once the goroutine has returned: jobs submitted
	// after that are run by their sender.
	exited   chan struct{}
	stopOnce sync.Once
}

type bcastJob struct {
	msg  *dbus.Message
	raw  *frame
	once sync.Once
	done chan struct{}
}

func newBroadcaster(s *Server, queue int) *broadcaster {
	b := &broadcaster{s: s, jobs: make(chan *bcastJob, queue), quit: make(chan struct{}), exited: make(chan struct{})}
	go b.run()
	return b
}

func (b *broadcaster) run() {
	defer close(b.exited)
	for {
		select {
		case j := <-b.jobs:
			cost := b.do(j)
			// Paid after delivery: the sender is not held for its own
			// debt, but the next broadcast of this sandbox is.
			b.s.budget.work.wait(float64(cost), b.quit)
		case <-b.quit:
			for {
				select {
				case j := <-b.jobs:
					b.do(j)
				default:
					return
				}
			}
		}
	}
}

// do runs a job once, whoever gets there first, and returns its cost.
func (b *broadcaster) do(j *bcastJob) (cost int64) {
	j.once.Do(func() {
		cost = b.s.deliverBroadcast(j.msg, j.raw)
		close(j.done)
	})
	return cost
}

func (b *broadcaster) stop() {
	b.stopOnce.Do(func() { close(b.quit) })
}

// submit hands a broadcast to the sandbox's broadcaster and waits until it
// is delivered.
func (b *broadcaster) submit(msg *dbus.Message, raw *frame) {
	j := &bcastJob{msg: msg, raw: raw, done: make(chan struct{})}
	select {
	case b.jobs <- j:
	case <-b.exited:
		b.do(j)
		return
	}
	select {
	case <-j.done:
	case <-b.exited:
		b.do(j)
	}
}

// broadcastMsg delivers a signal to every connection whose rules match.
// raw, if set, is the received frame to forward (body bytes unchanged);
// otherwise msg is encoded.
func (s *Server) broadcastMsg(msg *dbus.Message, raw *frame) {
	s.bcast.submit(msg, raw)
}

// deliverBroadcast does the matching and queueing, on the broadcaster's
// goroutine; it returns the work done, in budget units.
func (s *Server) deliverBroadcast(msg *dbus.Message, raw *frame) int64 {
	s.mu.Lock()
	targets := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		targets = append(targets, c)
	}
	s.mu.Unlock()
	var base outFrame
	encoded := false
	var cost int64
	defer func() { closeAll(base.fds) }()
	for _, c := range targets {
		if c.uniqueName() == "" {
			continue
		}
		ok, evaluated := c.wants(msg, s.ownerOf)
		cost += int64(evaluated) * costRuleMatch
		if !ok {
			continue
		}
		cost += costDelivery
		if !encoded {
			var err error
			if raw != nil {
				base, err = reframe(raw, msg.Headers)
			} else {
				base, err = encodeMessage(msg, s.nextSerial())
			}
			if err != nil {
				s.log.Warn("cannot encode broadcast signal", "member", msg.Headers[dbus.FieldMember], "err", err)
				return cost
			}
			encoded = true
		}
		of := outFrame{b: base.b}
		if len(base.fds) > 0 {
			if !c.unixFD {
				continue
			}
			dups, err := dupAll(base.fds)
			if err != nil {
				s.log.Warn("cannot duplicate descriptors for broadcast", "err", err)
				continue
			}
			of.fds = dups
		}
		c.send(of, false)
	}
	return cost
}
