package checkpoint

import (
	"bytes"
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
func (d *dumper) dumpPages(w *image.Writer, pid int, vmas []image.Vma, pre map[int][]chunk, snapshot bool, skip []image.PageRun) (uint64, error) {
	pm, err := proc.OpenPagemap(pid)
	if err != nil {
		return 0, err
	}
	defer pm.Close()
	zpfn, err := proc.ZeroPFN()
	if err != nil {
		zpfn = ^uint64(0) // unknown: zero pages are still caught by content
	}
	r := &pageReader{pid: pid, pm: pm, zeroPFN: zpfn, skip: skip}
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

	pool := make(chan []byte, dumpBuffers)
	for range dumpBuffers {
		pool <- make([]byte, dumpChunk*image.PageSize)
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
	ents    []uint64
	local   [][]byte
	remote  []unix.RemoteIovec
}

func (r *pageReader) readAll(vmas []image.Vma, pre map[int][]chunk, pool chan []byte, out chan<- chunk, stop <-chan struct{}) error {
	for i := range vmas {
		v := &vmas[i]
		if !v.TakesPages() {
			continue
		}
		if cs, ok := pre[i]; ok {
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
			var buf []byte
			select {
			case buf = <-pool:
			case <-stop:
				return nil
			}
			c, err := r.readRange(buf, start, end, skipZero)
			if err != nil {
				return fmt.Errorf("vma %#x-%#x: pages %#x-%#x: %w", v.Start, v.End, start, end, err)
			}
			if len(c.runs) == 0 {
				pool <- buf
				continue
			}
			c.pooled = true
			out <- c
		}
	}
	return nil
}

// readRange reads the wanted pages of [start, end) into buf with one
// batched process_vm_readv and returns them as runs.
func (r *pageReader) readRange(buf []byte, start, end uint64, skipZero bool) (chunk, error) {
	const ps = image.PageSize
	ents, err := r.pm.Read(start, end, r.ents)
	if err != nil {
		return chunk{buf: buf}, err
	}
	r.ents = ents
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
		addr := start + uint64(i*ps)
		r.local = append(r.local, buf[off:off+n])
		r.remote = append(r.remote, unix.RemoteIovec{Base: uintptr(addr), Len: n})
		runs = append(runs, pageRun{addr: addr, data: buf[off : off+n]})
		off += n
		i = j
	}
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
	return chunk{buf: buf, runs: runs}, nil
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
