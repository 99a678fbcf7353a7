package heldbus

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"airlock/portal/control"
	"airlock/portal/control/fdtest"
)

// busConn is one connection of a sandbox's bus: the broker's end (non-
// blocking, as a Go server's is) and the application's.
type busConn struct {
	broker *os.File
	app    int
}

func newBusConn(t *testing.T) busConn {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.SetNonblock(fds[1], false); err != nil {
		t.Fatal(err)
	}
	return busConn{broker: os.NewFile(uintptr(fds[0]), "broker-end"), app: fds[1]}
}

// withFD runs fn with the broker end's descriptor without os.File.Fd.
func (c busConn) withFD(t *testing.T, fn func(fd int)) {
	t.Helper()
	raw, err := c.broker.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	if err := raw.Control(func(s uintptr) { fn(int(s)) }); err != nil {
		t.Fatal(err)
	}
}

// appHung reports whether the application sees its connection end.
func (c busConn) appHung() bool {
	pfd := []unix.PollFd{{Fd: int32(c.app), Events: unix.POLLRDHUP}}
	n, err := unix.Poll(pfd, 0)
	return err == nil && n > 0 && pfd[0].Revents&(unix.POLLHUP|unix.POLLRDHUP) != 0
}

// newHeld returns a Bus holding a listening socket (whose path it
// returns), and the launcher's original listener closed: only the held
// duplicate listens.
func newHeld(t *testing.T) (*Bus, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "bus")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	ln.SetUnlinkOnClose(false)
	f, err := ln.File()
	if err != nil {
		t.Fatal(err)
	}
	h := &Bus{}
	if err := h.Start(f); err != nil {
		t.Fatal(err)
	}
	f.Close()
	ln.Close()
	return h, path
}

// testBroker is the test's broker end of a keep channel being read by h.
type testBroker struct {
	ch   *os.File
	done chan struct{}
}

func attach(t *testing.T, h *Bus) *testBroker {
	t.Helper()
	mine, theirs, err := control.KeepPair()
	if err != nil {
		t.Fatal(err)
	}
	if !h.SetKeep(mine) {
		t.Fatal("setKeep refused a channel of a running sandbox")
	}
	br := &testBroker{ch: theirs, done: make(chan struct{})}
	go func() {
		defer close(br.done)
		h.Read(mine)
	}()
	return br
}

func (br *testBroker) send(t *testing.T, rec control.ConnRecord, fd int) {
	t.Helper()
	if err := control.SendRecord(br.ch, rec, fd, 5*time.Second); err != nil {
		t.Fatalf("SendRecord %+v: %v", rec, err)
	}
}

func (br *testBroker) keep(t *testing.T, c busConn, rec control.ConnRecord) {
	t.Helper()
	c.withFD(t, func(fd int) { br.send(t, rec, fd) })
}

// end closes the broker's end of the channel and waits for the launcher to
// have applied every record sent before.
func (br *testBroker) end(t *testing.T) {
	t.Helper()
	br.ch.Close()
	select {
	case <-br.done:
	case <-time.After(10 * time.Second):
		t.Fatal("Bus.Read did not return when the channel ended")
	}
}

func heldNames(h *Bus) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for u := range h.conns {
		out = append(out, u)
	}
	sort.Strings(out)
	return out
}

// TestHeldKeepsDuplicate: once the launcher holds a connection, the
// broker's own descriptor can go (the broker died) and the application's
// connection stays open, both ways, on the same socket.
func TestHeldKeepsDuplicate(t *testing.T) {
	fdtest.WarmUp(t)
	before := fdtest.OpenFDs(t)
	h, _ := newHeld(t)
	br := attach(t, h)
	c := newBusConn(t)
	rec := control.ConnRecord{Op: control.OpKeep, Unique: ":1.3", Matches: []string{"type='signal'"}, Names: map[string]bool{"org.example.App": true}, UnixFD: true}
	br.keep(t, c, rec)
	var want [2]uint64
	c.withFD(t, func(fd int) { want = fdtest.ID(t, fd) })
	br.end(t)
	c.broker.Close() // the broker is gone

	h.mu.Lock()
	hc := h.conns[":1.3"]
	h.mu.Unlock()
	if hc == nil {
		t.Fatalf("nothing held for :1.3 (held: %v)", heldNames(h))
	}
	if !reflect.DeepEqual(hc.rec, rec) {
		t.Errorf("held state %+v, want %+v", hc.rec, rec)
	}
	if got := fdtest.ConnID(t, hc.f); got != want {
		t.Errorf("held descriptor is dev/ino %v, the broker's socket %v", got, want)
	}
	if c.appHung() {
		t.Fatal("the application's connection ended with the broker's descriptor")
	}
	// Application -> held socket.
	if _, err := unix.Write(c.app, []byte("to the bus")); err != nil {
		t.Fatalf("application write: %v", err)
	}
	buf := make([]byte, 64)
	hc.f.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := hc.f.Read(buf); err != nil || string(buf[:n]) != "to the bus" {
		t.Errorf("read through the held duplicate: %q, %v", buf[:n], err)
	}
	// Held socket -> application.
	if _, err := hc.f.Write([]byte("to the app")); err != nil {
		t.Fatal(err)
	}
	if n, err := unix.Read(c.app, buf); err != nil || string(buf[:n]) != "to the app" {
		t.Errorf("application read: %q, %v", buf[:n], err)
	}

	h.Stop()
	if !c.appHung() {
		t.Error("after stop, the application's connection is still open: the launcher kept a descriptor")
	}
	unix.Close(c.app)
	if after := fdtest.OpenFDs(t); after != before {
		t.Errorf("%d descriptors open after stop, %d before", after, before)
	}
}

// TestHeldRecords applies sequences of records and checks what the
// launcher holds afterwards, with which state, and that everything else it
// received was closed (the broker's and the test's copies are closed: a
// connection the launcher let go is seen ending by its application).
func TestHeldRecords(t *testing.T) {
	fdtest.WarmUp(t)
	keepRec := func(u string, matches ...string) control.ConnRecord {
		return control.ConnRecord{Op: control.OpKeep, Unique: u, Matches: matches}
	}
	drop := func(u string) control.ConnRecord { return control.ConnRecord{Op: control.OpDrop, Unique: u} }
	// A step sends rec with conns[conn] attached (-1: none; -2: a pipe;
	// -3: a listening socket).
	type step struct {
		rec  control.ConnRecord
		conn int
	}
	for _, tc := range []struct {
		name   string
		nconns int
		steps  []step
		// held: unique name -> the conn index it must hold and its state.
		held map[string]int
		recs map[string]control.ConnRecord
	}{
		{"keep", 1, []step{{keepRec(":1.1"), 0}},
			map[string]int{":1.1": 0}, map[string]control.ConnRecord{":1.1": keepRec(":1.1")}},
		{"state update without fd", 1, []step{{keepRec(":1.1"), 0}, {keepRec(":1.1", "type='signal'"), -1}},
			map[string]int{":1.1": 0}, map[string]control.ConnRecord{":1.1": keepRec(":1.1", "type='signal'")}},
		{"state for a connection not held", 0, []step{{keepRec(":1.9", "x"), -1}},
			nil, nil},
		{"keep then drop", 2, []step{{keepRec(":1.1"), 0}, {keepRec(":1.2"), 1}, {drop(":1.1"), -1}},
			map[string]int{":1.2": 1}, map[string]control.ConnRecord{":1.2": keepRec(":1.2")}},
		{"drop of a connection not held", 1, []step{{keepRec(":1.1"), 0}, {drop(":1.7"), -1}},
			map[string]int{":1.1": 0}, map[string]control.ConnRecord{":1.1": keepRec(":1.1")}},
		{"drop with an fd attached", 2, []step{{keepRec(":1.1"), 0}, {drop(":1.1"), 1}},
			nil, nil},
		{"unknown op with an fd attached", 1, []step{{control.ConnRecord{Op: "take", Unique: ":1.1"}, 0}},
			nil, nil},
		{"unknown op for a held connection", 2, []step{{keepRec(":1.1"), 0}, {control.ConnRecord{Op: "take", Unique: ":1.1"}, 1}},
			map[string]int{":1.1": 0}, map[string]control.ConnRecord{":1.1": keepRec(":1.1")}},
		{"a pipe is no connection", 0, []step{{keepRec(":1.1"), -2}},
			nil, nil},
		{"a listening socket is no connection", 0, []step{{keepRec(":1.1"), -3}},
			nil, nil},
		{"a non-connection does not replace a held one", 1, []step{{keepRec(":1.1"), 0}, {keepRec(":1.1", "new"), -2}},
			map[string]int{":1.1": 0}, map[string]control.ConnRecord{":1.1": keepRec(":1.1")}},
		{"a new descriptor replaces the old", 2, []step{{keepRec(":1.1"), 0}, {keepRec(":1.1", "again"), 1}},
			map[string]int{":1.1": 1}, map[string]control.ConnRecord{":1.1": keepRec(":1.1", "again")}},
		{"drop then keep again", 2, []step{{keepRec(":1.1"), 0}, {drop(":1.1"), -1}, {keepRec(":1.1", "back"), 1}},
			map[string]int{":1.1": 1}, map[string]control.ConnRecord{":1.1": keepRec(":1.1", "back")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := fdtest.OpenFDs(t)
			h, _ := newHeld(t)
			conns := make([]busConn, tc.nconns)
			for i := range conns {
				conns[i] = newBusConn(t)
			}
			br := attach(t, h)
			beforeRecv := fdtest.OpenFDs(t)
			for _, s := range tc.steps {
				switch s.conn {
				case -1:
					br.send(t, s.rec, -1)
				case -2:
					r, w, err := os.Pipe()
					if err != nil {
						t.Fatal(err)
					}
					raw, _ := r.SyscallConn()
					raw.Control(func(fd uintptr) { br.send(t, s.rec, int(fd)) })
					r.Close()
					w.Close()
				case -3:
					ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: filepath.Join(t.TempDir(), "ln"), Net: "unix"})
					if err != nil {
						t.Fatal(err)
					}
					raw, _ := ln.SyscallConn()
					raw.Control(func(fd uintptr) { br.send(t, s.rec, int(fd)) })
					ln.Close()
				default:
					br.keep(t, conns[s.conn], s.rec)
				}
			}
			br.end(t) // -1 descriptor: the channel's broker end
			// What the launcher added: exactly the held descriptors.
			if added := fdtest.OpenFDs(t) - beforeRecv + 1; added != len(tc.held) {
				t.Errorf("the launcher holds %d more descriptors, want %d (one per held connection)", added, len(tc.held))
			}
			for _, c := range conns {
				c.broker.Close()
			}
			var want []string
			for u := range tc.held {
				want = append(want, u)
			}
			sort.Strings(want)
			if got := heldNames(h); !reflect.DeepEqual(got, want) {
				t.Errorf("held %v, want %v", got, want)
			}
			h.mu.Lock()
			for u, i := range tc.held {
				hc := h.conns[u]
				if hc == nil {
					continue
				}
				if !reflect.DeepEqual(hc.rec, tc.recs[u]) {
					t.Errorf("%s: held state %+v, want %+v", u, hc.rec, tc.recs[u])
				}
				// The right socket: its application writes, the held
				// descriptor has it pending.
				unix.Write(conns[i].app, []byte("x"))
				raw, _ := hc.f.SyscallConn()
				raw.Control(func(fd uintptr) {
					if n, err := unix.IoctlGetInt(int(fd), unix.SIOCINQ); err != nil || n != 1 {
						t.Errorf("%s holds another socket than connection %d", u, i)
					}
				})
			}
			h.mu.Unlock()
			held := map[int]bool{}
			for _, i := range tc.held {
				held[i] = true
			}
			for i, c := range conns {
				if got := !c.appHung(); got != held[i] {
					t.Errorf("connection %d: open %v, want %v (held by the launcher)", i, got, held[i])
				}
			}
			h.Stop()
			for i, c := range conns {
				if !c.appHung() {
					t.Errorf("connection %d still open after stop", i)
				}
				unix.Close(c.app)
			}
			if after := fdtest.OpenFDs(t); after != before {
				t.Errorf("%d descriptors open after stop, %d before", after, before)
			}
		})
	}
}

// TestHeldNeverReads: the launcher never takes a byte of the application's
// traffic, nor disturbs the broker's socket (its blocking mode is shared
// with the duplicate), whether applying records or checking for ended
// connections.
func TestHeldNeverReads(t *testing.T) {
	fdtest.WarmUp(t)
	h, _ := newHeld(t)
	defer h.Stop()
	c := newBusConn(t)
	defer c.broker.Close()
	defer unix.Close(c.app)
	br := attach(t, h)
	unix.Write(c.app, []byte("before Hello;"))
	br.keep(t, c, control.ConnRecord{Op: control.OpKeep, Unique: ":1.1"})
	unix.Write(c.app, []byte("between;"))
	br.send(t, control.ConnRecord{Op: control.OpKeep, Unique: ":1.1", Matches: []string{"type='signal'"}}, -1)
	unix.Write(c.app, []byte("after."))
	br.end(t)
	_, _, fds, err := h.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	if len(fds) != 1 {
		t.Fatalf("snapshot: %d connections, want 1", len(fds))
	}
	fds[0].Close()

	c.withFD(t, func(fd int) {
		if fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0); err != nil || fl&unix.O_NONBLOCK == 0 {
			t.Errorf("the broker's socket was made blocking by the launcher (flags %#x, %v)", fl, err)
		}
	})
	want := "before Hello;between;after."
	buf := make([]byte, 256)
	c.broker.SetReadDeadline(time.Now().Add(5 * time.Second))
	got := ""
	for len(got) < len(want) {
		n, err := c.broker.Read(buf)
		if err != nil {
			break
		}
		got += string(buf[:n])
	}
	if got != want {
		t.Errorf("the broker reads %q, the application wrote %q", got, want)
	}
	// And the other way.
	c.broker.Write([]byte("reply"))
	if n, err := unix.Read(c.app, buf); err != nil || string(buf[:n]) != "reply" {
		t.Errorf("application read %q, %v", buf[:n], err)
	}
}

// TestHeldSnapshot: snapshot (before a resume) drops the connections that
// ended while no broker served them, and hands duplicates of the others,
// with their states.
func TestHeldSnapshot(t *testing.T) {
	fdtest.WarmUp(t)
	before := fdtest.OpenFDs(t)
	h, path := newHeld(t)
	br := attach(t, h)
	conns := make([]busConn, 4)
	ids := make([][2]uint64, len(conns))
	for i := range conns {
		conns[i] = newBusConn(t)
		u := ":1." + string(rune('1'+i))
		br.keep(t, conns[i], control.ConnRecord{Op: control.OpKeep, Unique: u, Matches: []string{u}})
		conns[i].withFD(t, func(fd int) { ids[i] = fdtest.ID(t, fd) })
	}
	// :1.2's broker shut it down (and its Forget was lost with it).
	conns[1].withFD(t, func(fd int) { unix.Shutdown(fd, unix.SHUT_RDWR) })
	br.end(t)
	for _, c := range conns {
		c.broker.Close() // the broker died
	}
	// :1.3's application exits; :1.4's has unread data pending both ways.
	unix.Close(conns[2].app)
	unix.Write(conns[3].app, []byte("pending"))

	countBefore := fdtest.OpenFDs(t)
	ln, recs, fds, err := h.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	h.mu.Lock()
	if ln != h.ln {
		t.Error("snapshot returned another listener than the held one")
	}
	h.mu.Unlock()
	got := map[string][2]uint64{}
	for i, r := range recs {
		if r.Matches[0] != r.Unique {
			t.Errorf("record %+v: state mixed up", r)
		}
		got[r.Unique] = fdtest.ConnID(t, fds[i])
	}
	want := map[string][2]uint64{":1.1": ids[0], ":1.4": ids[3]}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("snapshot handed %v, want %v (the ended ones left out)", got, want)
	}
	if names := heldNames(h); !reflect.DeepEqual(names, []string{":1.1", ":1.4"}) {
		t.Errorf("still held after snapshot: %v, want the live ones", names)
	}
	// Two ended ones closed, two duplicates made.
	if n := fdtest.OpenFDs(t); n != countBefore {
		t.Errorf("%d descriptors after snapshot, %d before: ended connections not closed or duplicates missing", n, countBefore)
	}
	for _, f := range fds {
		f.Close()
	}
	// The listener still listens (only the held duplicate does).
	if c, err := net.Dial("unix", path); err != nil {
		t.Errorf("the held listener does not accept: %v", err)
	} else {
		c.Close()
	}
	h.Stop()
	if c, err := net.Dial("unix", path); err == nil {
		c.Close()
		t.Error("the listener still accepts after stop")
	}
	if _, _, _, err := h.Snapshot(); err == nil {
		t.Error("snapshot after stop succeeded")
	}
	for i, c := range conns {
		if i != 2 {
			unix.Close(c.app)
		}
	}
	if after := fdtest.OpenFDs(t); after != before {
		t.Errorf("%d descriptors open at the end, %d before", after, before)
	}
}

// TestHeldStop: stop lets go of everything, ends a read in progress, and
// refuses a later keep channel.
func TestHeldStop(t *testing.T) {
	fdtest.WarmUp(t)
	before := fdtest.OpenFDs(t)
	h, path := newHeld(t)
	br := attach(t, h)
	conns := []busConn{newBusConn(t), newBusConn(t)}
	for i, c := range conns {
		br.keep(t, c, control.ConnRecord{Op: control.OpKeep, Unique: ":1." + string(rune('1'+i))})
	}
	// Wait until both are held (the channel stays open: read is blocked).
	deadline := time.Now().Add(5 * time.Second)
	for len(heldNames(h)) < 2 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	for _, c := range conns {
		c.broker.Close()
	}
	h.Stop()
	select {
	case <-br.done:
	case <-time.After(5 * time.Second):
		t.Fatal("stop did not end the read of the keep channel")
	}
	if !h.Stopped() {
		t.Error("Stopped after Stop = false")
	}
	for i, c := range conns {
		if !c.appHung() {
			t.Errorf("connection %d still open after stop", i)
		}
		unix.Close(c.app)
	}
	if c, err := net.Dial("unix", path); err == nil {
		c.Close()
		t.Error("the listener still accepts after stop")
	}
	br.ch.Close()
	// A keep channel arriving after the sandbox ended is refused.
	mine, theirs, err := control.KeepPair()
	if err != nil {
		t.Fatal(err)
	}
	if h.SetKeep(mine) {
		t.Error("setKeep after stop accepted the channel")
	}
	mine.Close()
	theirs.Close()
	if after := fdtest.OpenFDs(t); after != before {
		t.Errorf("%d descriptors open after stop, %d before", after, before)
	}
}

// TestHeldNewChannel: a new keep channel (a resumed broker's) replaces the
// old one, which is closed; the held connections stay.
func TestHeldNewChannel(t *testing.T) {
	fdtest.WarmUp(t)
	h, _ := newHeld(t)
	defer h.Stop()
	br := attach(t, h)
	c := newBusConn(t)
	defer unix.Close(c.app)
	br.keep(t, c, control.ConnRecord{Op: control.OpKeep, Unique: ":1.1"})
	c.broker.Close()
	br.end(t)
	h.mu.Lock()
	old := h.keep
	h.mu.Unlock()
	br2 := attach(t, h)
	// The old channel is closed: its broker end sees it.
	if _, err := old.Write(nil); !errors.Is(err, os.ErrClosed) {
		t.Errorf("the old keep channel is still open: %v", err)
	}
	br2.send(t, control.ConnRecord{Op: control.OpKeep, Unique: ":1.1", Matches: []string{"resumed"}}, -1)
	br2.end(t)
	h.mu.Lock()
	hc := h.conns[":1.1"]
	h.mu.Unlock()
	if hc == nil || len(hc.rec.Matches) != 1 || hc.rec.Matches[0] != "resumed" {
		t.Errorf("after a new channel, held %+v", hc)
	}
	if c.appHung() {
		t.Error("the connection ended when the keep channel changed")
	}
}
