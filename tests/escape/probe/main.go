// Command probe runs INSIDE an Airlock sandbox and tries to get out of it.
// Each attempt prints one JSON line {"name", "safe", "detail", "errno",
// "value"}: safe says whether the sandbox held, errno is the error number of
// the attempt's first system call ("OK" when it succeeded), value carries what
// the test compares across runs (machine-id, boot_id, ...). The probe exits 0
// whatever the outcome; only a crash, or a kill by the seccomp filter in the
// foreign-ABI modes, ends it otherwise.
//
// It is also run on the host, outside any sandbox, by the test that checks
// that each attempt is able to report a failure (a probe that cannot fail
// proves nothing). Nothing here may harm the host in that run: the only
// process it attaches to or signals is one it was given or started itself,
// and kill(-1) lives in its own mode that the tests run in a sandbox only.
//
// Modes:
//
//	probe all [flags]   every attempt below, one line each
//	probe ids           machine-id, boot_id and hostname only
//	probe net-host      abstract sockets, for a sandbox sharing the host network
//	probe kill-all      kill(-1, SIGKILL)
//	probe int80         getpid through the i386 ABI (int $0x80): must die by SIGSYS
//	probe x32           getpid through the x32 ABI: must die by SIGSYS
//	probe euid          print the effective uid (run through a setuid copy)
//	probe tty-child     internal: the TIOCSTI attempts on a controlling terminal
//	probe sleep         internal: a sibling process to attach to
//	probe fd-flood N    put N descriptors in flight in its own socket pair, hold them until stdin closes
//	probe send-fd N     pass one descriptor with a soft RLIMIT_NOFILE of N (run on the host)
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Result is one attempt's outcome, one JSON line on stdout.
type Result struct {
	Name   string `json:"name"`
	Safe   bool   `json:"safe"`
	Detail string `json:"detail"`
	Errno  string `json:"errno,omitempty"`
	Value  string `json:"value,omitempty"`
}

func emit(r Result) {
	b, _ := json.Marshal(r)
	os.Stdout.Write(append(b, '\n'))
}

// check accumulates the calls of one attempt: it is safe only if every call
// ended with the errno the sandbox is meant to produce.
type check struct {
	r     Result
	first bool
}

func start(name string) *check { return &check{r: Result{Name: name, Safe: true}, first: true} }

func (c *check) note(format string, args ...any) {
	if c.r.Detail != "" {
		c.r.Detail += "; "
	}
	c.r.Detail += fmt.Sprintf(format, args...)
}

// fail marks the attempt as an escape (or an untestable set-up, which must
// not pass silently either).
func (c *check) fail(format string, args ...any) {
	c.r.Safe = false
	c.note(format, args...)
}

// errno records one call's outcome against the errno wanted.
func (c *check) errno(what string, err error, want unix.Errno) {
	got := errnoOf(err)
	if c.first {
		c.r.Errno = ename(got)
		c.first = false
	}
	if got != want {
		c.fail("%s: %s (want %s)", what, ename(got), ename(want))
		return
	}
	c.note("%s: %s", what, ename(got))
}

// absent wants path not to exist at all (ENOENT on lstat).
func (c *check) absent(path string) {
	_, err := os.Lstat(path)
	c.errno("lstat "+path, err, unix.ENOENT)
}

func (c *check) done() { emit(c.r) }

func errnoOf(err error) unix.Errno {
	if err == nil {
		return 0
	}
	var e unix.Errno
	if errors.As(err, &e) {
		return e
	}
	return unix.Errno(0xffff) // not a system call error
}

func ename(e unix.Errno) string {
	switch e {
	case 0:
		return "OK"
	case 0xffff:
		return "non-errno"
	}
	if n := unix.ErrnoName(e); n != "" {
		return n
	}
	return fmt.Sprintf("errno %d", int(e))
}

// sys makes a raw system call and returns its error (nil on success).
func sys(nr uintptr, a ...uintptr) (uintptr, error) {
	var x [6]uintptr
	copy(x[:], a)
	r, _, e := unix.Syscall6(nr, x[0], x[1], x[2], x[3], x[4], x[5])
	if e != 0 {
		return r, e
	}
	return r, nil
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: probe all|ids|kill-all|int80|x32|euid [flags]")
		os.Exit(2)
	}
	mode := os.Args[1]
	// A setuid copy of the probe (the setuid test makes one) does nothing
	// but report its ids: it must never try escapes with borrowed rights.
	if os.Geteuid() != os.Getuid() || mode == "euid" {
		emit(Result{Name: "euid", Safe: os.Geteuid() == os.Getuid(), Value: fmt.Sprint(os.Geteuid()),
			Detail: fmt.Sprintf("uid %d euid %d", os.Getuid(), os.Geteuid())})
		return
	}
	switch mode {
	case "all":
		cfg := parseConfig(os.Args[2:])
		for _, a := range attempts {
			a(cfg)
		}
	case "ids":
		cfg := parseConfig(os.Args[2:])
		machineID(cfg)
		bootID(cfg)
		hostName(cfg)
	case "net-host":
		netHost(parseConfig(os.Args[2:]))
	case "proc-init":
		procInit(parseConfig(os.Args[2:]))
	case "kill-all":
		killAll()
	case "int80":
		foreignABI("seccomp/i386-int80", int80, 20)
	case "x32":
		foreignABI("seccomp/x32", x32, 39|0x40000000)
	case "tty-child":
		ttyChild()
	case "sleep":
		time.Sleep(60 * time.Second)
	case "fd-flood", "send-fd":
		n := 0
		if len(os.Args) > 2 {
			fmt.Sscan(os.Args[2], &n)
		}
		if mode == "fd-flood" {
			fdFlood(n)
		} else {
			sendFD(uint64(n))
		}
	default:
		fmt.Fprintf(os.Stderr, "probe: unknown mode %q\n", mode)
		os.Exit(2)
	}
}

// foreignABI calls getpid through another ABI's entry. The filter kills the
// process before the call returns; if it does return, the line says so.
func foreignABI(name string, call func(uintptr) uintptr, nr uintptr) {
	os.Stdout.Sync()
	r := call(nr)
	emit(Result{Name: name, Safe: false, Value: fmt.Sprint(int64(r)),
		Detail: fmt.Sprintf("the call returned %d instead of the process being killed by SIGSYS", int64(r))})
}

// killAll sends SIGKILL to every process the probe may signal. Inside the
// sandbox's pid namespace that is nothing (init is exempt): the test checks
// that a process of the same user on the host survives.
func killAll() {
	c := start("pid-namespace/kill-all")
	err := unix.Kill(-1, unix.SIGKILL)
	c.errno("kill(-1, SIGKILL)", err, unix.ESRCH)
	c.done()
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
