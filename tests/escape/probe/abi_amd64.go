package main

// Implemented in abi_amd64.s.
func int80(nr uintptr) uintptr
func x32(nr uintptr) uintptr
