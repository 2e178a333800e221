package image

// Fifo (FIFO, type 309, object) is an open file description of a named
// pipe: restore reopens it by path. Descriptions of one FIFO share its
// PipeID, which also keys the PIPE_DATA records holding its unread data.
type Fifo struct {
	Objref   uint32 `ckpt:"objref"`
	Flags    uint32 // open(2) flags: O_RDONLY, O_WRONLY or O_RDWR, O_NONBLOCK
	PipeID   uint32 // the same for every description of one FIFO; distinct from every PIPE's
	Capacity uint32 // F_GETPIPE_SZ
	Dev      uint64 // st_dev of the FIFO, to check the path still names it
	Ino      uint64 // st_ino, likewise
	Path     string
}

func (*Fifo) Type() Type { return TypeFifo }
