package control

import (
	"airlock/portal/control/fdtest"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// checkNoLeak fails the test if the count of open descriptors differs
// from before (taken before the test made anything of its own).
func checkNoLeak(t *testing.T, before int) {
	t.Helper()
	if after := fdtest.OpenFDs(t); after != before {
		t.Errorf("%d descriptors open, %d before: descriptors leaked (or closed twice)", after, before)
	}
}

func keepPair(t *testing.T) (mine, theirs *os.File) {
	t.Helper()
	mine, theirs, err := KeepPair()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mine.Close(); theirs.Close() })
	return mine, theirs
}

// streamPair returns both ends of a connected unix stream socket pair, as
// raw descriptors.
func streamPair(t *testing.T) (a, b int) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	return fds[0], fds[1]
}

// rawID is fileID through a *os.File without Fd (which may change the
// descriptor's blocking mode).
func rawID(t *testing.T, f *os.File) [2]uint64 {
	t.Helper()
	raw, err := f.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var id [2]uint64
	if err := raw.Control(func(fd uintptr) { id = fdtest.ID(t, int(fd)) }); err != nil {
		t.Fatal(err)
	}
	return id
}

// sendRaw sends b with the descriptors fds attached, bypassing SendRecord's
// checks: what a broken (or hostile) peer could send.
func sendRaw(t *testing.T, f *os.File, b []byte, fds ...int) {
	t.Helper()
	var oob []byte
	if len(fds) > 0 {
		oob = unix.UnixRights(fds...)
	}
	raw, err := f.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var serr error
	if err := raw.Control(func(s uintptr) { serr = unix.Sendmsg(int(s), b, oob, nil, unix.MSG_DONTWAIT) }); err != nil {
		t.Fatal(err)
	}
	if serr != nil {
		t.Fatalf("sendmsg of %d bytes: %v", len(b), serr)
	}
}

func TestKeepPair(t *testing.T) {
	mine, theirs := keepPair(t)
	for _, f := range []*os.File{mine, theirs} {
		raw, err := f.SyscallConn()
		if err != nil {
			t.Fatal(err)
		}
		raw.Control(func(s uintptr) {
			fd := int(s)
			if ty, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TYPE); err != nil || ty != unix.SOCK_SEQPACKET {
				t.Errorf("%s: socket type %d (%v), want SOCK_SEQPACKET", f.Name(), ty, err)
			}
			if fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != nil || fl&unix.FD_CLOEXEC == 0 {
				t.Errorf("%s: not close-on-exec (%#x, %v)", f.Name(), fl, err)
			}
			if fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0); err != nil || fl&unix.O_NONBLOCK == 0 {
				t.Errorf("%s: blocking (%#x, %v): deadlines would not work", f.Name(), fl, err)
			}
		})
	}
}

// TestRecordRoundTrip sends records over a real keep channel, with and
// without a descriptor, in both directions.
func TestRecordRoundTrip(t *testing.T) {
	fdtest.WarmUp(t)
	big := strings.Repeat("x", 1000)
	for _, tc := range []struct {
		name   string
		rec    ConnRecord
		withFD bool
	}{
		{"keep with fd", ConnRecord{Op: OpKeep, Unique: ":1.1"}, true},
		{"keep full state with fd", ConnRecord{Op: OpKeep, Unique: ":1.42", Matches: []string{"type='signal'", "type='signal',interface='org.example.I'"}, Names: map[string]bool{"org.example.A": true, "org.example.B": false}, UnixFD: true}, true},
		{"state update without fd", ConnRecord{Op: OpKeep, Unique: ":1.2", Matches: []string{"type='signal',member='Changed'"}, UnixFD: true}, false},
		{"drop", ConnRecord{Op: OpDrop, Unique: ":1.3"}, false},
		{"many rules with fd", ConnRecord{Op: OpKeep, Unique: ":1.4", Matches: []string{big, big, big, big, big, big, big, big}}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := fdtest.OpenFDs(t)
			mine, theirs, err := KeepPair()
			if err != nil {
				t.Fatal(err)
			}
			a, b := streamPair(t)
			for _, dir := range []struct {
				name     string
				from, to *os.File
			}{{"broker to launcher", theirs, mine}, {"launcher to broker", mine, theirs}} {
				fd := -1
				if tc.withFD {
					fd = a
				}
				if err := SendRecord(dir.from, tc.rec, fd, time.Second); err != nil {
					t.Fatalf("%s: SendRecord: %v", dir.name, err)
				}
				dir.to.SetReadDeadline(time.Now().Add(5 * time.Second))
				got, cf, err := RecvRecord(dir.to)
				if err != nil {
					t.Fatalf("%s: RecvRecord: %v", dir.name, err)
				}
				if !reflect.DeepEqual(got, tc.rec) {
					t.Errorf("%s: received %+v, sent %+v", dir.name, got, tc.rec)
				}
				if !tc.withFD {
					if cf != nil {
						t.Errorf("%s: a descriptor came with a record sent without one", dir.name)
						cf.Close()
					}
					continue
				}
				if cf == nil {
					t.Fatalf("%s: the descriptor sent was not received", dir.name)
				}
				if got, want := rawID(t, cf), fdtest.ID(t, a); got != want {
					t.Errorf("%s: received descriptor is dev/ino %v, sent %v: not the same socket", dir.name, got, want)
				}
				raw, _ := cf.SyscallConn()
				raw.Control(func(s uintptr) {
					if fl, err := unix.FcntlInt(s, unix.F_GETFD, 0); err != nil || fl&unix.FD_CLOEXEC == 0 {
						t.Errorf("%s: received descriptor is not close-on-exec", dir.name)
					}
				})
				// The same socket: what its peer writes is readable on it.
				if _, err := unix.Write(b, []byte("ping")); err != nil {
					t.Fatal(err)
				}
				buf := make([]byte, 8)
				cf.SetReadDeadline(time.Now().Add(5 * time.Second))
				if n, err := cf.Read(buf); err != nil || string(buf[:n]) != "ping" {
					t.Errorf("%s: read %q, %v through the received descriptor, want ping", dir.name, buf[:n], err)
				}
				cf.Close()
			}
			unix.Close(a)
			unix.Close(b)
			mine.Close()
			theirs.Close()
			checkNoLeak(t, before)
		})
	}
}

// TestRecordSize: SendRecord refuses a record over MaxRecord with
// ErrRecordTooBig, sends one of exactly MaxRecord; RecvRecord refuses (and
// closes the descriptor of) an oversized record sent raw.
func TestRecordSize(t *testing.T) {
	fdtest.WarmUp(t)
	// padded returns a record whose JSON is exactly size bytes.
	padded := func(size int) ConnRecord {
		rec := ConnRecord{Op: OpKeep, Unique: ":1.7", Matches: []string{""}}
		b, _ := json.Marshal(rec)
		rec.Matches[0] = strings.Repeat("a", size-len(b))
		if b, _ := json.Marshal(rec); len(b) != size {
			t.Fatalf("padded record is %d bytes, want %d", len(b), size)
		}
		return rec
	}
	for _, tc := range []struct {
		name    string
		size    int
		withFD  bool
		wantErr bool
	}{
		{"exactly MaxRecord", MaxRecord, true, false},
		{"exactly MaxRecord no fd", MaxRecord, false, false},
		{"one byte over", MaxRecord + 1, true, true},
		{"far over", 4 * MaxRecord, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := fdtest.OpenFDs(t)
			mine, theirs, err := KeepPair()
			if err != nil {
				t.Fatal(err)
			}
			a, b := streamPair(t)
			fd := -1
			if tc.withFD {
				fd = a
			}
			rec := padded(tc.size)
			err = SendRecord(theirs, rec, fd, time.Second)
			if tc.wantErr {
				if !errors.Is(err, ErrRecordTooBig) {
					t.Errorf("SendRecord of %d bytes = %v, want ErrRecordTooBig", tc.size, err)
				}
				// Nothing was sent: the channel is empty.
				mine.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
				if got, cf, err := RecvRecord(mine); !errors.Is(err, os.ErrDeadlineExceeded) {
					t.Errorf("after a refused record, RecvRecord = %+v, %v, %v: want nothing to read", got.Unique, cf, err)
					if cf != nil {
						cf.Close()
					}
				}
			} else {
				if err != nil {
					t.Fatalf("SendRecord of %d bytes: %v", tc.size, err)
				}
				mine.SetReadDeadline(time.Now().Add(5 * time.Second))
				got, cf, err := RecvRecord(mine)
				if err != nil {
					t.Fatalf("RecvRecord of %d bytes: %v", tc.size, err)
				}
				if !reflect.DeepEqual(got, rec) {
					t.Errorf("record of %d bytes did not survive the trip", tc.size)
				}
				if (cf != nil) != tc.withFD {
					t.Errorf("descriptor received: %v, sent: %v", cf != nil, tc.withFD)
				}
				if cf != nil {
					cf.Close()
				}
			}
			unix.Close(a)
			unix.Close(b)
			mine.Close()
			theirs.Close()
			checkNoLeak(t, before)
		})
	}
}

// TestRecvRefusesMalformed sends raw datagrams a correct peer would not
// and checks RecvRecord refuses them, or keeps exactly one descriptor, and
// never leaks one.
func TestRecvRefusesMalformed(t *testing.T) {
	fdtest.WarmUp(t)
	over := append([]byte(`{"op":"keep","unique":":1.1","matches":["`), bytes.Repeat([]byte("a"), MaxRecord)...)
	over = append(over, []byte(`"]}`)...)
	for _, tc := range []struct {
		name    string
		data    []byte
		nfds    int // stream sockets attached
		wantErr bool
		wantRec ConnRecord
	}{
		{"bad JSON with fd", []byte(`{"op":"keep",`), 1, true, ConnRecord{}},
		{"bad JSON without fd", []byte(`not json`), 0, true, ConnRecord{}},
		{"wrong JSON type with fd", []byte(`["keep"]`), 1, true, ConnRecord{}},
		{"empty datagram with fd", nil, 1, true, ConnRecord{}},
		{"oversized with fd", over, 1, true, ConnRecord{}},
		// One descriptor per record: extras are closed, the first kept.
		{"two fds", []byte(`{"op":"keep","unique":":1.5"}`), 2, false, ConnRecord{Op: OpKeep, Unique: ":1.5"}},
		// More than the control buffer holds (MSG_CTRUNC): the kernel
		// drops what does not fit, the rest are closed.
		{"eight fds", []byte(`{"op":"keep","unique":":1.6"}`), 8, false, ConnRecord{Op: OpKeep, Unique: ":1.6"}},
		{"bad JSON with two fds", []byte(`{`), 2, true, ConnRecord{}},
		// RecvRecord parses; the consumers (heldbus.Bus.Read, readKept)
		// refuse what makes no sense: tested there.
		{"unknown op passed up", []byte(`{"op":"steal","unique":":1.8"}`), 0, false, ConnRecord{Op: "steal", Unique: ":1.8"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := fdtest.OpenFDs(t)
			mine, theirs, err := KeepPair()
			if err != nil {
				t.Fatal(err)
			}
			var fds, peers []int
			for range tc.nfds {
				a, b := streamPair(t)
				fds, peers = append(fds, a), append(peers, b)
			}
			sendRaw(t, theirs, tc.data, fds...)
			// Our copies go: only what RecvRecord made stays open.
			for _, fd := range fds {
				unix.Close(fd)
			}
			mine.SetReadDeadline(time.Now().Add(5 * time.Second))
			rec, cf, err := RecvRecord(mine)
			if tc.wantErr {
				if err == nil {
					t.Errorf("RecvRecord accepted %+v", rec)
				}
				if errors.Is(err, io.EOF) {
					t.Errorf("RecvRecord = EOF: a bad record must not look like the broker ending")
				}
				if cf != nil {
					t.Errorf("RecvRecord returned a descriptor with an error")
					cf.Close()
				}
			} else {
				if err != nil {
					t.Fatalf("RecvRecord: %v", err)
				}
				if !reflect.DeepEqual(rec, tc.wantRec) {
					t.Errorf("RecvRecord = %+v, want %+v", rec, tc.wantRec)
				}
				if tc.nfds > 0 {
					if cf == nil {
						t.Fatal("no descriptor returned")
					}
					// The one kept is the first sent: its peer is peers[0].
					unix.Write(peers[0], []byte("1"))
					b := make([]byte, 1)
					cf.SetReadDeadline(time.Now().Add(5 * time.Second))
					if _, err := cf.Read(b); err != nil {
						t.Errorf("kept descriptor is not the first one sent: %v", err)
					}
					cf.Close()
				} else if cf != nil {
					t.Error("a descriptor came from nowhere")
					cf.Close()
				}
			}
			// Every connection sent is now closed by the receiver:
			// its peer sees it hang up.
			for i, p := range peers {
				pf := os.NewFile(uintptr(p), "peer")
				if !Hung(pf) {
					t.Errorf("descriptor %d sent is still open somewhere", i)
				}
				pf.Close()
			}
			mine.Close()
			theirs.Close()
			checkNoLeak(t, before)
		})
	}
}

func TestRecvEOF(t *testing.T) {
	mine, theirs := keepPair(t)
	if err := SendRecord(theirs, ConnRecord{Op: OpDrop, Unique: ":1.1"}, -1, time.Second); err != nil {
		t.Fatal(err)
	}
	theirs.Close()
	mine.SetReadDeadline(time.Now().Add(5 * time.Second))
	// What was sent before the end is still read...
	if rec, _, err := RecvRecord(mine); err != nil || rec.Unique != ":1.1" {
		t.Fatalf("RecvRecord = %+v, %v", rec, err)
	}
	// ...then the end.
	if _, cf, err := RecvRecord(mine); !errors.Is(err, io.EOF) || cf != nil {
		t.Errorf("RecvRecord after the other end closed = %v, %v, want io.EOF", cf, err)
	}
}

// TestSendTimeout: a peer that stops reading stalls SendRecord only for the
// timeout; the deadline does not stick to later sends.
func TestSendTimeout(t *testing.T) {
	mine, theirs := keepPair(t)
	rec := ConnRecord{Op: OpKeep, Unique: ":1.1", Matches: []string{strings.Repeat("m", 8<<10)}}
	b, _ := json.Marshal(rec)
	raw, _ := theirs.SyscallConn()
	full := false
	for i := 0; i < 100000 && !full; i++ {
		raw.Control(func(s uintptr) {
			err := unix.Sendmsg(int(s), b, nil, nil, unix.MSG_DONTWAIT)
			if errors.Is(err, unix.EAGAIN) {
				full = true
			} else if err != nil {
				t.Fatalf("filling the channel: %v", err)
			}
		})
	}
	if !full {
		t.Fatal("the channel never filled")
	}
	start := time.Now()
	err := SendRecord(theirs, rec, -1, 200*time.Millisecond)
	if el := time.Since(start); !errors.Is(err, os.ErrDeadlineExceeded) || el > 5*time.Second {
		t.Fatalf("SendRecord on a full channel = %v after %v, want a deadline error after ~200ms", err, el)
	}
	// Drain, then a send must not hit the old deadline.
	for {
		mine.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		if _, _, err := RecvRecord(mine); err != nil {
			break
		}
	}
	time.Sleep(250 * time.Millisecond)
	if err := SendRecord(theirs, rec, -1, time.Second); err != nil {
		t.Errorf("SendRecord after draining: %v (a deadline left behind?)", err)
	}
}

func TestSendToClosedPeer(t *testing.T) {
	mine, theirs := keepPair(t)
	mine.Close()
	start := time.Now()
	if err := SendRecord(theirs, ConnRecord{Op: OpDrop, Unique: ":1.1"}, -1, 5*time.Second); err == nil {
		t.Error("SendRecord to a closed peer succeeded")
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("SendRecord to a closed peer took %v: it should fail at once", el)
	}
}

func TestOpenKeep(t *testing.T) {
	fdtest.WarmUp(t)
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		make func(t *testing.T) (fd int, other []int)
		ok   bool
	}{
		{"seqpacket", func(t *testing.T) (int, []int) {
			fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
			if err != nil {
				t.Fatal(err)
			}
			return fds[0], fds[1:]
		}, true},
		{"stream socket", func(t *testing.T) (int, []int) {
			a, b := streamPair(t)
			return a, []int{b}
		}, false},
		{"datagram socket", func(t *testing.T) (int, []int) {
			fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
			if err != nil {
				t.Fatal(err)
			}
			return fds[0], fds[1:]
		}, false},
		{"regular file", func(t *testing.T) (int, []int) {
			fd, err := unix.Open(filepath.Join(dir, "f"), unix.O_RDWR|unix.O_CREAT|unix.O_CLOEXEC, 0o600)
			if err != nil {
				t.Fatal(err)
			}
			return fd, nil
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := fdtest.OpenFDs(t)
			fd, other := tc.make(t)
			f, err := OpenKeep(fd)
			if tc.ok {
				if err != nil {
					t.Fatalf("OpenKeep: %v", err)
				}
				raw, _ := f.SyscallConn()
				raw.Control(func(s uintptr) {
					if fl, _ := unix.FcntlInt(s, unix.F_GETFL, 0); fl&unix.O_NONBLOCK == 0 {
						t.Error("OpenKeep left the channel blocking")
					}
				})
				f.Close()
			} else {
				if err == nil {
					f.Close()
					t.Fatal("OpenKeep accepted it")
				}
				// OpenKeep takes fd whatever happens.
				if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err == nil {
					t.Error("OpenKeep left a refused descriptor open")
					unix.Close(fd)
				}
			}
			for _, o := range other {
				unix.Close(o)
			}
			checkNoLeak(t, before)
		})
	}
}

func TestCheckConn(t *testing.T) {
	fdtest.WarmUp(t)
	dir := t.TempDir()
	sockFile := func(t *testing.T, domain, typ int) *os.File {
		fd, err := unix.Socket(domain, typ|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		return os.NewFile(uintptr(fd), "sock")
	}
	for _, tc := range []struct {
		name string
		make func(t *testing.T) (f *os.File, cleanup func())
		ok   bool
	}{
		{"socketpair stream", func(t *testing.T) (*os.File, func()) {
			a, b := streamPair(t)
			return os.NewFile(uintptr(a), "a"), func() { unix.Close(b) }
		}, true},
		{"accepted connection", func(t *testing.T) (*os.File, func()) {
			ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: filepath.Join(dir, "acc"), Net: "unix"})
			if err != nil {
				t.Fatal(err)
			}
			c, err := net.DialUnix("unix", nil, ln.Addr().(*net.UnixAddr))
			if err != nil {
				t.Fatal(err)
			}
			s, err := ln.AcceptUnix()
			if err != nil {
				t.Fatal(err)
			}
			f, err := s.File()
			if err != nil {
				t.Fatal(err)
			}
			return f, func() { s.Close(); c.Close(); ln.Close() }
		}, true},
		{"listening socket", func(t *testing.T) (*os.File, func()) {
			ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: filepath.Join(dir, "ln"), Net: "unix"})
			if err != nil {
				t.Fatal(err)
			}
			f, err := ln.File()
			if err != nil {
				t.Fatal(err)
			}
			return f, func() { ln.Close() }
		}, false},
		{"unconnected stream socket", func(t *testing.T) (*os.File, func()) {
			// Not a kept connection either, but indistinguishable by
			// socket options from a connected one but for the peer.
			return sockFile(t, unix.AF_UNIX, unix.SOCK_STREAM), func() {}
		}, true},
		{"regular file", func(t *testing.T) (*os.File, func()) {
			f, err := os.Create(filepath.Join(dir, "regular"))
			if err != nil {
				t.Fatal(err)
			}
			return f, func() {}
		}, false},
		{"pipe", func(t *testing.T) (*os.File, func()) {
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			return r, func() { w.Close() }
		}, false},
		{"datagram socket", func(t *testing.T) (*os.File, func()) {
			fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
			if err != nil {
				t.Fatal(err)
			}
			return os.NewFile(uintptr(fds[0]), "dgram"), func() { unix.Close(fds[1]) }
		}, false},
		{"seqpacket socket", func(t *testing.T) (*os.File, func()) {
			fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
			if err != nil {
				t.Fatal(err)
			}
			return os.NewFile(uintptr(fds[0]), "seqpacket"), func() { unix.Close(fds[1]) }
		}, false},
		{"tcp socket", func(t *testing.T) (*os.File, func()) {
			return sockFile(t, unix.AF_INET, unix.SOCK_STREAM), func() {}
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, cleanup := tc.make(t)
			defer cleanup()
			defer f.Close()
			if err := CheckConn(f); (err == nil) != tc.ok {
				t.Errorf("CheckConn = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

// TestHung: Hung tells a connection that ended from one that did not,
// whatever is pending in it, and never consumes a byte.
func TestHung(t *testing.T) {
	for _, tc := range []struct {
		name string
		// act works on the kept end (ours) and its peer (the client).
		act  func(t *testing.T, ours, peer int)
		want bool
	}{
		{"open", func(t *testing.T, ours, peer int) {}, false},
		{"open with data pending", func(t *testing.T, ours, peer int) {
			unix.Write(peer, []byte("pending"))
		}, false},
		{"open with data sent the other way", func(t *testing.T, ours, peer int) {
			unix.Write(ours, []byte("unread by the client"))
		}, false},
		{"peer closed", func(t *testing.T, ours, peer int) {
			unix.Close(peer)
		}, true},
		{"peer closed with data pending", func(t *testing.T, ours, peer int) {
			unix.Write(peer, []byte("pending"))
			unix.Close(peer)
		}, true},
		{"broker shut it down", func(t *testing.T, ours, peer int) {
			unix.Shutdown(ours, unix.SHUT_RDWR)
		}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ours, peer := streamPair(t)
			// A duplicate, as the launcher holds.
			dup, err := unix.FcntlInt(uintptr(ours), unix.F_DUPFD_CLOEXEC, 0)
			if err != nil {
				t.Fatal(err)
			}
			kept := os.NewFile(uintptr(dup), "kept")
			defer kept.Close()
			tc.act(t, ours, peer)
			if got := Hung(kept); got != tc.want {
				t.Errorf("Hung = %v, want %v", got, tc.want)
			}
			// Nothing was read: a pending byte is still there.
			if strings.Contains(tc.name, "pending") {
				avail, err := unix.IoctlGetInt(ours, unix.SIOCINQ)
				if err != nil || avail != len("pending") {
					t.Errorf("%d bytes pending after Hung (%v), want %d", avail, err, len("pending"))
				}
			}
			unix.Close(ours)
			unix.Close(peer) // may be closed already
		})
	}
}

// TestFileConn: the kept connection becomes a *net.UnixConn on the same
// socket, and the *os.File given is closed.
func TestFileConn(t *testing.T) {
	fdtest.WarmUp(t)
	before := fdtest.OpenFDs(t)
	a, b := streamPair(t)
	want := fdtest.ID(t, a)
	f := os.NewFile(uintptr(a), "kept")
	uc, err := FileConn(f)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := unix.FcntlInt(uintptr(a), unix.F_GETFD, 0); err == nil {
		t.Error("FileConn left the *os.File's descriptor open")
	}
	raw, _ := uc.SyscallConn()
	raw.Control(func(s uintptr) {
		if got := fdtest.ID(t, int(s)); got != want {
			t.Errorf("conn is dev/ino %v, want %v", got, want)
		}
	})
	unix.Write(b, []byte("hi"))
	buf := make([]byte, 4)
	uc.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := uc.Read(buf); err != nil || string(buf[:n]) != "hi" {
		t.Errorf("Read = %q, %v", buf[:n], err)
	}
	uc.Close()
	unix.Close(b)
	checkNoLeak(t, before)

	// A non-socket is refused, and closed all the same.
	before = fdtest.OpenFDs(t)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	if c, err := FileConn(r); err == nil {
		c.Close()
		t.Error("FileConn accepted a pipe")
	}
	w.Close()
	checkNoLeak(t, before)
}
