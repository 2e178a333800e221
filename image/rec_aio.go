package image

// TypeAioRing is a Linux AIO context (format 3.1).
const TypeAioRing Type = 404

var _ = registerType(typeInfo{typ: TypeAioRing, name: "AIO_RING", new: func() Record { return new(AioRing) }})

// AioRing (AIO_RING, type 404) is one AIO context of the MM before it
// (io_setup(2)): its ring, mapped at [Start, End) (`/[aio] (deleted)` in
// /proc/PID/maps, not among the MM's VMAs), whose address is the context's
// id (aio_context_t), and the completions in it not yet reaped. It comes
// after the MM's VMAs, before its PAGES. NrEvents is the ring's size in
// events (struct aio_ring.nr); Head and Tail are the ring's indexes, both
// below NrEvents; Events are the completions from Head up to Tail, in
// ring order, (Tail - Head) mod NrEvents of them. The slots outside
// Head..Tail (completions already reaped) are not kept.
type AioRing struct {
	Start    uint64
	End      uint64
	NrEvents uint32
	Head     uint32
	Tail     uint32
	Reserved uint32
	Events   []AioEvent
}

// AioEvent is a completion as the kernel writes it in the ring (struct
// io_event of include/uapi/linux/aio_abi.h).
type AioEvent struct {
	Data uint64 // the iocb's aio_data
	Obj  uint64 // the iocb's address in the task
	Res  int64
	Res2 int64
}

func (*AioRing) Type() Type { return TypeAioRing }

// Pending is the number of completions between Head and Tail.
func (a *AioRing) Pending() uint32 {
	if a.NrEvents == 0 {
		return 0
	}
	return (a.Tail + a.NrEvents - a.Head) % a.NrEvents
}
