package restore

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
)

// fifoKind is the restore state of FIFOs.
type fifoKind struct {
	fifos map[uint32]*fifoState // by PipeID, from FIFO
}

func init() {
	registerKind(kind{name: "FIFO", task: true,
		takes: []taker{object((*restorer).addFifo)},
		opens: []opener{fileOf(func(rs *restorer, _ *taskPlan, _ image.Fd, x *image.Fifo) (*os.File, error) {
			return rs.openFifo(x)
		})},
		close: func(rs *restorer) {
			for _, f := range rs.fifos {
				if f.anchor != nil {
					f.anchor.Close()
				}
			}
		}})
}

// fifoState is one FIFO of the image: the record of its first description
// and, once restore has opened it, the restorer's read-write anchor.
type fifoState struct {
	rec    *image.Fifo
	anchor *os.File
}

// addFifo checks a FIFO record as it is read: the path still names the
// same FIFO, and its PipeID names this FIFO alone.
func (rs *restorer) addFifo(f *image.Fifo) error {
	if !strings.HasPrefix(f.Path, "/") {
		return badImage("FIFO %d: path %q is not absolute", f.Objref, f.Path)
	}
	if f.Flags&unix.O_ACCMODE == unix.O_ACCMODE {
		return badImage("FIFO %q: open flags %#o have no access mode", f.Path, f.Flags)
	}
	if f.Capacity == 0 {
		return badImage("FIFO %q: capacity 0", f.Path)
	}
	for _, o := range rs.objs {
		if p, ok := o.(*image.Pipe); ok && p.PipeID == f.PipeID {
			return badImage("FIFO %q has PipeID %d, which a PIPE has too", f.Path, f.PipeID)
		}
	}
	if rs.fifos == nil {
		rs.fifos = map[uint32]*fifoState{}
	}
	if st, ok := rs.fifos[f.PipeID]; ok {
		if st.rec.Path != f.Path || st.rec.Dev != f.Dev || st.rec.Ino != f.Ino || st.rec.Capacity != f.Capacity {
			return badImage("FIFOs %q and %q share PipeID %d but differ", st.rec.Path, f.Path, f.PipeID)
		}
		return nil
	}
	if len(rs.pipeData[f.PipeID]) > 0 {
		return badImage("PIPE_DATA for FIFO %q comes before its first FIFO record", f.Path)
	}
	// Looked up inside the restore's root (paths.go), never as a host
	// path; a FIFO the runtime mounts or a restored tmpfs holds is
	// checked when it is opened.
	if err := rs.checkFile("FIFO", f.Path, f.Dev, f.Ino); err != nil {
		return err
	}
	if where, check, err := rs.imagePath(f.Path); err == nil && check {
		st, err := rs.statImagePath(where)
		if err != nil {
			return fmt.Errorf("FIFO %q: %w", f.Path, err)
		}
		if st.Mode&unix.S_IFMT != unix.S_IFIFO {
			return fmt.Errorf("FIFO %q is no longer a FIFO (mode %#o)", f.Path, st.Mode)
		}
	}
	rs.fifos[f.PipeID] = &fifoState{rec: f}
	return nil
}

// checkPipeID refuses a PIPE whose PipeID a FIFO already has.
func (rs *restorer) checkPipeID(p *image.Pipe) error {
	if st, ok := rs.fifos[p.PipeID]; ok {
		return badImage("PIPE %d has PipeID %d, which FIFO %q has too", p.Objref, p.PipeID, st.rec.Path)
	}
	return nil
}

// checkFifoData refuses more unread data than the FIFO it is for can hold:
// writing it back could never finish.
func (rs *restorer) checkFifoData(id uint32) error {
	if st, ok := rs.fifos[id]; ok && len(rs.pipeData[id]) > int(st.rec.Capacity) {
		return badImage("FIFO %q: %d bytes of unread data exceed its capacity %d", st.rec.Path, len(rs.pipeData[id]), st.rec.Capacity)
	}
	return nil
}

// openFifo opens one description of a FIFO in the restorer. The first
// time the FIFO is needed, the restorer opens it read-write as an anchor:
// it is a reader and a writer, so that opening a write-only or read-only
// description does not wait for the other side (or fail, non-blocking),
// and it keeps the refilled data alive until the tasks hold their ends.
// Each description is then a reopen of the anchor through /proc, which
// reaches the same inode whatever happens to the path meanwhile.
func (rs *restorer) openFifo(f *image.Fifo) (*os.File, error) {
	st := rs.fifos[f.PipeID]
	if st == nil {
		return nil, badImage("FIFO %d (%q) was not checked on read", f.Objref, f.Path)
	}
	if st.anchor == nil {
		a, err := rs.anchorFifo(st.rec)
		if err != nil {
			return nil, err
		}
		st.anchor = a
	}
	fd, err := unix.Open("/proc/self/fd/"+strconv.Itoa(int(st.anchor.Fd())), int(f.Flags&reopenMask)|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open FIFO %q (flags %#o): %w", f.Path, f.Flags, err)
	}
	return os.NewFile(uintptr(fd), f.Path), nil
}

// anchorFifo opens the FIFO read-write, checks it is the one of the image
// and empty, and gives it its capacity and unread data back. The path is
// resolved inside the tasks' root: symlinks the tasks planted lead
// nowhere outside it, and no host FIFO is ever opened or written to.
func (rs *restorer) anchorFifo(f *image.Fifo) (*os.File, error) {
	root, err := rs.taskRoot()
	if err != nil {
		return nil, fmt.Errorf("open FIFO %q: %w", f.Path, err)
	}
	a, err := root.OpenFile(f.Path, unix.S_IFIFO, unix.O_RDWR|unix.O_NONBLOCK)
	root.Close()
	if err != nil {
		return nil, fmt.Errorf("open FIFO %q: %w", f.Path, err)
	}
	fd := int(a.Fd())
	fail := func(err error) (*os.File, error) {
		a.Close()
		return nil, err
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return fail(fmt.Errorf("FIFO %q: %w", f.Path, err))
	}
	if st.Mode&unix.S_IFMT != unix.S_IFIFO || st.Dev != f.Dev || st.Ino != f.Ino {
		return fail(fmt.Errorf("FIFO %q was replaced since the checkpoint (mode %#o, inode %d on %#x; image has inode %d on %#x)",
			f.Path, st.Mode, st.Ino, st.Dev, f.Ino, f.Dev))
	}
	queued, err := unix.IoctlGetInt(fd, unix.TIOCINQ) // FIONREAD
	if err != nil {
		return fail(fmt.Errorf("FIFO %q: FIONREAD: %w", f.Path, err))
	}
	if queued > 0 {
		// Someone outside the restored tree holds it open and wrote
		// to it: adding the saved data would mix the two.
		return fail(fmt.Errorf("FIFO %q already holds %d bytes: a process outside the restored tree has it open", f.Path, queued))
	}
	capacity, err := unix.FcntlInt(uintptr(fd), unix.F_GETPIPE_SZ, 0)
	if err != nil {
		return fail(fmt.Errorf("FIFO %q: F_GETPIPE_SZ: %w", f.Path, err))
	}
	if capacity != int(f.Capacity) {
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_SETPIPE_SZ, int(f.Capacity)); err != nil {
			return fail(fmt.Errorf("FIFO %q capacity %d: %w", f.Path, f.Capacity, err))
		}
	}
	data := rs.pipeData[f.PipeID]
	for len(data) > 0 {
		n, err := unix.Write(fd, data)
		if err != nil {
			return fail(fmt.Errorf("refill FIFO %q with %d bytes: %w", f.Path, len(rs.pipeData[f.PipeID]), err))
		}
		data = data[n:]
	}
	return a, nil
}
