package kernel

import "unsafe"

// BytesAddr is the address of b's first byte in our address space: a
// mapping's start, to name it in /proc/self/map_files or to hand it to a
// call that takes an address.
func BytesAddr(b []byte) uintptr {
	return uintptr(unsafe.Pointer(&b[0]))
}
