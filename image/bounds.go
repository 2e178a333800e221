package image

import (
	"fmt"

	"github.com/ckpt/ckpt/internal/pty"
)

// DefaultPipeCapacity is a pipe's capacity when its record says 0: the
// kernel's default of 16 pages.
const DefaultPipeCapacity = 16 * PageSize

// MaxPipeCapacity is the largest capacity the kernel gives a pipe
// (round_pipe_size in fs/pipe.c refuses more than 1<<31).
const MaxPipeCapacity = 1 << 31

// MaxUnixQueue bounds the data queued on one unix socket: restore sends
// it back through a peer whose send buffer it raises to this much
// (SO_SNDBUFFORCE), never blocking, so more could not be put back.
const MaxUnixQueue = 64 << 20

// MaxTtyQueue bounds what one direction of a pty holds (see pty.MaxQueue).
const MaxTtyQueue = pty.MaxQueue

// bounds refuses queued data beyond what its object can hold, as the
// records are read: restore writes it back into an object of that
// capacity, and more than fits would either block the restore or be a
// state the kernel cannot have had. The totals kept are one number per
// object, so the check costs no more memory than the records it counts.
type bounds struct {
	pipeCap  map[uint32]uint64 // by PipeID, from the first PIPE or FIFO record
	pipeData map[uint32]uint64 // by PipeID, PIPE_DATA bytes so far
	unixData map[uint32]uint64 // by receiving socket's Ino, UNIX_QUEUE bytes so far
	ttyData  map[[2]uint32]uint64
	tcp      map[uint32]*tcpBound // by INET_SOCKET objref, from its TCP_STREAM
}

// tcpBound is what a TCP_STREAM declares and its TCP_QUEUEs have brought.
type tcpBound struct {
	recvLen, sendLen uint64
	recv, send       uint64
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
	case *UnixQueue:
		if b.unixData == nil {
			b.unixData = map[uint32]uint64{}
		}
		n := b.unixData[x.Ino] + uint64(len(x.Data))
		if n > MaxUnixQueue {
			return fmt.Sprintf("unix socket %d: %d bytes queued or more, at most %d can be put back", x.Ino, n, MaxUnixQueue)
		}
		b.unixData[x.Ino] = n
	case *TtyData:
		if b.ttyData == nil {
			b.ttyData = map[[2]uint32]uint64{}
		}
		k := [2]uint32{x.TtyID, x.Dir}
		n := b.ttyData[k] + uint64(len(x.Data))
		if n > MaxTtyQueue {
			return fmt.Sprintf("tty %d: %d bytes queued in direction %d or more, a pty holds at most %d", x.TtyID, n, x.Dir, MaxTtyQueue)
		}
		b.ttyData[k] = n
	case *TcpStream:
		if b.tcp == nil {
			b.tcp = map[uint32]*tcpBound{}
		}
		if b.tcp[x.Socket] != nil {
			return fmt.Sprintf("a second TCP_STREAM for socket %d", x.Socket)
		}
		b.tcp[x.Socket] = &tcpBound{recvLen: uint64(x.RecvLen), sendLen: uint64(x.SendLen)}
	case *TcpQueue:
		t := b.tcp[x.Socket]
		if t == nil {
			return fmt.Sprintf("TCP_QUEUE of socket %d before its TCP_STREAM", x.Socket)
		}
		n := uint64(len(x.Data))
		switch x.Queue {
		case TcpRecvQueue:
			if t.recv+n > t.recvLen {
				return fmt.Sprintf("socket %d: receive queue data beyond the %d bytes its TCP_STREAM declares", x.Socket, t.recvLen)
			}
			t.recv += n
		case TcpSendQueue:
			if t.send+n > t.sendLen {
				return fmt.Sprintf("socket %d: send queue data beyond the %d bytes its TCP_STREAM declares", x.Socket, t.sendLen)
			}
			t.send += n
		}
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
