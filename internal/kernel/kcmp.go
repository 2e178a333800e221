package kernel

import (
	"os"

	"golang.org/x/sys/unix"
)

// Types of kernel object kcmp(2) compares. From include/uapi/linux/kcmp.h
// (enum kcmp_type).
const (
	KCMP_FILE      = 0 // an open file description, by fd in each task
	KCMP_VM        = 1 // the mm (address space)
	KCMP_FILES     = 2 // the fd table
	KCMP_FS        = 3 // cwd, root and umask (struct fs_struct)
	KCMP_SIGHAND   = 4 // the signal handler table
	KCMP_IO        = 5 // the I/O context
	KCMP_SYSVSEM   = 6 // the System V semaphore undo list
	KCMP_EPOLL_TFD = 7 // an epoll target (takes a struct kcmp_epoll_slot)
)

// KcmpOrder is kcmp(2)'s answer: the kernel orders objects by an
// obfuscated pointer, so that sets of them can be sorted and searched.
type KcmpOrder int

const (
	KcmpEqual     KcmpOrder = 0 // the same object
	KcmpLess      KcmpOrder = 1 // the first task's object sorts before the second's
	KcmpGreater   KcmpOrder = 2
	KcmpUnordered KcmpOrder = 3 // different, but the kernel gives no order
)

// Kcmp compares the objects of type typ that tasks pid1 and pid2 (thread
// ids are accepted) use. idx1 and idx2 are fd numbers for KCMP_FILE and
// unused otherwise. It needs ptrace read access to both tasks.
//
// For the object types a task may lack (KCMP_IO, KCMP_SYSVSEM, and every
// type for a zombie or a kernel thread) two tasks without one compare
// equal: the kernel compares the pointers, NULL included.
func Kcmp(pid1, pid2, typ int, idx1, idx2 uintptr) (KcmpOrder, error) {
	for {
		r, _, e := unix.Syscall6(unix.SYS_KCMP, uintptr(pid1), uintptr(pid2), uintptr(typ), idx1, idx2, 0)
		switch e {
		case 0:
			return KcmpOrder(r), nil
		case unix.EINTR:
			continue
		}
		return 0, os.NewSyscallError("kcmp", e)
	}
}
