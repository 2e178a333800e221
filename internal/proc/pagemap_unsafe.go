package proc

import (
	"sync/atomic"
	"unsafe"
)

// u64Bytes views entries as the bytes pread fills, so a pagemap read
// lands in the caller's slice without a copy (x86_64 is little-endian,
// as the entries are).
func u64Bytes(s []uint64) []byte {
	if len(s) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&s[0])), len(s)*8)
}

// readFault reads the first byte of mem, so that the kernel maps a page on
// a read fault, and returns mem's address. The load is atomic so that the
// compiler cannot drop it.
func readFault(mem []byte) uint64 {
	p := unsafe.Pointer(&mem[0])
	atomic.LoadUint32((*uint32)(p))
	return uint64(uintptr(p))
}
