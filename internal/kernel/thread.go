package kernel

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// GetRobustList is get_robust_list(2) for thread tid: the head of its robust
// futex list and the size it registered. x/sys/unix has no wrapper; the
// call takes a tid, so no injection into the thread is needed.
func GetRobustList(tid int) (head, size uint64, err error) {
	_, _, e := unix.Syscall(unix.SYS_GET_ROBUST_LIST, uintptr(tid),
		uintptr(unsafe.Pointer(&head)), uintptr(unsafe.Pointer(&size)))
	if e != 0 {
		return 0, 0, e
	}
	return head, size, nil
}

// ThreadSetresuid and ThreadSetresgid are the raw setresuid(2) and
// setresgid(2): they change the calling OS thread's ids only. The Go
// wrappers (and glibc's) apply the change to every thread of the process,
// which is not what a caller that switches ids around one operation on a
// locked thread wants. An id of -1 (as uint32, ^0) is left alone.
func ThreadSetresuid(r, e, s uint32) error { return setres(unix.SYS_SETRESUID, r, e, s) }

// ThreadSetresgid: see ThreadSetresuid.
func ThreadSetresgid(r, e, s uint32) error { return setres(unix.SYS_SETRESGID, r, e, s) }

func setres(nr uintptr, r, e, s uint32) error {
	if _, _, errno := unix.RawSyscall(nr, idArg(r), idArg(e), idArg(s)); errno != 0 {
		return errno
	}
	return nil
}

// idArg passes -1 as the kernel's "unchanged" ((uid_t)-1).
func idArg(id uint32) uintptr {
	if id == ^uint32(0) {
		return ^uintptr(0)
	}
	return uintptr(id)
}
