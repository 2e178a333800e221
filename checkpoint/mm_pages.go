package checkpoint

import (
	"bytes"
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
	"github.com/ckpt/ckpt/internal/proc"
	"github.com/ckpt/ckpt/internal/ptrace"
)

const (
	// dumpChunk is how much of a VMA is looked at and read at once.
	dumpChunk = 1024 // pages (4 MiB)
	// dumpBuffers chunks may be in flight: one being read from the task,
	// one being written, one spare so neither waits on the other.
	dumpBuffers = 3
)

var zeroPage = make([]byte, image.PageSize)

// pageRun is a run of consecutive pages read from the task.
type pageRun struct {
	addr uint64
	data []byte
}

// chunk is a batch of runs in one buffer, read and ready to be written.
type chunk struct {
	buf    []byte
	runs   []pageRun
	pooled bool // buf came from the pool and goes back to it
	used   int  // bytes of buf the runs were read into (readRange)
}

// dumpPages writes the pages of every VMA that carry information: present
// or swapped, private to the process (not page cache of a file mapping,
// which restore re-reads from the file) and, in anonymous memory, not all
// zeroes. Reading the task's memory and writing the image overlap: a
// goroutine reads the next chunk with process_vm_readv while this one
// writes the previous one.
// pre holds, by VMA index, chunks read earlier (see snapshot); those VMAs
// are not read again. snapshot says pid is a copy-on-write snapshot.
// skip are runs not to save: their content is the parent image's.
// fork matches pages against the parent's and notes those saved
// (mm_fork.go); nil: neither.
func (d *dumper) dumpPages(w *image.Writer, pid int, vmas []image.Vma, pre map[int][]chunk, snapshot bool, skip []image.PageRun, fork *forkState) (uint64, error) {
	pm, err := proc.OpenPagemap(pid)
	if err != nil {
		return 0, err
	}
	defer pm.Close()
	zpfn, err := proc.ZeroPFN()
	if err != nil {
		zpfn = ^uint64(0) // unknown: zero pages are still caught by content
	}
	r := &pageReader{pid: pid, pm: pm, zeroPFN: zpfn, skip: skip, fork: fork}
	if snapshot {
		// Reading a copy-on-write snapshot: its pages are shared with the
		// running process, and process_vm_readv pins them (FOLL_PIN),
		// which since Linux 5.19 unshares, that is copies, every shared
		// anonymous page it touches. /proc/PID/mem takes references
		// without pinning and copies nothing in the snapshot.
		if r.mem, err = os.Open(fmt.Sprintf("/proc/%d/mem", pid)); err != nil {
			return 0, err
		}
		defer r.mem.Close()
	}

	// The buffers are the dumper's, made once for the whole tree: made
	// per task, they were 12 MiB to allocate, clear and fault in for
	// each of a hundred tasks of 1 MiB (bench/notes.md).
	if d.pageBufs == nil {
		for range dumpBuffers {
			d.pageBufs = append(d.pageBufs, make([]byte, dumpChunk*image.PageSize))
		}
	}
	pool := make(chan []byte, dumpBuffers)
	for _, b := range d.pageBufs {
		pool <- b
	}
	out := make(chan chunk, dumpBuffers)
	stop := make(chan struct{})
	readErr := make(chan error, 1)
	go func() {
		readErr <- r.readAll(vmas, pre, pool, out, stop)
		close(out)
	}()

	var pages uint64
	var werr error
	var runs []image.PageRun
	var data [][]byte
	for c := range out {
		if werr == nil && len(c.runs) > 0 {
			runs, data = runs[:0], data[:0]
			for _, run := range c.runs {
				n := len(run.data) / image.PageSize
				runs = append(runs, image.PageRun{Vaddr: run.addr, Pages: uint32(n)})
				data = append(data, run.data)
				pages += uint64(n)
			}
			if werr = w.WritePageRuns(runs, data); werr != nil {
				close(stop)
			}
		}
		if c.pooled {
			pool <- c.buf
		}
	}
	if err := <-readErr; err != nil {
		return pages, err
	}
	return pages, werr
}

// pageReader finds and reads the pages worth saving.
type pageReader struct {
	pid     int
	mem     *os.File // read memory here instead of process_vm_readv
	pm      *proc.Pagemap
	zeroPFN uint64
	skip    []image.PageRun // not read: the parent image holds them
	fork    *forkState      // pages shared with the parent task (mm_fork.go)
	ents    []uint64
	// entsStart, entsEnd: the range ents holds, when readRange found no
	// room for its pages and will be called again for it.
	entsStart, entsEnd uint64
	local              [][]byte
	remote             []unix.RemoteIovec
}

func (r *pageReader) readAll(vmas []image.Vma, pre map[int][]chunk, pool chan []byte, out chan<- chunk, stop <-chan struct{}) error {
	// Runs of every VMA go into the current buffer while they fit: one
	// buffer, one PAGES record (image.Writer joins the runs of a call),
	// however many small VMAs it spans. A process of a hundred small
	// mappings then has its pages in a record or two, not one each: a
	// page of header and padding less in the image for each, and one
	// preadv less for each at restore.
	cur := chunk{pooled: true}
	off := 0
	flush := func() {
		if cur.buf != nil && len(cur.runs) > 0 {
			out <- cur
		} else if cur.buf != nil {
			pool <- cur.buf
		}
		cur, off = chunk{pooled: true}, 0
	}
	// On a failure or a stop the buffer goes back unwritten.
	drop := func() {
		if cur.buf != nil {
			pool <- cur.buf
		}
	}
	for i := range vmas {
		v := &vmas[i]
		if !v.TakesPages() {
			continue
		}
		if cs, ok := pre[i]; ok {
			flush()
			for _, c := range cs {
				out <- c
			}
			continue
		}
		// A zero page of an anonymous mapping restores as a fresh page; in
		// a private file mapping it was written over the file's data.
		skipZero := v.Kind != image.VmaFile && v.Kind != image.VmaDeleted && v.Kind != image.VmaShmem
		for start := v.Start; start < v.End; start += dumpChunk * image.PageSize {
			end := min(v.End, start+dumpChunk*image.PageSize)
			for {
				if cur.buf == nil {
					select {
					case cur.buf = <-pool:
					case <-stop:
						return nil
					}
				}
				c, err := r.readRange(cur.buf[off:], start, end, skipZero)
				if errors.Is(err, errNoRoom) && off > 0 {
					flush()
					continue
				}
				if err != nil {
					drop()
					return fmt.Errorf("vma %#x-%#x: pages %#x-%#x: %w", v.Start, v.End, start, end, err)
				}
				cur.runs = append(cur.runs, c.runs...)
				off += c.used
				break
			}
		}
	}
	flush()
	return nil
}

// errNoRoom: the pages wanted in a range do not fit in what is left of the
// buffer (readRange); the pagemap entries read are kept for the retry.
var errNoRoom = errors.New("no room left in the buffer")

// readRange reads the wanted pages of [start, end) into buf with one
// batched process_vm_readv and returns them as runs, and in used how much
// of buf they took. If they do not fit in buf it reads nothing and
// returns errNoRoom.
func (r *pageReader) readRange(buf []byte, start, end uint64, skipZero bool) (chunk, error) {
	const ps = image.PageSize
	if r.entsStart != start || r.entsEnd != end || r.ents == nil {
		ents, err := r.pm.Read(start, end, r.ents)
		if err != nil {
			return chunk{buf: buf}, err
		}
		r.ents, r.entsStart, r.entsEnd = ents, start, end
		// Once per read, not per retry: noteSkipped appends.
		r.fork.noteSkipped(ents, start, r.skip)
		r.fork.exclude(ents, start)
	}
	ents := r.ents
	r.local, r.remote = r.local[:0], r.remote[:0]
	var runs []pageRun
	off := 0
	for i := 0; i < len(ents); {
		if !r.wantedAt(ents, start, i) {
			i++
			continue
		}
		j := i + 1
		for j < len(ents) && r.wantedAt(ents, start, j) {
			j++
		}
		n := (j - i) * ps
		if off+n > len(buf) {
			return chunk{}, errNoRoom
		}
		addr := start + uint64(i*ps)
		r.local = append(r.local, buf[off:off+n])
		r.remote = append(r.remote, unix.RemoteIovec{Base: uintptr(addr), Len: n})
		runs = append(runs, pageRun{addr: addr, data: buf[off : off+n]})
		off += n
		i = j
	}
	r.entsStart, r.entsEnd = 0, 0 // used: the next range reads its own
	if len(runs) == 0 {
		return chunk{buf: buf}, nil
	}
	if r.mem != nil {
		for i, l := range r.local {
			if _, err := r.mem.ReadAt(l, int64(r.remote[i].Base)); err != nil {
				return chunk{buf: buf}, fmt.Errorf("read %#x: %w", r.remote[i].Base, err)
			}
		}
	} else if _, err := ptrace.ReadMemVec(r.pid, r.local, r.remote); err != nil {
		return chunk{buf: buf}, err
	}
	if skipZero {
		runs = dropZeroPages(runs)
	}
	r.fork.note(ents, start, runs)
	return chunk{buf: buf, runs: runs, used: off}, nil
}

// wantedAt tells whether page i of the range from start is to be saved.
func (r *pageReader) wantedAt(ents []uint64, start uint64, i int) bool {
	if !r.wanted(proc.PME(ents[i])) {
		return false
	}
	return len(r.skip) == 0 || !inRuns(r.skip, start+uint64(i)*image.PageSize)
}

func (r *pageReader) wanted(e proc.PME) bool {
	if e.Swapped() {
		return true
	}
	return e.Present() && !e.FileOrSharedAnon() && e.PFN() != r.zeroPFN
}

// dropZeroPages splits runs around pages that are all zeroes: such a page
// costs nothing in the image and restores as a fresh anonymous page.
func dropZeroPages(runs []pageRun) []pageRun {
	const ps = image.PageSize
	var out []pageRun
	for _, run := range runs {
		n := len(run.data) / ps
		for i := 0; i < n; {
			if bytes.Equal(run.data[i*ps:(i+1)*ps], zeroPage) {
				i++
				continue
			}
			j := i + 1
			for j < n && !bytes.Equal(run.data[j*ps:(j+1)*ps], zeroPage) {
				j++
			}
			out = append(out, pageRun{addr: run.addr + uint64(i*ps), data: run.data[i*ps : j*ps]})
			i = j
		}
	}
	return out
}
