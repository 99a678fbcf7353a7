package busserver

import (
	"net"
	"sync"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
)

// recordingKeeper is a Keeper that remembers the last state of each
// connection and a duplicate of it, as the launcher does.
type recordingKeeper struct {
	mu     sync.Mutex
	states map[string]ConnState
	conns  map[string]*net.UnixConn
	forgot []string
}

func newRecordingKeeper() *recordingKeeper {
	return &recordingKeeper{states: map[string]ConnState{}, conns: map[string]*net.UnixConn{}}
}

func (k *recordingKeeper) Keep(uc *net.UnixConn, st ConnState) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.states[st.Unique] = st
	if k.conns[st.Unique] == nil {
		f, err := uc.File() // a duplicate, like SCM_RIGHTS
		if err != nil {
			return
		}
		defer f.Close()
		c, err := net.FileConn(f)
		if err != nil {
			return
		}
		k.conns[st.Unique] = c.(*net.UnixConn)
	}
}

func (k *recordingKeeper) Forget(unique string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.forgot = append(k.forgot, unique)
	if c := k.conns[unique]; c != nil {
		c.Close()
		delete(k.conns, unique)
	}
}

func (k *recordingKeeper) get(unique string) (ConnState, *net.UnixConn) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.states[unique], k.conns[unique]
}

// TestKeeperSeesState checks the keeper gets each connection's state
// before the client's call returns, and is told when it leaves.
func TestKeeperSeesState(t *testing.T) {
	k := newRecordingKeeper()
	b := startBus(t, func(c *Config) { c.Keeper = k })
	c := b.connect(t)
	u := c.Names()[0]
	rule := "type='signal',interface='org.example.I'"
	if err := busObj(c).Call("org.freedesktop.DBus.AddMatch", 0, rule).Err; err != nil {
		t.Fatal(err)
	}
	if r, err := c.RequestName("org.example.Kept", dbus.NameFlagAllowReplacement|dbus.NameFlagDoNotQueue); err != nil || r != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("RequestName = %v, %v", r, err)
	}
	st, kc := k.get(u)
	if kc == nil {
		t.Fatalf("the keeper holds no duplicate of %s", u)
	}
	if !contains(st.Matches, rule) || !st.Names["org.example.Kept"] || !st.UnixFD {
		t.Errorf("kept state = %+v, want the rule, the name (replaceable) and fd passing", st)
	}
	if err := busObj(c).Call("org.freedesktop.DBus.RemoveMatch", 0, rule).Err; err != nil {
		t.Fatal(err)
	}
	if st, _ := k.get(u); contains(st.Matches, rule) {
		t.Errorf("kept state after RemoveMatch still has the rule: %+v", st)
	}
	c.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		k.mu.Lock()
		gone := contains(k.forgot, u)
		k.mu.Unlock()
		if gone {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the keeper was not told that %s left", u)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestAdopt plays a broker crash: a client's connection, kept by the
// keeper, is adopted by a second server while the first one is gone. The
// client keeps its unique name, its match rules still deliver signals and
// its owned name still routes, a new client gets a name that does not
// collide, and the client never said Hello twice.
func TestAdopt(t *testing.T) {
	k := newRecordingKeeper()
	b1 := startBus(t, func(c *Config) { c.Keeper = k })
	// Two clients, so the second's unique name is above the first's.
	b1.connect(t)
	app := b1.connect(t)
	u := app.Names()[0]
	sigs := make(chan *dbus.Signal, 8)
	app.Signal(sigs)
	if err := app.AddMatchSignal(dbus.WithMatchInterface("org.example.Ping"), dbus.WithMatchMember("Pong")); err != nil {
		t.Fatal(err)
	}
	if r, err := app.RequestName("org.example.App", dbus.NameFlagDoNotQueue); err != nil || r != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("RequestName = %v, %v", r, err)
	}
	if err := app.Export(pinger{}, "/org/example/App", "org.example.App"); err != nil {
		t.Fatal(err)
	}
	st, kept := k.get(u)
	if kept == nil {
		t.Fatal("nothing kept")
	}
	k.mu.Lock()
	delete(k.conns, u) // the second server owns it from now on
	k.mu.Unlock()

	// The first broker dies: its descriptors close without a shutdown,
	// as they do when the process is killed.
	b1.s.mu.Lock()
	for c := range b1.s.conns {
		c.c.Close()
	}
	b1.s.mu.Unlock()

	b2 := startBus(t, nil)
	if err := b2.s.Adopt(kept, st); err != nil {
		t.Fatalf("Adopt: %v", err)
	}
	// The application's connection carries on: same name, routing.
	var owner string
	if err := busObj(app).Call("org.freedesktop.DBus.GetNameOwner", 0, "org.example.App").Store(&owner); err != nil || owner != u {
		t.Fatalf("GetNameOwner(org.example.App) on the adopted connection = %q, %v; want %s", owner, err, u)
	}
	// Its match rule delivers a signal another client sends.
	other := b2.connect(t)
	if n := other.Names()[0]; n == u || n == ":1.1" || n == ":1.2" {
		t.Errorf("new connection got %s, which collides with a restored name (%s)", n, u)
	}
	if err := other.Emit("/org/example", "org.example.Ping.Pong", "hi"); err != nil {
		t.Fatal(err)
	}
	var s *dbus.Signal
	for s = waitSignal(t, sigs, 5*time.Second); s != nil && s.Name != "org.example.Ping.Pong"; s = waitSignal(t, sigs, 5*time.Second) {
		// NameAcquired and the like, from before the crash.
	}
	if s == nil || s.Sender != other.Names()[0] {
		t.Errorf("adopted connection's match rule delivered %v, want org.example.Ping.Pong from %s", s, other.Names()[0])
	}
	// And calls to its well-known name reach it.
	var got string
	if err := other.Object("org.example.App", "/org/example/App").Call("org.example.App.Ping", 0).Store(&got); err != nil || got != "pong" {
		t.Errorf("call to the adopted connection's name = %q, %v", got, err)
	}
	// Restoring a name already in use is refused.
	st2 := st
	if err := b2.s.Adopt(b2.rawDial(t), st2); err == nil {
		t.Errorf("adopting a second connection as %s succeeded", u)
	}
}

type pinger struct{}

func (pinger) Ping() (string, *dbus.Error) { return "pong", nil }

// TestAdoptMidMessage: a stream that does not start at a message boundary
// (the dead broker had read part of a message) is closed, nothing else.
func TestAdoptMidMessage(t *testing.T) {
	b := startBus(t, nil)
	a, c := socketPair(t)
	if _, err := c.Write([]byte("garbage that is no D-Bus message at all.........")); err != nil {
		t.Fatal(err)
	}
	if err := b.s.Adopt(a, ConnState{Unique: ":1.7"}); err != nil {
		t.Fatalf("Adopt: %v", err)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 16)
	if n, err := c.Read(buf); err == nil {
		t.Errorf("the server answered %q to a broken stream instead of closing it", buf[:n])
	}
	// The bus itself still serves others.
	b.connect(t)
}

func socketPair(t *testing.T) (*net.UnixConn, *net.UnixConn) {
	t.Helper()
	dir := t.TempDir()
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: dir + "/s", Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	c, err := net.DialUnix("unix", nil, l.Addr().(*net.UnixAddr))
	if err != nil {
		t.Fatal(err)
	}
	a, err := l.AcceptUnix()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(); a.Close() })
	return a, c
}
