package kernel

import (
	"structs"
	"unsafe"

	"golang.org/x/sys/unix"
)

// From include/uapi/asm-generic/fcntl.h: the kinds of owner
// fcntl(F_SETOWN_EX) gives an open file description, to which the kernel
// sends SIGIO (O_ASYNC) and SIGURG.
const (
	F_OWNER_TID  = 0 // one thread
	F_OWNER_PID  = 1 // a thread group
	F_OWNER_PGRP = 2 // a process group
)

// FOwnerEx mirrors struct f_owner_ex of include/uapi/asm-generic/fcntl.h
// (8 bytes), for fcntl(F_GETOWN_EX / F_SETOWN_EX).
type FOwnerEx struct {
	_    structs.HostLayout
	Type int32 // F_OWNER_TID, F_OWNER_PID, F_OWNER_PGRP
	Pid  int32 // 0: no owner
}

// Bytes returns the struct's memory, to copy into or out of a task.
func (f *FOwnerEx) Bytes() []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(f)), unsafe.Sizeof(*f))
}

// GetOwnerEx is fcntl(fd, F_GETOWN_EX): the owner that receives fd's SIGIO
// and SIGURG. x/sys/unix has F_GETOWN_EX but no call that fills the struct.
func GetOwnerEx(fd int) (FOwnerEx, error) {
	var own FOwnerEx
	_, _, e := unix.Syscall(unix.SYS_FCNTL, uintptr(fd), unix.F_GETOWN_EX, uintptr(unsafe.Pointer(&own)))
	if e != 0 {
		return own, e
	}
	return own, nil
}
