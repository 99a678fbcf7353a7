package control

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// The keep channel: a SOCK_SEQPACKET socket pair per sandbox, made by the
// launcher, whose other end it hands to the broker in AttachBus (or
// Resume). The broker sends on it, for every authenticated connection of
// the sandbox's bus, a ConnRecord after Hello and after every change of the
// connection's resumable state, the first one carrying a duplicate of the
// connection (SCM_RIGHTS); and a drop record when the connection leaves.
// So the launcher holds every connection and its latest state: when the
// broker dies, no socket of the sandbox closes, and the launcher hands them
// to the next broker (Resume: the same records, the other way).
//
// Both ends are host processes of the same user; nothing of this reaches
// the sandbox.

// Record operations.
const (
	OpKeep = "keep" // a connection's state (with its descriptor the first time)
	OpDrop = "drop" // the connection left the bus: close the duplicate
)

// MaxRecord bounds one record: a connection whose state does not fit (512
// match rules of 1 KiB would not) is not kept, and dies with its broker.
const MaxRecord = 128 << 10

// ErrRecordTooBig: a connection's state does not fit in MaxRecord.
var ErrRecordTooBig = fmt.Errorf("keep record longer than %d bytes", MaxRecord)

// ConnRecord is one connection's resumable state on the keep channel.
type ConnRecord struct {
	Op      string          `json:"op"`
	Unique  string          `json:"unique"`
	Matches []string        `json:"matches,omitempty"`
	Names   map[string]bool `json:"names,omitempty"` // owned name -> allows replacement
	UnixFD  bool            `json:"unix_fd,omitempty"`
}

// KeepPair makes a keep channel: the launcher's end and the broker's end.
func KeepPair() (mine, theirs *os.File, err error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("cannot make the keep channel: %w", err)
	}
	// Non-blocking, so that os.NewFile puts them in the runtime's poller
	// (deadlines work). Records are whole datagrams: make room for the
	// biggest one.
	for _, fd := range fds {
		unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, 2*MaxRecord)
		unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, 2*MaxRecord)
	}
	return os.NewFile(uintptr(fds[0]), "keep"), os.NewFile(uintptr(fds[1]), "keep-broker"), nil
}

// SendRecord sends rec, with fd (-1 for none) attached, within timeout.
func SendRecord(f *os.File, rec ConnRecord, fd int, timeout time.Duration) error {
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	if len(b) > MaxRecord {
		return fmt.Errorf("record for %s is %d bytes: %w", rec.Unique, len(b), ErrRecordTooBig)
	}
	var oob []byte
	if fd >= 0 {
		oob = unix.UnixRights(fd)
	}
	raw, err := f.SyscallConn()
	if err != nil {
		return err
	}
	// A full channel means the other side is slow to read: wait, but not
	// forever.
	f.SetWriteDeadline(time.Now().Add(timeout))
	defer f.SetWriteDeadline(time.Time{})
	var serr error
	werr := raw.Write(func(s uintptr) bool {
		serr = unix.Sendmsg(int(s), b, oob, nil, unix.MSG_DONTWAIT)
		return !errors.Is(serr, unix.EAGAIN)
	})
	if werr != nil {
		return werr
	}
	return serr
}

// OpenKeep turns a keep channel end received over D-Bus into a pollable
// *os.File (it takes fd).
func OpenKeep(fd int) (*os.File, error) {
	if t, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TYPE); err != nil || t != unix.SOCK_SEQPACKET {
		unix.Close(fd)
		return nil, errors.New("the keep channel is not a seqpacket socket")
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return os.NewFile(uintptr(fd), "keep"), nil
}

// RecvRecord reads one record; its descriptor, if any, is returned as an
// *os.File (close-on-exec). io.EOF means the other end closed.
func RecvRecord(f *os.File) (ConnRecord, *os.File, error) {
	var rec ConnRecord
	buf := make([]byte, MaxRecord+1)
	oob := make([]byte, unix.CmsgSpace(4*4))
	raw, err := f.SyscallConn()
	if err != nil {
		return rec, nil, err
	}
	var n, oobn int
	var rerr error
	if err := raw.Read(func(s uintptr) bool {
		n, oobn, _, _, rerr = unix.Recvmsg(int(s), buf, oob, unix.MSG_CMSG_CLOEXEC|unix.MSG_DONTWAIT)
		return !errors.Is(rerr, unix.EAGAIN)
	}); err != nil {
		return rec, nil, err
	}
	if rerr != nil {
		return rec, nil, rerr
	}
	var fds []int
	if oobn > 0 {
		if msgs, err := unix.ParseSocketControlMessage(oob[:oobn]); err == nil {
			for i := range msgs {
				if got, err := unix.ParseUnixRights(&msgs[i]); err == nil {
					fds = append(fds, got...)
				}
			}
		}
	}
	if n == 0 && len(fds) == 0 {
		return rec, nil, io.EOF
	}
	var file *os.File
	for i, fd := range fds {
		if i == 0 {
			file = os.NewFile(uintptr(fd), "kept-conn")
		} else {
			unix.Close(fd) // one descriptor per record, never more
		}
	}
	if n > MaxRecord {
		closeFile(file)
		return rec, nil, fmt.Errorf("keep record longer than %d bytes", MaxRecord)
	}
	if err := json.Unmarshal(buf[:n], &rec); err != nil {
		closeFile(file)
		return rec, nil, fmt.Errorf("bad keep record: %w", err)
	}
	return rec, file, nil
}

func closeFile(f *os.File) {
	if f != nil {
		f.Close()
	}
}

// CheckConn insists on a connected unix stream socket: a kept connection
// is nothing else.
func CheckConn(f *os.File) error {
	fd := int(f.Fd())
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFSOCK {
		return errors.New("not a socket")
	}
	if d, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_DOMAIN); err != nil || d != unix.AF_UNIX {
		return errors.New("not a unix socket")
	}
	if t, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TYPE); err != nil || t != unix.SOCK_STREAM {
		return errors.New("not a stream socket")
	}
	if a, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ACCEPTCONN); err != nil || a != 0 {
		return errors.New("a listening socket, not a connection")
	}
	return nil
}

// Hung reports whether a kept connection has ended (the client closed it,
// or a broker shut it down), without reading from it: the launcher never
// reads the application's traffic.
func Hung(f *os.File) bool {
	pfd := []unix.PollFd{{Fd: int32(f.Fd()), Events: unix.POLLRDHUP}}
	n, err := unix.Poll(pfd, 0)
	if err != nil || n == 0 {
		return false
	}
	return pfd[0].Revents&(unix.POLLHUP|unix.POLLRDHUP|unix.POLLERR|unix.POLLNVAL) != 0
}

// FileConn turns a kept connection into a *net.UnixConn (f is closed: the
// conn holds its own duplicate).
func FileConn(f *os.File) (*net.UnixConn, error) {
	defer f.Close()
	c, err := net.FileConn(f)
	if err != nil {
		return nil, err
	}
	uc, ok := c.(*net.UnixConn)
	if !ok {
		c.Close()
		return nil, errors.New("not a unix connection")
	}
	return uc, nil
}
