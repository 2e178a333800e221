package kernel

import (
	"runtime"
	"structs"
	"unsafe"

	"golang.org/x/sys/unix"
)

// From include/uapi/linux/userfaultfd.h: what dirty tracking with
// userfaultfd write protection needs (UFFD_FEATURE_WP_ASYNC, kernel 6.7+).
// x/sys/unix defines none of them.
const (
	// UFFD_USER_MODE_ONLY: faults from user mode only, which an
	// unprivileged task may ask for with vm.unprivileged_userfaultfd=0.
	UFFD_USER_MODE_ONLY = 1

	UFFD_API              = 0xaa
	UFFD_FEATURE_WP_ASYNC = 1 << 15

	UFFDIO_API              = 0xc018aa3f // _IOWR(0xAA, 0x3F, struct uffdio_api)
	UFFDIO_REGISTER         = 0xc020aa00 // _IOWR(0xAA, 0x00, struct uffdio_register)
	UFFDIO_REGISTER_MODE_WP = 1 << 1
)

// UffdioApi is struct uffdio_api.
type UffdioApi struct {
	_        structs.HostLayout
	Api      uint64
	Features uint64
	Ioctls   uint64
}

// UffdioRegister is struct uffdio_register.
type UffdioRegister struct {
	_      structs.HostLayout
	Start  uint64
	Len    uint64
	Mode   uint64
	Ioctls uint64
}

// UffdWPAsync enables asynchronous write protection on fd, a userfaultfd
// no UFFDIO_API was issued on yet: a write to a protected page just
// clears the protection, which PAGEMAP_SCAN reports as PAGE_IS_WRITTEN.
// The ioctls act on the userfaultfd's own address space, so the fd may
// have been created in another task and taken with pidfd_getfd.
func UffdWPAsync(fd int) error {
	api := UffdioApi{Api: UFFD_API, Features: UFFD_FEATURE_WP_ASYNC}
	return uffdIoctl(fd, UFFDIO_API, unsafe.Pointer(&api))
}

// UffdRegisterWP registers [start, start+length) of the userfaultfd's
// address space for write protection.
func UffdRegisterWP(fd int, start, length uint64) error {
	reg := UffdioRegister{Start: start, Len: length, Mode: UFFDIO_REGISTER_MODE_WP}
	return uffdIoctl(fd, UFFDIO_REGISTER, unsafe.Pointer(&reg))
}

func uffdIoctl(fd int, req uintptr, arg unsafe.Pointer) error {
	for {
		_, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), req, uintptr(arg))
		runtime.KeepAlive(arg)
		if errno == unix.EINTR {
			continue
		}
		if errno != 0 {
			return errno
		}
		return nil
	}
}
