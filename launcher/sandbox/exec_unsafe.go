package sandbox

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// execveatFD runs the program open at fd (execveat(2) with AT_EMPTY_PATH, as
// fexecve(3) does); it returns only on failure. fd may be an O_PATH
// descriptor, and close-on-exec (the program is an ELF binary, not a script
// that would need /proc/self/fd/N).
func execveatFD(fd int, argv, env []string) error {
	argvp, err := syscall.SlicePtrFromStrings(argv)
	if err != nil {
		return err
	}
	envp, err := syscall.SlicePtrFromStrings(env)
	if err != nil {
		return err
	}
	empty, _ := syscall.BytePtrFromString("")
	_, _, errno := unix.Syscall6(unix.SYS_EXECVEAT, uintptr(fd), uintptr(unsafe.Pointer(empty)),
		uintptr(unsafe.Pointer(&argvp[0])), uintptr(unsafe.Pointer(&envp[0])), unix.AT_EMPTY_PATH, 0)
	return errno
}
