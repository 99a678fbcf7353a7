// Command floodbench floods a sandbox's bus the ways issue 8 found to
// exhaust the broker that every sandbox shares, and measures what another
// sandbox sees meanwhile. tests/bench/flood.sh runs it inside Airlock
// sandboxes; it prints figures as key=value lines and asserts nothing.
//
//	floodbench victim [-n N] [-warmup W]      Settings.ReadOne latency (p50) on the session bus
//	floodbench flood -mode M [-conns K] [-size B] [-rules R] [-max D]
//	    struct     big messages with an array of (yy) structs
//	    variant    big messages with an array of variants (bytes)
//	    broadcast  small broadcast signals against R match rules
//	    log        calls to a name that is not on the bus (each one refused and logged)
//
// The flooder speaks the wire protocol itself (a raw socket, SASL EXTERNAL,
// Hello, then prepared frames as fast as the socket takes them), so that
// the client's own encoding is not what limits the flood. A connection the
// broker closes is opened again.
package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/godbus/dbus/v5"
)

const (
	portalName    = "org.freedesktop.portal.Desktop"
	portalPath    = dbus.ObjectPath("/org/freedesktop/portal/desktop")
	settingsIface = "org.freedesktop.portal.Settings"
)

func die(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "floodbench: "+format+"\n", a...)
	os.Exit(1)
}

func busPath() string {
	a := os.Getenv("DBUS_SESSION_BUS_ADDRESS")
	p, ok := strings.CutPrefix(a, "unix:path=")
	if !ok {
		die("DBUS_SESSION_BUS_ADDRESS %q is not unix:path=", a)
	}
	p, _, _ = strings.Cut(p, ",")
	return p
}

func us(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e3 }

func victim(args []string) {
	fs := flag.NewFlagSet("victim", flag.ExitOnError)
	n := fs.Int("n", 2000, "calls measured")
	warm := fs.Int("warmup", 200, "calls before measuring")
	fs.Parse(args)
	conn, err := dbus.ConnectSessionBus()
	if err != nil {
		die("cannot connect: %v", err)
	}
	defer conn.Close()
	obj := conn.Object(portalName, portalPath)
	call := func() {
		var v dbus.Variant
		if err := obj.Call(settingsIface+".ReadOne", 0, "org.freedesktop.appearance", "color-scheme").Store(&v); err != nil {
			die("ReadOne: %v", err)
		}
	}
	for i := 0; i < *warm; i++ {
		call()
	}
	lat := make([]time.Duration, *n)
	for i := range lat {
		t := time.Now()
		call()
		lat[i] = time.Since(t)
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	fmt.Printf("latency calls=%d p10_us=%.1f p50_us=%.1f p90_us=%.1f p99_us=%.1f\n",
		*n, us(lat[*n/10]), us(lat[*n/2]), us(lat[*n*9/10]), us(lat[*n*99/100]))
}

// rawConn is an authenticated connection that has said Hello.
type rawConn struct {
	c  *net.UnixConn
	br *bufio.Reader
}

func dial(path string) (*rawConn, error) {
	c, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, err
	}
	uid := hex.EncodeToString([]byte(strconv.Itoa(os.Getuid())))
	if _, err := c.Write([]byte("\x00AUTH EXTERNAL " + uid + "\r\n")); err != nil {
		c.Close()
		return nil, err
	}
	br := bufio.NewReader(c)
	line, err := br.ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "OK ") {
		c.Close()
		return nil, fmt.Errorf("authentication refused: %q %v", line, err)
	}
	if _, err := c.Write([]byte("BEGIN\r\n")); err != nil {
		c.Close()
		return nil, err
	}
	hello := encode(&dbus.Message{Type: dbus.TypeMethodCall, Headers: map[dbus.HeaderField]dbus.Variant{
		dbus.FieldDestination: dbus.MakeVariant("org.freedesktop.DBus"),
		dbus.FieldPath:        dbus.MakeVariant(dbus.ObjectPath("/org/freedesktop/DBus")),
		dbus.FieldInterface:   dbus.MakeVariant("org.freedesktop.DBus"),
		dbus.FieldMember:      dbus.MakeVariant("Hello"),
	}})
	if _, err := c.Write(hello); err != nil {
		c.Close()
		return nil, err
	}
	return &rawConn{c: c, br: br}, nil
}

// encode encodes msg with serial 1 (the bus does not care that a flood's
// serials repeat).
func encode(msg *dbus.Message) []byte {
	if len(msg.Body) > 0 {
		msg.Headers[dbus.FieldSignature] = dbus.MakeVariant(dbus.SignatureOf(msg.Body...))
	}
	var b bytes.Buffer
	if _, err := msg.EncodeToWithFDs(&b, binary.LittleEndian); err != nil {
		die("cannot encode: %v", err)
	}
	raw := b.Bytes()
	binary.LittleEndian.PutUint32(raw[8:12], 1)
	return raw
}

func signal_(body ...any) []byte {
	return encode(&dbus.Message{Type: dbus.TypeSignal, Headers: map[dbus.HeaderField]dbus.Variant{
		dbus.FieldPath:      dbus.MakeVariant(dbus.ObjectPath("/org/example/Flood")),
		dbus.FieldInterface: dbus.MakeVariant("org.example.Flood"),
		dbus.FieldMember:    dbus.MakeVariant("Storm"),
	}, Body: body})
}

func addMatch(rule string) []byte {
	return encode(&dbus.Message{Type: dbus.TypeMethodCall, Flags: dbus.FlagNoReplyExpected, Headers: map[dbus.HeaderField]dbus.Variant{
		dbus.FieldDestination: dbus.MakeVariant("org.freedesktop.DBus"),
		dbus.FieldPath:        dbus.MakeVariant(dbus.ObjectPath("/org/freedesktop/DBus")),
		dbus.FieldInterface:   dbus.MakeVariant("org.freedesktop.DBus"),
		dbus.FieldMember:      dbus.MakeVariant("AddMatch"),
	}, Body: []any{rule}})
}

func frame(mode string, size int) []byte {
	switch mode {
	case "struct":
		type pair struct{ A, B byte }
		return signal_(make([]pair, size/8))
	case "variant":
		av := make([]dbus.Variant, size/4)
		for i := range av {
			av[i] = dbus.MakeVariant(byte(1))
		}
		return signal_(av)
	case "broadcast":
		return signal_("storm")
	case "log":
		return encode(&dbus.Message{Type: dbus.TypeMethodCall, Flags: dbus.FlagNoReplyExpected, Headers: map[dbus.HeaderField]dbus.Variant{
			dbus.FieldDestination: dbus.MakeVariant("org.example.NotOnThisBus"),
			dbus.FieldPath:        dbus.MakeVariant(dbus.ObjectPath("/org/example/Nothing")),
			dbus.FieldInterface:   dbus.MakeVariant("org.example.Nothing"),
			dbus.FieldMember:      dbus.MakeVariant("Refused"),
		}, Body: []any{strings.Repeat("x", 200)}})
	}
	die("unknown mode %q", mode)
	return nil
}

func flood(args []string) {
	fs := flag.NewFlagSet("flood", flag.ExitOnError)
	mode := fs.String("mode", "", "struct, variant, broadcast or log")
	conns := fs.Int("conns", 4, "flooding connections")
	size := fs.Int("size", 1<<20-512, "message size for struct and variant")
	rules := fs.Int("rules", 500, "match rules (broadcast), on listening connections of 500 each")
	maxLife := fs.Duration("max", 2*time.Minute, "stop after this long")
	mark := fs.String("mark", "", "create this file once the flood is under way (10 messages written and a connection closed by the broker, or 1000 written)")
	fs.Parse(args)
	path := busPath()
	msg := frame(*mode, *size)
	var sent, reconnects atomic.Int64
	var stop atomic.Bool
	if *mode == "broadcast" {
		// Listeners holding the rules: none matches a Storm signal, so
		// each signal is matched against every rule and delivered to none.
		for l := 0; l*500 < *rules; l++ {
			rc, err := dial(path)
			if err != nil {
				die("listener: %v", err)
			}
			go io.Copy(io.Discard, rc.br)
			for i := l * 500; i < min(*rules, (l+1)*500); i++ {
				rc.c.Write(addMatch(fmt.Sprintf("type='signal',interface='org.example.Flood',arg0='nomatch%d'", i)))
			}
		}
	}
	var markOnce sync.Once
	markIt := func() {
		if *mark != "" {
			os.WriteFile(*mark, nil, 0o644)
		}
	}
	var wg sync.WaitGroup
	for k := 0; k < *conns; k++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				rc, err := dial(path)
				if err != nil {
					reconnects.Add(1)
					time.Sleep(10 * time.Millisecond)
					continue
				}
				go io.Copy(io.Discard, rc.br)
				for !stop.Load() {
					if _, err := rc.c.Write(msg); err != nil {
						break
					}
					if n := sent.Add(1); n == 1000 {
						markOnce.Do(markIt)
					}
				}
				rc.c.Close()
				reconnects.Add(1)
				if sent.Load() >= 10 {
					markOnce.Do(markIt)
				}
			}
		}()
	}
	fmt.Printf("flooding mode=%s conns=%d message_bytes=%d\n", *mode, *conns, len(msg))
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	select {
	case <-sig:
	case <-time.After(*maxLife):
	}
	stop.Store(true)
	fmt.Printf("flooded mode=%s sent=%d reconnects=%d\n", *mode, sent.Load(), reconnects.Load())
}

func main() {
	if len(os.Args) < 2 {
		die("usage: floodbench victim|flood [flags]")
	}
	switch os.Args[1] {
	case "victim":
		victim(os.Args[2:])
	case "flood":
		flood(os.Args[2:])
	default:
		die("unknown subcommand %q", os.Args[1])
	}
}
