package sandbox

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"io"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
)

// wireMessage encodes a message as a bus would send it (serial n).
func wireMessage(t *testing.T, n uint32, typ dbus.Type, h map[dbus.HeaderField]any, body ...any) []byte {
	t.Helper()
	m := &dbus.Message{Type: typ, Headers: map[dbus.HeaderField]dbus.Variant{}, Body: body}
	for k, v := range h {
		m.Headers[k] = dbus.MakeVariant(v)
	}
	if len(body) > 0 {
		m.Headers[dbus.FieldSignature] = dbus.MakeVariant(dbus.SignatureOf(body...))
	}
	var b bytes.Buffer
	if err := m.EncodeTo(&b, binary.LittleEndian); err != nil {
		t.Fatal(err)
	}
	out := b.Bytes()
	binary.LittleEndian.PutUint32(out[8:12], n)
	return out
}

func sigHeaders(sender string, path dbus.ObjectPath, iface, member string) map[dbus.HeaderField]any {
	return map[dbus.HeaderField]any{dbus.FieldSender: sender, dbus.FieldPath: path, dbus.FieldInterface: iface, dbus.FieldMember: member}
}

// TestA11yFilter: through the filter, the sandbox authenticates without
// descriptor passing, its messages reach the bus unchanged, and of the
// bus's messages it gets all but the broadcasts other than the bus's own
// and the registry's EventListenerRegistered/Deregistered: the registry's
// pointer, modifier and desktop broadcasts that xdg-dbus-proxy 0.1.6 and
// later let through are dropped.
func TestA11yFilter(t *testing.T) {
	dir := t.TempDir()
	up := filepath.Join(dir, "proxy")
	ul, err := net.Listen("unix", up)
	if err != nil {
		t.Fatal(err)
	}
	defer ul.Close()
	f, err := newA11yFilter(filepath.Join(dir, "bus"), up)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	const reg = ":1.1"
	type msg struct {
		name string
		b    []byte
		pass bool
	}
	msgs := []msg{
		{"mouse", wireMessage(t, 1, dbus.TypeSignal, sigHeaders(reg, "/org/a11y/atspi/accessible/root", "org.a11y.atspi.Event.Mouse", "Abs"), "", int32(300), int32(200), dbus.MakeVariant(int32(0)), map[string]dbus.Variant{}), false},
		{"NameOwnerChanged", wireMessage(t, 2, dbus.TypeSignal, sigHeaders("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "NameOwnerChanged"), ":1.9", "", ":1.9"), true},
		{"modifiers", wireMessage(t, 3, dbus.TypeSignal, sigHeaders(reg, "/org/a11y/atspi/accessible/root", "org.a11y.atspi.Event.Keyboard", "Modifiers"), "", int32(0), int32(1), dbus.MakeVariant(int32(0)), map[string]dbus.Variant{}), false},
		{"EventListenerRegistered", wireMessage(t, 4, dbus.TypeSignal, sigHeaders(reg, "/org/a11y/atspi/registry", "org.a11y.atspi.Registry", "EventListenerRegistered"), ":1.9", "object:text-changed", []string{}), true},
		{"ChildrenChanged", wireMessage(t, 5, dbus.TypeSignal, sigHeaders(reg, "/org/a11y/atspi/accessible/root", "org.a11y.atspi.Event.Object", "ChildrenChanged"), "add", int32(0), int32(0), dbus.MakeVariant(int32(0)), map[string]dbus.Variant{}), false},
		{"another application's event", wireMessage(t, 6, dbus.TypeSignal, sigHeaders(":1.7", "/org/a11y/atspi/accessible/1", "org.a11y.atspi.Event.Object", "TextChanged"), "insert", int32(0), int32(1), dbus.MakeVariant("s"), map[string]dbus.Variant{}), false},
		{"unicast signal", wireMessage(t, 7, dbus.TypeSignal, map[dbus.HeaderField]any{dbus.FieldSender: ":1.9", dbus.FieldDestination: ":1.5", dbus.FieldPath: dbus.ObjectPath("/x"), dbus.FieldInterface: "org.example.X", dbus.FieldMember: "Y"}), true},
		{"the screen reader's call", wireMessage(t, 8, dbus.TypeMethodCall, map[dbus.HeaderField]any{dbus.FieldSender: ":1.9", dbus.FieldDestination: ":1.5", dbus.FieldPath: dbus.ObjectPath("/org/a11y/atspi/accessible/root"), dbus.FieldInterface: "org.a11y.atspi.Accessible", dbus.FieldMember: "GetChildren"}), true},
		{"a reply", wireMessage(t, 9, dbus.TypeMethodReply, map[dbus.HeaderField]any{dbus.FieldSender: ":1.1", dbus.FieldDestination: ":1.5", dbus.FieldReplySerial: uint32(2)}, "ok"), true},
	}
	got := make(chan string, 4)
	go func() {
		c, err := ul.Accept()
		if err != nil {
			got <- err.Error()
			return
		}
		defer c.Close()
		r := bufio.NewReader(c)
		var seen strings.Builder
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				got <- "auth: " + err.Error()
				return
			}
			seen.WriteString(line)
			if line == "BEGIN\r\n" {
				break
			}
			c.Write([]byte("OK 0123456789abcdef0123456789abcdef\r\n"))
		}
		got <- seen.String()
		for _, m := range msgs {
			c.Write(m.b)
		}
		buf := make([]byte, 5)
		io.ReadFull(r, buf)
		got <- string(buf)
	}()

	c, err := net.Dial("unix", filepath.Join(dir, "bus"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	// Pipelined, as sd-bus does.
	c.Write([]byte("\x00AUTH EXTERNAL 31303030\r\nNEGOTIATE_UNIX_FD\r\nBEGIN\r\nhello"))
	r := bufio.NewReader(c)
	for _, want := range []string{"OK ", "ERROR "} {
		line, err := r.ReadString('\n')
		if err != nil || !strings.HasPrefix(line, want) {
			t.Fatalf("auth reply %q (%v), want %s...", line, err, want)
		}
	}
	if s := <-got; s != "\x00AUTH EXTERNAL 31303030\r\nBEGIN\r\n" && s != "AUTH EXTERNAL 31303030\r\nBEGIN\r\n" {
		t.Errorf("the bus saw %q: want AUTH and BEGIN only (no descriptor passing)", s)
	}
	for _, m := range msgs {
		if !m.pass {
			continue
		}
		d, err := dbus.DecodeMessage(r)
		if err != nil {
			t.Fatalf("want %s: %v", m.name, err)
		}
		want, _ := dbus.DecodeMessage(bytes.NewReader(m.b))
		if d.Type != want.Type || d.Headers[dbus.FieldMember] != want.Headers[dbus.FieldMember] || len(d.Body) != len(want.Body) {
			t.Errorf("got %v, want %s", d, m.name)
		}
	}
	if s := <-got; s != "hello" {
		t.Errorf("the bus got %q from the sandbox, want hello", s)
	}
	// Nothing else comes: the dropped ones are gone, not late.
	c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	if d, err := dbus.DecodeMessage(r); err == nil {
		t.Errorf("a dropped message came through: %v", d)
	}
}
