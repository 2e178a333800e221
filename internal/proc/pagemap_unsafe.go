package proc

import (
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
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

// sink keeps the compiler from dropping readFault's load.
var sink byte

// readFault reads the first byte of mem, so that the kernel maps a page on
// a read fault, and returns mem's address.
func readFault(mem []byte) uint64 {
	sink = *(*byte)(unsafe.Pointer(&mem[0]))
	return uint64(uintptr(unsafe.Pointer(&mem[0])))
}

// pagemapScan issues PAGEMAP_SCAN with vec as the output array and
// returns the number of regions the kernel filled.
func pagemapScan(fd int, arg *pmScanArg, vec []PageRegion) (int, error) {
	if len(vec) > 0 {
		arg.Vec = uint64(uintptr(unsafe.Pointer(&vec[0])))
	}
	arg.VecLen = uint64(len(vec))
	for {
		r, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), PAGEMAP_SCAN, uintptr(unsafe.Pointer(arg)))
		runtime.KeepAlive(vec)
		runtime.KeepAlive(arg)
		if errno == unix.EINTR {
			continue
		}
		if errno != 0 {
			return 0, errno
		}
		return int(r), nil
	}
}
