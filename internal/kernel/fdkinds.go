package kernel

import (
	"structs"
	"unsafe"
)

// From include/uapi/linux/timerfd.h: TFD_IOC_SET_TICKS is _IOW('T', 0, u64),
// which sets the number of expirations a timerfd has not had read yet
// (only with CONFIG_CHECKPOINT_RESTORE).
const TFD_IOC_SET_TICKS = 0x40085400

// From include/uapi/linux/pidfd.h: PIDFD_THREAD (= O_EXCL) makes a pidfd
// of a thread instead of a thread group.
const PIDFD_THREAD = 0o200

// Flock mirrors struct flock of include/uapi/asm-generic/fcntl.h on
// x86_64 (32 bytes), for an injected fcntl(F_SETLK / F_OFD_SETLK).
type Flock struct {
	_      structs.HostLayout
	Type   int16 // F_RDLCK, F_WRLCK, F_UNLCK
	Whence int16 // SEEK_SET
	_      [4]byte
	Start  int64
	Len    int64 // 0: to the end of the file and beyond
	Pid    int32 // 0 for the setting calls (must be 0 for OFD locks)
	_      [4]byte
}

// Bytes returns the struct's memory, to copy into a task.
func (f *Flock) Bytes() []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(f)), unsafe.Sizeof(*f))
}
