package busserver

import (
	"airlock/portal/busserver/bustest"

	"log/slog"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"airlock/tests/harness"
)

type testBus struct {
	s    *Server
	path string
	addr string
	logs *harness.SyncBuffer
}

// startBus serves a new Server on a socket in a temporary directory.
func startBus(t testing.TB, mod func(*Config)) *testBus {
	t.Helper()
	logs := &harness.SyncBuffer{}
	cfg := Config{
		SandboxID:   "test-id",
		SandboxName: "test-sandbox",
		UID:         os.Getuid(),
		Logger:      slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if mod != nil {
		mod(&cfg)
	}
	s := New(cfg)
	dir := t.TempDir()
	path := filepath.Join(dir, "bus")
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatalf("cannot listen: %v", err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := s.Serve(l); err != nil {
			t.Errorf("Serve: %v", err)
		}
	}()
	t.Cleanup(func() {
		s.Close()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Errorf("Serve did not return after Close")
		}
		if t.Failed() {
			t.Logf("server logs:\n%s", logs.String())
		}
	})
	return &testBus{s: s, path: path, addr: "unix:path=" + path, logs: logs}
}

// connect returns a godbus client connection that has said Hello.
func (b *testBus) connect(t testing.TB) *dbus.Conn {
	t.Helper()
	conn, err := dbus.Connect(b.addr)
	if err != nil {
		t.Fatalf("cannot connect to test bus: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// rawDial opens a plain socket to the bus.
func (b *testBus) rawDial(t testing.TB) *net.UnixConn {
	t.Helper()
	c, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: b.path, Net: "unix"})
	if err != nil {
		t.Fatalf("cannot dial test bus: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func busObj(c *dbus.Conn) dbus.BusObject {
	return c.Object("org.freedesktop.DBus", "/org/freedesktop/DBus")
}

var errName = bustest.ErrName
