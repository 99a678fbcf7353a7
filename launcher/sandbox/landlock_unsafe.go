package sandbox

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// landlockAttr is struct landlock_ruleset_attr as of ABI 6.
type landlockAttr struct {
	handledAccessFS  uint64
	handledAccessNet uint64
	scoped           uint64
}

const (
	landlockCreateRulesetVersion = 1 << 0
	landlockScopeAbstractUnix    = 1 << 0
)

// scopeAbstractSockets forbids connecting to abstract unix sockets created
// outside the sandbox (Landlock ABI 6, Linux 6.12). A fresh network namespace
// already hides the host's abstract sockets, the host X server's
// @/tmp/.X11-unix/X0 among them; this keeps them out of reach when a profile
// shares the host's network too. Older kernels: nothing to do but say so.
func scopeAbstractSockets() error {
	// no_new_privs first: landlock_restrict_self requires it without
	// CAP_SYS_ADMIN, and the capabilities are gone by now.
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("cannot set no_new_privs: %w", err)
	}
	abi, _, e := unix.Syscall(unix.SYS_LANDLOCK_CREATE_RULESET, 0, 0, landlockCreateRulesetVersion)
	if e != 0 || int(abi) < 6 {
		return nil
	}
	attr := landlockAttr{scoped: landlockScopeAbstractUnix}
	fd, _, e := unix.Syscall(unix.SYS_LANDLOCK_CREATE_RULESET, uintptr(unsafe.Pointer(&attr)), unsafe.Sizeof(attr), 0)
	if e != 0 {
		return fmt.Errorf("cannot create landlock ruleset: %w", e)
	}
	defer unix.Close(int(fd))
	if _, _, e := unix.Syscall(unix.SYS_LANDLOCK_RESTRICT_SELF, fd, 0, 0); e != 0 {
		return fmt.Errorf("cannot restrict abstract unix sockets: %w", e)
	}
	return nil
}

// LandlockABI is the kernel's Landlock ABI version (0 without Landlock).
func LandlockABI() int {
	abi, _, e := unix.Syscall(unix.SYS_LANDLOCK_CREATE_RULESET, 0, 0, landlockCreateRulesetVersion)
	if e != 0 {
		return 0
	}
	return int(abi)
}
