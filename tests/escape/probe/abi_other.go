//go:build !amd64

package main

// The foreign-ABI attempts are x86_64's: elsewhere they report -1 (unsafe),
// which the test does not run.
func int80(uintptr) uintptr { return ^uintptr(0) }
func x32(uintptr) uintptr   { return ^uintptr(0) }
