package broker

import (
	"airlock/portal/control/fdtest"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
	"golang.org/x/sys/unix"

	"airlock/portal/busserver"
	"airlock/portal/control"
)

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// clientConn is a bus connection: the broker's end as a *net.UnixConn and
// the application's raw descriptor.
func clientConn(t *testing.T) (*net.UnixConn, int) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	f := os.NewFile(uintptr(fds[0]), "broker-end")
	c, err := net.FileConn(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(); unix.Close(fds[1]) })
	return c.(*net.UnixConn), fds[1]
}

func hung(fd int) bool {
	pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLRDHUP}}
	n, err := unix.Poll(pfd, 0)
	return err == nil && n > 0 && pfd[0].Revents&(unix.POLLHUP|unix.POLLRDHUP) != 0
}

// recv reads the next record the keeper sent, or fails.
func recv(t *testing.T, f *os.File) (control.ConnRecord, *os.File) {
	t.Helper()
	f.SetReadDeadline(time.Now().Add(5 * time.Second))
	rec, cf, err := control.RecvRecord(f)
	if err != nil {
		t.Fatalf("no record from the keeper: %v", err)
	}
	return rec, cf
}

// none checks the keeper sent nothing (more).
func none(t *testing.T, f *os.File) {
	t.Helper()
	f.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if rec, cf, err := control.RecvRecord(f); !errors.Is(err, os.ErrDeadlineExceeded) {
		if cf != nil {
			cf.Close()
		}
		t.Errorf("the keeper sent %+v (fd %v, err %v), want nothing", rec, cf != nil, err)
	}
}

// TestKeeperRecords: the records built from busserver.ConnState carry all
// of it; the descriptor goes with the first only, and is the connection's
// socket.
func TestKeeperRecords(t *testing.T) {
	for _, st := range []busserver.ConnState{
		{Unique: ":1.1"},
		{Unique: ":1.2", UnixFD: true},
		{Unique: ":1.3", Matches: []string{"type='signal'", "type='signal',sender='org.example.A',path='/a'"}},
		{Unique: ":1.4", Names: map[string]bool{"org.example.A": true, "org.example.B": false}},
		{Unique: ":1.5", Matches: []string{"type='method_call'"}, Names: map[string]bool{"org.example.C": false}, UnixFD: true},
	} {
		t.Run(st.Unique, func(t *testing.T) {
			launcher, theirs, err := control.KeepPair()
			if err != nil {
				t.Fatal(err)
			}
			defer launcher.Close()
			k := newKeeper(quietLog(), theirs)
			defer k.Close()
			uc, app := clientConn(t)
			want := control.ConnRecord{Op: control.OpKeep, Unique: st.Unique, Matches: st.Matches, Names: st.Names, UnixFD: st.UnixFD}

			k.Keep(uc, st)
			rec, cf := recv(t, launcher)
			if !reflect.DeepEqual(rec, want) {
				t.Errorf("first record %+v, want %+v", rec, want)
			}
			if cf == nil {
				t.Fatal("the first record carries no descriptor")
			}
			if got, w := fdtest.ConnID(t, cf), fdtest.ConnID(t, uc); got != w {
				t.Errorf("descriptor sent is dev/ino %v, the connection's %v", got, w)
			}
			// The launcher's copy keeps the connection open without the
			// broker's.
			uc.Close()
			if hung(app) {
				t.Error("the connection ended with the broker's descriptor although the launcher holds one")
			}
			cf.Close()
			if !hung(app) {
				t.Error("the connection outlived every descriptor of it")
			}

			// Later changes: state only.
			uc2, _ := clientConn(t)
			st2 := st
			st2.Matches = append(append([]string(nil), st.Matches...), "type='signal',member='Later'")
			k.Keep(uc2, st2)
			rec, cf = recv(t, launcher)
			if cf != nil {
				cf.Close()
				t.Error("a state update carries a descriptor again")
			}
			if !reflect.DeepEqual(rec.Matches, st2.Matches) || rec.Op != control.OpKeep || rec.Unique != st.Unique {
				t.Errorf("update %+v, want the new rules", rec)
			}

			k.Forget(st.Unique)
			if rec, cf = recv(t, launcher); rec.Op != control.OpDrop || rec.Unique != st.Unique || cf != nil {
				t.Errorf("Forget sent %+v (fd %v), want a drop record without descriptor", rec, cf != nil)
			}
			// Once forgotten, nothing more to drop...
			k.Forget(st.Unique)
			none(t, launcher)
			// ...and a connection of that name is new again: descriptor.
			k.Keep(uc2, st)
			if rec, cf = recv(t, launcher); cf == nil || rec.Op != control.OpKeep {
				t.Errorf("after Forget, Keep sent %+v (fd %v), want a record with the descriptor", rec, cf != nil)
			}
			if cf != nil {
				cf.Close()
			}
			// Forget of a connection never kept sends nothing.
			k.Forget(":1.999")
			none(t, launcher)
		})
	}
}

// TestKeeperTooBig: a state over MaxRecord makes the launcher let go of a
// held connection (drop record), and is no reason to stop keeping the
// others.
func TestKeeperTooBig(t *testing.T) {
	launcher, theirs, err := control.KeepPair()
	if err != nil {
		t.Fatal(err)
	}
	defer launcher.Close()
	k := newKeeper(quietLog(), theirs)
	defer k.Close()
	huge := []string{strings.Repeat("m", control.MaxRecord)}

	// Never held: nothing is sent.
	uc1, _ := clientConn(t)
	k.Keep(uc1, busserver.ConnState{Unique: ":1.1", Matches: huge})
	none(t, launcher)

	// Held, then too big: dropped.
	uc2, _ := clientConn(t)
	k.Keep(uc2, busserver.ConnState{Unique: ":1.2"})
	if _, cf := recv(t, launcher); cf != nil {
		cf.Close()
	}
	k.Keep(uc2, busserver.ConnState{Unique: ":1.2", Matches: huge})
	if rec, cf := recv(t, launcher); rec.Op != control.OpDrop || rec.Unique != ":1.2" || cf != nil {
		t.Errorf("too big a state of a held connection sent %+v, want its drop", rec)
	}
	none(t, launcher)
	k.mu.Lock()
	if k.broken || k.held[":1.2"] {
		t.Errorf("after a too-big state: broken %v, held %v; want a working keeper not holding :1.2", k.broken, k.held)
	}
	k.mu.Unlock()

	// The state fits again: kept again, with its descriptor.
	k.Keep(uc2, busserver.ConnState{Unique: ":1.2", Matches: []string{"small"}})
	rec, cf := recv(t, launcher)
	if cf == nil || rec.Unique != ":1.2" || len(rec.Matches) != 1 {
		t.Errorf("a fitting state again sent %+v (fd %v), want it with the descriptor", rec, cf != nil)
	}
	if cf != nil {
		cf.Close()
	}
	// Others are kept all along.
	uc3, _ := clientConn(t)
	k.Keep(uc3, busserver.ConnState{Unique: ":1.3"})
	if rec, cf := recv(t, launcher); cf == nil || rec.Unique != ":1.3" {
		t.Errorf("another connection after a too-big state: %+v (fd %v)", rec, cf != nil)
	} else {
		cf.Close()
	}
}

// TestKeeperLauncherGone: when the launcher's end fails (closed, or stuck
// reading), the keeper stops trying: later changes cost nothing.
func TestKeeperLauncherGone(t *testing.T) {
	t.Run("closed", func(t *testing.T) {
		launcher, theirs, err := control.KeepPair()
		if err != nil {
			t.Fatal(err)
		}
		k := newKeeper(quietLog(), theirs)
		defer k.Close()
		uc, _ := clientConn(t)
		launcher.Close()
		k.Keep(uc, busserver.ConnState{Unique: ":1.1"})
		k.mu.Lock()
		if !k.broken || k.held[":1.1"] {
			t.Errorf("after a failed send: broken %v, held %v", k.broken, k.held)
		}
		k.mu.Unlock()
	})
	t.Run("stuck", func(t *testing.T) {
		launcher, theirs, err := control.KeepPair()
		if err != nil {
			t.Fatal(err)
		}
		defer launcher.Close()
		k := newKeeper(quietLog(), theirs)
		defer k.Close()
		uc, _ := clientConn(t)
		k.Keep(uc, busserver.ConnState{Unique: ":1.1"})
		// Fill the channel: the launcher reads nothing more.
		b := make([]byte, 16<<10)
		raw, _ := theirs.SyscallConn()
		for full := false; !full; {
			raw.Control(func(s uintptr) {
				if err := unix.Sendmsg(int(s), b, nil, nil, unix.MSG_DONTWAIT); errors.Is(err, unix.EAGAIN) {
					full = true
				} else if err != nil {
					t.Fatal(err)
				}
			})
		}
		start := time.Now()
		k.Keep(uc, busserver.ConnState{Unique: ":1.1", Matches: []string{"x"}})
		el := time.Since(start)
		if el < keepTimeout/2 || el > 4*keepTimeout {
			t.Errorf("Keep on a stuck launcher took %v, want about keepTimeout (%v) per send", el, keepTimeout)
		}
		k.mu.Lock()
		broken := k.broken
		k.mu.Unlock()
		if !broken {
			t.Fatal("the keeper still tries a stuck launcher")
		}
		start = time.Now()
		k.Keep(uc, busserver.ConnState{Unique: ":1.1", Matches: []string{"y"}})
		k.Forget(":1.1")
		uc2, _ := clientConn(t)
		k.Keep(uc2, busserver.ConnState{Unique: ":1.2"})
		if el := time.Since(start); el > keepTimeout/4 {
			t.Errorf("later changes waited %v on a broken channel", el)
		}
	})
	t.Run("connection closed already", func(t *testing.T) {
		launcher, theirs, err := control.KeepPair()
		if err != nil {
			t.Fatal(err)
		}
		defer launcher.Close()
		k := newKeeper(quietLog(), theirs)
		defer k.Close()
		uc, _ := clientConn(t)
		uc.Close()
		k.Keep(uc, busserver.ConnState{Unique: ":1.1"})
		none(t, launcher)
		k.mu.Lock()
		if k.broken {
			t.Error("a connection that closed broke the keeper")
		}
		k.mu.Unlock()
	})
	t.Run("after Close", func(t *testing.T) {
		launcher, theirs, err := control.KeepPair()
		if err != nil {
			t.Fatal(err)
		}
		defer launcher.Close()
		k := newKeeper(quietLog(), theirs)
		k.Close()
		uc, _ := clientConn(t)
		k.Keep(uc, busserver.ConnState{Unique: ":1.1"})
		k.Forget(":1.1")
		launcher.SetReadDeadline(time.Now().Add(time.Second))
		if _, cf, err := control.RecvRecord(launcher); !errors.Is(err, io.EOF) {
			t.Errorf("after Close, the launcher reads %v, %v, want EOF", cf, err)
		}
	})
}

// sentConn is a connection a launcher hands back in Resume.
type sentConn struct {
	rec control.ConnRecord
	// kind: "conn" a connected stream socket, "none" no descriptor,
	// "pipe", "listener", "dgram", "raw" (data is sent as is).
	kind string
	data string
}

// TestReadKept: the records a launcher hands back in Resume are checked
// before anything is adopted; on any fault nothing is kept open.
func TestReadKept(t *testing.T) {
	fdtest.WarmUp(t)
	keep := func(u string) control.ConnRecord {
		return control.ConnRecord{Op: control.OpKeep, Unique: u, Matches: []string{"type='signal'"}, Names: map[string]bool{"org.example." + u[3:]: true}, UnixFD: true}
	}
	for _, tc := range []struct {
		name  string
		n     uint32
		sent  []sentConn
		close bool // the launcher's end closes after sending
		ok    bool
	}{
		{"none", 0, nil, false, true},
		{"two connections", 2, []sentConn{{keep(":1.1"), "conn", ""}, {keep(":1.2"), "conn", ""}}, false, true},
		{"more sent than announced", 1, []sentConn{{keep(":1.1"), "conn", ""}, {keep(":1.2"), "conn", ""}}, false, true},
		{"fewer than announced", 3, []sentConn{{keep(":1.1"), "conn", ""}, {keep(":1.2"), "conn", ""}}, true, false},
		{"a drop record", 2, []sentConn{{keep(":1.1"), "conn", ""}, {control.ConnRecord{Op: control.OpDrop, Unique: ":1.2"}, "conn", ""}}, false, false},
		{"an unknown op", 1, []sentConn{{control.ConnRecord{Op: "adopt", Unique: ":1.1"}, "conn", ""}}, false, false},
		{"keep without descriptor", 2, []sentConn{{keep(":1.1"), "conn", ""}, {keep(":1.2"), "none", ""}}, false, false},
		{"a pipe", 2, []sentConn{{keep(":1.1"), "conn", ""}, {keep(":1.2"), "pipe", ""}}, false, false},
		{"a listening socket", 2, []sentConn{{keep(":1.1"), "conn", ""}, {keep(":1.2"), "listener", ""}}, false, false},
		{"a datagram socket", 1, []sentConn{{keep(":1.1"), "dgram", ""}}, false, false},
		{"bad JSON", 2, []sentConn{{keep(":1.1"), "conn", ""}, {control.ConnRecord{}, "raw", `{"op":`}}, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := fdtest.OpenFDs(t)
			launcher, theirs, err := control.KeepPair()
			if err != nil {
				t.Fatal(err)
			}
			var apps []int // the application ends of sent connections
			var ids [][2]uint64
			for _, s := range tc.sent {
				fd := -1
				var closers []func()
				switch s.kind {
				case "conn", "raw":
					fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
					if err != nil {
						t.Fatal(err)
					}
					fd = fds[0]
					apps = append(apps, fds[1])
					ids = append(ids, fdtest.ID(t, fd))
					closers = append(closers, func() { unix.Close(fds[0]) })
				case "dgram":
					fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
					if err != nil {
						t.Fatal(err)
					}
					fd = fds[0]
					closers = append(closers, func() { unix.Close(fds[0]); unix.Close(fds[1]) })
				case "pipe":
					var p [2]int
					if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
						t.Fatal(err)
					}
					fd = p[0]
					closers = append(closers, func() { unix.Close(p[0]); unix.Close(p[1]) })
				case "listener":
					fd, err = unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
					if err != nil {
						t.Fatal(err)
					}
					if err := unix.Bind(fd, &unix.SockaddrUnix{Name: "@airlock-test-" + t.Name()}); err != nil {
						t.Fatal(err)
					}
					if err := unix.Listen(fd, 1); err != nil {
						t.Fatal(err)
					}
					lfd := fd
					closers = append(closers, func() { unix.Close(lfd) })
				}
				if s.kind == "raw" {
					raw, _ := launcher.SyscallConn()
					raw.Control(func(k uintptr) {
						if err := unix.Sendmsg(int(k), []byte(s.data), unix.UnixRights(fd), nil, 0); err != nil {
							t.Fatal(err)
						}
					})
				} else if err := control.SendRecord(launcher, s.rec, fd, time.Second); err != nil {
					t.Fatal(err)
				}
				for _, c := range closers {
					c()
				}
			}
			if tc.close {
				launcher.Close()
			}
			got, err := readKept(theirs, tc.n)
			if tc.ok {
				if err != nil {
					t.Fatalf("readKept: %v", err)
				}
				if len(got) != int(tc.n) {
					t.Fatalf("readKept: %d connections, want %d", len(got), tc.n)
				}
				for i, a := range got {
					r := tc.sent[i].rec
					want := busserver.ConnState{Unique: r.Unique, Matches: r.Matches, Names: r.Names, UnixFD: r.UnixFD}
					if !reflect.DeepEqual(a.st, want) {
						t.Errorf("connection %d: state %+v, want %+v", i, a.st, want)
					}
					if id := fdtest.ConnID(t, a.uc); id != ids[i] {
						t.Errorf("connection %d: socket %v, sent %v", i, id, ids[i])
					}
					a.uc.Close()
				}
			} else {
				if err == nil {
					for _, a := range got {
						a.uc.Close()
					}
					t.Fatalf("readKept accepted it: %d connections", len(got))
				}
				if got != nil {
					t.Errorf("readKept returned connections with an error")
				}
			}
			// Every connection read and not used is closed.
			launcher.Close()
			theirs.Close()
			for i, app := range apps {
				if !hung(app) {
					t.Errorf("connection %d sent is still open in the broker", i)
				}
				unix.Close(app)
			}
			if after := fdtest.OpenFDs(t); after != before {
				t.Errorf("%d descriptors open, %d before", after, before)
			}
		})
	}
}

// TestResumeRefusesBadKeep: Resume owns both descriptors and refuses a
// keep channel that is not a seqpacket socket before anything else (no
// host bus needed to get there).
func TestResumeRefusesBadKeep(t *testing.T) {
	fdtest.WarmUp(t)
	dir := t.TempDir()
	b := New(quietLog(), nil, nil, nil, nil)
	for _, tc := range []struct {
		name string
		keep func(t *testing.T) int
	}{
		{"regular file", func(t *testing.T) int {
			fd, err := unix.Open(filepath.Join(dir, "f"), unix.O_RDWR|unix.O_CREAT|unix.O_CLOEXEC, 0o600)
			if err != nil {
				t.Fatal(err)
			}
			return fd
		}},
		{"stream socket", func(t *testing.T) int {
			fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
			if err != nil {
				t.Fatal(err)
			}
			unix.Close(fds[1])
			return fds[0]
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := fdtest.OpenFDs(t)
			ln, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
			if err != nil {
				t.Fatal(err)
			}
			kfd := tc.keep(t)
			derr := controlObject{b}.Resume(dbus.Sender(":1.1"), "id", dbus.UnixFD(ln), dbus.UnixFD(kfd), 0)
			if derr == nil {
				t.Fatal("Resume accepted a bad keep channel")
			}
			if !strings.Contains(strings.Join(strings.Fields(derr.Error()), " "), "keep") {
				t.Errorf("Resume error %q does not name the keep channel", derr.Error())
			}
			if after := fdtest.OpenFDs(t); after != before {
				t.Errorf("%d descriptors open after Resume, %d before: it must close what it is handed", after, before)
			}
		})
	}
}

// TestCheckListener: the bus socket handed in Resume (and AttachBus) is a
// listening unix stream socket, nothing else.
func TestCheckListener(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		make func(t *testing.T) (int, func())
		ok   bool
	}{
		{"listening unix socket", func(t *testing.T) (int, func()) {
			ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: filepath.Join(dir, "ln"), Net: "unix"})
			if err != nil {
				t.Fatal(err)
			}
			f, err := ln.File()
			if err != nil {
				t.Fatal(err)
			}
			return int(f.Fd()), func() { f.Close(); ln.Close() }
		}, true},
		{"connected stream socket", func(t *testing.T) (int, func()) {
			fds, _ := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
			return fds[0], func() { unix.Close(fds[0]); unix.Close(fds[1]) }
		}, false},
		{"seqpacket socket", func(t *testing.T) (int, func()) {
			fds, _ := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
			return fds[0], func() { unix.Close(fds[0]); unix.Close(fds[1]) }
		}, false},
		{"regular file", func(t *testing.T) (int, func()) {
			fd, err := unix.Open(filepath.Join(dir, "f"), unix.O_RDWR|unix.O_CREAT|unix.O_CLOEXEC, 0o600)
			if err != nil {
				t.Fatal(err)
			}
			return fd, func() { unix.Close(fd) }
		}, false},
		{"tcp listener", func(t *testing.T) (int, func()) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Skip(err)
			}
			f, err := ln.(*net.TCPListener).File()
			if err != nil {
				t.Fatal(err)
			}
			return int(f.Fd()), func() { f.Close(); ln.Close() }
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fd, cleanup := tc.make(t)
			defer cleanup()
			if err := checkListener(fd); (err == nil) != tc.ok {
				t.Errorf("checkListener = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

// TestKeeperOnSandboxBus wires a keeper into a served sandbox bus (no host
// bus: no relays) as AttachBus does, and checks the launcher's end sees
// what a real client does: Hello (with the socket), AddMatch, RequestName,
// and the drop when it leaves.
func TestKeeperOnSandboxBus(t *testing.T) {
	b := New(quietLog(), nil, nil, nil, nil)
	sb := &Sandbox{ID: "keep-test", Name: "keep-test", DisplayName: "keep-test", Started: time.Now()}
	if err := b.add(sb); err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	path := filepath.Join(t.TempDir(), "bus")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	launcher, theirs, err := control.KeepPair()
	if err != nil {
		t.Fatal(err)
	}
	defer launcher.Close()
	if derr := b.attach(sb, ln, theirs); derr != nil {
		t.Fatal(derr)
	}
	b.serve(sb, nil)

	c, err := dbus.Connect("unix:path=" + path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	u := c.Names()[0]
	rec, cf := recv(t, launcher)
	if rec.Op != control.OpKeep || rec.Unique != u || cf == nil {
		t.Fatalf("after Hello the launcher got %+v (fd %v), want %s with its socket", rec, cf != nil, u)
	}
	defer cf.Close()
	if err := control.CheckConn(cf); err != nil {
		t.Errorf("the descriptor handed is no connection: %v", err)
	}
	if !rec.UnixFD {
		t.Errorf("godbus negotiates fd passing; the record says %+v", rec)
	}
	rule := "type='signal',interface='org.example.Keep'"
	if err := c.BusObject().Call("org.freedesktop.DBus.AddMatch", 0, rule).Err; err != nil {
		t.Fatal(err)
	}
	// The record is sent before the reply: it is there already.
	lraw, _ := launcher.SyscallConn()
	lraw.Control(func(s uintptr) {
		pfd := []unix.PollFd{{Fd: int32(s), Events: unix.POLLIN}}
		if n, err := unix.Poll(pfd, 0); err != nil || n != 1 {
			t.Errorf("the AddMatch record was not there when its reply was (poll %d, %v)", n, err)
		}
	})
	rec, cf2 := recv(t, launcher)
	if cf2 != nil {
		cf2.Close()
		t.Error("an update carries a descriptor")
	}
	if len(rec.Matches) != 1 || rec.Matches[0] != rule {
		t.Errorf("after AddMatch: %+v", rec)
	}
	if r, err := c.RequestName("org.example.Keep", dbus.NameFlagDoNotQueue); err != nil || r != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("RequestName = %v, %v", r, err)
	}
	rec, _ = recv(t, launcher)
	if repl, ok := rec.Names["org.example.Keep"]; !ok || repl || len(rec.Matches) != 1 {
		t.Errorf("after RequestName: %+v", rec)
	}
	c.Close()
	for {
		rec, cf := recv(t, launcher)
		if cf != nil {
			cf.Close()
		}
		if rec.Op == control.OpDrop {
			if rec.Unique != u {
				t.Errorf("drop of %s, want %s", rec.Unique, u)
			}
			break
		}
	}
}
