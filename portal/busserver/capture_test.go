package busserver

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
)

// TestCaptureCorpus records what real clients (gdbus, dbus-send, python
// Gio) send to the server and writes it as seed corpora for FuzzAuth and
// FuzzDecodeMessage. It only runs when asked:
//
//	AIRLOCK_CAPTURE_CORPUS=1 go test -run TestCaptureCorpus ./portal/busserver
func TestCaptureCorpus(t *testing.T) {
	if os.Getenv("AIRLOCK_CAPTURE_CORPUS") == "" {
		t.Skip("set AIRLOCK_CAPTURE_CORPUS=1 to regenerate the seed corpora")
	}
	b := startBus(t, nil)
	b.s.AddServedName("org.freedesktop.portal.Desktop")
	b.s.Export("/org/freedesktop/portal/desktop", "org.freedesktop.portal.Settings", map[string]Handler{
		"ReadOne": func(c *Call) ([]any, error) { return []any{dbus.MakeVariant(uint32(0))}, nil },
	}, map[string]func() dbus.Variant{"version": func() dbus.Variant { return dbus.MakeVariant(uint32(2)) }},
		`<interface name="org.freedesktop.portal.Settings"><method name="ReadOne"><arg type="s" direction="in"/><arg type="s" direction="in"/><arg type="v" direction="out"/></method><property name="version" type="u" access="read"/></interface>`)

	proxyPath := filepath.Join(t.TempDir(), "proxy")
	l, err := net.Listen("unix", proxyPath)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var mu sync.Mutex
	var streams []*bytes.Buffer
	var wg sync.WaitGroup
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("unix", b.path)
			if err != nil {
				c.Close()
				continue
			}
			rec := &bytes.Buffer{}
			mu.Lock()
			streams = append(streams, rec)
			mu.Unlock()
			wg.Add(2)
			go func() {
				defer wg.Done()
				io.Copy(io.MultiWriter(up, &lockedWriter{mu: &mu, w: rec}), c)
				up.(*net.UnixConn).CloseWrite()
			}()
			go func() {
				defer wg.Done()
				io.Copy(c, up)
				c.Close()
			}()
		}
	}()

	env := append(os.Environ(), "DBUS_SESSION_BUS_ADDRESS=unix:path="+proxyPath, "GSETTINGS_BACKEND=memory", "NO_AT_BRIDGE=1")
	run := func(bin string, args ...string) {
		if _, err := os.Stat(bin); err != nil {
			t.Logf("skipping %s: not installed", bin)
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Env = env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Logf("%s %v: %v\n%s", bin, args, err, out)
		}
	}
	run("/usr/bin/gdbus", "call", "--session", "--dest", "org.freedesktop.portal.Desktop", "--object-path", "/org/freedesktop/portal/desktop",
		"--method", "org.freedesktop.DBus.Properties.Get", "org.freedesktop.portal.Settings", "version")
	run("/usr/bin/gdbus", "introspect", "--session", "--dest", "org.freedesktop.portal.Desktop", "--object-path", "/org/freedesktop/portal/desktop")
	run("/usr/bin/dbus-send", "--session", "--print-reply", "--dest=org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus.ListNames")
	run("/usr/bin/dbus-send", "--session", "--print-reply", "--dest=org.freedesktop.portal.Desktop", "/org/freedesktop/portal/desktop",
		"org.freedesktop.portal.Settings.ReadOne", "string:org.freedesktop.appearance", "string:color-scheme")
	run("/usr/bin/python3", "-c", `
import gi
gi.require_version("Gio", "2.0")
from gi.repository import Gio, GLib
bus = Gio.bus_get_sync(Gio.BusType.SESSION, None)
bus.signal_subscribe("org.freedesktop.portal.Desktop", "org.freedesktop.portal.Request", "Response", None, None, Gio.DBusSignalFlags.NONE, lambda *a: None)
p = Gio.DBusProxy.new_sync(bus, Gio.DBusProxyFlags.NONE, None, "org.freedesktop.portal.Desktop", "/org/freedesktop/portal/desktop", "org.freedesktop.portal.Settings", None)
p.call_sync("ReadOne", GLib.Variant("(ss)", ("org.freedesktop.appearance", "color-scheme")), 0, 5000, None)
bus.call_sync("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "RequestName", GLib.Variant("(su)", ("org.example.Captured", 4)), None, 0, 5000, None)
bus.emit_signal(None, "/org/example", "org.example.Iface", "Sig", GLib.Variant("(sa{sv}(ii))", ("x", {"k": GLib.Variant("s", "v")}, (1, 2))))
bus.flush_sync(None)
`)
	l.Close()
	time.Sleep(200 * time.Millisecond)
	wg.Wait()

	mu.Lock()
	defer mu.Unlock()
	authDir := filepath.Join("testdata", "fuzz", "FuzzAuth")
	msgDir := filepath.Join("testdata", "fuzz", "FuzzDecodeMessage")
	os.MkdirAll(authDir, 0o755)
	os.MkdirAll(msgDir, 0o755)
	nAuth, nMsg := 0, 0
	for _, s := range streams {
		data := s.Bytes()
		i := bytes.Index(data, []byte("BEGIN\r\n"))
		if i < 0 {
			continue
		}
		hs, msgs := data[:i+len("BEGIN\r\n")], data[i+len("BEGIN\r\n"):]
		writeCorpus(t, authDir, hs)
		nAuth++
		writeCorpus(t, msgDir, msgs)
		nMsg++
		for len(msgs) >= fixedHeaderLen {
			n, _, err := frameLength(msgs[:fixedHeaderLen], 1<<20)
			if err != nil || n > len(msgs) {
				break
			}
			writeCorpus(t, msgDir, msgs[:n])
			nMsg++
			msgs = msgs[n:]
		}
	}
	t.Logf("wrote %d handshakes and %d message seeds from %d connections", nAuth, nMsg, len(streams))
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func writeCorpus(t *testing.T, dir string, data []byte) {
	sum := sha256.Sum256(data)
	name := filepath.Join(dir, "real-"+hex.EncodeToString(sum[:8]))
	content := fmt.Sprintf("go test fuzz v1\n[]byte(%s)\n", strconv.Quote(string(data)))
	if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
