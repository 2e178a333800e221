package proc

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// readFaultAddr returns the address of mem's first byte without touching it.
func readFaultAddr(mem []byte) unsafe.Pointer { return unsafe.Pointer(&mem[0]) }

// sigtimedwait takes one signal of set that is pending, without waiting.
func sigtimedwait(set *unix.Sigset_t) (int, error) {
	var ts unix.Timespec
	r, _, errno := unix.Syscall6(unix.SYS_RT_SIGTIMEDWAIT, uintptr(unsafe.Pointer(set)), 0,
		uintptr(unsafe.Pointer(&ts)), 8, 0, 0)
	if errno != 0 {
		return 0, errno
	}
	return int(r), nil
}
