package proc

import (
	"errors"
	"fmt"
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

// Pagemap is an open /proc/PID/pagemap: one u64 entry per virtual page
// (Documentation/admin-guide/mm/pagemap.rst). Read and Scan may be
// called from several goroutines at once; Close may not overlap them.
type Pagemap struct {
	pid int
	fd  int
}

// OpenPagemap opens /proc/PID/pagemap. The file pins the target's address
// space: reads see the same mm even if the pid is reused. Only a reader
// with CAP_SYS_ADMIN sees PFNs; others read them as 0.
func OpenPagemap(pid int) (*Pagemap, error) {
	path := pidPath(pid, "pagemap")
	fd, err := openFile(path, unix.O_RDONLY)
	if err != nil {
		return nil, readErr(path, err)
	}
	return &Pagemap{pid: pid, fd: fd}, nil
}

// Close closes the file. Closing twice is a no-op.
func (p *Pagemap) Close() error {
	if p.fd < 0 {
		return nil
	}
	err := unix.Close(p.fd)
	p.fd = -1
	if err != nil {
		return fmt.Errorf("close /proc/%d/pagemap: %w", p.pid, err)
	}
	return nil
}

// checkRange validates a page-aligned [start,end).
func (p *Pagemap) checkRange(start, end uint64) error {
	if start%pageSize != 0 || end%pageSize != 0 || end < start {
		return fmt.Errorf("/proc/%d/pagemap: range %#x-%#x is not page aligned or is reversed", p.pid, start, end)
	}
	if p.fd < 0 {
		return fmt.Errorf("/proc/%d/pagemap: %w", p.pid, os.ErrClosed)
	}
	return nil
}

// Read returns the entries for the pages in [start,end), which must be
// page aligned, as PME values. dst is reused if its capacity is enough.
// Pages above the user address space ([vsyscall]) read as 0. If the
// address space has gone (the task exited or is a zombie) the error
// satisfies IsGone.
func (p *Pagemap) Read(start, end uint64, dst []uint64) ([]uint64, error) {
	if err := p.checkRange(start, end); err != nil {
		return nil, err
	}
	n := (end - start) >> pageShift
	if uint64(cap(dst)) >= n {
		dst = dst[:n]
	} else {
		dst = make([]uint64, n)
	}
	b := u64Bytes(dst)
	off := int64(start>>pageShift) * 8
	got := 0
	for got < len(b) {
		k, err := unix.Pread(p.fd, b[got:], off+int64(got))
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read /proc/%d/pagemap at %#x: %w",
				p.pid, start+uint64(got/8)<<pageShift, markGone(err))
		}
		if k == 0 {
			break
		}
		got += k
	}
	if got < len(b) {
		// The kernel ends the file at the mm's task_size, or at once if
		// the mm is gone (fs/proc/task_mmu.c:pagemap_read()).
		at := start + uint64(got/8)<<pageShift
		if at < taskSizeMax {
			return nil, fmt.Errorf("read /proc/%d/pagemap at %#x: address space is gone: %w",
				p.pid, at, goneError{unix.ESRCH})
		}
		clear(dst[got/8:])
	}
	return dst, nil
}

// PME is one pagemap entry.
type PME uint64

const (
	pmePFNMask   = 1<<55 - 1
	pmeSoftDirty = 1 << 55
	pmeExclusive = 1 << 56
	pmeUffdWP    = 1 << 57
	pmeGuard     = 1 << 58
	pmeFile      = 1 << 61
	pmeSwap      = 1 << 62
	pmePresent   = 1 << 63
)

// Present reports bit 63: the page is in RAM.
func (e PME) Present() bool { return e&pmePresent != 0 }

// Swapped reports bit 62: the page is in swap.
func (e PME) Swapped() bool { return e&pmeSwap != 0 }

// FileOrSharedAnon reports bit 61: a page-cache page (file or shmem), as
// opposed to a private anonymous one.
func (e PME) FileOrSharedAnon() bool { return e&pmeFile != 0 }

// Exclusive reports bit 56: the page is mapped only here. It clears on a
// private page shared copy-on-write after fork.
func (e PME) Exclusive() bool { return e&pmeExclusive != 0 }

// SoftDirty reports bit 55. Always false without CONFIG_MEM_SOFT_DIRTY.
func (e PME) SoftDirty() bool { return e&pmeSoftDirty != 0 }

// UffdWP reports bit 57: the page is write-protected by userfaultfd.
func (e PME) UffdWP() bool { return e&pmeUffdWP != 0 }

// Guard reports bit 58: the page is a MADV_GUARD_INSTALL guard (6.15+).
func (e PME) Guard() bool { return e&pmeGuard != 0 }

// PFN returns the page frame number of a present page (bits 0-54), 0 for
// a page that is not present or when the reader lacks CAP_SYS_ADMIN.
func (e PME) PFN() uint64 {
	if !e.Present() {
		return 0
	}
	return uint64(e) & pmePFNMask
}

// SwapType and SwapOffset decode the swap entry of a swapped page (bits
// 0-4 and 5-54).
func (e PME) SwapType() uint64   { return uint64(e) & 0x1f }
func (e PME) SwapOffset() uint64 { return uint64(e) & pmePFNMask >> 5 }

// ZeroPFN returns the PFN of the kernel's shared zero page, which a read
// fault on untouched private anonymous memory maps. It is found once, by
// reading a page of a fresh mapping in this process, and cached. It fails
// without CAP_SYS_ADMIN, when pagemap hides PFNs.
func ZeroPFN() (uint64, error) { return zeroPFN() }

var zeroPFN = sync.OnceValues(func() (uint64, error) {
	mem, err := unix.Mmap(-1, 0, pageSize, unix.PROT_READ, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return 0, fmt.Errorf("zero pfn: %w", os.NewSyscallError("mmap", err))
	}
	defer unix.Munmap(mem)
	addr := readFault(mem)
	pm, err := OpenPagemap(os.Getpid())
	if err != nil {
		return 0, fmt.Errorf("zero pfn: %w", err)
	}
	defer pm.Close()
	var ent [1]uint64
	if _, err := pm.Read(addr, addr+pageSize, ent[:]); err != nil {
		return 0, fmt.Errorf("zero pfn: %w", err)
	}
	e := PME(ent[0])
	switch {
	case !e.Present():
		return 0, fmt.Errorf("zero pfn: page %#x not present after a read (entry %#x)", addr, ent[0])
	case e.FileOrSharedAnon() || e.Exclusive():
		return 0, fmt.Errorf("zero pfn: page %#x is not the zero page (entry %#x)", addr, ent[0])
	case e.PFN() == 0:
		return 0, errors.New("zero pfn: pagemap hides PFNs (no CAP_SYS_ADMIN)")
	}
	return e.PFN(), nil
})
