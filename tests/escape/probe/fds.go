package main

import (
	"bufio"
	"fmt"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// scmMaxFD is the most descriptors one SCM_RIGHTS message carries.
const scmMaxFD = 253

// fdFlood tries to keep want descriptors in flight in the probe's own socket
// pair (sent, never received): copies of one descriptor, 253 a message. The
// kernel counts them per user, against the sender's RLIMIT_NOFILE
// (too_many_unix_fds), so a sandbox that can do this unhindered makes
// descriptor passing fail for every program of the same user (issue 8 item
// 7). It reports how many it got in flight and the errno that stopped it,
// then holds them until stdin closes, so that the test can try passing a
// descriptor on the host meanwhile.
func fdFlood(want int) {
	c := start("rlimit/fds-in-flight")
	var lim syscall.Rlimit
	syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim)
	// Nothing inside may raise the hard limit.
	up := syscall.Rlimit{Cur: lim.Max + 1, Max: lim.Max + 1}
	raise := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &up)
	c.note("RLIMIT_NOFILE %d/%d, raising the hard limit: %s", lim.Cur, lim.Max, ename(errnoOf(raise)))
	if raise == nil {
		c.fail("the hard limit was raised")
	}
	pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		c.fail("socketpair: %v", err)
		c.done()
		return
	}
	// Room for every message: the test is about the descriptor count, not
	// the socket's buffer.
	unix.SetsockoptInt(pair[0], unix.SOL_SOCKET, unix.SO_SNDBUF, 8<<20)
	unix.SetsockoptInt(pair[1], unix.SOL_SOCKET, unix.SO_RCVBUF, 8<<20)
	fds := make([]int, scmMaxFD)
	for i := range fds {
		fds[i] = 0 // stdin, a pipe: any descriptor counts
	}
	sent := 0
	var stop error
	for sent < want {
		n := min(scmMaxFD, want-sent)
		stop = unix.Sendmsg(pair[0], []byte{0}, unix.UnixRights(fds[:n]...), nil, unix.MSG_DONTWAIT)
		if stop != nil {
			break
		}
		sent += n
	}
	c.r.Value = fmt.Sprint(sent)
	c.r.Errno = ename(errnoOf(stop))
	c.note("%d descriptors in flight, then %s", sent, ename(errnoOf(stop)))
	if sent >= want {
		c.fail("all %d descriptors went in flight", want)
	}
	c.done()
	// Hold them until the test is done looking.
	bufio.NewReader(os.Stdin).ReadString('\n')
}

// sendFD passes one descriptor over a fresh socket pair and receives it, as
// any program does (a GLib application handing a descriptor over its bus),
// with a soft RLIMIT_NOFILE of limit (systemd's default for user processes
// is 1024; Go raises its own at start-up).
func sendFD(limit uint64) {
	c := start("rlimit/host-passes-fd")
	var lim syscall.Rlimit
	syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim)
	lim.Cur = min(limit, lim.Max)
	syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
	pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		c.fail("socketpair: %v", err)
		c.done()
		return
	}
	err = unix.Sendmsg(pair[0], []byte{0}, unix.UnixRights(0), nil, 0)
	c.errno(fmt.Sprintf("sendmsg SCM_RIGHTS with RLIMIT_NOFILE %d", lim.Cur), err, 0)
	if err == nil {
		buf, oob := make([]byte, 1), make([]byte, unix.CmsgSpace(4))
		_, oobn, _, _, err := unix.Recvmsg(pair[1], buf, oob, 0)
		if err != nil || oobn == 0 {
			c.fail("recvmsg: %v (%d bytes of control data)", err, oobn)
		}
	}
	c.done()
}
