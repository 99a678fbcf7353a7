package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// attempts run in this order by `probe all`. Each prints exactly one line
// (ttyAttempts prints several), named as the test table names it.
var attempts = []func(*config){
	ttyAttempts, hostStdin, noControllingTTY,
	mountAPI, clone3, unshareUser, cloneUser, setns, mount, umount, pivotRoot, chroot,
	keyctl, addKey, requestKey, perfEventOpen, bpf, userfaultfd, ioUring,
	siblingAttempts, ptraceInit, procInit,
	personality, sockets, handles, kexec, modules, setHostname,
	procSelfExe, launcherHidden, setuidBinary, usrNosuid,
	capabilities, statusFlags, inheritedFDs,
	hostFiles, hostHomes, sessionBus, systemBus, x11, loopback,
	interfaces, hwaddr, dmi, blockDevices, devNodes, devAbsent,
	machineID, bootID, hostName, kernelCmdline, grantPath,
	procSys, sysrq, readOnlyRoot, privateTmp,
	canary, procPids,
}

func cstr(s string) uintptr {
	p, err := unix.BytePtrFromString(s)
	if err != nil {
		panic(err)
	}
	return uintptr(unsafe.Pointer(p))
}

// badPtr is an address nothing is mapped at. Where the kernel itself would
// refuse a call for lack of capabilities, a second call with a bad pointer
// tells the filter's answer (given before any argument is read) from the
// kernel's (EFAULT, EBADF or EINVAL, from checks made before the capability
// check), so that each test also fails when only the filter rule goes.
const badPtr = uintptr(8)

// atFDCWD is AT_FDCWD (-100) as the kernel reads an int argument.
const atFDCWD = uintptr(0xffffff9c)

// ---- terminals ------------------------------------------------------------

// openPty opens a new pseudo-terminal pair in the sandbox's own devpts.
func openPty() (master, slave *os.File, err error) {
	m, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("open /dev/ptmx: %w", err)
	}
	if err := unix.IoctlSetPointerInt(m, unix.TIOCSPTLCK, 0); err != nil {
		unix.Close(m)
		return nil, nil, fmt.Errorf("unlockpt: %w", err)
	}
	s, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(m), unix.TIOCGPTPEER, unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC)
	if e != 0 {
		unix.Close(m)
		return nil, nil, fmt.Errorf("TIOCGPTPEER: %w", e)
	}
	return os.NewFile(uintptr(m), "ptmx"), os.NewFile(s, "pts"), nil
}

// ttyAttempts runs the TIOCSTI/TIOCLINUX attempts in a child whose
// controlling terminal is a pty of the sandbox's own: that is the case where
// the kernel itself would let TIOCSTI through (dev.tty.legacy_tiocsti=1, the
// Debian 12 default, and the caller's controlling tty), so only the filter
// stands in the way. Whatever the child injected would be echoed to the master.
func ttyAttempts(*config) {
	names := []string{"CVE-2017-5226/TIOCSTI", "CVE-2019-10063/TIOCSTI-high-bits", "CVE-2017-5226/TIOCSTI-dev-tty", "CVE-2023-28100/TIOCLINUX"}
	failAll := func(format string, args ...any) {
		for _, n := range names {
			emit(Result{Name: n, Detail: fmt.Sprintf(format, args...)})
		}
	}
	master, slave, err := openPty()
	if err != nil {
		failAll("cannot make a pty to test on: %v", err)
		return
	}
	defer master.Close()
	self, err := os.Executable()
	if err != nil {
		failAll("%v", err)
		return
	}
	var out bytes.Buffer
	cmd := exec.Command(self, "tty-child")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	err = cmd.Run()
	slave.Close()
	if err != nil {
		failAll("tty child: %v: %s", err, out.String())
		return
	}
	unix.SetNonblock(int(master.Fd()), true)
	echoed := make([]byte, 256)
	n, _ := master.Read(echoed)
	echoed = echoed[:n]
	got := map[string]bool{}
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		var r Result
		if json.Unmarshal(sc.Bytes(), &r) != nil {
			continue
		}
		if i := bytes.IndexAny(echoed, "XYZW"); i >= 0 {
			r.Safe = false
			r.Detail += fmt.Sprintf("; the terminal received %q", echoed)
		}
		got[r.Name] = true
		emit(r)
	}
	for _, n := range names {
		if !got[n] {
			emit(Result{Name: n, Detail: "the tty child did not report: " + out.String()})
		}
	}
}

// ttyChild runs with the pty as stdin and controlling terminal.
func ttyChild() {
	c := start("CVE-2017-5226/TIOCSTI")
	ch := byte('X')
	_, err := sys(unix.SYS_IOCTL, 0, unix.TIOCSTI, uintptr(unsafe.Pointer(&ch)))
	c.errno("ioctl(0, TIOCSTI) on the controlling tty", err, unix.EPERM)
	c.done()

	// The kernel reads the request as an unsigned int: bit 32 does not
	// change the call, it only fooled filters comparing 64 bits.
	c = start("CVE-2019-10063/TIOCSTI-high-bits")
	ch = 'Y'
	_, err = sys(unix.SYS_IOCTL, 0, unix.TIOCSTI|1<<32, uintptr(unsafe.Pointer(&ch)))
	c.errno("ioctl(0, TIOCSTI|1<<32)", err, unix.EPERM)
	c.done()

	c = start("CVE-2017-5226/TIOCSTI-dev-tty")
	fd, err := unix.Open("/dev/tty", unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		c.fail("open /dev/tty: %v (the child has a controlling tty, this must work)", err)
	} else {
		ch = 'Z'
		_, err = sys(unix.SYS_IOCTL, uintptr(fd), unix.TIOCSTI, uintptr(unsafe.Pointer(&ch)))
		c.errno("ioctl(/dev/tty, TIOCSTI)", err, unix.EPERM)
		unix.Close(fd)
	}
	c.done()

	// TIOCLINUX subcode 3 pastes the console selection as input. On a pty
	// the kernel answers ENOTTY; the filter answers EPERM before that.
	c = start("CVE-2023-28100/TIOCLINUX")
	sub := [8]byte{3}
	_, err = sys(unix.SYS_IOCTL, 0, unix.TIOCLINUX, uintptr(unsafe.Pointer(&sub[0])))
	c.errno("ioctl(0, TIOCLINUX, TIOCL_PASTESEL)", err, unix.EPERM)
	c.done()
}

// hostStdin is the original CVE-2017-5226 scenario: the sandbox's stdin is
// the terminal the user started airlock from (the test makes it a host pty
// and airlock's controlling terminal).
func hostStdin(*config) {
	c := start("CVE-2017-5226/TIOCSTI-host-stdin")
	if _, err := unix.IoctlGetTermios(0, unix.TCGETS); err != nil {
		c.fail("stdin is not a terminal (%v): the test must hand in a pty", err)
		c.done()
		return
	}
	ch := byte('W')
	_, err := sys(unix.SYS_IOCTL, 0, unix.TIOCSTI, uintptr(unsafe.Pointer(&ch)))
	c.errno("ioctl(0, TIOCSTI) on the host terminal", err, unix.EPERM)
	_, err = sys(unix.SYS_IOCTL, 0, unix.TIOCSTI|1<<32, uintptr(unsafe.Pointer(&ch)))
	c.errno("ioctl(0, TIOCSTI|1<<32) on the host terminal", err, unix.EPERM)
	sub := [8]byte{3}
	_, err = sys(unix.SYS_IOCTL, 0, unix.TIOCLINUX, uintptr(unsafe.Pointer(&sub[0])))
	c.errno("ioctl(0, TIOCLINUX) on the host terminal", err, unix.EPERM)
	c.done()
}

// noControllingTTY: the application runs in a new session (bwrap
// --new-session, the CVE-2017-5226 fix), so /dev/tty names nothing.
func noControllingTTY(*config) {
	c := start("CVE-2017-5226/new-session")
	fd, err := unix.Open("/dev/tty", unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err == nil {
		unix.Close(fd)
	}
	c.errno("open /dev/tty", err, unix.ENXIO)
	sid, _ := unix.Getsid(0)
	if sid != unix.Getpid() && sid != unix.Getppid() {
		c.note("sid %d", sid)
	}
	c.done()
}

// ---- namespaces and mounts --------------------------------------------------

// mountAPI: the new mount API let a Flatpak app remount its sandbox
// (CVE-2021-41133); CVE-2022-0185 was a heap overflow reached through
// fsconfig. The filter answers ENOSYS so that libmount falls back to
// mount(2); the kernel would have said EPERM or EBADF.
func mountAPI(*config) {
	type call struct {
		name string
		nr   uintptr
		args []uintptr
	}
	attr := [4]uint64{0, 1 /* attr_clr MOUNT_ATTR_RDONLY */, 0, 0}
	calls := []call{
		{"CVE-2021-41133/fsopen", unix.SYS_FSOPEN, []uintptr{cstr("tmpfs"), unix.FSOPEN_CLOEXEC}},
		{"CVE-2021-41133/fsmount", unix.SYS_FSMOUNT, []uintptr{^uintptr(0), unix.FSMOUNT_CLOEXEC, 0}},
		{"CVE-2021-41133/open_tree", unix.SYS_OPEN_TREE, []uintptr{atFDCWD, cstr("/tmp"), unix.OPEN_TREE_CLONE | unix.OPEN_TREE_CLOEXEC}},
		{"CVE-2021-41133/move_mount", unix.SYS_MOVE_MOUNT, []uintptr{atFDCWD, cstr("/tmp"), atFDCWD, cstr("/usr"), 0}},
		{"CVE-2021-41133/fspick", unix.SYS_FSPICK, []uintptr{atFDCWD, cstr("/tmp"), unix.FSPICK_CLOEXEC}},
		{"CVE-2021-41133/mount_setattr", unix.SYS_MOUNT_SETATTR, []uintptr{atFDCWD, cstr("/usr"), 0, uintptr(unsafe.Pointer(&attr[0])), unsafe.Sizeof(attr)}},
		{"CVE-2022-0185/fsconfig", unix.SYS_FSCONFIG, []uintptr{^uintptr(0), unix.FSCONFIG_CMD_CREATE, 0, 0, 0}},
	}
	for _, cl := range calls {
		c := start(cl.name)
		r, err := sys(cl.nr, cl.args...)
		if err == nil && int(r) > 2 {
			unix.Close(int(r))
		}
		c.errno(cl.name[strings.Index(cl.name, "/")+1:], err, unix.ENOSYS)
		c.done()
	}
}

// clone3 passes its flags in memory that seccomp cannot read: it is refused
// outright with ENOSYS (glibc then falls back to clone). Flatpak blocks it as
// part of the CVE-2021-41133 fix. A size of 0 would make the kernel say EINVAL.
func clone3(*config) {
	c := start("CVE-2021-41133/clone3")
	_, err := sys(unix.SYS_CLONE3, 0, 0)
	c.errno("clone3(NULL, 0)", err, unix.ENOSYS)
	c.done()
}

// unshareUser: an unprivileged user namespace hands out CAP_SYS_ADMIN over
// new namespaces, the entry to CVE-2022-0185 and most such exploits.
func unshareUser(*config) {
	c := start("CVE-2022-0185/unshare-CLONE_NEWUSER")
	// In a forked, single-threaded child: the kernel would allow it there.
	cmd := exec.Command("/bin/true")
	cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: unix.CLONE_NEWUSER}
	c.errno("unshare(CLONE_NEWUSER) in a child", cmd.Run(), unix.EPERM)
	// From this multi-threaded process the kernel says EINVAL; the filter EPERM.
	c.errno("unshare(CLONE_NEWUSER)", unix.Unshare(unix.CLONE_NEWUSER), unix.EPERM)
	c.errno("unshare(CLONE_NEWNS|CLONE_NEWNET)", unix.Unshare(unix.CLONE_NEWNS|unix.CLONE_NEWNET), unix.EPERM)
	c.done()
}

func cloneUser(*config) {
	c := start("CVE-2022-0185/clone-CLONE_NEWUSER")
	cmd := exec.Command("/bin/true")
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: unix.CLONE_NEWUSER}
	c.errno("clone(CLONE_NEWUSER)", cmd.Run(), unix.EPERM)
	cmd = exec.Command("/bin/true")
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: unix.CLONE_NEWUSER | unix.CLONE_NEWNS | unix.CLONE_NEWPID}
	c.errno("clone(CLONE_NEWUSER|CLONE_NEWNS|CLONE_NEWPID)", cmd.Run(), unix.EPERM)
	c.done()
}

func setns(*config) {
	c := start("flatpak-seccomp/setns")
	fd, err := unix.Open("/proc/self/ns/mnt", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		c.fail("open /proc/self/ns/mnt: %v", err)
	} else {
		c.errno("setns(mnt, CLONE_NEWNS)", unix.Setns(fd, unix.CLONE_NEWNS), unix.EPERM)
		unix.Close(fd)
	}
	// The kernel checks the descriptor first: EBADF without the filter.
	_, err = sys(unix.SYS_SETNS, ^uintptr(0), 0)
	c.errno("setns(-1, 0)", err, unix.EPERM)
	c.done()
}

func mount(*config) {
	c := start("flatpak-seccomp/mount")
	c.errno("mount(tmpfs on /tmp)", unix.Mount("tmpfs", "/tmp", "tmpfs", 0, ""), unix.EPERM)
	c.errno("mount(bind / on /tmp)", unix.Mount("/", "/tmp", "", unix.MS_BIND|unix.MS_REC, ""), unix.EPERM)
	// The kernel copies the target path before any permission check: EFAULT.
	_, err := sys(unix.SYS_MOUNT, 0, badPtr, 0, 0, 0)
	c.errno("mount(NULL, <bad pointer>)", err, unix.EPERM)
	c.done()
}

func umount(*config) {
	c := start("flatpak-seccomp/umount2")
	c.errno("umount2(/usr, MNT_DETACH)", unix.Unmount("/usr", unix.MNT_DETACH), unix.EPERM)
	// Unknown flags are EINVAL before the capability check in the kernel.
	c.errno("umount2(/usr, 0x80000000)", unix.Unmount("/usr", 0x80000000), unix.EPERM)
	c.done()
}

// pivotRoot: the kernel checks CAP_SYS_ADMIN (may_mount) before anything
// else, so both walls answer EPERM: this entry holds while either stands.
func pivotRoot(*config) {
	c := start("flatpak-seccomp/pivot_root")
	c.errno("pivot_root(/tmp, /tmp)", unix.PivotRoot("/tmp", "/tmp"), unix.EPERM)
	c.done()
}

func chroot(*config) {
	c := start("flatpak-seccomp/chroot")
	c.errno("chroot(/tmp)", unix.Chroot("/tmp"), unix.EPERM)
	// The kernel resolves the path first: EFAULT.
	_, err := sys(unix.SYS_CHROOT, badPtr)
	c.errno("chroot(<bad pointer>)", err, unix.EPERM)
	c.done()
}

// ---- kernel attack surface ----------------------------------------------------

// Keyrings are not namespaced: the session keyring is the user's on the host.
// CVE-2016-0728 was a keyring reference-count overflow reachable by anyone.
func keyctl(*config) {
	c := start("CVE-2016-0728/keyctl")
	_, err := sys(unix.SYS_KEYCTL, unix.KEYCTL_GET_KEYRING_ID, uintptr(0xfffffffd), 1)
	c.errno("keyctl(GET_KEYRING_ID, session)", err, unix.EPERM)
	_, err = sys(unix.SYS_KEYCTL, unix.KEYCTL_JOIN_SESSION_KEYRING, cstr("_ses"))
	c.errno("keyctl(JOIN_SESSION_KEYRING)", err, unix.EPERM)
	c.done()
}

func addKey(*config) {
	c := start("flatpak-seccomp/add_key")
	_, err := sys(unix.SYS_ADD_KEY, cstr("user"), cstr("airlock-escape"), cstr("x"), 1, uintptr(0xfffffffe))
	c.errno("add_key(user, process keyring)", err, unix.EPERM)
	c.done()
}

func requestKey(*config) {
	c := start("flatpak-seccomp/request_key")
	// The kernel would search and answer ENOKEY.
	_, err := sys(unix.SYS_REQUEST_KEY, cstr("user"), cstr("airlock-escape-none"), 0, 0)
	c.errno("request_key(user)", err, unix.EPERM)
	c.done()
}

// perf_event_open: CVE-2013-2094 (perf_swevent_init) and a long record since.
// A user-only software counter is allowed by perf_event_paranoid=2.
func perfEventOpen(*config) {
	c := start("CVE-2013-2094/perf_event_open")
	attr := unix.PerfEventAttr{Type: unix.PERF_TYPE_SOFTWARE, Config: unix.PERF_COUNT_SW_CPU_CLOCK, Bits: unix.PerfBitExcludeKernel | unix.PerfBitExcludeHv}
	attr.Size = uint32(unsafe.Sizeof(attr))
	fd, err := unix.PerfEventOpen(&attr, 0, -1, -1, unix.PERF_FLAG_FD_CLOEXEC)
	if err == nil {
		unix.Close(fd)
	}
	c.errno("perf_event_open(sw cpu-clock, user only)", err, unix.ENOSYS)
	c.done()
}

// bpf: the verifier bugs (CVE-2021-3490 and many more).
func bpf(*config) {
	c := start("CVE-2021-3490/bpf")
	attr := [5]uint32{unix.BPF_MAP_TYPE_ARRAY, 4, 4, 1, 0}
	_, err := sys(unix.SYS_BPF, unix.BPF_MAP_CREATE, uintptr(unsafe.Pointer(&attr[0])), unsafe.Sizeof(attr))
	c.errno("bpf(MAP_CREATE array)", err, unix.EPERM)
	// The kernel copies the attributes before judging the command: EFAULT.
	_, err = sys(unix.SYS_BPF, unix.BPF_PROG_LOAD, badPtr, 128)
	c.errno("bpf(PROG_LOAD, <bad pointer>)", err, unix.EPERM)
	c.done()
}

// userfaultfd stalls a kernel copy_from_user at will: the race primitive of
// many exploits (the launcher's own seccomp.go comment). UFFD_USER_MODE_ONLY is
// open to unprivileged users even with vm.unprivileged_userfaultfd=0.
func userfaultfd(*config) {
	c := start("seccomp.go/userfaultfd")
	fd, err := sys(unix.SYS_USERFAULTFD, 1 /* UFFD_USER_MODE_ONLY */ |unix.O_CLOEXEC)
	if err == nil {
		unix.Close(int(fd))
	}
	c.errno("userfaultfd(UFFD_USER_MODE_ONLY)", err, unix.EPERM)
	c.absent("/dev/userfaultfd")
	c.done()
}

// io_uring runs operations seccomp never sees (CVE-2023-2598 and others).
func ioUring(*config) {
	c := start("CVE-2023-2598/io_uring_setup")
	var params [120]byte
	fd, err := sys(unix.SYS_IO_URING_SETUP, 1, uintptr(unsafe.Pointer(&params[0])))
	if err == nil {
		unix.Close(int(fd))
	}
	c.errno("io_uring_setup(1)", err, unix.ENOSYS)
	c.done()
}

// siblingAttempts attach to a process of the probe's own (same uid,
// dumpable): without the filter the kernel allows all of these.
func siblingAttempts(*config) {
	names := []string{"CVE-2019-13272/ptrace-sibling", "seccomp.go/process_vm_readv", "seccomp.go/process_vm_writev", "seccomp.go/pidfd_getfd"}
	self, err := os.Executable()
	if err != nil {
		for _, n := range names {
			emit(Result{Name: n, Detail: err.Error()})
		}
		return
	}
	cmd := exec.Command(self, "sleep")
	if err := cmd.Start(); err != nil {
		for _, n := range names {
			emit(Result{Name: n, Detail: "cannot start a sibling: " + err.Error()})
		}
		return
	}
	pid := cmd.Process.Pid
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
	}()

	// PTRACE_SEIZE goes through the same ptrace_attach() permission check
	// as PTRACE_ATTACH without stopping the tracee.
	c := start(names[0])
	_, err = sys(unix.SYS_PTRACE, unix.PTRACE_SEIZE, uintptr(pid), 0, 0)
	c.errno(fmt.Sprintf("ptrace(SEIZE, sibling %d)", pid), err, unix.EPERM)
	c.done()

	addr, aerr := firstMapping(pid)
	var buf [8]byte
	local := []unix.Iovec{{Base: &buf[0], Len: 8}}
	remote := []unix.RemoteIovec{{Base: addr, Len: 8}}
	c = start(names[1])
	if aerr != nil {
		c.fail("%v", aerr)
	} else {
		_, err = unix.ProcessVMReadv(pid, local, remote, 0)
		c.errno("process_vm_readv(sibling)", err, unix.EPERM)
	}
	c.done()
	c = start(names[2])
	if aerr != nil {
		c.fail("%v", aerr)
	} else {
		// Writes back what a successful read found (or zeroes into a
		// read-only text page, which fails with EFAULT): the sibling is
		// killed right after either way.
		_, err = unix.ProcessVMWritev(pid, local, remote, 0)
		c.errno("process_vm_writev(sibling)", err, unix.EPERM)
	}
	c.done()

	c = start(names[3])
	pfd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		c.fail("pidfd_open: %v", err)
	} else {
		fd, err := unix.PidfdGetfd(pfd, 1, 0)
		if err == nil {
			unix.Close(fd)
		}
		c.errno("pidfd_getfd(sibling, 1)", err, unix.EPERM)
		unix.Close(pfd)
	}
	c.done()
}

func firstMapping(pid int) (uintptr, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/maps", pid))
	if err != nil {
		return 0, err
	}
	start, _, _ := strings.Cut(string(b), "-")
	v, err := strconv.ParseUint(start, 16, 64)
	return uintptr(v), err
}

// ptraceInit: init holds the namespace's capabilities until it drops them and
// the control socket after; runc's init was ptraceable (CVE-2016-9962). Init is
// non-dumpable and ptrace is filtered: both answer EPERM.
func ptraceInit(c0 *config) {
	c := start("CVE-2016-9962/ptrace-init")
	_, err := sys(unix.SYS_PTRACE, unix.PTRACE_SEIZE, uintptr(c0.initPid), 0, 0)
	c.errno(fmt.Sprintf("ptrace(SEIZE, %d)", c0.initPid), err, unix.EPERM)
	// A pid that does not exist: ESRCH from the kernel, EPERM from the filter.
	_, err = sys(unix.SYS_PTRACE, unix.PTRACE_SEIZE, 1<<22+7, 0, 0)
	c.errno("ptrace(SEIZE, no such pid)", err, unix.EPERM)
	c.done()
}

// procInit: a non-dumpable init keeps its memory, executable (the host's
// airlock binary, CVE-2019-5736) and root out of reach through /proc.
func procInit(c0 *config) {
	p := fmt.Sprintf("/proc/%d", c0.initPid)
	// /proc is mounted hidepid=invisible: init, which the application may
	// not ptrace, is not even listed (ENOENT); without hidepid the ptrace
	// check of a non-dumpable init answers EACCES.
	c := start("CVE-2019-5736/proc-1-exe")
	fd, err := unix.Open(p+"/exe", unix.O_PATH|unix.O_CLOEXEC, 0)
	if err == nil {
		unix.Close(fd)
	}
	c.errno("open "+p+"/exe O_PATH", err, unix.ENOENT)
	fd, err = unix.Open(p+"/exe", unix.O_WRONLY|unix.O_CLOEXEC, 0)
	if err == nil {
		unix.Close(fd)
	}
	c.errno("open "+p+"/exe O_WRONLY", err, unix.ENOENT)
	c.done()

	c = start("CVE-2016-9962/proc-1-mem")
	fd, err = unix.Open(p+"/mem", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err == nil {
		unix.Close(fd)
	}
	c.errno("open "+p+"/mem", err, unix.ENOENT)
	_, err = os.Readlink(p + "/root")
	c.errno("readlink "+p+"/root", err, unix.ENOENT)
	_, err = os.ReadFile(p + "/environ")
	c.errno("read "+p+"/environ", err, unix.ENOENT)
	c.done()

	// Init keeps two threads with capabilities for native grants, one of
	// them in a mount namespace that still shows the host. Their roots,
	// namespaces and memory are behind the same ptrace access check as
	// init's (proc(5): /proc/PID/task/TID/root needs PTRACE_MODE_READ;
	// init is non-dumpable), so none may be reached.
	c = start("proc(5)/init-threads-host-view")
	tasks, err := os.ReadDir(p + "/task")
	switch {
	case errnoOf(err) == unix.ENOENT:
		// hidepid=invisible: init and its threads are not listed; their
		// /proc entries must not open by number either.
		tasks = nil
		for _, sub := range []string{"/task/1/root/etc/hostname", "/root/etc/hostname", "/ns/mnt", "/mountinfo", "/status"} {
			fd, err := unix.Open(p+sub, unix.O_RDONLY|unix.O_CLOEXEC, 0)
			if err == nil {
				unix.Close(fd)
			}
			c.errno("open "+p+sub, err, unix.ENOENT)
		}
	case err != nil || len(tasks) == 0:
		c.fail("cannot list %s/task: %v", p, err)
	}
	first := true
	for _, t := range tasks {
		tp := p + "/task/" + t.Name()
		for _, sub := range []string{"/root/etc/hostname", "/cwd/etc/hostname", "/ns/mnt", "/mem"} {
			fd, err := unix.Open(tp+sub, unix.O_RDONLY|unix.O_CLOEXEC, 0)
			if err == nil {
				unix.Close(fd)
			}
			if first {
				c.errno("open "+tp+sub, err, unix.EACCES)
				first = false
			} else if err != unix.EACCES && err != unix.ENOENT {
				c.fail("open %s: %v, want EACCES", tp+sub, err)
			}
		}
	}
	// Every other process of the sandbox but this one (the host-view
	// helper of native grants, when there is one) is as closed.
	others := 0
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() || pid == c0.initPid {
			continue
		}
		if b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid)); strings.HasPrefix(string(b), "probe") {
			continue // a copy of this probe
		}
		others++
		for _, sub := range []string{"/root/etc/hostname", "/ns/mnt", "/mem"} {
			fd, err := unix.Open(fmt.Sprintf("/proc/%d%s", pid, sub), unix.O_RDONLY|unix.O_CLOEXEC, 0)
			if err == nil {
				unix.Close(fd)
			}
			if err != unix.EACCES && err != unix.ENOENT {
				c.fail("open /proc/%d%s: %v, want EACCES", pid, sub, err)
			}
		}
	}
	// Hidden processes (hidepid=invisible) by number: only this probe's
	// own entries may open; a helper's /proc/PID/mountinfo would list the
	// host's mounts.
	for pid := 2; pid < 256; pid++ {
		if pid == os.Getpid() {
			continue
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
		if err != nil || strings.HasPrefix(string(b), "probe") {
			continue
		}
		if _, err := os.ReadFile(fmt.Sprintf("/proc/%d/mountinfo", pid)); err == nil {
			c.fail("/proc/%d/mountinfo (%s) opens", pid, strings.TrimSpace(string(b)))
		}
	}
	c.note("%d threads of init and %d other processes checked", len(tasks), others)
	c.done()
}

// personality: ADDR_NO_RANDOMIZE switches off ASLR, READ_IMPLIES_EXEC makes
// every readable mapping executable, MMAP_PAGE_ZERO maps page 0 (the null
// dereference helper; CVE-2009-1895 let it survive a setuid exec).
func personality(*config) {
	for _, p := range []struct {
		name string
		val  uintptr
	}{
		{"personality(2)/ADDR_NO_RANDOMIZE", 0x0040000},
		{"personality(2)/READ_IMPLIES_EXEC", 0x0400000},
		{"CVE-2009-1895/personality-MMAP_PAGE_ZERO", 0x0100000},
	} {
		c := start(p.name)
		_, err := sys(unix.SYS_PERSONALITY, p.val)
		c.errno(fmt.Sprintf("personality(%#x)", p.val), err, unix.EPERM)
		sys(unix.SYS_PERSONALITY, 0) // back to PER_LINUX if it went through
		c.done()
	}
}

// sockets: families outside unix, inet and netlink are refused with the
// errno of a kernel without them.
func sockets(*config) {
	for _, s := range []struct {
		name                  string
		family, typ, protocol int
	}{
		{"CVE-2017-7308/AF_PACKET", unix.AF_PACKET, unix.SOCK_RAW, 0x0300},
		{"CVE-2020-12351/AF_BLUETOOTH", unix.AF_BLUETOOTH, unix.SOCK_RAW, 1},
		{"CVE-2021-26708/AF_VSOCK", unix.AF_VSOCK, unix.SOCK_STREAM, 0},
		{"CVE-2019-8912/AF_ALG", unix.AF_ALG, unix.SOCK_SEQPACKET, 0},
		{"CVE-2022-1353/AF_KEY", unix.AF_KEY, unix.SOCK_RAW, 2},
	} {
		c := start(s.name)
		fd, err := unix.Socket(s.family, s.typ|unix.SOCK_CLOEXEC, s.protocol)
		if err == nil {
			unix.Close(fd)
		}
		c.errno(fmt.Sprintf("socket(%d, %d, %d)", s.family, s.typ, s.protocol), err, unix.EAFNOSUPPORT)
		c.done()
	}
	// socketpair(2) reaches a family's code without socket(2): TIPC
	// implements it (CVE-2021-43267 was a TIPC heap overflow).
	c := start("CVE-2021-43267/socketpair-AF_TIPC")
	var sv [2]int32
	_, err := sys(unix.SYS_SOCKETPAIR, unix.AF_TIPC, unix.SOCK_SEQPACKET, 0, uintptr(unsafe.Pointer(&sv[0])))
	if err == nil {
		unix.Close(int(sv[0]))
		unix.Close(int(sv[1]))
	}
	c.errno("socketpair(AF_TIPC)", err, unix.EAFNOSUPPORT)
	// Proof that the filter answers, not a kernel without TIPC: the
	// kernel itself says EOPNOTSUPP to socketpair(AF_INET).
	_, err = sys(unix.SYS_SOCKETPAIR, unix.AF_INET, unix.SOCK_STREAM, 0, uintptr(unsafe.Pointer(&sv[0])))
	if err != unix.EAFNOSUPPORT {
		c.fail("socketpair(AF_INET): %v, want EAFNOSUPPORT from the filter (the kernel says EOPNOTSUPP)", err)
	}
	c.done()
}

// handles: name_to_handle_at + open_by_handle_at read files by inode number,
// around every mount ("shocker", Docker 1.0).
func handles(*config) {
	c := start("shocker/open_by_handle_at")
	// name_to_handle_at is open to anyone in the kernel.
	var h [128 + 8]byte
	binary32(h[:], 128)
	var mnt int32
	_, err := sys(unix.SYS_NAME_TO_HANDLE_AT, atFDCWD, cstr("/etc/passwd"), uintptr(unsafe.Pointer(&h[0])), uintptr(unsafe.Pointer(&mnt)), 0)
	c.errno("name_to_handle_at(/etc/passwd)", err, unix.EPERM)
	// The inode of a host root folder (ext4 root is inode 2).
	binary32(h[:], 8)
	binary32(h[4:], 1)
	binary32(h[8:], 2)
	fd, err := sys(unix.SYS_OPEN_BY_HANDLE_AT, atFDCWD, uintptr(unsafe.Pointer(&h[0])), unix.O_RDONLY)
	if err == nil {
		unix.Close(int(fd))
	}
	c.errno("open_by_handle_at(inode 2)", err, unix.EPERM)
	c.done()
}

func binary32(b []byte, v uint32) {
	b[0], b[1], b[2], b[3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
}

// kexec and modules: capability checks come first in the kernel too, so
// both walls answer EPERM.
func kexec(*config) {
	c := start("flatpak-seccomp/kexec_load")
	_, err := sys(unix.SYS_KEXEC_LOAD, 0, 0, 0, 0)
	c.errno("kexec_load", err, unix.EPERM)
	_, err = sys(unix.SYS_KEXEC_FILE_LOAD, ^uintptr(0), ^uintptr(0), 0, 0, 0)
	c.errno("kexec_file_load", err, unix.EPERM)
	c.done()
}

func modules(*config) {
	c := start("flatpak-seccomp/init_module")
	_, err := sys(unix.SYS_INIT_MODULE, 0, 0, cstr(""))
	c.errno("init_module", err, unix.EPERM)
	_, err = sys(unix.SYS_FINIT_MODULE, ^uintptr(0), cstr(""), 0)
	c.errno("finit_module(-1)", err, unix.EPERM)
	_, err = sys(unix.SYS_DELETE_MODULE, cstr("airlock_none"), 0)
	c.errno("delete_module", err, unix.EPERM)
	c.done()
}

// setHostname: the uts namespace is the sandbox's, but the application has
// no CAP_SYS_ADMIN in it and the filter refuses too: both EPERM.
func setHostname(*config) {
	c := start("flatpak-seccomp/sethostname")
	c.errno("sethostname", unix.Sethostname([]byte("escaped")), unix.EPERM)
	c.errno("setdomainname", unix.Setdomainname([]byte("escaped")), unix.EPERM)
	c.done()
}

// ---- privileges ---------------------------------------------------------------

// procSelfExe: the probe is a --ro grant; it cannot be rewritten through
// /proc/self/exe (ETXTBSY while it runs, and the grant's mount is read-only
// for when it does not).
func procSelfExe(*config) {
	c := start("CVE-2019-5736/proc-self-exe-overwrite")
	fd, err := unix.Open("/proc/self/exe", unix.O_WRONLY|unix.O_CLOEXEC, 0)
	if err == nil {
		unix.Close(fd)
	}
	c.errno("open /proc/self/exe O_WRONLY", err, unix.ETXTBSY)
	// ETXTBSY only holds while it runs: the file itself must refuse
	// writes too, by a read-only mount or a read-only grant of the
	// document store (EROFS for access(W_OK)).
	var st unix.Statfs_t
	exe, _ := os.Readlink("/proc/self/exe")
	if err := unix.Statfs("/proc/self/exe", &st); err != nil {
		c.fail("statfs: %v", err)
	} else if st.Flags&unix.ST_RDONLY != 0 {
		c.note("mount read-only")
	} else if err := unix.Access(exe, unix.W_OK); err == unix.EROFS || err == unix.EACCES {
		c.note("read-only grant: access(W_OK) = %v", err)
	} else {
		c.fail("the executable %s is writable (mount flags %#x, access(W_OK) = %v)", exe, st.Flags, err)
	}
	c.done()
}

func launcherHidden(c0 *config) {
	c := start("CVE-2019-5736/launcher-binary-hidden")
	if c0.launcher == "" {
		c.fail("no -launcher given")
	} else {
		c.absent(c0.launcher)
	}
	c.done()
}

// setuidBinary runs a setuid-root copy of the probe (granted with --ro): the
// grant is mounted nosuid and no_new_privs is set, so its euid stays ours.
func setuidBinary(c0 *config) {
	c := start("CVE-2021-4034/setuid-binary")
	if c0.setuid == "" {
		c.fail("no -setuid given")
		c.done()
		return
	}
	if st, err := os.Stat(c0.setuid); err != nil || st.Mode()&os.ModeSetuid == 0 {
		c.fail("%s is not a setuid file here (%v)", c0.setuid, err)
		c.done()
		return
	}
	out, err := exec.Command(c0.setuid, "euid").Output()
	var r Result
	if err != nil || json.Unmarshal(bytes.TrimSpace(out), &r) != nil {
		c.fail("cannot run %s: %v: %s", c0.setuid, err, out)
	} else if r.Value != strconv.Itoa(unix.Getuid()) {
		c.fail("the setuid binary ran with euid %s", r.Value)
	} else {
		c.note("euid stayed %s", r.Value)
	}
	c.r.Value = r.Value
	c.done()
}

// usrNosuid: /usr holds su, passwd, pkexec (CVE-2021-4034), sudo
// (CVE-2021-3156): mounted nosuid they give nothing.
func usrNosuid(*config) {
	c := start("CVE-2021-3156/usr-nosuid")
	for _, p := range []string{"/usr", "/", "/tmp", "/dev/shm", os.Getenv("HOME")} {
		var st unix.Statfs_t
		if err := unix.Statfs(p, &st); err != nil {
			c.fail("statfs %s: %v", p, err)
		} else if st.Flags&unix.ST_NOSUID == 0 {
			c.fail("%s is not nosuid", p)
		}
	}
	if c.r.Safe {
		c.note("/usr, /, /tmp, /dev/shm and $HOME are nosuid")
	}
	c.done()
}

func statusFields(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	m := map[string]string{}
	for _, l := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(l, ":")
		if ok {
			m[k] = strings.TrimSpace(v)
		}
	}
	return m, nil
}

func capsZero(c *check, who, path string) {
	m, err := statusFields(path)
	if err != nil {
		c.fail("read %s: %v", path, err)
		return
	}
	for _, k := range []string{"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"} {
		if v, ok := m[k]; !ok || v != "0000000000000000" {
			c.fail("%s %s=%q", who, k, v)
		}
	}
}

func capabilities(c0 *config) {
	c := start("capabilities(7)/app-all-sets-zero")
	capsZero(c, "app", "/proc/self/status")
	if c.r.Safe {
		c.note("CapInh, CapPrm, CapEff, CapBnd, CapAmb all 0")
	}
	c.done()
	// Init keeps nothing either once the application runs: a process that
	// reached it (CVE-2016-9962) would find no capability to use.
	c = start("CVE-2016-9962/init-capabilities")
	st := fmt.Sprintf("/proc/%d/status", c0.initPid)
	if _, err := os.Stat(st); errnoOf(err) == unix.ENOENT {
		// hidepid=invisible hides init; the check stands where /proc
		// shows it (the host-side TestProbeCanFail).
		c.note("init is not visible (hidepid=invisible)")
	} else {
		capsZero(c, "init", st)
		if c.r.Safe {
			c.note("init: CapInh, CapPrm, CapEff, CapBnd, CapAmb all 0")
		}
	}
	c.done()
}

func statusFlags(*config) {
	m, err := statusFields("/proc/self/status")
	c := start("no_new_privs/status")
	if err != nil {
		c.fail("%v", err)
	} else if m["NoNewPrivs"] != "1" {
		c.fail("NoNewPrivs=%q", m["NoNewPrivs"])
	} else {
		c.note("NoNewPrivs=1")
	}
	c.done()
	c = start("seccomp/status-filter-mode")
	if err != nil {
		c.fail("%v", err)
	} else if m["Seccomp"] != "2" {
		c.fail("Seccomp=%q", m["Seccomp"])
	} else {
		c.note("Seccomp=2 Seccomp_filters=%s", m["Seccomp_filters"])
	}
	c.done()
}

// inheritedFDs: runc leaked a host directory descriptor into the container
// (CVE-2016-9962); the test hands airlock extra descriptors. Only 0, 1 and 2
// may be open when the probe starts.
func inheritedFDs(*config) {
	c := start("CVE-2016-9962/inherited-fds")
	if len(inheritedAtStart) > 0 {
		c.fail("inherited descriptors: %s", strings.Join(inheritedAtStart, ", "))
	} else {
		c.note("only 0, 1, 2")
	}
	c.done()
}

// inheritedAtStart lists the descriptors above 2 open when the probe
// started, before any attempt opened one (package initialisation runs first).
var inheritedAtStart = func() []string {
	// Raw fcntl calls: opening /proc/self/fd would itself start the Go
	// runtime's poller (an epoll and an eventfd descriptor).
	var out []string
	for fd := 3; fd < 4096; fd++ {
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != nil {
			continue
		}
		t, _ := os.Readlink(fmt.Sprintf("/proc/self/fd/%d", fd))
		out = append(out, fmt.Sprintf("%d->%s", fd, t))
	}
	return out
}()

// ---- file system isolation -------------------------------------------------------

func hostFiles(c0 *config) {
	for _, f := range []struct{ name, path string }{
		{"fs-isolation/etc-shadow", "/etc/shadow"},
		{"fs-isolation/etc-ssh", "/etc/ssh"},
		{"fs-isolation/root-home", "/root"},
		{"fs-isolation/var-log", "/var/log"},
		{"fs-isolation/checkout", c0.checkout},
		{"fs-isolation/host-runtime-dir", c0.hostRuntime},
	} {
		c := start(f.name)
		if f.path == "" {
			c.fail("not configured")
		} else {
			c.absent(f.path)
		}
		c.done()
	}
}

func hostHomes(*config) {
	c := start("fs-isolation/other-homes")
	ents, err := os.ReadDir("/home")
	mine := filepath.Base(os.Getenv("HOME"))
	var others []string
	for _, e := range ents {
		if e.Name() != mine {
			others = append(others, e.Name())
		}
	}
	switch {
	case err != nil && !errors.Is(err, os.ErrNotExist):
		c.fail("read /home: %v", err)
	case len(others) > 0:
		c.fail("/home shows %s", strings.Join(others, ", "))
	default:
		c.note("/home holds only %s", mine)
	}
	c.done()
}

func connectUnix(path string) error {
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	return unix.Connect(fd, &unix.SockaddrUnix{Name: path})
}

// sessionBus: the host session bus reaches org.freedesktop.portal.Flatpak's
// Spawn and every session service (CVE-2021-21261 escaped through it).
func sessionBus(c0 *config) {
	c := start("CVE-2021-21261/host-session-bus")
	if c0.bus == "" {
		c.fail("no -bus given")
	} else {
		c.errno("connect "+c0.bus, connectUnix(c0.bus), unix.ENOENT)
	}
	c.done()
}

func systemBus(*config) {
	c := start("design/system-bus")
	c.errno("connect /run/dbus/system_bus_socket", connectUnix("/run/dbus/system_bus_socket"), unix.ENOENT)
	c.errno("connect /var/run/dbus/system_bus_socket", connectUnix("/var/run/dbus/system_bus_socket"), unix.ENOENT)
	c.done()
}

// x11: the host X server by path (/tmp/.X11-unix is the host's /tmp) and by
// its abstract name, which a shared network namespace would expose.
func x11(c0 *config) {
	for _, x := range []struct{ name, addr string }{
		{"xorg/host-socket-path", fmt.Sprintf("/tmp/.X11-unix/X%d", c0.x11)},
		{"xorg/host-socket-abstract", fmt.Sprintf("@/tmp/.X11-unix/X%d", c0.x11)},
	} {
		c := start(x.name)
		if c0.x11 < 0 {
			c.fail("skipped: no -x11 display given")
			c.r.Errno = "skipped"
		} else {
			want := unix.ENOENT
			if strings.HasPrefix(x.addr, "@") {
				want = unix.ECONNREFUSED // another network namespace's abstract names are not there
			}
			c.errno("connect "+x.addr, connectUnix(x.addr), want)
		}
		c.done()
	}
}

// loopback: host services on 127.0.0.1 and abstract sockets (CVE-2020-15257:
// containerd-shim's abstract socket reached from a host-network container).
func loopback(c0 *config) {
	c := start("design/host-loopback-tcp")
	if c0.tcp == "" {
		c.fail("no -tcp given")
	} else {
		conn, err := net.DialTimeout("tcp", c0.tcp, 2*time.Second)
		if err == nil {
			conn.Close()
		}
		c.errno("connect "+c0.tcp, err, unix.ECONNREFUSED)
	}
	c.done()
	c = start("CVE-2020-15257/host-abstract-socket")
	if c0.abstract == "" {
		c.fail("no -abstract given")
	} else {
		c.errno("connect @"+c0.abstract, connectUnix("@"+c0.abstract), unix.ECONNREFUSED)
	}
	c.done()
}

// ---- hardware identifiers --------------------------------------------------------

func interfaces(*config) {
	c := start("design/interfaces-only-lo")
	ifs, err := net.Interfaces()
	var names []string
	for _, i := range ifs {
		names = append(names, i.Name)
	}
	c.r.Value = strings.Join(names, ",")
	switch {
	case err != nil:
		c.fail("%v", err)
	case len(names) != 1 || names[0] != "lo":
		c.fail("interfaces: %v", names)
	default:
		c.note("only lo")
	}
	c.absent("/sys/class/net")
	c.r.Errno = ""
	c.done()
}

func hwaddr(c0 *config) {
	c := start("design/SIOCGIFHWADDR")
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		c.fail("socket: %v", err)
		c.done()
		return
	}
	defer unix.Close(fd)
	get := func(name string) ([]byte, error) {
		ifr, err := unix.NewIfreq(name)
		if err != nil {
			return nil, err
		}
		if err := unix.IoctlIfreq(fd, unix.SIOCGIFHWADDR, ifr); err != nil {
			return nil, err
		}
		raw := (*[unix.IFNAMSIZ + 24]byte)(unsafe.Pointer(ifr))
		return append([]byte(nil), raw[unix.IFNAMSIZ+2:unix.IFNAMSIZ+8]...), nil
	}
	if len(c0.ifaces) == 0 {
		c.fail("no -ifaces given")
	}
	for _, n := range c0.ifaces {
		mac, err := get(n)
		c.errno("SIOCGIFHWADDR "+n, err, unix.ENODEV)
		if err == nil {
			c.note("%s has %x", n, mac)
		}
	}
	if mac, err := get("lo"); err != nil || !bytes.Equal(mac, make([]byte, 6)) {
		c.fail("lo: %x %v", mac, err)
	}
	c.done()
}

func dmi(*config) {
	c := start("design/no-dmi")
	for _, p := range []string{"/sys/class/dmi", "/sys/devices/virtual/dmi", "/sys/firmware"} {
		c.absent(p)
	}
	c.done()
}

func blockDevices(c0 *config) {
	c := start("design/no-block-devices")
	for _, p := range []string{"/sys/block", "/sys/class/block", "/sys/dev/block", "/dev/disk"} {
		c.absent(p)
	}
	if len(c0.blockdevs) == 0 {
		c.fail("no -blockdevs given")
	}
	for _, b := range c0.blockdevs {
		c.absent("/dev/" + b)
	}
	c.done()
}

// allowedDev is everything /dev may hold (launcher/sandbox/root_linux.go).
var allowedDev = []string{"fd", "full", "null", "ptmx", "pts", "random", "shm", "stderr", "stdin", "stdout", "tty", "urandom", "zero"}

func devNodes(*config) {
	c := start("design/dev-contents")
	ents, err := os.ReadDir("/dev")
	if err != nil {
		c.fail("%v", err)
		c.done()
		return
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	c.r.Value = strings.Join(names, ",")
	if strings.Join(names, ",") != strings.Join(allowedDev, ",") {
		c.fail("/dev holds %v, want %v", names, allowedDev)
	} else {
		c.note("/dev holds only %v", allowedDev)
	}
	c.done()
}

func devAbsent(*config) {
	for _, d := range []struct{ name, path string }{
		{"design/dev-kmsg", "/dev/kmsg"},
		{"design/dev-mem", "/dev/mem"},
		{"design/dev-input", "/dev/input"},
		{"design/dev-snd", "/dev/snd"},
		{"design/dev-dri", "/dev/dri"},
		{"design/dev-console", "/dev/console"},
		{"design/dev-kvm", "/dev/kvm"},
	} {
		c := start(d.name)
		c.absent(d.path)
		c.done()
	}
}

var hex32 = regexp.MustCompile(`^[0-9a-f]{32}$`)

func machineID(c0 *config) {
	c := start("design/machine-id")
	b, err := os.ReadFile("/etc/machine-id")
	id := strings.TrimSpace(string(b))
	c.r.Value = id
	switch {
	case err != nil:
		c.fail("%v", err)
	case !hex32.MatchString(id):
		c.fail("machine-id %q is not 32 hex digits", id)
	case c0.machineID == "":
		c.fail("no -machine-id given")
	case id == c0.machineID:
		c.fail("machine-id is the host's")
	default:
		c.note("machine-id differs from the host's")
	}
	if b2, err := os.ReadFile("/var/lib/dbus/machine-id"); err == nil && strings.TrimSpace(string(b2)) != id {
		c.fail("/var/lib/dbus/machine-id %q differs from /etc/machine-id", strings.TrimSpace(string(b2)))
	}
	c.done()
}

func bootID(c0 *config) {
	c := start("design/boot_id")
	b, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	id := strings.TrimSpace(string(b))
	c.r.Value = id
	switch {
	case err != nil:
		c.fail("%v", err)
	case c0.bootID == "":
		c.fail("no -boot-id given")
	case id == c0.bootID:
		c.fail("boot_id is the host's")
	default:
		c.note("boot_id differs from the host's")
	}
	c.done()
}

func hostName(c0 *config) {
	c := start("design/hostname")
	var u unix.Utsname
	unix.Uname(&u)
	name := unix.ByteSliceToString(u.Nodename[:])
	c.r.Value = name
	etc, _ := os.ReadFile("/etc/hostname")
	switch {
	case c0.hostname == "":
		c.fail("no -hostname given")
	case name == c0.hostname || strings.TrimSpace(string(etc)) == c0.hostname:
		c.fail("host name is the host's (%q)", name)
	default:
		c.note("host name %q", name)
	}
	c.done()
}

// ---- read-only and private places ---------------------------------------------

func roMount(c *check, path string) {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		c.fail("statfs %s: %v", path, err)
	} else if st.Flags&unix.ST_RDONLY == 0 {
		c.fail("%s is on a writable mount", path)
	} else {
		c.note("%s mounted read-only", path)
	}
}

// procSys: the kernel knobs are root's (EACCES for the user) and mounted
// read-only besides, as bubblewrap does, for any process that gained root.
func procSys(*config) {
	c := start("bwrap/proc-sys-read-only")
	fd, err := unix.Open("/proc/sys/kernel/hostname", unix.O_WRONLY|unix.O_CLOEXEC, 0)
	if err == nil {
		unix.Close(fd)
	}
	c.errno("open /proc/sys/kernel/hostname O_WRONLY", err, unix.EACCES)
	roMount(c, "/proc/sys/kernel")
	roMount(c, "/proc/sys/net")
	c.done()
}

func sysrq(*config) {
	c := start("bwrap/proc-sysrq-trigger")
	fd, err := unix.Open("/proc/sysrq-trigger", unix.O_WRONLY|unix.O_CLOEXEC, 0)
	if err == nil {
		unix.Close(fd)
	}
	// Kernels without CONFIG_MAGIC_SYSRQ have no such file: the test
	// expects ENOENT when the host has none either.
	if errnoOf(err) == unix.ENOENT {
		c.errno("open /proc/sysrq-trigger O_WRONLY", err, unix.ENOENT)
	} else {
		c.errno("open /proc/sysrq-trigger O_WRONLY", err, unix.EACCES)
		roMount(c, "/proc/sysrq-trigger")
	}
	c.done()
}

// readOnlyRoot: mkdir asks the mount for write access before any permission
// check, so a read-only mount answers EROFS even where the folder is ours.
func readOnlyRoot(*config) {
	for _, p := range []struct{ name, dir string }{
		{"design/root-read-only", "/"},
		{"design/usr-read-only", "/usr"},
		{"design/etc-read-only", "/etc"},
	} {
		c := start(p.name)
		path := filepath.Join(p.dir, "airlock-escape")
		err := unix.Mkdir(path, 0o755)
		if err == nil {
			unix.Rmdir(path)
		}
		c.errno("mkdir "+path, err, unix.EROFS)
		c.done()
	}
}

func privateTmp(*config) {
	for _, p := range []struct{ name, dir string }{
		{"design/private-tmp", "/tmp"},
		{"design/private-dev-shm", "/dev/shm"},
	} {
		c := start(p.name)
		ents, err := os.ReadDir(p.dir)
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		switch {
		case err != nil:
			c.fail("%v", err)
		case len(names) > 0:
			c.fail("%s holds %v", p.dir, names)
		default:
			c.note("%s is empty", p.dir)
		}
		c.done()
	}
}

// ---- processes ----------------------------------------------------------------

func canary(c0 *config) {
	c := start("pid-namespace/host-pid-signal")
	if c0.canary <= 0 {
		c.fail("no -canary given")
	} else {
		c.errno(fmt.Sprintf("kill(%d, 0)", c0.canary), unix.Kill(c0.canary, 0), unix.ESRCH)
		c.absent(fmt.Sprintf("/proc/%d", c0.canary))
	}
	c.done()
}

func procPids(*config) {
	c := start("pid-namespace/proc-only-sandbox")
	ents, err := os.ReadDir("/proc")
	if err != nil {
		c.fail("%v", err)
		c.done()
		return
	}
	var pids []int
	for _, e := range ents {
		if p, err := strconv.Atoi(e.Name()); err == nil {
			pids = append(pids, p)
		}
	}
	sort.Ints(pids)
	c.r.Value = fmt.Sprint(pids)
	// Init is hidden (hidepid=invisible): the probe sees itself alone.
	want := []int{unix.Getpid()}
	if fmt.Sprint(pids) != fmt.Sprint(want) || unix.Getppid() != 1 {
		c.fail("/proc shows %v (want %v), parent %d", pids, want, unix.Getppid())
	} else {
		c.note("/proc shows only the probe (init hidden), its parent is pid 1")
	}
	c.done()
}

// kernelCmdline: the host's kernel command line names the root file system
// (root=UUID=..., a per-installation identifier that outlives any fresh
// machine-id) and the boot image. The sandbox must not show the host's.
func kernelCmdline(c0 *config) {
	c := start("design/proc-cmdline")
	b, err := os.ReadFile("/proc/cmdline")
	sum := sha256.Sum256(b)
	switch {
	case c0.cmdlineSum == "":
		c.fail("no -cmdline-sum given")
	case err != nil && errnoOf(err) != unix.ENOENT && errnoOf(err) != unix.EACCES:
		c.fail("read /proc/cmdline: %v", err)
	case err == nil && len(bytes.TrimSpace(b)) > 0 && hex.EncodeToString(sum[:]) == c0.cmdlineSum:
		c.fail("/proc/cmdline is the host's: %q", bytes.TrimSpace(b))
	default:
		c.note("the host's kernel command line is not visible")
	}
	c.done()
}

// grantPath: a granted file appears at /run/user/UID/doc/<random id>/<name>
// "so that the application learns nothing from the path but the file's name"
// (launcher/sandbox/run.go). /proc/self/mountinfo must not give the host
// folder away (its fourth field is the bind source within its file system).
func grantPath(c0 *config) {
	c := start("design/grant-host-path-mountinfo")
	b, err := os.ReadFile("/proc/self/mountinfo")
	switch {
	case c0.grantDir == "":
		c.fail("no -grant-dir given")
	case err != nil:
		c.fail("read /proc/self/mountinfo: %v", err)
	default:
		for _, l := range strings.Split(string(b), "\n") {
			if strings.Contains(l, c0.grantDir) {
				c.fail("the host folder of a grant shows in /proc/self/mountinfo: %q", l)
			}
		}
		if c.r.Safe {
			c.note("no host folder of a grant in /proc/self/mountinfo")
		}
	}
	c.done()
}

// netHost: with --net host the host's abstract sockets share the sandbox's
// network namespace; Landlock's abstract-socket scope (Linux 6.12) must still
// refuse them (launcher/sandbox/landlock_unsafe.go): EPERM.
func netHost(c0 *config) {
	for _, x := range []struct{ name, addr string }{
		{"xorg/net-host-abstract-socket", fmt.Sprintf("@/tmp/.X11-unix/X%d", c0.x11)},
		{"CVE-2020-15257/net-host-abstract-socket", "@" + c0.abstract},
	} {
		c := start(x.name)
		if x.addr == "@" || c0.x11 < 0 && strings.Contains(x.addr, "X11") {
			c.fail("skipped: not configured")
			c.r.Errno = "skipped"
		} else {
			c.errno("connect "+x.addr, connectUnix(x.addr), unix.EPERM)
		}
		c.done()
	}
}
