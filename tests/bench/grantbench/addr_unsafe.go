package main

import "unsafe"

// unsafePointer is the address of a mapping's first byte (for /proc/self/pagemap).
func unsafePointer(b []byte) unsafe.Pointer { return unsafe.Pointer(&b[0]) }
