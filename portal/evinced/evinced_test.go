package evinced

import (
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"airlock/portal/busserver"
	"airlock/portal/busserver/bustest"
)

func TestRegistry(t *testing.T) {
	lg := slog.New(slog.DiscardHandler)
	s := busserver.New(busserver.Config{SandboxID: "id", SandboxName: "Viewer", UID: os.Getuid(), Logger: lg})
	Install(s, lg)
	path := filepath.Join(t.TempDir(), "bus")
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(l)
	t.Cleanup(func() { s.Close() })
	first, second := bustest.Dial(t, "unix:path="+path), bustest.Dial(t, "unix:path="+path)
	call := func(c *dbus.Conn, method string, args ...any) (string, error) {
		var owner string
		call := c.Object(BusName, ObjectPath).Call(Interface+"."+method, 0, args...)
		if method == "UnregisterDocument" {
			return "", call.Err
		}
		err := call.Store(&owner)
		return owner, err
	}
	const uri = "file:///run/user/1000/doc/abcdefgh/a.pdf"
	if o, err := call(first, "RegisterDocument", uri); err != nil || o != "" {
		t.Fatalf("first register: %q %v", o, err)
	}
	if o, err := call(second, "RegisterDocument", uri); err != nil || o != first.Names()[0] {
		t.Errorf("second register: %q %v, want the first instance %s", o, err, first.Names()[0])
	}
	if o, err := call(second, "FindDocument", uri, true); err != nil || o != first.Names()[0] {
		t.Errorf("find: %q %v", o, err)
	}
	if _, err := call(second, "UnregisterDocument", uri); err == nil {
		t.Error("a non-owner unregistered the document")
	}
	first.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		o, err := call(second, "FindDocument", uri, false)
		if err == nil && o == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the document of an instance that left is still registered: %q %v", o, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
