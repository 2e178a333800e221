package checkpoint

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
	"github.com/ckpt/ckpt/internal/kernel"
)

func init() {
	registerFileKind(fileKind{name: "FIFO", modes: []uint32{unix.S_IFIFO}, fallback: true,
		dump: func(_ *dumper, p *process, of *openFd, obj string) (image.Record, error) { return dumpFifo(p, of, obj) }})
}

// dumpFifo records a description of a FIFO, to be reopened by its path.
// Its PipeID, capacity and unread data are filled in by resolveFifos once
// every task is collected: the data is saved once per FIFO, from whichever
// task can read it.
func dumpFifo(p *process, of *openFd, obj string) (image.Record, error) {
	path := of.link
	if strings.HasSuffix(path, " (deleted)") {
		return nil, unsupported(p.pid, obj, "the FIFO was deleted (deleted FIFOs are not supported yet)")
	}
	if !strings.HasPrefix(path, "/") {
		return nil, unsupported(p.pid, obj, "no path to reopen the FIFO by")
	}
	if of.info.Flags&unix.O_PATH != 0 {
		// Not a reader nor a writer: restore's way of reopening FIFOs
		// (through a read-write anchor) does not apply to it.
		return nil, unsupported(p.pid, obj, "O_PATH descriptions of FIFOs are not supported yet")
	}
	if st, err := statInTask(p.pid, path); err != nil || st.Ino != of.st.Ino || st.Dev != of.st.Dev {
		return nil, unsupported(p.pid, obj, "its path no longer leads to the open FIFO (%v; inode %d on %#x, the FIFO is %d on %#x)", err, st.Ino, st.Dev, of.st.Ino, of.st.Dev)
	}
	return &image.Fifo{Flags: of.info.Flags & openFlagsMask, Dev: of.st.Dev, Ino: of.st.Ino, Path: path}, nil
}

// resolveFifos gives every FIFO its PipeID and capacity and saves its
// unread data after its first description. A FIFO that a process outside
// the tree has open is refused: that process shares the data with the tree,
// and after restore the two would disagree on it.
func (d *dumper) resolveFifos(t *tree) error {
	type key struct{ dev, ino uint64 }
	type fifo struct {
		descs []*fileObj // in objref order: the first is written first
	}
	fifos := map[key]*fifo{}
	var order []key
	used := map[uint32]bool{} // PipeIDs of the pipes
	for _, f := range d.files {
		switch r := f.rec.(type) {
		case *image.Pipe:
			used[r.PipeID] = true
		case *image.Fifo:
			k := key{f.dev, f.ino}
			if fifos[k] == nil {
				fifos[k] = &fifo{}
				order = append(order, k)
			}
			fifos[k].descs = append(fifos[k].descs, f)
		}
	}
	if len(order) == 0 {
		return nil
	}
	outside, err := fifosHeldOutside(t)
	if err != nil {
		return err
	}
	next := uint32(0)
	for _, k := range order {
		ff := fifos[k]
		first := ff.descs[0]
		rec := first.rec.(*image.Fifo)
		obj := fmt.Sprintf("fd %d (FIFO %s)", first.fd, rec.Path)
		if pid, ok := outside[[2]uint64{k.dev, k.ino}]; ok {
			return unsupported(first.pid, obj, "process %d outside the checkpointed tree has the FIFO open too", pid)
		}
		for next++; used[next]; next++ {
		}
		// Any description reads the FIFO's state; a readable one also
		// gives its data without reopening the FIFO.
		src := first
		for _, f := range ff.descs {
			if f.rec.(*image.Fifo).Flags&unix.O_ACCMODE != unix.O_WRONLY {
				src = f
				break
			}
		}
		capacity, data, err := fifoData(src.pid, src.fd, src.rec.(*image.Fifo).Flags)
		if err != nil {
			return fmt.Errorf("task %d fd %d (FIFO %s): %w", src.pid, src.fd, rec.Path, err)
		}
		for _, f := range ff.descs {
			r := f.rec.(*image.Fifo)
			r.PipeID, r.Capacity = next, uint32(capacity)
		}
		for len(data) > 0 {
			n := min(len(data), image.PipeDataChunk)
			first.extra = append(first.extra, &image.PipeData{PipeID: next, Data: data[:n]})
			data = data[n:]
		}
	}
	return nil
}

// fifoData copies what is queued in the FIFO that fd of task pid has open,
// without taking it. tee(2) needs a readable end: a write-only
// description is reopened read-only through /proc, which a FIFO with a
// writer allows without waiting, and only when there is data to copy.
func fifoData(pid, fd int, flags uint32) (int, []byte, error) {
	if flags&unix.O_ACCMODE != unix.O_WRONLY {
		return pipeData(pid, fd)
	}
	w, err := kernel.TakeFd(pid, fd)
	if err != nil {
		return 0, nil, err
	}
	defer unix.Close(w)
	queued, err := unix.IoctlGetInt(w, unix.TIOCINQ) // FIONREAD
	if err != nil {
		return 0, nil, fmt.Errorf("FIONREAD: %w", err)
	}
	if queued == 0 {
		capacity, err := unix.FcntlInt(uintptr(w), unix.F_GETPIPE_SZ, 0)
		if err != nil {
			return 0, nil, fmt.Errorf("F_GETPIPE_SZ: %w", err)
		}
		return capacity, nil, nil
	}
	r, err := unix.Open("/proc/self/fd/"+strconv.Itoa(w), unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, nil, fmt.Errorf("open the FIFO for reading: %w", err)
	}
	defer unix.Close(r)
	return queuedData(r)
}

// fifosHeldOutside maps the FIFOs (by device and inode) that processes
// outside the tree have open to one such process.
func fifosHeldOutside(t *tree) (map[[2]uint64]int, error) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	out := map[[2]uint64]int{}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || t.byPid[pid] != nil || pid == os.Getpid() {
			continue
		}
		dir := "/proc/" + e.Name() + "/fd/"
		fds, err := os.ReadDir(dir)
		if err != nil {
			continue // gone, or a kernel thread
		}
		for _, fd := range fds {
			// The link is cheap and tells pipes, sockets and
			// anonymous files, which are not FIFOs, from paths.
			if l, err := os.Readlink(dir + fd.Name()); err != nil || !strings.HasPrefix(l, "/") {
				continue
			}
			var st unix.Stat_t
			if unix.Stat(dir+fd.Name(), &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFIFO {
				out[[2]uint64{st.Dev, st.Ino}] = pid
			}
		}
	}
	return out, nil
}
