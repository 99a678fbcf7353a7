// Package fdtest holds the descriptor helpers of the keep-channel tests
// (portal/control, portal/broker, launcher/cli): counting open descriptors
// and naming a socket by its inode. Tests only.
package fdtest

import (
	"os"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// OpenFDs counts this process's open descriptors.
func OpenFDs(t testing.TB) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents) - 1 // the directory being read
}

// WarmUp makes the runtime's poller (and anything else opened lazily) exist
// before a descriptor count is taken.
func WarmUp(t testing.TB) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	a, b := os.NewFile(uintptr(fds[0]), "a"), os.NewFile(uintptr(fds[1]), "b")
	a.SetDeadline(time.Now())
	a.Close()
	b.Close()
}

// ID names the file behind fd by its device and inode.
func ID(t testing.TB, fd int) [2]uint64 {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		t.Fatalf("fstat %d: %v", fd, err)
	}
	return [2]uint64{uint64(st.Dev), uint64(st.Ino)}
}

// ConnID is ID for a *net.UnixConn, an *os.File or anything else that gives
// its raw descriptor.
func ConnID(t testing.TB, c syscall.Conn) [2]uint64 {
	t.Helper()
	raw, err := c.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var id [2]uint64
	raw.Control(func(s uintptr) { id = ID(t, int(s)) })
	return id
}
