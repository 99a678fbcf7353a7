package busserver

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
)

// signalBytes encodes a signal carrying body, as a client would send it.
func signalBytes(t testing.TB, body ...any) []byte {
	t.Helper()
	m := &dbus.Message{Type: dbus.TypeSignal, Headers: map[dbus.HeaderField]dbus.Variant{
		dbus.FieldPath:      dbus.MakeVariant(dbus.ObjectPath("/a")),
		dbus.FieldInterface: dbus.MakeVariant("org.example.Flood"),
		dbus.FieldMember:    dbus.MakeVariant("Big"),
	}, Body: body}
	of, err := encodeMessage(m, 7)
	if err != nil {
		t.Fatal(err)
	}
	return of.b
}

// amplifying returns bodies that godbus decodes into many times their size.
func amplifying(n int) map[string]any {
	type pair struct{ A, B byte }
	av := make([]dbus.Variant, n/4)
	for i := range av {
		av[i] = dbus.MakeVariant(byte(1))
	}
	avs := make([]dbus.Variant, n/16)
	for i := range avs {
		avs[i] = dbus.MakeVariant("abcd")
	}
	as := make([]string, n/8)
	for i := range as {
		as[i] = "abc"
	}
	asv := map[string]dbus.Variant{}
	for i := 0; i < n/24; i++ {
		asv[fmt.Sprintf("k%06d", i)] = dbus.MakeVariant(uint32(i))
	}
	return map[string]any{
		"ay":    make([]byte, n),
		"ai":    make([]int32, n/4),
		"as":    as,
		"a(yy)": make([]pair, n/8),
		"aay":   make([][]byte, n/4),
		"av(y)": av,
		"av(s)": avs,
		"a{sv}": asv,
	}
}

// allocated returns the bytes f allocates.
func allocated(f func()) uint64 {
	var a, b runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&a)
	f()
	runtime.ReadMemStats(&b)
	return b.TotalAlloc - a.TotalAlloc
}

// The estimate must not be below what godbus really allocates (it is what
// the budget is charged), nor so far above that ordinary messages are
// refused.
func TestScanEstimateFollowsGodbus(t *testing.T) {
	for name, body := range amplifying(64 << 10) {
		t.Run(name, func(t *testing.T) {
			raw := signalBytes(t, body)
			est, err := scanMessage(raw, binary.LittleEndian, 1<<40)
			if err != nil {
				t.Fatalf("scan: %v", err)
			}
			var derr error
			real := allocated(func() { _, derr = dbus.DecodeMessage(bytes.NewReader(raw)) })
			if derr != nil {
				t.Fatalf("godbus: %v", derr)
			}
			t.Logf("wire %d, godbus allocated %d (%.1fx), estimate %d (%.1fx)", len(raw), real, float64(real)/float64(len(raw)), est, float64(est)/float64(len(raw)))
			if float64(est) < 0.8*float64(real) {
				t.Errorf("estimate %d is under godbus's %d", est, real)
			}
			if est > 4*int64(real)+4096 {
				t.Errorf("estimate %d is more than 4x godbus's %d", est, real)
			}
		})
	}
}

// A crafted amplifying message is refused by the scan, which allocates
// nothing, before godbus allocates its 60-odd megabytes.
func TestAmplifyingMessageRefusedBeforeDecoding(t *testing.T) {
	av := make([]dbus.Variant, (1<<20-256)/4)
	for i := range av {
		av[i] = dbus.MakeVariant(byte(1))
	}
	raw := signalBytes(t, av)
	var err error
	if allocs := testing.AllocsPerRun(5, func() {
		_, err = scanMessage(raw, binary.LittleEndian, 8<<20)
	}); allocs != 0 {
		t.Errorf("scanning allocated %v times", allocs)
	}
	if !errors.Is(err, errDecodeTooCostly) {
		t.Fatalf("scan of a %d-byte av of bytes: %v, want it refused as too costly", len(raw), err)
	}
	// Through the wire reader, as the connection loop reads it.
	var ferr error
	n := allocated(func() {
		wr := newWireReader(&memSource{data: raw})
		_, ferr = wr.readFrame(1<<20, false)
	})
	if !errors.Is(ferr, errProtocol) {
		t.Fatalf("readFrame: %v, want a protocol error (the connection closes)", ferr)
	}
	// The frame itself (1 MiB) and the reader's buffer: nothing in
	// proportion to what decoding would have allocated.
	if n > 3<<20 {
		t.Errorf("refusing the message allocated %d bytes", n)
	}
}

func TestScanRefusesDeepNestingAndBadLengths(t *testing.T) {
	cases := map[string][]byte{}
	// 70 variants, each holding the next: godbus cannot encode that, so
	// the body is written by hand (a variant is 1, 'v', 0, then its value).
	deep := signalBytes(t, dbus.MakeVariant(byte(1)))
	deep = deep[:len(deep)-4]
	for i := 0; i < 70; i++ {
		deep = append(deep, 1, 'v', 0)
	}
	deep = append(deep, 1, 'y', 0, 1)
	binary.LittleEndian.PutUint32(deep[4:8], 70*3+4)
	cases["nested variants"] = deep
	// The array's length claims more than the message holds: the body is
	// the length (4 bytes) and "a", "b" (14 bytes).
	long := signalBytes(t, []string{"a", "b"})
	bodyStart := len(long) - 14 - 4
	binary.LittleEndian.PutUint32(long[bodyStart:], 1<<20)
	cases["array past the end"] = long
	for name, raw := range cases {
		_, err := scanMessage(raw, binary.LittleEndian, 1<<40)
		t.Logf("%s: %v", name, err)
		if !errors.Is(err, errProtocol) {
			t.Errorf("%s: scan returned %v, want a protocol error", name, err)
		}
	}
	// Ordinary portal traffic passes.
	opts := map[string]dbus.Variant{"handle_token": dbus.MakeVariant("t1"), "multiple": dbus.MakeVariant(true),
		"filters": dbus.MakeVariant([]struct {
			Name  string
			Rules []struct {
				K uint32
				P string
			}
		}{{"Text", nil}})}
	if _, err := scanMessage(signalBytes(t, "", "Open", opts), binary.LittleEndian, 64<<10); err != nil {
		t.Errorf("an OpenFile-like body was refused: %v", err)
	}
}

func TestTokenBucketDebt(t *testing.T) {
	b := newTokenBucket(10, 5)
	if d := b.take(100); d != 0 {
		t.Fatalf("a full bucket refused a large request (wait %v): debt is allowed", d)
	}
	if d := b.take(1); d <= 0 {
		t.Fatalf("a bucket in debt let a request through")
	}
	done := make(chan struct{})
	close(done)
	if ok, _ := b.wait(1, done); ok {
		t.Fatalf("wait on a closed connection returned ok")
	}
}

func TestByteSem(t *testing.T) {
	s := newByteSem(10)
	r1, ok := s.acquire(8, nil)
	if !ok {
		t.Fatal("acquire 8 of 10")
	}
	got := make(chan bool)
	go func() {
		r2, ok := s.acquire(100, nil) // more than the capacity: waits for all of it
		if ok {
			r2()
		}
		got <- ok
	}()
	select {
	case <-got:
		t.Fatal("acquired past the capacity")
	case <-time.After(50 * time.Millisecond):
	}
	r1()
	r1() // a second release is a no-op
	if !<-got {
		t.Fatal("acquire did not succeed once released")
	}
	if s.used != 0 {
		t.Fatalf("used = %d after every release", s.used)
	}
}

func TestMatchRulesPerSandbox(t *testing.T) {
	b := startBus(t, func(c *Config) { c.Limits.MaxMatchRules = 8; c.Limits.MaxMatchRulesPerSandbox = 12 })
	c1, c2 := b.connect(t), b.connect(t)
	rule := func(i int) string { return fmt.Sprintf("type='signal',member='M%d'", i) }
	for i := 0; i < 8; i++ {
		if err := busObj(c1).Call(busName+".AddMatch", 0, rule(i)).Err; err != nil {
			t.Fatalf("AddMatch %d: %v", i, err)
		}
	}
	if err := busObj(c1).Call(busName+".AddMatch", 0, rule(8)).Err; errName(err) != errLimitsExceeded {
		t.Fatalf("9th rule on one connection: %v, want LimitsExceeded", err)
	}
	for i := 0; i < 4; i++ {
		if err := busObj(c2).Call(busName+".AddMatch", 0, rule(i)).Err; err != nil {
			t.Fatalf("AddMatch %d on the second connection: %v", i, err)
		}
	}
	err := busObj(c2).Call(busName+".AddMatch", 0, rule(4)).Err
	if errName(err) != errLimitsExceeded {
		t.Fatalf("13th rule in the sandbox: %v, want LimitsExceeded", err)
	}
	// Rules given back (RemoveMatch, a connection leaving) can be used again.
	if err := busObj(c1).Call(busName+".RemoveMatch", 0, rule(0)).Err; err != nil {
		t.Fatal(err)
	}
	if err := busObj(c2).Call(busName+".AddMatch", 0, rule(4)).Err; err != nil {
		t.Fatalf("AddMatch after a RemoveMatch: %v", err)
	}
	c1.Close()
	c3 := b.connect(t)
	deadline := time.Now().Add(5 * time.Second)
	for {
		err := busObj(c3).Call(busName+".AddMatch", 0, rule(0)).Err
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the rules of a closed connection were not given back: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A client flooding broadcasts against many rules, and one sending
// amplifying messages, do not stop a neighbour's calls from being answered.
func TestBroadcastStormBounded(t *testing.T) {
	b := startBus(t, func(c *Config) { c.Limits.WorkPerSecond = 1 << 20 })
	listener := b.connect(t)
	for i := 0; i < 200; i++ {
		if err := busObj(listener).Call(busName+".AddMatch", 0, fmt.Sprintf("type='signal',arg0='x%d'", i)).Err; err != nil {
			t.Fatal(err)
		}
	}
	flood := b.rawDial(t)
	rawAuth(t, flood, os.Getuid())
	flood.Write(helloBytes(t))
	sig := signalBytes(t, "y")
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			flood.SetWriteDeadline(time.Now().Add(time.Second))
			if _, err := flood.Write(sig); err != nil {
				var ne net.Error
				if errors.As(err, &ne) && ne.Timeout() {
					continue
				}
				return
			}
		}
	}()
	go func() { // nobody reads the flooder's replies; drain them
		buf := make([]byte, 64<<10)
		for {
			if _, err := flood.Read(buf); err != nil {
				return
			}
		}
	}()
	other := b.connect(t)
	for i := 0; i < 20; i++ {
		var id string
		if err := busObj(other).Call(busName+".GetId", 0).Store(&id); err != nil {
			t.Fatalf("call %d while a neighbour floods: %v", i, err)
		}
	}
}

// A sandbox over its message rate is read more slowly, not refused: every
// call is answered, and the broker says it slowed the sandbox down.
func TestOverRateIsSlowedNotRefused(t *testing.T) {
	b := startBus(t, func(c *Config) { c.Limits.MessagesPerSecond = 200; c.Limits.MessageBurst = 10 })
	conn := b.connect(t)
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for i := 0; i < 100; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var id string
			errs <- busObj(conn).Call(busName+".GetId", 0).Store(&id)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("a call over the rate failed: %v", err)
		}
	}
	if !strings.Contains(b.logs.String(), "reading it more slowly") {
		t.Fatalf("100 calls at a budget of 10 + 200/s were not slowed down:\n%s", b.logs.String())
	}
}

// A connection that does not read what others' messages make the bus send
// it is closed once its queue holds OutQueueBytes, not left to grow.
func TestOutQueueByteBudget(t *testing.T) {
	b := startBus(t, func(c *Config) { c.Limits.OutQueueBytes = 256 << 10 })
	// The listener: a raw connection that asks for the signals and then
	// never reads.
	lc := b.rawDial(t)
	rawAuth(t, lc, os.Getuid())
	lc.Write(helloBytes(t))
	m := &dbus.Message{Type: dbus.TypeMethodCall, Headers: map[dbus.HeaderField]dbus.Variant{
		dbus.FieldDestination: dbus.MakeVariant(busName),
		dbus.FieldPath:        dbus.MakeVariant(dbus.ObjectPath("/org/freedesktop/DBus")),
		dbus.FieldInterface:   dbus.MakeVariant(busName),
		dbus.FieldMember:      dbus.MakeVariant("AddMatch"),
	}, Body: []any{"type='signal',interface='org.example.Flood'"}}
	add, err := encodeMessage(m, 2)
	if err != nil {
		t.Fatal(err)
	}
	// The listener's messages are handled in order: once its Ready
	// signal reaches the sender, its rule is in place.
	sender := b.connect(t)
	if err := sender.AddMatchSignal(dbus.WithMatchInterface("org.example.Ready")); err != nil {
		t.Fatal(err)
	}
	ready := make(chan *dbus.Signal, 16)
	sender.Signal(ready)
	readySig, err := encodeMessage(signalMessage("", "/a", "org.example.Ready", "Now", nil), 3)
	if err != nil {
		t.Fatal(err)
	}
	lc.Write(append(add.b, readySig.b...))
	if waitSignal(t, ready, 10*time.Second) == nil {
		t.Fatal("the listener's Ready signal never came")
	}
	big := strings.Repeat("x", 64<<10)
	for i := 0; i < 64; i++ {
		if err := sender.Emit("/a", "org.example.Flood.Big", big); err != nil {
			t.Fatalf("emit: %v", err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(b.logs.String(), "outgoing queue over its byte budget") {
		if time.Now().After(deadline) {
			t.Fatalf("4 MiB of signals to a connection that does not read: not closed\n%s", b.logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The sender is unaffected.
	var id string
	if err := busObj(sender).Call(busName+".GetId", 0).Store(&id); err != nil {
		t.Fatalf("the sender after the slow listener was closed: %v", err)
	}
}
