package restore

import (
	"encoding/binary"
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
	"github.com/ckpt/ckpt/internal/kernel"
	"github.com/ckpt/ckpt/internal/remote"
)

// fillPages puts one PAGES record's data in place, all its runs at once.
// From a regular file the task reads it itself with one preadv(2),
// straight from the page cache into its memory; from a pipe we read it and
// write it across with process_vm_writev(2).
func (rs *restorer) fillPages(r *image.Reader, t *taskPlan, p *image.Pages) error {
	for _, run := range p.Runs {
		if !pagesFit(t.vmas, run.Vaddr, uint64(run.Pages)*pageSize) {
			return badImage("pages %#x+%d at offset %d are outside every mapping that takes pages", run.Vaddr, run.Pages, p.DataOffset)
		}
	}
	t.indexPages(p) // mm_fork.go
	if t.lazy != nil {
		return rs.fillLazy(t, p) // lazy.go
	}
	if err := rs.unlockFor(t, p.Runs); err != nil {
		return err
	}
	size := uint64(p.NrPages) * pageSize
	if t.imageFd >= 0 {
		if err := rs.preadRuns(t, p); err != nil {
			return err
		}
	} else {
		if uint64(len(rs.buf)) < size {
			rs.buf = make([]byte, size)
		}
		buf := rs.buf[:size]
		if err := r.ReadPageData(buf); err != nil {
			return err
		}
		if err := writeRuns(t.pid, p.Runs, buf); err != nil {
			return fmt.Errorf("write pages at %#x (%d runs): %w", p.Vaddr, len(p.Runs), err)
		}
	}
	rs.pages += uint64(p.NrPages)
	return nil
}

// unlockFor makes writable, for their pages to be written, the mappings
// runs fall in that are not writable yet (mapVmas); finishMemory puts
// back their protections. Runs were checked to fit in mappings that take
// pages (pagesFit).
func (rs *restorer) unlockFor(t *taskPlan, runs []image.PageRun) error {
	if len(t.unlocked) != len(t.vmas) {
		return fmt.Errorf("pages for task %d before its mappings", t.rec.Pid)
	}
	for _, run := range runs {
		start, end := run.Vaddr, run.Vaddr+uint64(run.Pages)*pageSize
		for i := range t.vmas {
			v := &t.vmas[i]
			if t.unlocked[i] || v.End <= start || v.Start >= end {
				continue
			}
			if v.Prot&unix.PROT_WRITE == 0 {
				if _, err := t.leader.Syscall(unix.SYS_MPROTECT, uintptr(v.Start), uintptr(v.End-v.Start), uintptr(v.Prot|unix.PROT_WRITE)); err != nil {
					return fmt.Errorf("mprotect vma %#x-%#x writable for its pages: %w", v.Start, v.End, err)
				}
			}
			t.unlocked[i] = true
		}
	}
	return nil
}

// preadRuns has the task read a record's data from the image into its runs
// with preadv(2); the iovecs go in its scratch area.
func (rs *restorer) preadRuns(t *taskPlan, p *image.Pages) error {
	lt := t.leader
	defer lt.Reset()
	iov := make([]uint64, 0, 2*len(p.Runs))
	for _, run := range p.Runs {
		iov = append(iov, run.Vaddr, uint64(run.Pages)*pageSize)
	}
	off := p.DataOffset
	for len(iov) > 0 {
		addr, err := lt.Put(le64(iov...))
		if err != nil {
			return err
		}
		n, err := lt.Syscall(unix.SYS_PREADV, uintptr(t.imageFd), uintptr(addr), uintptr(len(iov)/2), uintptr(off), 0)
		if err != nil {
			return fmt.Errorf("read pages at %#x from the image at %d: %w", iov[0], off, err)
		}
		if n == 0 {
			return fmt.Errorf("read pages at %#x from the image at %d: unexpected end of file", iov[0], off)
		}
		off += int64(n)
		// Drop what was read; a short read leaves part of one run.
		for left := uint64(n); left > 0; {
			if left >= iov[1] {
				left -= iov[1]
				iov = iov[2:]
			} else {
				iov[0] += left
				iov[1] -= left
				left = 0
			}
		}
		lt.Reset()
	}
	return nil
}

// writeRuns copies buf, the pages of every run in turn, into the task.
func writeRuns(pid int, runs []image.PageRun, buf []byte) error {
	remote := make([]unix.RemoteIovec, len(runs))
	for i, run := range runs {
		remote[i] = unix.RemoteIovec{Base: uintptr(run.Vaddr), Len: int(run.Pages) * pageSize}
	}
	for len(buf) > 0 {
		local := []unix.Iovec{{Base: &buf[0]}}
		local[0].SetLen(len(buf))
		n, err := unix.ProcessVMWritev(pid, local, remote, 0)
		if err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("process_vm_writev at %#x wrote nothing", remote[0].Base)
		}
		buf = buf[n:]
		for left := n; left > 0; {
			if left >= remote[0].Len {
				left -= remote[0].Len
				remote = remote[1:]
			} else {
				remote[0].Base += uintptr(left)
				remote[0].Len -= left
				left = 0
			}
		}
	}
	return nil
}

// writeTaskMem copies b to addr in pid with process_vm_writev, looping over
// partial writes.
func writeTaskMem(pid int, addr uint64, b []byte) error {
	for len(b) > 0 {
		local := []unix.Iovec{{Base: &b[0]}}
		local[0].SetLen(len(b))
		remoteIov := []unix.RemoteIovec{{Base: uintptr(addr), Len: len(b)}}
		n, err := unix.ProcessVMWritev(pid, local, remoteIov, 0)
		if err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("process_vm_writev at %#x wrote nothing", addr)
		}
		b, addr = b[n:], addr+uint64(n)
	}
	return nil
}

// finishMemory gives mappings their saved protections and the mm its saved
// fields with PR_SET_MM_MAP, which also sets the auxv /proc shows and the
// exe link. The stub's executable is no longer mapped, so the kernel lets
// the exe link change.
func (rs *restorer) finishMemory(t *taskPlan) error {
	lt := t.leader
	for i := range t.vmas {
		v := &t.vmas[i]
		if i >= len(t.unlocked) || !t.unlocked[i] || v.Prot&unix.PROT_WRITE != 0 {
			continue
		}
		if _, err := lt.Syscall(unix.SYS_MPROTECT, uintptr(v.Start), uintptr(v.End-v.Start), uintptr(v.Prot)); err != nil {
			return fmt.Errorf("mprotect vma %#x-%#x: %w", v.Start, v.End, err)
		}
	}
	m := t.mm
	defer lt.Reset()
	exeFd, err := openInTask(lt, m.ExePath, false)
	if err != nil {
		return fmt.Errorf("executable: %w", err)
	}
	defer lt.Syscall(unix.SYS_CLOSE, uintptr(exeFd))
	var auxv []byte
	for _, w := range m.Auxv {
		auxv = binary.LittleEndian.AppendUint64(auxv, w)
	}
	auxvAddr, err := lt.Put(auxv)
	if err != nil {
		return err
	}
	mm, err := binary.Append(nil, binary.LittleEndian, &kernel.PrctlMmMap{
		StartCode: m.StartCode, EndCode: m.EndCode, StartData: m.StartData, EndData: m.EndData,
		StartBrk: m.StartBrk, Brk: m.Brk, StartStack: m.StartStack,
		ArgStart: m.ArgStart, ArgEnd: m.ArgEnd, EnvStart: m.EnvStart, EnvEnd: m.EnvEnd,
		Auxv: auxvAddr, AuxvSize: uint32(len(auxv)), ExeFd: uint32(exeFd),
	})
	if err != nil {
		return err
	}
	mmAddr, err := lt.Put(mm)
	if err != nil {
		return err
	}
	if _, err := lt.Syscall(unix.SYS_PRCTL, unix.PR_SET_MM, unix.PR_SET_MM_MAP, uintptr(mmAddr), uintptr(len(mm)), 0); err != nil {
		return fmt.Errorf("prctl(PR_SET_MM_MAP): %w", err)
	}
	return lockAndSeal(lt, t.vmas)
}

const atFdcwd = ^uintptr(99) // AT_FDCWD, -100

// openInTask opens path inside the task and returns the task's fd.
func openInTask(lt *remote.Task, path string, writable bool) (int, error) {
	defer lt.Reset()
	addr, err := lt.PutString(path)
	if err != nil {
		return -1, err
	}
	flags := uintptr(unix.O_RDONLY | unix.O_CLOEXEC)
	if writable {
		flags = unix.O_RDWR | unix.O_CLOEXEC
	}
	fd, err := lt.Syscall(unix.SYS_OPENAT, atFdcwd, uintptr(addr), flags, 0)
	if err != nil && writable {
		fd, err = lt.Syscall(unix.SYS_OPENAT, atFdcwd, uintptr(addr), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	}
	if err != nil {
		return -1, fmt.Errorf("open %q in task %d: %w", path, lt.Tid, err)
	}
	return int(fd), nil
}

// nameVma gives an anonymous mapping its name (PR_SET_VMA_ANON_NAME).
func nameVma(lt *remote.Task, v *image.Vma, name string) error {
	defer lt.Reset()
	addr, err := lt.PutString(name)
	if err != nil {
		return err
	}
	if _, err := lt.Syscall(unix.SYS_PRCTL, unix.PR_SET_VMA, unix.PR_SET_VMA_ANON_NAME,
		uintptr(v.Start), uintptr(v.End-v.Start), uintptr(addr)); err != nil {
		return fmt.Errorf("name vma %#x-%#x %q: %w", v.Start, v.End, name, err)
	}
	return nil
}

// pagesFit reports whether [addr, addr+size) lies in mappings that take
// pages; a run may continue from one VMA into the next.
func pagesFit(vmas []image.Vma, addr, size uint64) bool {
	for i := range vmas {
		v := &vmas[i]
		if addr >= v.Start && addr < v.End {
			if !v.TakesPages() {
				return false
			}
			if addr+size <= v.End {
				return true
			}
			size -= v.End - addr
			addr = v.End
		}
	}
	return false
}
