package kernel

import (
	"os"

	"golang.org/x/sys/unix"
)

// membarrier(2) commands (include/uapi/linux/membarrier.h); x/sys/unix has
// the syscall number only.
const (
	MEMBARRIER_CMD_QUERY                                = 0
	MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED            = 1 << 2
	MEMBARRIER_CMD_PRIVATE_EXPEDITED                    = 1 << 3
	MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED           = 1 << 4
	MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE          = 1 << 5
	MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE = 1 << 6
	MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ               = 1 << 7
	MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ      = 1 << 8
	// MEMBARRIER_CMD_GET_REGISTRATIONS (Linux 6.3) returns the mask of the
	// registration commands the caller's mm has issued.
	MEMBARRIER_CMD_GET_REGISTRATIONS = 1 << 9
)

// ioprio_get(2) and ioprio_set(2) "which" values (include/uapi/linux/ioprio.h).
const (
	IOPRIO_WHO_PROCESS = 1
)

// IoprioGet returns the I/O priority of thread tid (ioprio_get(2) with
// IOPRIO_WHO_PROCESS); x/sys/unix has no wrapper.
func IoprioGet(tid int) (uint32, error) {
	prio, _, errno := unix.Syscall(unix.SYS_IOPRIO_GET, IOPRIO_WHO_PROCESS, uintptr(tid), 0)
	if errno != 0 {
		return 0, os.NewSyscallError("ioprio_get", errno)
	}
	return uint32(prio), nil
}

// IoprioSet sets the I/O priority of thread tid (ioprio_set(2)).
func IoprioSet(tid int, prio uint32) error {
	if _, _, errno := unix.Syscall(unix.SYS_IOPRIO_SET, IOPRIO_WHO_PROCESS, uintptr(tid), uintptr(prio)); errno != 0 {
		return os.NewSyscallError("ioprio_set", errno)
	}
	return nil
}
