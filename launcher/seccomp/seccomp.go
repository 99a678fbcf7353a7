// Package seccomp builds and installs the classic-BPF system call filter that
// every sandboxed process runs under. The filter is a deny list in the manner
// of Flatpak's (common/flatpak-run.c, setup_seccomp), extended with the
// syscalls that gave the last years' container escapes (bpf, userfaultfd,
// io_uring). It is assembled here, not through libseccomp, so that what it
// compares is visible in one file and the launcher needs no cgo.
package seccomp

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// Offsets into struct seccomp_data (linux/seccomp.h).
const (
	offNr   = 0
	offArch = 4
	offArgs = 16 // args[i] at 16+8*i; x86_64 is little endian, so the low word comes first
)

// x32Bit marks the x32 ABI's system call numbers on x86_64 (__X32_SYSCALL_BIT).
const x32Bit = 0x40000000

// Pred is a test on one system call argument. A rule with predicates blocks the
// call when any of them holds.
type Pred struct {
	Arg int
	// Only the low 32 bits of the argument are compared. This is deliberate
	// for ioctl's request number: the kernel truncates it to an unsigned int,
	// so comparing all 64 bits lets TIOCSTI|(1<<32) through (CVE-2019-10063,
	// the bypass of the CVE-2017-5226 fix).
	Mask  uint32 // the argument is ANDed with Mask (0 means 0xffffffff)
	Equal uint32 // block when (arg & Mask) == Equal, unless NotIn is set
	// NotIn blocks when the (masked) argument is none of these values.
	NotIn []uint32
	// AnyBits blocks when (arg & Mask) != 0.
	AnyBits bool
}

// Rule refuses one system call with Errno, always or when a Pred holds.
type Rule struct {
	Name  string
	Nr    uint32
	Errno unix.Errno
	Preds []Pred
}

// Namespace flags of clone(2). The kernel reads clone's flags through
// lower_32_bits() (kernel/fork.c), so a low-word test is complete.
const cloneNewMask = unix.CLONE_NEWNS | unix.CLONE_NEWCGROUP | unix.CLONE_NEWUTS | unix.CLONE_NEWIPC |
	unix.CLONE_NEWUSER | unix.CLONE_NEWPID | unix.CLONE_NEWNET | 0x80 /* CLONE_NEWTIME */

func deny(name string, nr uintptr, e unix.Errno) Rule {
	return Rule{Name: name, Nr: uint32(nr), Errno: e}
}

// DefaultRules is what every sandbox refuses.
func DefaultRules() []Rule {
	r := []Rule{
		// Flatpak's list. Kernel logs, ancient or obscure interfaces, and
		// memory policy calls that let one process disturb another's pages.
		deny("syslog", unix.SYS_SYSLOG, unix.EPERM),
		deny("uselib", unix.SYS_USELIB, unix.EPERM),
		deny("acct", unix.SYS_ACCT, unix.EPERM),
		deny("quotactl", unix.SYS_QUOTACTL, unix.EPERM),
		deny("quotactl_fd", unix.SYS_QUOTACTL_FD, unix.EPERM),
		// Keyrings are not namespaced: a sandbox could read or plant keys
		// in the user's session keyring.
		deny("add_key", unix.SYS_ADD_KEY, unix.EPERM),
		deny("keyctl", unix.SYS_KEYCTL, unix.EPERM),
		deny("request_key", unix.SYS_REQUEST_KEY, unix.EPERM),
		deny("move_pages", unix.SYS_MOVE_PAGES, unix.EPERM),
		deny("mbind", unix.SYS_MBIND, unix.EPERM),
		deny("get_mempolicy", unix.SYS_GET_MEMPOLICY, unix.EPERM),
		deny("set_mempolicy", unix.SYS_SET_MEMPOLICY, unix.EPERM),
		deny("migrate_pages", unix.SYS_MIGRATE_PAGES, unix.EPERM),
		// No namespace or mount games from inside: the sandbox's mounts are
		// final. Nested user namespaces are the entry to most unprivileged
		// kernel exploits (they hand out CAP_SYS_ADMIN over new namespaces).
		deny("unshare", unix.SYS_UNSHARE, unix.EPERM),
		deny("setns", unix.SYS_SETNS, unix.EPERM),
		deny("mount", unix.SYS_MOUNT, unix.EPERM),
		deny("umount2", unix.SYS_UMOUNT2, unix.EPERM),
		deny("pivot_root", unix.SYS_PIVOT_ROOT, unix.EPERM),
		deny("chroot", unix.SYS_CHROOT, unix.EPERM),
		{Name: "clone(CLONE_NEW*)", Nr: unix.SYS_CLONE, Errno: unix.EPERM, Preds: []Pred{{Arg: 0, Mask: cloneNewMask, AnyBits: true}}},
		// clone3 passes its flags in memory, which seccomp cannot read:
		// ENOSYS makes glibc fall back to clone, which is filtered above.
		deny("clone3", unix.SYS_CLONE3, unix.ENOSYS),
		// The new mount API bypassed Flatpak's filter (CVE-2021-41133);
		// ENOSYS so that libmount falls back to mount(2), refused above.
		deny("open_tree", unix.SYS_OPEN_TREE, unix.ENOSYS),
		deny("move_mount", unix.SYS_MOVE_MOUNT, unix.ENOSYS),
		deny("fsopen", unix.SYS_FSOPEN, unix.ENOSYS),
		deny("fsconfig", unix.SYS_FSCONFIG, unix.ENOSYS),
		deny("fsmount", unix.SYS_FSMOUNT, unix.ENOSYS),
		deny("fspick", unix.SYS_FSPICK, unix.ENOSYS),
		deny("mount_setattr", unix.SYS_MOUNT_SETATTR, unix.ENOSYS),
		// perf events expose kernel addresses and have a long CVE record.
		deny("perf_event_open", unix.SYS_PERF_EVENT_OPEN, unix.ENOSYS),
		deny("ptrace", unix.SYS_PTRACE, unix.EPERM),
		deny("process_vm_readv", unix.SYS_PROCESS_VM_READV, unix.EPERM),
		deny("process_vm_writev", unix.SYS_PROCESS_VM_WRITEV, unix.EPERM),
		deny("pidfd_getfd", unix.SYS_PIDFD_GETFD, unix.EPERM),
		// personality(2) may only query or set plain PER_LINUX: other
		// personalities switch off ASLR (ADDR_NO_RANDOMIZE) or map page zero
		// (MMAP_PAGE_ZERO, the null-dereference exploit helper).
		{Name: "personality", Nr: unix.SYS_PERSONALITY, Errno: unix.EPERM, Preds: []Pred{{Arg: 0, NotIn: []uint32{0, 0xffffffff}}}},
		// Faking input on the controlling terminal (CVE-2017-5226, low 32
		// bits: CVE-2019-10063) and copying the Linux console's selection
		// into it (CVE-2023-28100).
		{Name: "ioctl(TIOCSTI|TIOCLINUX)", Nr: unix.SYS_IOCTL, Errno: unix.EPERM, Preds: []Pred{
			{Arg: 1, Equal: unix.TIOCSTI}, {Arg: 1, Equal: unix.TIOCLINUX}}},
		// Only local, IP and netlink sockets: no AF_PACKET (MAC addresses,
		// raw frames), no AF_BLUETOOTH, AF_VSOCK, AF_KEY, AF_ALG and the
		// other families with a record of kernel bugs. EAFNOSUPPORT is what
		// a kernel without the family says.
		{Name: "socket(family)", Nr: unix.SYS_SOCKET, Errno: unix.EAFNOSUPPORT, Preds: []Pred{
			{Arg: 0, NotIn: []uint32{unix.AF_UNSPEC, unix.AF_UNIX, unix.AF_INET, unix.AF_INET6, unix.AF_NETLINK}}}},
		// socketpair(2) reaches a family's code too (AF_TIPC implements
		// it; CVE-2021-43267 was TIPC): local sockets only.
		{Name: "socketpair(family)", Nr: unix.SYS_SOCKETPAIR, Errno: unix.EAFNOSUPPORT, Preds: []Pred{
			{Arg: 0, NotIn: []uint32{unix.AF_UNIX}}}},
		// Beyond Flatpak: eBPF, userfaultfd (the race primitive of many
		// kernel exploits) and io_uring (syscalls that seccomp cannot see).
		deny("bpf", unix.SYS_BPF, unix.EPERM),
		deny("userfaultfd", unix.SYS_USERFAULTFD, unix.EPERM),
		deny("io_uring_setup", unix.SYS_IO_URING_SETUP, unix.ENOSYS),
		deny("io_uring_enter", unix.SYS_IO_URING_ENTER, unix.ENOSYS),
		deny("io_uring_register", unix.SYS_IO_URING_REGISTER, unix.ENOSYS),
		deny("kexec_load", unix.SYS_KEXEC_LOAD, unix.EPERM),
		deny("kexec_file_load", unix.SYS_KEXEC_FILE_LOAD, unix.EPERM),
		deny("init_module", unix.SYS_INIT_MODULE, unix.EPERM),
		deny("finit_module", unix.SYS_FINIT_MODULE, unix.EPERM),
		deny("delete_module", unix.SYS_DELETE_MODULE, unix.EPERM),
		deny("reboot", unix.SYS_REBOOT, unix.EPERM),
		deny("swapon", unix.SYS_SWAPON, unix.EPERM),
		deny("swapoff", unix.SYS_SWAPOFF, unix.EPERM),
		deny("settimeofday", unix.SYS_SETTIMEOFDAY, unix.EPERM),
		deny("clock_settime", unix.SYS_CLOCK_SETTIME, unix.EPERM),
		deny("clock_adjtime", unix.SYS_CLOCK_ADJTIME, unix.EPERM),
		deny("adjtimex", unix.SYS_ADJTIMEX, unix.EPERM),
		deny("iopl", unix.SYS_IOPL, unix.EPERM),
		deny("ioperm", unix.SYS_IOPERM, unix.EPERM),
		deny("vhangup", unix.SYS_VHANGUP, unix.EPERM),
		// open_by_handle_at walks around mount restrictions ("shocker").
		deny("open_by_handle_at", unix.SYS_OPEN_BY_HANDLE_AT, unix.EPERM),
		deny("name_to_handle_at", unix.SYS_NAME_TO_HANDLE_AT, unix.EPERM),
		deny("sethostname", unix.SYS_SETHOSTNAME, unix.EPERM),
		deny("setdomainname", unix.SYS_SETDOMAINNAME, unix.EPERM),
		deny("fanotify_init", unix.SYS_FANOTIFY_INIT, unix.EPERM),
		deny("lookup_dcookie", unix.SYS_LOOKUP_DCOOKIE, unix.EPERM),
		// Flatpak refuses modify_ldt too: 16-bit segments are a classic
		// kernel exploitation aid (CVE-2015-5157, CVE-2015-8950 class).
		deny("modify_ldt", unix.SYS_MODIFY_LDT, unix.EPERM),
	}
	return r
}

// insn is one classic BPF instruction with a symbolic jump target.
type insn struct {
	code   uint16
	k      uint32
	jt, jf string // labels; "" means the next instruction
}

type asm struct {
	ins    []insn
	labels map[string]int
}

func (a *asm) label(l string) { a.labels[l] = len(a.ins) }
func (a *asm) emit(code uint16, k uint32) {
	a.ins = append(a.ins, insn{code: code, k: k})
}
func (a *asm) jump(code uint16, k uint32, jt, jf string) {
	a.ins = append(a.ins, insn{code: code, k: k, jt: jt, jf: jf})
}

func (a *asm) assemble() ([]unix.SockFilter, error) {
	out := make([]unix.SockFilter, len(a.ins))
	for i, in := range a.ins {
		f := unix.SockFilter{Code: in.code, K: in.k}
		for _, j := range []struct {
			l   string
			dst *uint8
		}{{in.jt, &f.Jt}, {in.jf, &f.Jf}} {
			if j.l == "" {
				continue
			}
			t, ok := a.labels[j.l]
			if !ok {
				return nil, fmt.Errorf("seccomp: undefined label %q", j.l)
			}
			off := t - i - 1
			if off < 0 || off > 255 {
				return nil, fmt.Errorf("seccomp: jump to %q out of range (%d)", j.l, off)
			}
			*j.dst = uint8(off)
		}
		out[i] = f
	}
	if len(out) > 4096 { // BPF_MAXINSNS
		return nil, fmt.Errorf("seccomp: program too long (%d)", len(out))
	}
	return out, nil
}

const (
	ldW  = unix.BPF_LD | unix.BPF_W | unix.BPF_ABS
	jeq  = unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K
	jset = unix.BPF_JMP | unix.BPF_JSET | unix.BPF_K
	andK = unix.BPF_ALU | unix.BPF_AND | unix.BPF_K
	ret  = unix.BPF_RET | unix.BPF_K
)

// Compile turns rules into a BPF program. Anything not refused is allowed. A
// call from a foreign ABI (i386 through int 0x80, or x32) kills the process:
// the filter only knows x86_64 numbers, and the other ABIs' numbers mean other
// calls (the reason Flatpak adds every architecture it allows explicitly).
func Compile(rules []Rule) ([]unix.SockFilter, error) {
	a := &asm{labels: map[string]int{}}
	a.emit(ldW, offArch)
	a.jump(jeq, unix.AUDIT_ARCH_X86_64, "", "kill")
	a.emit(ldW, offNr)
	a.jump(jset, x32Bit, "kill", "")
	for i, r := range rules {
		next := fmt.Sprintf("r%d", i)
		deny := fmt.Sprintf("d%d", i)
		if len(r.Preds) == 0 {
			a.jump(jeq, r.Nr, deny, next)
		} else {
			a.jump(jeq, r.Nr, "", next)
			for j, p := range r.Preds {
				pnext := fmt.Sprintf("r%dp%d", i, j)
				a.emit(ldW, uint32(offArgs+8*p.Arg))
				if p.Mask != 0 && p.Mask != 0xffffffff {
					a.emit(andK, p.Mask)
				}
				switch {
				case p.AnyBits:
					a.jump(jset, 0xffffffff, deny, pnext)
				case p.NotIn != nil:
					for _, v := range p.NotIn {
						a.jump(jeq, v, pnext, "")
					}
					// none matched: an unconditional jump (both targets equal)
					a.jump(jeq, 0, deny, deny)
				default:
					a.jump(jeq, p.Equal, deny, pnext)
				}
				a.label(pnext)
			}
			// no predicate held: the call is allowed (one rule per syscall)
			a.emit(ret, unix.SECCOMP_RET_ALLOW)
		}
		a.label(deny)
		a.emit(ret, unix.SECCOMP_RET_ERRNO|uint32(r.Errno)&unix.SECCOMP_RET_DATA)
		a.label(next)
	}
	a.emit(ret, unix.SECCOMP_RET_ALLOW)
	a.label("kill")
	a.emit(ret, unix.SECCOMP_RET_KILL_PROCESS)
	return a.assemble()
}
