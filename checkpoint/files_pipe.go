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
	registerFileKind(fileKind{name: "pipe", modes: []uint32{unix.S_IFIFO},
		is:   func(_ *process, of *openFd) bool { return strings.HasPrefix(of.link, "pipe:") },
		dump: func(_ *dumper, p *process, of *openFd, obj string) (image.Record, error) { return dumpPipe(p, of, obj) }})
}

// dumpPipe records a pipe end as external for now: a pipe with one end
// inside the checkpoint leads outside (a shell pipeline, the parent's log
// collector) and restore connects it to what the caller gives. Once every
// task is collected, resolvePipes turns the ends of pipes that are wholly
// inside into PIPE objects and saves their unread data.
func dumpPipe(p *process, of *openFd, obj string) (image.Record, error) {
	if !strings.HasPrefix(of.link, "pipe:") {
		return nil, unsupported(p.pid, obj, "named pipes (FIFOs) are not supported yet")
	}
	p.pipeFds = append(p.pipeFds, pipeFd{fd: of.fd, link: of.link, write: of.info.Flags&unix.O_ACCMODE != unix.O_RDONLY})
	return extFile(of, image.ExtPipe), nil
}

// resolvePipes finds the pipes with both ends in the tree.
func (d *dumper) resolvePipes(t *tree) error {
	type pipe struct {
		ends        []*fileObj
		read, write bool
		reader      *process
		readFd      int
	}
	pipes := map[string]*pipe{}
	var order []string
	for _, p := range append(t.live(), d.ux.carriers()...) {
		for _, f := range p.pipeFds {
			pp := pipes[f.link]
			if pp == nil {
				pp = &pipe{}
				pipes[f.link] = pp
				order = append(order, f.link)
			}
			if !containsObj(pp.ends, f.obj) {
				pp.ends = append(pp.ends, f.obj)
			}
			if f.write {
				pp.write = true
			} else if !pp.read {
				pp.read, pp.reader, pp.readFd = true, p, f.fd
			}
		}
	}
	for _, link := range order {
		pp := pipes[link]
		if (!pp.read || !pp.write) && heldOutside(link, t) {
			continue // the other side is outside: external
		}
		id, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimPrefix(link, "pipe:["), "]"), 10, 32)
		if err != nil {
			return fmt.Errorf("pipe %q: %w", link, err)
		}
		// Without a reader inside there is no reader at all: nothing will
		// ever read the data, and restore leaves the read end closed.
		capacity, data := 0, []byte(nil)
		if pp.read {
			if capacity, data, err = pipeData(pp.reader.pid, pp.readFd); err != nil {
				return fmt.Errorf("task %d fd %d (%s): %w", pp.reader.pid, pp.readFd, link, err)
			}
		}
		first := pp.ends[0]
		for _, e := range pp.ends {
			ext := e.rec.(*image.ExtFile)
			e.rec = &image.Pipe{Objref: e.objref, Flags: ext.Flags, PipeID: uint32(id), Capacity: uint32(capacity)}
			if e.objref < first.objref {
				first = e
			}
		}
		for len(data) > 0 {
			n := min(len(data), image.PipeDataChunk)
			first.extra = append(first.extra, &image.PipeData{PipeID: uint32(id), Data: data[:n]})
			data = data[n:]
		}
	}
	return nil
}

// heldOutside reports whether a process outside the tree has the pipe
// open. A pipe with one end in the tree is external only then; otherwise
// its other end was closed (a producer that finished, say) and the pipe,
// with its unread data, belongs to the tree.
func heldOutside(link string, t *tree) bool {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return true
	}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || t.byPid[pid] != nil || pid == os.Getpid() {
			continue
		}
		fds, err := os.ReadDir("/proc/" + e.Name() + "/fd")
		if err != nil {
			continue
		}
		for _, fd := range fds {
			if l, err := os.Readlink("/proc/" + e.Name() + "/fd/" + fd.Name()); err == nil && l == link {
				return true
			}
		}
	}
	return false
}

func containsObj(objs []*fileObj, o *fileObj) bool {
	for _, x := range objs {
		if x == o {
			return true
		}
	}
	return false
}

// pipeData copies what is queued in a pipe without taking it: tee(2) from a
// duplicate of the task's read end into a pipe of our own as large.
func pipeData(pid, fd int) (int, []byte, error) {
	src, err := kernel.TakeFd(pid, fd)
	if err != nil {
		return 0, nil, err
	}
	defer unix.Close(src)
	return queuedData(src)
}

// queuedData copies what is queued in the pipe or FIFO src, a read end of
// our own, without taking it.
func queuedData(src int) (int, []byte, error) {
	capacity, err := unix.FcntlInt(uintptr(src), unix.F_GETPIPE_SZ, 0)
	if err != nil {
		return 0, nil, fmt.Errorf("F_GETPIPE_SZ: %w", err)
	}
	queued, err := unix.IoctlGetInt(src, unix.TIOCINQ) // FIONREAD
	if err != nil {
		return 0, nil, fmt.Errorf("FIONREAD: %w", err)
	}
	if queued == 0 {
		return capacity, nil, nil
	}
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC|unix.O_NONBLOCK); err != nil {
		return 0, nil, err
	}
	defer unix.Close(p[0])
	defer unix.Close(p[1])
	if _, err := unix.FcntlInt(uintptr(p[1]), unix.F_SETPIPE_SZ, capacity); err != nil {
		return 0, nil, fmt.Errorf("F_SETPIPE_SZ %d: %w", capacity, err)
	}
	n, err := unix.Tee(src, p[1], queued, unix.SPLICE_F_NONBLOCK)
	if err != nil {
		return 0, nil, fmt.Errorf("tee: %w", err)
	}
	if int(n) != queued {
		return 0, nil, fmt.Errorf("tee copied %d of %d queued bytes", n, queued)
	}
	data := make([]byte, n)
	if _, err := unix.Read(p[0], data); err != nil {
		return 0, nil, err
	}
	return capacity, data, nil
}
