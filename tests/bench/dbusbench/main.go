// Command dbusbench measures small D-Bus method calls: through Airlock's
// mediated channel (the broker answers org.freedesktop.portal.Settings on the
// sandbox's own bus) and through its anchor, xdg-dbus-proxy --filter in front
// of a dbus-daemon and a small godbus service that answers the same method on
// the same name and path. tests/bench/dbus.sh runs every part; the client
// runs inside an Airlock sandbox in every case. It prints figures as
// key=value lines; it asserts nothing.
//
//	dbusbench svc -addr ADDRESS [-name NAME]     serve Settings.ReadOne as NAME, print "ready"
//	dbusbench bench [-addr A|-sock PATH] ...     latency (sequential) and throughput (concurrent)
//	dbusbench hold [-addr A|-sock PATH] [-max D] connect, make one call, print "ready", stay connected
//	dbusbench probe [-addr A|-sock PATH] -dest N exit 0 if N answers Peer.Ping
//
// Without -addr or -sock, clients use $DBUS_SESSION_BUS_ADDRESS (inside an
// Airlock sandbox: the broker's bus). -sock PATH is a socket path
// (unix:path=PATH); dbus.sh exposes the anchor's sockets to the sandbox at
// their host paths through the sandbox's profile.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"sort"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/godbus/dbus/v5"
)

// The call every case makes: Settings.ReadOne on the portal's name and path,
// which is what GTK and Qt ask a portal first, and which needs no user
// interaction. The broker answers it itself; the anchor service answers it
// with the same value.
const (
	portalName    = "org.freedesktop.portal.Desktop"
	portalPath    = dbus.ObjectPath("/org/freedesktop/portal/desktop")
	settingsIface = "org.freedesktop.portal.Settings"
	namespace     = "org.freedesktop.appearance"
	key           = "color-scheme"
)

func die(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "dbusbench: "+format+"\n", a...)
	os.Exit(1)
}

// address picks the bus: -addr, else -sock as unix:path=, else the session bus.
func address(addr, sock string) string {
	switch {
	case addr != "":
		return addr
	case sock != "":
		return "unix:path=" + sock
	}
	if a := os.Getenv("DBUS_SESSION_BUS_ADDRESS"); a != "" {
		return a
	}
	die("no bus: give -addr or -sock, or set DBUS_SESSION_BUS_ADDRESS")
	return ""
}

// connect retries for a few seconds while the socket is not yet listening:
// xdg-dbus-proxy creates its socket file before it calls listen(2).
func connect(addr string) *dbus.Conn {
	deadline := time.Now().Add(5 * time.Second)
	for {
		conn, err := dbus.Connect(addr)
		if err == nil {
			return conn
		}
		if !errors.Is(err, syscall.ECONNREFUSED) || time.Now().After(deadline) {
			die("cannot connect to %s: %v", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// readOne makes one call and checks the answer is a uint32 variant.
func readOne(obj dbus.BusObject) error {
	var v dbus.Variant
	if err := obj.Call(settingsIface+".ReadOne", 0, namespace, key).Store(&v); err != nil {
		return err
	}
	if _, ok := v.Value().(uint32); !ok {
		return fmt.Errorf("ReadOne returned %s, want a uint32", v.Signature())
	}
	return nil
}

// settings is the anchor's service: the same method, the same value.
type settings struct{}

func (settings) ReadOne(ns, k string) (dbus.Variant, *dbus.Error) {
	if ns != namespace || k != key {
		return dbus.Variant{}, dbus.NewError("org.freedesktop.portal.Error.NotFound", []any{"Requested setting not found"})
	}
	return dbus.MakeVariant(uint32(0)), nil
}

func svc(args []string) {
	fs := flag.NewFlagSet("svc", flag.ExitOnError)
	addr := fs.String("addr", "", "bus address")
	name := fs.String("name", portalName, "well-known name to own")
	fs.Parse(args)
	conn := connect(address(*addr, ""))
	defer conn.Close()
	// Export before RequestName, and insist on owning the name (snapd userd.go).
	if err := conn.Export(settings{}, portalPath, settingsIface); err != nil {
		die("cannot export: %v", err)
	}
	reply, err := conn.RequestName(*name, dbus.NameFlagDoNotQueue)
	if err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		die("cannot own %s: reply=%v err=%v", *name, reply, err)
	}
	fmt.Println("ready")
	waitSignal(0)
}

// waitSignal returns on SIGTERM/SIGINT, or after max (0: never times out).
func waitSignal(max time.Duration) {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	if max <= 0 {
		<-sig
		return
	}
	select {
	case <-sig:
	case <-time.After(max):
	}
}

func us(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e3 }

func bench(args []string) {
	fs := flag.NewFlagSet("bench", flag.ExitOnError)
	addr := fs.String("addr", "", "bus address")
	sock := fs.String("sock", "", "bus socket path")
	n := fs.Int("n", 2000, "sequential calls measured for latency")
	warm := fs.Int("warmup", 200, "sequential calls before measuring")
	conc := fs.Int("conc", 8, "concurrent callers (one connection each) for throughput")
	dur := fs.Duration("dur", 2*time.Second, "throughput measuring time")
	fs.Parse(args)
	a := address(*addr, *sock)

	// Latency: one connection, one call at a time.
	conn := connect(a)
	obj := conn.Object(portalName, portalPath)
	total := 0
	for i := 0; i < *warm; i++ {
		if err := readOne(obj); err != nil {
			die("ReadOne: %v", err)
		}
	}
	lat := make([]time.Duration, *n)
	start := time.Now()
	for i := range lat {
		t := time.Now()
		if err := readOne(obj); err != nil {
			die("ReadOne: %v", err)
		}
		lat[i] = time.Since(t)
	}
	el := time.Since(start)
	conn.Close()
	total += *warm + *n
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	fmt.Printf("latency calls=%d p10_us=%.1f p50_us=%.1f p90_us=%.1f p99_us=%.1f mean_us=%.1f\n",
		*n, us(lat[*n/10]), us(lat[*n/2]), us(lat[*n*9/10]), us(lat[*n*99/100]), us(el)/float64(*n))

	// Throughput: conc connections, each calling in a loop; a short
	// unmeasured phase first so that every connection is warm.
	conns := make([]*dbus.Conn, *conc)
	for i := range conns {
		conns[i] = connect(a)
	}
	var measuring atomic.Bool
	var stop atomic.Bool
	counts := make([]int64, *conc)
	var all int64
	var wg sync.WaitGroup
	for i, c := range conns {
		wg.Add(1)
		go func(i int, o dbus.BusObject) {
			defer wg.Done()
			for !stop.Load() {
				if err := readOne(o); err != nil {
					die("ReadOne (caller %d): %v", i, err)
				}
				atomic.AddInt64(&all, 1)
				if measuring.Load() {
					counts[i]++
				}
			}
		}(i, c.Object(portalName, portalPath))
	}
	time.Sleep(*dur / 5)
	measuring.Store(true)
	t0 := time.Now()
	time.Sleep(*dur)
	measuring.Store(false)
	el = time.Since(t0)
	stop.Store(true)
	wg.Wait()
	for _, c := range conns {
		c.Close()
	}
	var sum int64
	minC := counts[0]
	for _, c := range counts {
		sum += c
		minC = min(minC, c)
	}
	total += int(all)
	fmt.Printf("throughput callers=%d calls=%d seconds=%.3f calls_per_s=%.0f slowest_caller_share=%.2f\n",
		*conc, sum, el.Seconds(), float64(sum)/el.Seconds(), float64(minC)*float64(*conc)/float64(max(sum, 1)))
	fmt.Printf("total calls_made=%d\n", total)
}

// hold is a connected, idle client: what a running application looks like
// to the broker (a unique name, a match rule, one answered call).
func hold(args []string) {
	fs := flag.NewFlagSet("hold", flag.ExitOnError)
	addr := fs.String("addr", "", "bus address")
	sock := fs.String("sock", "", "bus socket path")
	maxLife := fs.Duration("max", 3*time.Minute, "exit after this long even if nobody stops us")
	fs.Parse(args)
	conn := connect(address(*addr, *sock))
	defer conn.Close()
	if err := conn.AddMatchSignal(dbus.WithMatchInterface(settingsIface), dbus.WithMatchMember("SettingChanged")); err != nil {
		die("AddMatch: %v", err)
	}
	// The real portal may not know the key (its answer depends on the
	// backend): any reply, error included, is a completed round trip.
	if err := readOne(conn.Object(portalName, portalPath)); err != nil {
		if _, ok := err.(dbus.Error); !ok {
			die("ReadOne: %v", err)
		}
	}
	fmt.Println("ready")
	waitSignal(*maxLife)
}

func probe(args []string) {
	fs := flag.NewFlagSet("probe", flag.ExitOnError)
	addr := fs.String("addr", "", "bus address")
	sock := fs.String("sock", "", "bus socket path")
	dest := fs.String("dest", portalName, "name to ping")
	fs.Parse(args)
	conn := connect(address(*addr, *sock))
	defer conn.Close()
	if err := conn.Object(*dest, "/").Call("org.freedesktop.DBus.Peer.Ping", 0).Err; err != nil {
		fmt.Fprintf(os.Stderr, "dbusbench: %s does not answer: %v\n", *dest, err)
		os.Exit(1)
	}
}

func main() {
	if len(os.Args) < 2 {
		die("usage: dbusbench svc|bench|hold|probe [flags]")
	}
	switch os.Args[1] {
	case "svc":
		svc(os.Args[2:])
	case "bench":
		bench(os.Args[2:])
	case "hold":
		hold(os.Args[2:])
	case "probe":
		probe(os.Args[2:])
	default:
		die("unknown subcommand %q", os.Args[1])
	}
}
