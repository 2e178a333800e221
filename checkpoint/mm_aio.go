package checkpoint

import (
	"encoding/binary"
	"errors"
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
	"github.com/ckpt/ckpt/internal/kernel"
	"github.com/ckpt/ckpt/internal/proc"
	"github.com/ckpt/ckpt/internal/ptrace"
	"github.com/ckpt/ckpt/internal/remote"
)

// errAioVma is classifyVma's answer for the ring of an AIO context, which
// collectVmas then saves with aioRing as an AIO_RING, not as a VMA.
var errAioVma = errors.New("an AIO ring")

// isAioRing tells whether v is the ring of an AIO context: a shared
// mapping of the kernel's aio file system (fs/aio.c aio_setup_ring()),
// which /proc shows as `/[aio] (deleted)`.
func isAioRing(pid int, v proc.Vma) bool {
	if !v.Shared || !v.Deleted || v.Path != "/[aio]" {
		return false
	}
	var fs unix.Statfs_t
	if err := unix.Statfs(proc.MapFilesPath(pid, v.Start, v.End), &fs); err != nil {
		return false
	}
	return fs.Type == kernel.AIO_RING_MAGIC
}

// aioRing reads an AIO context's ring while the task is stopped: its size
// and the completions the kernel wrote that user space has not reaped
// (those from head up to tail). The kernel keeps its own copy of the tail
// (struct kioctx.tail) and reads the head from the ring, so both indexes
// must be below the ring's size for a restore to bring the kernel to them.
func aioRing(pid int, v proc.Vma) (image.AioRing, error) {
	obj := fmt.Sprintf("AIO ring %#x-%#x", v.Start, v.End)
	a := image.AioRing{Start: v.Start, End: v.End}
	var hb [kernel.AioRingHeaderSize]byte
	if err := ptrace.ReadMem(pid, v.Start, hb[:]); err != nil {
		return a, fmt.Errorf("%s: %w", obj, err)
	}
	var h kernel.AioRingHeader
	if _, err := binary.Decode(hb[:], binary.LittleEndian, &h); err != nil {
		return a, fmt.Errorf("%s: %w", obj, err)
	}
	switch {
	case h.Magic != kernel.AIO_RING_MAGIC || h.HeaderLength != kernel.AioRingHeaderSize:
		return a, unsupported(pid, obj, "its header is not one this version knows (magic %#x, header length %d)", h.Magic, h.HeaderLength)
	case h.CompatFeatures != kernel.AIO_RING_COMPAT_FEATURES || h.IncompatFeatures != kernel.AIO_RING_INCOMPAT_FEATURES:
		return a, unsupported(pid, obj, "its ring features (compat %#x, incompat %#x) are not ones this version knows", h.CompatFeatures, h.IncompatFeatures)
	case h.Nr == 0 || h.Nr > kernel.AioNrEventsMax || kernel.AioRingPages(uint64(h.Nr))*image.PageSize != v.End-v.Start:
		return a, unsupported(pid, obj, "its mapping (%d bytes) is not the whole ring of %d events: part of it was unmapped or moved", v.End-v.Start, h.Nr)
	case h.Head >= h.Nr:
		return a, unsupported(pid, obj, "its head %d (written by the process) is past the ring's %d events", h.Head, h.Nr)
	case h.Tail >= h.Nr:
		return a, unsupported(pid, obj, "its tail %d is past the ring's %d events", h.Tail, h.Nr)
	case v.Prot != unix.PROT_READ|unix.PROT_WRITE:
		return a, unsupported(pid, obj, "its protection was changed (%#x)", v.Prot)
	}
	a.NrEvents, a.Head, a.Tail = h.Nr, h.Head, h.Tail
	n := a.Pending()
	if n == 0 {
		return a, nil
	}
	buf := make([]byte, uint64(h.Nr)*kernel.IoEventSize)
	if err := ptrace.ReadMem(pid, v.Start+kernel.AioRingHeaderSize, buf); err != nil {
		return a, fmt.Errorf("%s: events: %w", obj, err)
	}
	a.Events = make([]image.AioEvent, n)
	for i := range a.Events {
		var ev kernel.IoEvent
		off := (uint64(h.Head) + uint64(i)) % uint64(h.Nr) * kernel.IoEventSize
		if _, err := binary.Decode(buf[off:], binary.LittleEndian, &ev); err != nil {
			return a, fmt.Errorf("%s: event %d: %w", obj, i, err)
		}
		a.Events[i] = image.AioEvent{Data: ev.Data, Obj: ev.Obj, Res: ev.Res, Res2: ev.Res2}
	}
	return a, nil
}

// checkAioOwned makes sure each AIO ring mapped by p is the ring of a
// context of p's own address space. A child forked after io_setup(2)
// inherits the mapping (it is not VM_DONTCOPY) but not the context
// (mm_init() starts it with an empty ioctx_table): a restore would give
// it a context it never had, or part the ring it shares. io_getevents(2)
// with min_nr and nr 0 looks the context up (lookup_ioctx() reads the
// ring's id and compares the ring's address) and returns at once, reading
// nothing: 0 for a context of the task's own, EINVAL for any other.
func checkAioOwned(p *process, rt *remote.Task) error {
	for _, a := range p.aios {
		if _, err := rt.Syscall(unix.SYS_IO_GETEVENTS, uintptr(a.Start), 0, 0, 0, 0); err != nil {
			if errors.Is(err, unix.EINVAL) {
				return unsupported(p.pid, fmt.Sprintf("AIO ring %#x-%#x", a.Start, a.End),
					"the ring of an AIO context of another address space, inherited through fork: not supported yet")
			}
			return fmt.Errorf("io_getevents(%#x): %w", a.Start, err)
		}
	}
	return nil
}
