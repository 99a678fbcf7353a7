package busserver

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"io"
	"net"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
)

// rawAuth performs the SASL handshake by hand.
func rawAuth(t *testing.T, c *net.UnixConn, uid int) *bufio.Reader {
	t.Helper()
	br := bufio.NewReader(c)
	if _, err := c.Write([]byte("\x00AUTH EXTERNAL " + hex.EncodeToString([]byte(strconv.Itoa(uid))) + "\r\n")); err != nil {
		t.Fatal(err)
	}
	line, err := br.ReadString('\n')
	if err != nil || len(line) < 3 || line[:3] != "OK " {
		t.Fatalf("auth reply %q, %v", line, err)
	}
	if _, err := c.Write([]byte("BEGIN\r\n")); err != nil {
		t.Fatal(err)
	}
	return br
}

func helloBytes(t testing.TB) []byte {
	t.Helper()
	of, err := encodeMessage(&dbus.Message{
		Type: dbus.TypeMethodCall,
		Headers: map[dbus.HeaderField]dbus.Variant{
			dbus.FieldDestination: dbus.MakeVariant("org.freedesktop.DBus"),
			dbus.FieldPath:        dbus.MakeVariant(dbus.ObjectPath("/org/freedesktop/DBus")),
			dbus.FieldInterface:   dbus.MakeVariant("org.freedesktop.DBus"),
			dbus.FieldMember:      dbus.MakeVariant("Hello"),
		},
	}, 1)
	if err != nil {
		t.Fatal(err)
	}
	return of.b
}

// expectClosed asserts the server closes c within a few seconds.
func expectClosed(t *testing.T, c *net.UnixConn, r io.Reader) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if r == nil {
		r = c
	}
	_, err := io.Copy(io.Discard, r)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("server did not close the connection")
	}
}

func TestBadInputClosesOnlyThatConnection(t *testing.T) {
	uid := os.Getuid()
	helloHdr := func(t *testing.T) []byte { return helloBytes(t) }
	cases := []struct {
		name string
		send func(t *testing.T, c *net.UnixConn) io.Reader
	}{
		{"garbage before auth", func(t *testing.T, c *net.UnixConn) io.Reader {
			c.Write([]byte("\x7fELF\x01\x02garbage\xff\xfe"))
			return nil
		}},
		{"no NUL byte", func(t *testing.T, c *net.UnixConn) io.Reader {
			c.Write([]byte("AUTH EXTERNAL 30\r\n"))
			return nil
		}},
		{"wrong uid claim", func(t *testing.T, c *net.UnixConn) io.Reader {
			c.Write([]byte("\x00AUTH EXTERNAL " + hex.EncodeToString([]byte(strconv.Itoa(uid+1234))) + "\r\n"))
			return nil
		}},
		{"BEGIN before auth", func(t *testing.T, c *net.UnixConn) io.Reader {
			c.Write([]byte("\x00BEGIN\r\n"))
			return nil
		}},
		{"overlong auth line", func(t *testing.T, c *net.UnixConn) io.Reader {
			c.Write(append([]byte("\x00AUTH "), make([]byte, 4096)...))
			return nil
		}},
		{"garbage after auth", func(t *testing.T, c *net.UnixConn) io.Reader {
			br := rawAuth(t, c, uid)
			c.Write([]byte("this is not a D-Bus message at all, not even close"))
			return br
		}},
		{"first message not Hello", func(t *testing.T, c *net.UnixConn) io.Reader {
			br := rawAuth(t, c, uid)
			of, _ := encodeMessage(&dbus.Message{Type: dbus.TypeMethodCall, Headers: map[dbus.HeaderField]dbus.Variant{
				dbus.FieldDestination: dbus.MakeVariant("org.freedesktop.DBus"),
				dbus.FieldPath:        dbus.MakeVariant(dbus.ObjectPath("/")),
				dbus.FieldMember:      dbus.MakeVariant("ListNames"),
			}}, 1)
			c.Write(of.b)
			return br
		}},
		{"oversize declared body", func(t *testing.T, c *net.UnixConn) io.Reader {
			br := rawAuth(t, c, uid)
			b := helloHdr(t)
			binary.LittleEndian.PutUint32(b[4:8], 200<<20) // 200 MiB body
			c.Write(b)
			return br
		}},
		{"oversize header fields", func(t *testing.T, c *net.UnixConn) io.Reader {
			br := rawAuth(t, c, uid)
			b := helloHdr(t)
			binary.LittleEndian.PutUint32(b[12:16], 0xfffffff0)
			c.Write(b)
			return br
		}},
		{"truncated message", func(t *testing.T, c *net.UnixConn) io.Reader {
			br := rawAuth(t, c, uid)
			b := helloHdr(t)
			c.Write(b[:len(b)-5])
			c.CloseWrite()
			return br
		}},
		{"invalid header field", func(t *testing.T, c *net.UnixConn) io.Reader {
			br := rawAuth(t, c, uid)
			b := helloHdr(t)
			// Hello's first header field has code 6 (destination) or
			// similar; code 0 is invalid.
			b[16] = 0
			c.Write(b)
			return br
		}},
		{"invalid destination name", func(t *testing.T, c *net.UnixConn) io.Reader {
			br := rawAuth(t, c, uid)
			c.Write(helloBytes(t))
			of, _ := encodeMessage(&dbus.Message{Type: dbus.TypeMethodCall, Headers: map[dbus.HeaderField]dbus.Variant{
				dbus.FieldDestination: dbus.MakeVariant("not a bus name!"),
				dbus.FieldPath:        dbus.MakeVariant(dbus.ObjectPath("/")),
				dbus.FieldMember:      dbus.MakeVariant("X"),
			}}, 2)
			c.Write(of.b)
			return br
		}},
		{"bad protocol version", func(t *testing.T, c *net.UnixConn) io.Reader {
			br := rawAuth(t, c, uid)
			b := helloHdr(t)
			b[3] = 2
			c.Write(b)
			return br
		}},
	}
	b := startBus(t, nil)
	b.s.Export("/obj", "org.example.Obj", map[string]Handler{
		"Ping": func(c *Call) ([]any, error) { return []any{"pong"}, nil },
	}, nil, "")
	good := b.connect(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := b.rawDial(t)
			r := tc.send(t, c)
			expectClosed(t, c, r)
			var s string
			if err := good.Object(BrokerName, "/obj").Call("org.example.Obj.Ping", 0).Store(&s); err != nil || s != "pong" {
				t.Fatalf("the well-behaved connection stopped getting answers: %q, %v", s, err)
			}
		})
	}
}

func TestAuthVariants(t *testing.T) {
	b := startBus(t, nil)
	uid := strconv.Itoa(os.Getuid())
	c := b.rawDial(t)
	br := bufio.NewReader(c)
	say := func(line, want string) {
		t.Helper()
		c.Write([]byte(line + "\r\n"))
		got, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("after %q: %v", line, err)
		}
		if len(got) < len(want) || got[:len(want)] != want {
			t.Fatalf("after %q got %q, want %q", line, got, want)
		}
	}
	c.Write([]byte{0})
	say("AUTH", "REJECTED EXTERNAL")
	say("AUTH DBUS_COOKIE_SHA1 726f6f74", "REJECTED EXTERNAL")
	say("FROB", "ERROR")
	say("AUTH EXTERNAL", "DATA")
	say("DATA "+hex.EncodeToString([]byte(uid)), "OK ")
	say("NEGOTIATE_UNIX_FD", "AGREE_UNIX_FD")
	c.Write([]byte("BEGIN\r\n"))
	c.Write(helloBytes(t))
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	msg, err := dbus.DecodeMessage(br)
	if err != nil || msg.Type != dbus.TypeMethodReply {
		t.Fatalf("Hello reply: %v %v", msg, err)
	}
}

func TestAuthTimeout(t *testing.T) {
	b := startBus(t, func(c *Config) { c.Limits.AuthTimeout = 200 * time.Millisecond })
	c := b.rawDial(t)
	c.Write([]byte{0})
	expectClosed(t, c, nil)
}

func TestWrongPeerUIDRefused(t *testing.T) {
	b := startBus(t, func(c *Config) { c.UID = os.Getuid() + 4242 })
	c := b.rawDial(t)
	c.Write([]byte("\x00AUTH EXTERNAL " + hex.EncodeToString([]byte(strconv.Itoa(os.Getuid()))) + "\r\n"))
	expectClosed(t, c, nil)
	if !containsStr(b.logs.String(), "unexpected uid") {
		t.Errorf("refusal not logged: %s", b.logs.String())
	}
}
