package kernel

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// Kcmp types, from include/uapi/linux/kcmp.h.
const (
	KcmpFile    = 0
	KcmpVM      = 1
	KcmpFiles   = 2
	KcmpFS      = 3
	KcmpSighand = 4
)

// Kcmp compares a kernel object of two tasks (kcmp(2)): 0 when they are
// the same object, otherwise 1 or 2, an order consistent for sorting.
func Kcmp(pid1, pid2, typ int, idx1, idx2 uintptr) (int, error) {
	r, _, e := unix.Syscall6(unix.SYS_KCMP, uintptr(pid1), uintptr(pid2), uintptr(typ), idx1, idx2, 0)
	if e != 0 {
		return 0, fmt.Errorf("kcmp(%d, %d, type %d): %w", pid1, pid2, typ, e)
	}
	return int(r), nil
}
