package seccomp

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Install sets no_new_privs and loads the filter on every thread of the
// process (SECCOMP_FILTER_FLAG_TSYNC), so no Go runtime thread is left
// unfiltered. It must be called after the last privileged operation.
func Install(prog []unix.SockFilter) error {
	// no_new_privs on this thread; SECCOMP_FILTER_FLAG_TSYNC then sets it
	// on every other thread too (kernel/seccomp.c, seccomp_sync_threads).
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("cannot set no_new_privs: %w", err)
	}
	fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
	r, _, e := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, unix.SECCOMP_FILTER_FLAG_TSYNC, uintptr(unsafe.Pointer(&fprog)))
	if e != 0 {
		return fmt.Errorf("cannot install seccomp filter: %w", e)
	}
	if r != 0 {
		return fmt.Errorf("cannot install seccomp filter: thread %d not synchronised", r)
	}
	return nil
}

// InstallThread loads the filter on the calling thread only. The sandbox's
// init uses it so that its two grant threads (which attach granted files
// with move_mount(2), refused by the filter) stay unfiltered, while the
// application, forked from the filtered thread, inherits the filter. The
// rest of the codebase uses Install.
func InstallThread(prog []unix.SockFilter) error {
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("cannot set no_new_privs: %w", err)
	}
	fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
	if _, _, e := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, 0, uintptr(unsafe.Pointer(&fprog))); e != 0 {
		return fmt.Errorf("cannot install seccomp filter: %w", e)
	}
	return nil
}
