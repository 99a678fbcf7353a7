#include "textflag.h"

// func int80(nr uintptr) uintptr
// A system call through the i386 entry (int $0x80): seccomp sees
// AUDIT_ARCH_I386 and the filter kills the process.
TEXT ·int80(SB), NOSPLIT, $0-16
	MOVQ nr+0(FP), AX
	INT  $0x80
	MOVQ AX, ret+8(FP)
	RET

// func x32(nr uintptr) uintptr
// A system call with __X32_SYSCALL_BIT set in its number: the filter kills
// the process (the kernel alone would say ENOSYS without CONFIG_X86_X32_ABI).
TEXT ·x32(SB), NOSPLIT, $0-16
	MOVQ nr+0(FP), AX
	SYSCALL
	MOVQ AX, ret+8(FP)
	RET
