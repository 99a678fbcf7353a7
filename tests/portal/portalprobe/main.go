// Command portalprobe runs inside a sandbox for the tests under
// tests/portal: it loads the sandbox's bus with godbus clients, and sends it
// the malformed input a hostile application could. It is built statically
// and handed in with --ro. Every subcommand prints one result line that the
// tests parse, and exits 0 when it could do what it was asked.
package main

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/godbus/dbus/v5"
)

const (
	portalName = "org.freedesktop.portal.Desktop"
	portalPath = dbus.ObjectPath("/org/freedesktop/portal/desktop")
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: portalprobe calls N | flood MARK STOP MIN | garbage | pipe | badframe | oversize | baduid | check")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "calls":
		n, _ := strconv.Atoi(arg(2))
		err = calls(n)
	case "flood":
		min, _ := strconv.Atoi(arg(4))
		err = flood(arg(2), arg(3), int64(min))
	case "garbage":
		err = garbage()
	case "pipe":
		err = pipe()
	case "badframe":
		err = badFrame()
	case "oversize":
		err = oversize()
	case "baduid":
		err = badUID()
	case "check":
		err = check()
	default:
		err = fmt.Errorf("unknown subcommand %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "portalprobe %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}

func arg(i int) string {
	if i < len(os.Args) {
		return os.Args[i]
	}
	return ""
}

func readOne(conn *dbus.Conn) error {
	var v dbus.Variant
	return conn.Object(portalName, portalPath).Call("org.freedesktop.portal.Settings.ReadOne", 0, "org.freedesktop.appearance", "color-scheme").Store(&v)
}

// calls fires n concurrent Settings.ReadOne calls on one connection and
// prints how many succeeded.
func calls(n int) error {
	conn, err := dbus.ConnectSessionBus()
	if err != nil {
		return err
	}
	defer conn.Close()
	var ok, bad atomic.Int64
	var firstErr atomic.Value
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			if err := readOne(conn); err != nil {
				bad.Add(1)
				firstErr.CompareAndSwap(nil, err.Error())
				return
			}
			ok.Add(1)
		}()
	}
	close(start)
	wg.Wait()
	fmt.Printf("ok=%d failed=%d first_error=%v\n", ok.Load(), bad.Load(), firstErr.Load())
	return nil
}

// flood calls ReadOne from 32 goroutines as fast as the broker answers,
// writes mark once it has made 2000 calls, and stops when stop exists and
// it has made at least min calls.
func flood(mark, stop string, min int64) error {
	conn, err := dbus.ConnectSessionBus()
	if err != nil {
		return err
	}
	defer conn.Close()
	var total, bad atomic.Int64
	var stopped atomic.Bool
	var marked sync.Once
	var wg sync.WaitGroup
	for i := 0; i < 32; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stopped.Load() {
				if err := readOne(conn); err != nil {
					bad.Add(1)
				}
				if total.Add(1) >= 2000 {
					marked.Do(func() { os.WriteFile(mark, []byte("flooding\n"), 0o644) })
				}
			}
		}()
	}
	for !stopped.Load() {
		if _, err := os.Stat(stop); err == nil && total.Load() >= min {
			stopped.Store(true)
		}
		time.Sleep(20 * time.Millisecond)
	}
	wg.Wait()
	fmt.Printf("calls=%d failed=%d\n", total.Load(), bad.Load())
	return nil
}

func socketPath() (string, error) {
	addr := os.Getenv("DBUS_SESSION_BUS_ADDRESS")
	p, ok := strings.CutPrefix(addr, "unix:path=")
	if !ok {
		return "", fmt.Errorf("unexpected bus address %q", addr)
	}
	if i := strings.IndexByte(p, ','); i >= 0 {
		p = p[:i]
	}
	return p, nil
}

func dial() (*net.UnixConn, error) {
	p, err := socketPath()
	if err != nil {
		return nil, err
	}
	c, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: p, Net: "unix"})
	if err != nil {
		return nil, err
	}
	// Only against hangs: the broker closes long before.
	c.SetDeadline(time.Now().Add(60 * time.Second))
	return c, nil
}

// waitClosed reads until the broker closes the connection and returns what
// it sent before closing.
func waitClosed(c *net.UnixConn) (string, error) {
	b, err := io.ReadAll(c)
	var ne net.Error
	if err != nil && errors.As(err, &ne) && ne.Timeout() {
		return string(b), fmt.Errorf("the broker did not close the connection")
	}
	// ECONNRESET also means closed.
	return string(b), nil
}

// garbage sends random bytes instead of the SASL handshake.
func garbage() error {
	c, err := dial()
	if err != nil {
		return err
	}
	defer c.Close()
	junk := make([]byte, 64<<10)
	rand.Read(junk)
	junk[0] = 0xff // not the credentials NUL
	c.Write(junk)
	got, err := waitClosed(c)
	if err != nil {
		return err
	}
	fmt.Printf("closed after garbage handshake, reply=%q\n", got)
	return nil
}

// pipe sends its standard input (for `printf ... | portalprobe pipe`)
// instead of the handshake.
func pipe() error {
	c, err := dial()
	if err != nil {
		return err
	}
	defer c.Close()
	in, err := io.ReadAll(os.Stdin)
	if err != nil {
		return err
	}
	c.Write(in)
	got, err := waitClosed(c)
	if err != nil {
		return err
	}
	fmt.Printf("closed after piped bytes, reply=%q\n", got)
	return nil
}

// handshake authenticates and says Hello by hand, returning the reader.
func handshake(c *net.UnixConn) (*bufio.Reader, error) {
	uid := strconv.Itoa(os.Getuid())
	if _, err := c.Write([]byte("\x00AUTH EXTERNAL " + hex.EncodeToString([]byte(uid)) + "\r\n")); err != nil {
		return nil, err
	}
	r := bufio.NewReader(c)
	line, err := r.ReadString('\n')
	if err != nil {
		return nil, fmt.Errorf("no reply to AUTH: %w", err)
	}
	if !strings.HasPrefix(line, "OK ") {
		return nil, fmt.Errorf("AUTH answered %q", line)
	}
	if _, err := c.Write([]byte("BEGIN\r\n")); err != nil {
		return nil, err
	}
	hello := &dbus.Message{Type: dbus.TypeMethodCall, Headers: map[dbus.HeaderField]dbus.Variant{
		dbus.FieldDestination: dbus.MakeVariant("org.freedesktop.DBus"),
		dbus.FieldPath:        dbus.MakeVariant(dbus.ObjectPath("/org/freedesktop/DBus")),
		dbus.FieldInterface:   dbus.MakeVariant("org.freedesktop.DBus"),
		dbus.FieldMember:      dbus.MakeVariant("Hello"),
	}}
	if err := writeMsg(c, hello, 1); err != nil {
		return nil, err
	}
	m, err := dbus.DecodeMessage(r)
	if err != nil {
		return nil, fmt.Errorf("no reply to Hello: %w", err)
	}
	if m.Type != dbus.TypeMethodReply {
		return nil, fmt.Errorf("answer to Hello has message type %d", m.Type)
	}
	return r, nil
}

func writeMsg(w io.Writer, m *dbus.Message, serial uint32) error {
	b, err := encode(m, serial)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// encode frames m little-endian with serial (godbus only sets serials
// through a Conn: patch the fixed header).
func encode(m *dbus.Message, serial uint32) ([]byte, error) {
	var b bytes.Buffer
	if err := m.EncodeTo(&b, binary.LittleEndian); err != nil {
		return nil, err
	}
	frame := b.Bytes()
	binary.LittleEndian.PutUint32(frame[8:], serial)
	return frame, nil
}

// badFrame authenticates properly, then sends a frame whose header is
// garbage.
func badFrame() error {
	c, err := dial()
	if err != nil {
		return err
	}
	defer c.Close()
	r, err := handshake(c)
	if err != nil {
		return err
	}
	// A fixed header that passes the size checks (no body, 256 bytes of
	// header fields) followed by random header fields.
	junk := make([]byte, 16+256)
	rand.Read(junk)
	copy(junk, []byte{'l', 1, 0, 1})
	binary.LittleEndian.PutUint32(junk[4:], 0)    // body length
	binary.LittleEndian.PutUint32(junk[8:], 2)    // serial
	binary.LittleEndian.PutUint32(junk[12:], 256) // header fields length
	c.Write(junk)
	if _, err := io.ReadAll(r); err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return fmt.Errorf("the broker did not close the connection")
		}
	}
	fmt.Println("closed after malformed frame")
	return nil
}

// oversize authenticates, then sends a call whose header declares a
// 200 MiB body.
func oversize() error {
	c, err := dial()
	if err != nil {
		return err
	}
	defer c.Close()
	r, err := handshake(c)
	if err != nil {
		return err
	}
	call := &dbus.Message{Type: dbus.TypeMethodCall, Headers: map[dbus.HeaderField]dbus.Variant{
		dbus.FieldDestination: dbus.MakeVariant(portalName),
		dbus.FieldPath:        dbus.MakeVariant(portalPath),
		dbus.FieldInterface:   dbus.MakeVariant("org.freedesktop.portal.Settings"),
		dbus.FieldMember:      dbus.MakeVariant("ReadAll"),
		dbus.FieldSignature:   dbus.MakeVariant(dbus.SignatureOf([]string{})),
	}, Body: []any{[]string{"x"}}}
	frame, err := encode(call, 2)
	if err != nil {
		return err
	}
	binary.LittleEndian.PutUint32(frame[4:], 200<<20) // declared body length
	c.Write(frame)
	// Start sending the body: the broker must not wait for, or buffer, it.
	c.Write(make([]byte, 1<<20))
	var replies int
	for {
		m, err := dbus.DecodeMessage(r)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return fmt.Errorf("the broker did not close the connection")
			}
			break
		}
		if m.Type == dbus.TypeMethodReply || m.Type == dbus.TypeError {
			replies++
		}
	}
	fmt.Printf("closed after oversize message, replies=%d\n", replies)
	return nil
}

// badUID claims another uid in AUTH EXTERNAL.
func badUID() error {
	c, err := dial()
	if err != nil {
		return err
	}
	defer c.Close()
	claim := strconv.Itoa(os.Getuid() + 1)
	c.Write([]byte("\x00AUTH EXTERNAL " + hex.EncodeToString([]byte(claim)) + "\r\n"))
	got, err := waitClosed(c)
	if err != nil {
		return err
	}
	fmt.Printf("closed after uid claim %s, reply=%q\n", claim, got)
	// Whatever it said, BEGIN after a refused claim must not give a bus.
	return nil
}

// check makes one ordinary call on a fresh connection.
func check() error {
	conn, err := dbus.ConnectSessionBus()
	if err != nil {
		return err
	}
	defer conn.Close()
	var v dbus.Variant
	if err := conn.Object(portalName, portalPath).Call("org.freedesktop.DBus.Properties.Get", 0, "org.freedesktop.portal.Settings", "version").Store(&v); err != nil {
		return err
	}
	fmt.Printf("version=%v\n", v.Value())
	return nil
}
