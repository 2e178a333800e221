package kernel

import "structs"

// From fs/aio.c: the magic of the aio file system (AIO_RING_MAGIC, which
// is both its statfs f_type and struct aio_ring's magic), the ring header
// the kernel maps into the task (struct aio_ring, 32 bytes, followed by
// the io_events) and the features it announces (AIO_RING_COMPAT_FEATURES,
// AIO_RING_INCOMPAT_FEATURES). Not in x/sys/unix.
const (
	AIO_RING_MAGIC             = 0xa10a10a1
	AIO_RING_COMPAT_FEATURES   = 1
	AIO_RING_INCOMPAT_FEATURES = 0
	AioRingHeaderSize          = 32
	IoEventSize                = 32
	IocbSize                   = 64
)

// AioRingHeader is struct aio_ring of fs/aio.c without its events.
type AioRingHeader struct {
	_                structs.HostLayout
	ID               uint32 // the context's index in mm->ioctx_table
	Nr               uint32 // events the ring holds
	Head             uint32 // written by user space (io_getevents in the kernel, or a reader of the ring)
	Tail             uint32 // written by the kernel on each completion
	Magic            uint32
	CompatFeatures   uint32
	IncompatFeatures uint32
	HeaderLength     uint32
}

// IoEvent is struct io_event of include/uapi/linux/aio_abi.h.
type IoEvent struct {
	_    structs.HostLayout
	Data uint64
	Obj  uint64
	Res  int64
	Res2 int64
}

// From include/uapi/linux/aio_abi.h (little-endian x86-64 layout of
// struct iocb, 64 bytes).
type Iocb struct {
	_         structs.HostLayout
	Data      uint64
	Key       uint32
	RwFlags   int32
	Opcode    uint16
	ReqPrio   int16
	Fildes    uint32
	Buf       uint64
	Nbytes    uint64
	Offset    int64
	Reserved2 uint64
	Flags     uint32
	ResFd     uint32
}

// IOCB_CMD_PREAD is aio_abi.h's read request.
const IOCB_CMD_PREAD = 0

// AioNrEventsMax is fs/aio.c ioctx_alloc()'s bound on a ring's events
// (0x10000000 / sizeof(struct io_event)).
const AioNrEventsMax = 0x10000000 / IoEventSize

// AioRingPages is the number of pages of a ring of nr events
// (fs/aio.c aio_setup_ring(): the header and the events, rounded up).
func AioRingPages(nr uint64) uint64 {
	return (AioRingHeaderSize + IoEventSize*nr + 4095) / 4096
}
