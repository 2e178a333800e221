package image

import "fmt"

// DefaultPipeCapacity is a pipe's capacity when its record says 0: the
// kernel's default of 16 pages.
const DefaultPipeCapacity = 16 * PageSize

// MaxPipeCapacity is the largest capacity the kernel gives a pipe
// (round_pipe_size in fs/pipe.c refuses more than 1<<31).
const MaxPipeCapacity = 1 << 31

// bounds refuses queued data beyond what its object can hold, as the
// records are read: restore writes it back into an object of that
// capacity, and more than fits would either block the restore or be a
// state the kernel cannot have had. The totals kept are one number per
// object, so the check costs no more memory than the records it counts.
type bounds struct {
	pipeCap  map[uint32]uint64 // by PipeID, from the first PIPE or FIFO record
	pipeData map[uint32]uint64 // by PipeID, PIPE_DATA bytes so far
}

// check returns why rec exceeds a bound, or "".
func (b *bounds) check(rec Record) string {
	switch x := rec.(type) {
	case *Pipe:
		return b.pipe("pipe", x.PipeID, x.Capacity)
	case *Fifo:
		return b.pipe("FIFO", x.PipeID, x.Capacity)
	case *PipeData:
		c, ok := b.pipeCap[x.PipeID]
		if !ok {
			return fmt.Sprintf("PIPE_DATA for pipe %d comes before any PIPE or FIFO record of it", x.PipeID)
		}
		n := b.pipeData[x.PipeID] + uint64(len(x.Data))
		if n > c {
			return fmt.Sprintf("pipe %d: %d bytes of unread data or more, its capacity is %d", x.PipeID, n, c)
		}
		b.pipeData[x.PipeID] = n
	}
	return ""
}

func (b *bounds) pipe(what string, id, capacity uint32) string {
	if capacity > MaxPipeCapacity {
		return fmt.Sprintf("%s %d: capacity %d exceeds the kernel's limit of %d", what, id, capacity, MaxPipeCapacity)
	}
	if b.pipeCap == nil {
		b.pipeCap, b.pipeData = map[uint32]uint64{}, map[uint32]uint64{}
	}
	if _, ok := b.pipeCap[id]; !ok {
		c := uint64(capacity)
		if c == 0 {
			c = DefaultPipeCapacity
		}
		b.pipeCap[id] = c
	}
	return ""
}
