package sandbox

import (
	"encoding/binary"
	"errors"
	"io"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// pair returns a connected SOCK_SEQPACKET socket pair, closed at the end.
func pair(t *testing.T) (a, b int) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fds[0]); unix.Close(fds[1]) })
	return fds[0], fds[1]
}

// pipe returns a pipe whose read end does not block.
func pipe(t *testing.T) (r, w int) {
	t.Helper()
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC|unix.O_NONBLOCK); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(p[0]) })
	return p[0], p[1]
}

// closedEverywhere says whether every copy of the pipe's write end is closed:
// reading then sees end of file instead of EAGAIN.
func closedEverywhere(t *testing.T, r int) bool {
	t.Helper()
	n, err := unix.Read(r, make([]byte, 1))
	if err == unix.EAGAIN {
		return false
	}
	if err != nil || n != 0 {
		t.Fatalf("read: %d, %v", n, err)
	}
	return true
}

// rawFrame writes a frame by hand, with descriptors.
func rawFrame(t *testing.T, sock int, typ msgType, nfds int, body []byte, size uint32, fds ...int) {
	t.Helper()
	b := make([]byte, frameHeader)
	binary.LittleEndian.PutUint32(b[0:], size)
	binary.LittleEndian.PutUint16(b[4:], uint16(typ))
	binary.LittleEndian.PutUint16(b[6:], uint16(nfds))
	var oob []byte
	if len(fds) > 0 {
		oob = unix.UnixRights(fds...)
	}
	if err := unix.Sendmsg(sock, append(b, body...), oob, nil, 0); err != nil {
		t.Fatal(err)
	}
}

func TestChannelRoundTrip(t *testing.T) {
	a, b := pair(t)
	sent := message{Type: msgBind, payload: payload{Host: "/home/u/a \"b\"\n.pdf", Inside: "/run/user/1000/doc/1/a.pdf"}}
	if err := send(a, sent); err != nil {
		t.Fatal(err)
	}
	got, err := recv(b, msgBind, msgUnbind)
	if err != nil {
		t.Fatal(err)
	}
	if got.Type != sent.Type || got.payload != sent.payload || got.FDs != nil {
		t.Errorf("got %+v, want %+v", got, sent)
	}
}

func TestChannelRoundTripWithFD(t *testing.T) {
	a, b := pair(t)
	r, w := pipe(t)
	err := send(a, message{Type: msgBusSocket, FDs: []int{w}})
	unix.Close(w)
	if err != nil {
		t.Fatal(err)
	}
	got, err := recv(b, msgBusSocket)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.FDs) != 1 {
		t.Fatalf("got %d descriptors", len(got.FDs))
	}
	// The descriptor received is the pipe: what is written shows up.
	if _, err := unix.Write(got.FDs[0], []byte("x")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1)
	if n, err := unix.Read(r, buf); n != 1 || err != nil || buf[0] != 'x' {
		t.Errorf("read %d %q %v", n, buf, err)
	}
	if flags, err := unix.FcntlInt(uintptr(got.FDs[0]), unix.F_GETFD, 0); err != nil || flags&unix.FD_CLOEXEC == 0 {
		t.Errorf("received descriptor is not close-on-exec")
	}
	unix.Close(got.FDs[0])
}

func TestChannelAnswer(t *testing.T) {
	a, b := pair(t)
	go func() {
		m, err := recv(b, msgClone)
		if err != nil {
			return
		}
		answer(b, errors.New("cannot clone "+m.Host))
	}()
	_, err := call(a, message{Type: msgClone, payload: payload{Host: "/x"}}, msgMount)
	var re *remoteError
	if !errors.As(err, &re) || re.Error() != "cannot clone /x" {
		t.Errorf("got %v, want the remote error", err)
	}
}

func TestChannelEOF(t *testing.T) {
	a, b := pair(t)
	unix.Shutdown(a, unix.SHUT_WR)
	if _, err := recv(b, msgReady); err != io.EOF {
		t.Errorf("got %v, want io.EOF", err)
	}
}

func TestChannelRefusals(t *testing.T) {
	big := []byte(`{"host":"` + strings.Repeat("a", maxPayload) + `"}`)
	for _, c := range []struct {
		name  string
		write func(t *testing.T, sock, fd int)
		want  string
	}{
		{"unexpected type", func(t *testing.T, sock, fd int) {
			rawFrame(t, sock, msgTorSocket, 1, []byte("{}"), 2, fd)
		}, "unexpected message tor-socket (expected ready or go)"},
		{"unknown type", func(t *testing.T, sock, fd int) {
			rawFrame(t, sock, 999, 1, []byte("{}"), 2, fd)
		}, "unexpected message type 999"},
		{"truncated payload", func(t *testing.T, sock, fd int) {
			rawFrame(t, sock, msgReady, 1, []byte("{}"), 100, fd)
		}, "truncated frame"},
		{"short header", func(t *testing.T, sock, fd int) {
			if err := unix.Sendmsg(sock, []byte{1, 0, 0}, unix.UnixRights(fd), nil, 0); err != nil {
				t.Fatal(err)
			}
		}, "truncated frame (3 bytes)"},
		{"oversized", func(t *testing.T, sock, fd int) {
			rawFrame(t, sock, msgReady, 1, big, uint32(len(big)), fd)
		}, "oversized frame"},
		{"descriptor with a message that carries none", func(t *testing.T, sock, fd int) {
			rawFrame(t, sock, msgReady, 0, []byte("{}"), 2, fd)
		}, "came with 1 descriptors"},
		{"header lies about descriptors", func(t *testing.T, sock, fd int) {
			rawFrame(t, sock, msgReady, 1, []byte("{}"), 2, fd)
		}, "came with 1 descriptors (header says 1, expected 0)"},
		{"two descriptors", func(t *testing.T, sock, fd int) {
			rawFrame(t, sock, msgReady, 2, []byte("{}"), 2, fd, fd)
		}, "came with 2 descriptors"},
		{"more descriptors than a frame takes", func(t *testing.T, sock, fd int) {
			rawFrame(t, sock, msgReady, 4, []byte("{}"), 2, fd, fd, fd, fd)
		}, "too many descriptors"},
		{"bad payload", func(t *testing.T, sock, fd int) {
			// The descriptor goes in a frame of its own, refused too.
			rawFrame(t, sock, msgReady, 0, []byte("{"), 1)
			rawFrame(t, sock, msgGo, 0, []byte("{}"), 2, fd)
		}, "bad ready payload"},
	} {
		t.Run(c.name, func(t *testing.T) {
			a, b := pair(t)
			if c.name == "oversized" {
				for _, s := range []int{a, b} {
					unix.SetsockoptInt(s, unix.SOL_SOCKET, unix.SO_SNDBUF, 4*maxPayload)
				}
			}
			r, w := pipe(t)
			c.write(t, a, w)
			unix.Close(w)
			_, err := recv(b, msgReady, msgGo)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("got %v, want an error with %q", err, c.want)
			}
			if c.name == "bad payload" {
				if _, err := recv(b, msgReady, msgGo); err == nil {
					t.Error("go with a descriptor accepted")
				}
			}
			// Whatever came with the refused frame is closed: no leak.
			if !closedEverywhere(t, r) {
				t.Error("a descriptor of the refused frame was kept open")
			}
		})
	}
}

func TestChannelSendRefusals(t *testing.T) {
	a, _ := pair(t)
	for _, m := range []message{
		{Type: msgBusSocket},            // a descriptor is due
		{Type: msgReady, FDs: []int{0}}, // none is
		{Type: 999},                     // unknown
		{Type: msgBind, payload: payload{Host: strings.Repeat("a", maxPayload)}}, // too large
	} {
		if err := send(a, m); err == nil {
			t.Errorf("send %v with %d descriptors and %d bytes: no error", m.Type, len(m.FDs), len(m.Host))
		}
	}
}
