package restore

import (
	"encoding/binary"
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
)

// pipeKind is the restore state of pipes.
type pipeKind struct {
	pipes    map[uint32]*pipeEnds // by PipeID
	pipeData map[uint32][]byte    // by PipeID, from PIPE_DATA
	// pipeDescs are the descriptions of pipe ends beyond the first of
	// each end (an end reopened through /proc/PID/fd), by objref.
	pipeDescs map[uint32]*os.File
}

func init() {
	registerKind(kind{name: "pipe", task: true,
		start: func(rs *restorer) {
			rs.pipes, rs.pipeData, rs.pipeDescs = map[uint32]*pipeEnds{}, map[uint32][]byte{}, map[uint32]*os.File{}
		},
		takes: []taker{object((*restorer).checkPipeID), on(func(rs *restorer, x *image.PipeData) error {
			rs.pipeData[x.PipeID] = append(rs.pipeData[x.PipeID], x.Data...)
			return rs.checkFifoData(x.PipeID)
		})},
		// Both ends are kept in rs.pipes, not in ctlFiles.
		opens: []opener{inTaskOf(false, func(rs *restorer, t *taskPlan, fd image.Fd, x *image.Pipe, min int) (int, error) {
			return rs.openPipe(t, fd.File, x, min)
		})},
		close: func(rs *restorer) {
			for _, p := range rs.pipes {
				p.read.Close()
				p.write.Close()
			}
			for _, f := range rs.pipeDescs {
				f.Close()
			}
		}})
}

// pipeEnds is a pipe made during this restore: the restorer's copies of
// its two ends, from which every task that holds an end takes it, and
// the objrefs of the descriptions they are (0: none yet).
type pipeEnds struct {
	read, write       *os.File
	readObj, writeObj uint32
}

// openPipe gives the task one end of a pipe: the first time either end of
// the pipe is needed, the pipe is made in this task with its capacity, the
// restorer keeps both ends and writes the pipe's unread data back into it.
// An end no task holds is closed when the restorer lets go of its copies,
// as it was closed at checkpoint time. A second description of the same
// end (PIPE records of another objref: the end reopened through
// /proc/PID/fd) is a reopen of the restorer's copy, so that its status
// flags are its own.
func (rs *restorer) openPipe(t *taskPlan, objref uint32, pe *image.Pipe, min int) (int, error) {
	lt := t.leader
	ends, ok := rs.pipes[pe.PipeID]
	if !ok {
		defer lt.Reset()
		buf, err := lt.Alloc(8)
		if err != nil {
			return -1, err
		}
		if _, err := lt.Syscall(unix.SYS_PIPE2, uintptr(buf), 0); err != nil {
			return -1, fmt.Errorf("pipe2: %w", err)
		}
		var fds [8]byte
		if err := lt.Read(buf, fds[:]); err != nil {
			return -1, err
		}
		r := int(binary.LittleEndian.Uint32(fds[0:]))
		w := int(binary.LittleEndian.Uint32(fds[4:]))
		if pe.Capacity != 0 {
			if _, err := lt.Syscall(unix.SYS_FCNTL, uintptr(w), unix.F_SETPIPE_SZ, uintptr(pe.Capacity)); err != nil {
				return -1, fmt.Errorf("pipe capacity %d: %w", pe.Capacity, err)
			}
		}
		ends = &pipeEnds{}
		for _, e := range []struct {
			fd  int
			dst **os.File
		}{{r, &ends.read}, {w, &ends.write}} {
			f, err := rs.copyFromTask(t, e.fd)
			if err != nil {
				return -1, err
			}
			*e.dst = f
			_, _ = lt.Syscall(unix.SYS_CLOSE, uintptr(e.fd))
		}
		rs.pipes[pe.PipeID] = ends
		if data := rs.pipeData[pe.PipeID]; len(data) > 0 {
			if err := refillPipe(ends.write, data); err != nil {
				return -1, fmt.Errorf("refill pipe %d with %d bytes: %w", pe.PipeID, len(data), err)
			}
		}
	}
	f, err := ends.desc(rs, objref, pe)
	if err != nil {
		return -1, err
	}
	got, err := t.pull(f.Fd())
	if err != nil {
		return -1, fmt.Errorf("take pipe %d from the restorer: %w", pe.PipeID, err)
	}
	return moveAbove(lt, got, min)
}

// desc returns the restorer's copy of the description objref of an end.
// Its status flags are set once, when it is first handed out: they belong
// to the description, shared by every fd and task on it, and a later
// F_SETFL would turn off the O_ASYNC that restoreOwners gave it in the
// task that had it first.
func (ends *pipeEnds) desc(rs *restorer, objref uint32, pe *image.Pipe) (*os.File, error) {
	f, first, mode := ends.read, &ends.readObj, unix.O_RDONLY
	if pe.Flags&unix.O_ACCMODE != unix.O_RDONLY {
		f, first, mode = ends.write, &ends.writeObj, unix.O_WRONLY
	}
	if *first == 0 {
		*first = objref
		if err := unix.SetNonblock(int(f.Fd()), pe.Flags&unix.O_NONBLOCK != 0); err != nil {
			return nil, fmt.Errorf("pipe %d: end flags: %w", pe.PipeID, err)
		}
	}
	if *first == objref {
		return f, nil
	}
	if d := rs.pipeDescs[objref]; d != nil {
		return d, nil
	}
	// O_NONBLOCK: opening a pipe's read end through /proc waits for a
	// writer otherwise (it opens like a FIFO); the saved flags come next.
	fd, err := unix.Open(fmt.Sprintf("/proc/self/fd/%d", f.Fd()), mode|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("pipe %d: another description of its end: %w", pe.PipeID, err)
	}
	d := os.NewFile(uintptr(fd), fmt.Sprintf("pipe %d", pe.PipeID))
	if err := unix.SetNonblock(fd, pe.Flags&unix.O_NONBLOCK != 0); err != nil {
		d.Close()
		return nil, fmt.Errorf("pipe %d: end flags: %w", pe.PipeID, err)
	}
	rs.pipeDescs[objref] = d
	return d, nil
}

// refillPipe writes a pipe's unread data back without ever waiting: the
// image is validated to hold no more than the pipe's capacity, and should
// the pipe still be too small (a capacity the kernel rounded, a per-user
// pipe limit), the restore fails instead of hanging with its tasks
// stopped. Status flags are the description's: the end gets its own back
// when it is first handed over (pipeEnds.desc).
func refillPipe(w *os.File, data []byte) error {
	fd := int(w.Fd())
	if err := unix.SetNonblock(fd, true); err != nil {
		return err
	}
	defer unix.SetNonblock(fd, false)
	for len(data) > 0 {
		n, err := unix.Write(fd, data)
		if err == unix.EINTR {
			continue
		}
		if err == unix.EAGAIN {
			return fmt.Errorf("the pipe is full with %d bytes left to write", len(data))
		}
		if err != nil {
			return err
		}
		data = data[n:]
	}
	return nil
}
