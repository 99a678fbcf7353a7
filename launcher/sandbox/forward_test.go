package sandbox

import (
	"bufio"
	"bytes"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"airlock/launcher/profile"
)

// TestForwardTorLimit: past torConnLimit connections at once, the next are
// closed at once, and closing some makes room again.
func TestForwardTorLimit(t *testing.T) {
	limit := torConnLimit()
	if limit < 2 {
		t.Skipf("descriptor limit too low here (%d connections)", limit)
	}
	up, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer up.Close()
	var mu sync.Mutex
	open, most := 0, 0
	go func() {
		for {
			c, err := up.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			open++
			most = max(most, open)
			mu.Unlock()
			go func() {
				c.Write([]byte("SOCKS\n"))
				io.Copy(io.Discard, c)
				c.Close()
				mu.Lock()
				open--
				mu.Unlock()
			}()
		}
	}()
	in, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f, err := in.(*net.TCPListener).File()
	in.Close()
	if err != nil {
		t.Fatal(err)
	}
	s := &Sandbox{opts: Options{Profile: &profile.Profile{TorSocks: up.Addr().String()}}}
	// forwardTor serves a duplicate of f's descriptor until the test
	// binary ends.
	go s.forwardTor(f, slog.New(slog.NewTextHandler(io.Discard, nil)))
	addr := in.Addr().String()
	dial := func() (net.Conn, bool) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		line, _ := bufio.NewReader(c).ReadString('\n')
		return c, line == "SOCKS\n"
	}
	var conns []net.Conn
	served := 0
	for i := 0; i < limit+20; i++ {
		c, ok := dial()
		conns = append(conns, c)
		if ok {
			served++
		}
	}
	if served != limit {
		t.Errorf("%d of %d connections served, want %d", served, limit+20, limit)
	}
	for _, c := range conns {
		c.Close()
	}
	// Slots come back as the forwarder sees the ends: poll.
	ok := false
	for i := 0; i < 500 && !ok; i++ {
		var c net.Conn
		c, ok = dial()
		c.Close()
		if !ok {
			time.Sleep(10 * time.Millisecond)
		}
	}
	if !ok {
		t.Errorf("no connection served after the others closed")
	}
	mu.Lock()
	if most > limit {
		t.Errorf("%d connections to Tor at once, limit %d", most, limit)
	}
	mu.Unlock()
}

func TestRateLog(t *testing.T) {
	var b bytes.Buffer
	r := &rateLog{log: slog.New(slog.NewTextHandler(&b, nil)), msg: "refused", every: time.Hour}
	for i := 0; i < 5; i++ {
		r.warn("n", i)
	}
	if n := strings.Count(b.String(), "refused"); n != 1 {
		t.Fatalf("%d lines within the interval, want 1:\n%s", n, b.String())
	}
	r.mu.Lock()
	r.last = r.last.Add(-2 * time.Hour) // the interval has passed
	r.mu.Unlock()
	r.warn("n", 5)
	if !strings.Contains(b.String(), "suppressed=4") {
		t.Errorf("the next line does not count the 4 held back:\n%s", b.String())
	}
}
