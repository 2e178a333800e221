package kernel

import (
	"encoding/binary"
	"unsafe"

	"golang.org/x/sys/unix"
)

// userfaultfd(2) ABI, from include/uapi/linux/userfaultfd.h (golang.org/x/sys
// has none of it). Lazy restore (restore/lazy.go, restore/pageserver) uses
// the missing-page mode and the non-cooperative events.

// UffdAPI is UFFD_API, the only API version.
const UffdAPI = 0xAA

// Features asked for with UFFDIO_API.
const (
	UffdFeatureEventFork   = 1 << 1
	UffdFeatureEventRemap  = 1 << 2
	UffdFeatureEventRemove = 1 << 3
	UffdFeatureEventUnmap  = 1 << 6
	UffdFeaturePoison      = 1 << 14 // UFFDIO_POISON (Linux 6.6)
)

// UffdioRegisterModeMissing is UFFDIO_REGISTER_MODE_MISSING.
const UffdioRegisterModeMissing = 1

// Events in uffd_msg.event.
const (
	UffdEventPagefault = 0x12
	UffdEventFork      = 0x13
	UffdEventRemap     = 0x14
	UffdEventRemove    = 0x15
	UffdEventUnmap     = 0x16
)

func iowr(nr, size uintptr) uintptr { return 3<<30 | size<<16 | 0xAA<<8 | nr }
func ior(nr, size uintptr) uintptr  { return 2<<30 | size<<16 | 0xAA<<8 | nr }

// UffdioAPIArg is struct uffdio_api.
type UffdioAPIArg struct{ API, Features, Ioctls uint64 }

// UffdioRange is struct uffdio_range.
type UffdioRange struct{ Start, Len uint64 }

// UffdioRegisterArg is struct uffdio_register.
type UffdioRegisterArg struct {
	Range  UffdioRange
	Mode   uint64
	Ioctls uint64
}

// UffdioCopyArg is struct uffdio_copy; Copy is what the kernel copied, or
// a negated errno.
type UffdioCopyArg struct {
	Dst, Src, Len, Mode uint64
	Copy                int64
}

// UffdioFillArg is struct uffdio_zeropage and struct uffdio_poison (the
// same layout): Done is what was filled, or a negated errno.
type UffdioFillArg struct {
	Range UffdioRange
	Mode  uint64
	Done  int64
}

// Ioctl request numbers.
var (
	UffdioAPI      = iowr(0x3F, unsafe.Sizeof(UffdioAPIArg{}))
	UffdioRegister = iowr(0x00, unsafe.Sizeof(UffdioRegisterArg{}))
	UffdioWake     = ior(0x02, unsafe.Sizeof(UffdioRange{}))
	UffdioCopy     = iowr(0x03, unsafe.Sizeof(UffdioCopyArg{}))
	UffdioZeropage = iowr(0x04, unsafe.Sizeof(UffdioFillArg{}))
	UffdioPoison   = iowr(0x08, unsafe.Sizeof(UffdioFillArg{}))
)

// UffdIoctl runs one of the ioctls above with arg, a pointer to its struct.
func UffdIoctl(fd int, req uintptr, arg unsafe.Pointer) error {
	_, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), req, uintptr(arg))
	if e != 0 {
		return e
	}
	return nil
}

// UffdMsgSize is sizeof(struct uffd_msg).
const UffdMsgSize = 32

// UffdMsg is a decoded struct uffd_msg: Event, then the union's words as
// each event uses them (pagefault: A=flags, B=address; fork: A's low 32
// bits = the new uffd; remap: A=from, B=to, C=len; remove and unmap:
// A=start, B=end).
type UffdMsg struct {
	Event   uint8
	A, B, C uint64
}

// ParseUffdMsg decodes one message of UffdMsgSize bytes.
func ParseUffdMsg(b []byte) UffdMsg {
	le := binary.LittleEndian
	return UffdMsg{Event: b[0], A: le.Uint64(b[8:]), B: le.Uint64(b[16:]), C: le.Uint64(b[24:])}
}
