package restore

import (
	"encoding/binary"
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
	"github.com/ckpt/ckpt/internal/addrspace"
	"github.com/ckpt/ckpt/internal/kernel"
	"github.com/ckpt/ckpt/internal/ptrace"
	"github.com/ckpt/ckpt/internal/remote"
)

// addAioRing takes an AIO_RING of the current task's MM, after its VMAs
// and before its pages, and checks it against them: the image is not
// trusted, and a ring over a VMA would unmap it.
func (rs *restorer) addAioRing(t *taskPlan, a *image.AioRing) error {
	if t.mm == nil || uint32(len(t.vmas)) != t.mm.NrVmas || t.memReady {
		return badImage("task %d: AIO_RING outside its MM's place (after the VMAs, before the pages)", t.rec.Pid)
	}
	what := fmt.Sprintf("task %d: AIO ring %#x-%#x", t.rec.Pid, a.Start, a.End)
	switch {
	case a.Start%pageSize != 0 || a.End <= a.Start || a.Reserved != 0:
		return badImage("%s: not a page-aligned range", what)
	case a.NrEvents == 0 || a.NrEvents > kernel.AioNrEventsMax:
		return badImage("%s: %d events", what, a.NrEvents)
	case kernel.AioRingPages(uint64(a.NrEvents))*pageSize != a.End-a.Start:
		return badImage("%s: %d bytes do not hold a ring of %d events", what, a.End-a.Start, a.NrEvents)
	case a.Head >= a.NrEvents || a.Tail >= a.NrEvents:
		return badImage("%s: head %d or tail %d past its %d events", what, a.Head, a.Tail, a.NrEvents)
	case uint32(len(a.Events)) != a.Pending():
		return badImage("%s: %d events between head %d and tail %d, not %d", what, a.Pending(), a.Head, a.Tail, len(a.Events))
	}
	r := addrspace.Range{Start: a.Start, End: a.End}
	for _, o := range append(imageRanges(t.vmas), aioRanges(t.aios)...) {
		if addrspace.Overlaps(r, o) {
			return badImage("%s overlaps %#x-%#x", what, o.Start, o.End)
		}
	}
	t.aios = append(t.aios, *a)
	return nil
}

func aioRanges(aios []image.AioRing) []addrspace.Range {
	r := make([]addrspace.Range, len(aios))
	for i, a := range aios {
		r[i] = addrspace.Range{Start: a.Start, End: a.End}
	}
	return r
}

// aioBatch is how many requests restoreAio has in flight at once: well
// below the smallest ring (127 events), and what fits the scratch area.
const aioBatch = 64

// restoreAios makes the task's AIO contexts again, each with its ring at
// its address (the context's id), once every VMA is mapped: io_setup(2)
// maps a ring where the kernel likes, which must not be where a VMA is
// still to go.
func (rs *restorer) restoreAios(t *taskPlan) error {
	if len(t.aios) == 0 {
		return nil
	}
	null, err := os.Open(os.DevNull)
	if err != nil {
		return err
	}
	defer null.Close()
	fd, err := t.pull(null.Fd())
	if err != nil {
		return fmt.Errorf("take %s into the task: %w", os.DevNull, err)
	}
	defer t.leader.Syscall(unix.SYS_CLOSE, fd)
	// Hold every ring's place first, so that io_setup cannot put a ring
	// where another is still to go (mremap onto it would unmap it).
	for _, a := range t.aios {
		if _, err := t.leader.Syscall(unix.SYS_MMAP, uintptr(a.Start), uintptr(a.End-a.Start), unix.PROT_NONE,
			unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_FIXED_NOREPLACE, ^uintptr(0), 0); err != nil {
			return fmt.Errorf("hold the place of AIO ring %#x-%#x: %w", a.Start, a.End, err)
		}
	}
	for i := range t.aios {
		if err := restoreAio(t.leader, &t.aios[i], fd); err != nil {
			return fmt.Errorf("AIO ring %#x-%#x: %w", t.aios[i].Start, t.aios[i].End, err)
		}
	}
	return nil
}

// restoreAio makes one context. The kernel sizes a ring from io_setup's
// nr_events (fs/aio.c ioctx_alloc(): at least 4 per possible CPU, doubled;
// aio_setup_ring(): 2 more, then the pages that takes filled up); the
// largest request that gives the saved number of pages (32 + 32 × (2n + 2)
// bytes in p pages: n = 64p - 2) gives the saved ring, unless this host
// has so many possible CPUs that its smallest ring is larger. Moving the ring with mremap(2)
// moves the context's id with it (aio_ring_mremap()). The kernel keeps its
// own tail (kioctx.tail), which only completions move: requests that
// complete at once (0-byte reads of /dev/null) bring it, and the ring's
// head, to the saved ones; the saved completions then go into the slots
// those requests filled.
func restoreAio(lt *remote.Task, a *image.AioRing, nullFd uintptr) error {
	defer lt.Reset()
	pages := (a.End - a.Start) / pageSize
	// io_setup wants *ctxp to be 0 (fs/aio.c).
	ctxp, err := lt.Put(make([]byte, 8))
	if err != nil {
		return err
	}
	if _, err := lt.Syscall(unix.SYS_IO_SETUP, uintptr(64*pages-2), uintptr(ctxp)); err != nil {
		return fmt.Errorf("io_setup(%d): %w", 64*pages-2, err)
	}
	w, err := lt.ReadU64s(ctxp, 1)
	if err != nil {
		return err
	}
	ctx := w[0]
	h, err := readAioHeader(lt, ctx)
	if err != nil {
		return err
	}
	if h.Nr != a.NrEvents {
		_, _ = lt.Syscall(unix.SYS_IO_DESTROY, uintptr(ctx))
		return fmt.Errorf("this kernel makes a ring of %d events, not %d: its smallest ring is larger (it has more possible CPUs than the checkpointed host)", h.Nr, a.NrEvents)
	}
	// Onto the place restoreAios holds for it.
	size := uintptr(a.End - a.Start)
	got, err := lt.Syscall(unix.SYS_MREMAP, uintptr(ctx), size, size, unix.MREMAP_MAYMOVE|unix.MREMAP_FIXED, uintptr(a.Start))
	if err != nil {
		return fmt.Errorf("mremap %#x -> %#x: %w", ctx, a.Start, err)
	}
	if uint64(got) != a.Start {
		return fmt.Errorf("mremap %#x -> %#x landed at %#x", ctx, a.Start, got)
	}
	if err := aioAdvance(lt, a.Start, nullFd, a.Head, true); err != nil {
		return err
	}
	if err := aioAdvance(lt, a.Start, nullFd, a.Pending(), false); err != nil {
		return err
	}
	if err := writeAioEvents(lt, a); err != nil {
		return err
	}
	if h, err = readAioHeader(lt, a.Start); err != nil {
		return err
	}
	if h.Head != a.Head || h.Tail != a.Tail {
		return fmt.Errorf("the ring's head and tail are %d and %d, not %d and %d", h.Head, h.Tail, a.Head, a.Tail)
	}
	return nil
}

// aioAdvance submits n requests that complete at once, aioBatch at a time,
// and reaps them if reap is set: the kernel's tail (and then the head)
// moves n slots on.
func aioAdvance(lt *remote.Task, ctx uint64, nullFd uintptr, n uint32, reap bool) error {
	defer lt.Reset()
	iocbs, err := lt.Alloc(aioBatch * kernel.IocbSize)
	if err != nil {
		return err
	}
	ptrs, err := lt.Alloc(aioBatch * 8)
	if err != nil {
		return err
	}
	events, err := lt.Alloc(aioBatch * kernel.IoEventSize)
	if err != nil {
		return err
	}
	var ib, pb []byte
	for i := range aioBatch {
		cb := kernel.Iocb{Opcode: kernel.IOCB_CMD_PREAD, Fildes: uint32(nullFd), Buf: events}
		if ib, err = binary.Append(ib, binary.LittleEndian, &cb); err != nil {
			return err
		}
		pb = binary.LittleEndian.AppendUint64(pb, iocbs+uint64(i)*kernel.IocbSize)
	}
	if err := ptrace.WriteMem(lt.Tid, iocbs, ib); err != nil {
		return err
	}
	if err := ptrace.WriteMem(lt.Tid, ptrs, pb); err != nil {
		return err
	}
	for n > 0 {
		k := min(n, aioBatch)
		got, err := lt.Syscall(unix.SYS_IO_SUBMIT, uintptr(ctx), uintptr(k), uintptr(ptrs))
		if err != nil || uint32(got) != k {
			return fmt.Errorf("io_submit of %d requests gave %d: %w", k, got, err)
		}
		if reap {
			got, err := lt.Syscall(unix.SYS_IO_GETEVENTS, uintptr(ctx), uintptr(k), uintptr(k), uintptr(events), 0)
			if err != nil || uint32(got) != k {
				return fmt.Errorf("io_getevents of %d events gave %d: %w", k, got, err)
			}
		}
		n -= k
	}
	return nil
}

// writeAioEvents puts the saved completions in their slots, from head.
func writeAioEvents(lt *remote.Task, a *image.AioRing) error {
	var b []byte
	for _, e := range a.Events {
		var err error
		ev := kernel.IoEvent{Data: e.Data, Obj: e.Obj, Res: e.Res, Res2: e.Res2}
		if b, err = binary.Append(b, binary.LittleEndian, &ev); err != nil {
			return err
		}
	}
	slot := func(i uint32) uint64 { return a.Start + kernel.AioRingHeaderSize + uint64(i)*kernel.IoEventSize }
	// Up to the ring's end, then from its start.
	first := min(uint32(len(a.Events)), a.NrEvents-a.Head)
	if err := ptrace.WriteMem(lt.Tid, slot(a.Head), b[:first*kernel.IoEventSize]); err != nil {
		return err
	}
	return ptrace.WriteMem(lt.Tid, slot(0), b[first*kernel.IoEventSize:])
}

func readAioHeader(lt *remote.Task, addr uint64) (kernel.AioRingHeader, error) {
	var h kernel.AioRingHeader
	var b [kernel.AioRingHeaderSize]byte
	if err := lt.Read(addr, b[:]); err != nil {
		return h, err
	}
	if _, err := binary.Decode(b[:], binary.LittleEndian, &h); err != nil {
		return h, err
	}
	if h.Magic != kernel.AIO_RING_MAGIC {
		return h, fmt.Errorf("no AIO ring at %#x (magic %#x)", addr, h.Magic)
	}
	return h, nil
}
