package restore

import (
	"encoding/binary"
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/checkpoint/image"
	"github.com/ckpt/ckpt/internal/remote"
)

// fillPages puts one PAGES record's data in place. From a regular file the
// task reads it itself, straight from the page cache into its memory; from
// a pipe we read it and write it across with process_vm_writev.
func (rs *restorer) fillPages(r *image.Reader, t *taskPlan, p *image.Pages) error {
	size := uint64(p.NrPages) * pageSize
	if !pagesFit(t.vmas, p.Vaddr, size) {
		return badImage("pages %#x+%d at offset %d are outside every mapping that takes pages", p.Vaddr, p.NrPages, p.DataOffset)
	}
	if t.imageFd >= 0 {
		addr, off, left := p.Vaddr, p.DataOffset, size
		for left > 0 {
			n, err := t.leader.Syscall(unix.SYS_PREAD64, uintptr(t.imageFd), uintptr(addr), uintptr(left), uintptr(off))
			if err != nil {
				return fmt.Errorf("read pages %#x from the image at %d: %w", addr, off, err)
			}
			if n == 0 {
				return fmt.Errorf("read pages %#x from the image at %d: unexpected end of file", addr, off)
			}
			addr, off, left = addr+uint64(n), off+int64(n), left-uint64(n)
		}
	} else {
		if uint64(len(rs.buf)) < size {
			rs.buf = make([]byte, size)
		}
		buf := rs.buf[:size]
		if err := r.ReadPageData(buf); err != nil {
			return err
		}
		if err := writeTaskMem(t.pid, p.Vaddr, buf); err != nil {
			return fmt.Errorf("write pages %#x+%d: %w", p.Vaddr, p.NrPages, err)
		}
	}
	rs.pages += uint64(p.NrPages)
	return nil
}

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
			// A run may continue into the next VMA.
			size -= v.End - addr
			addr = v.End
		}
	}
	return false
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
		if !v.TakesPages() || v.Prot&unix.PROT_WRITE != 0 {
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
	// struct prctl_mm_map, include/uapi/linux/prctl.h.
	var mm []byte
	for _, w := range []uint64{m.StartCode, m.EndCode, m.StartData, m.EndData, m.StartBrk, m.Brk,
		m.StartStack, m.ArgStart, m.ArgEnd, m.EnvStart, m.EnvEnd, auxvAddr} {
		mm = binary.LittleEndian.AppendUint64(mm, w)
	}
	mm = binary.LittleEndian.AppendUint32(mm, uint32(len(auxv)))
	mm = binary.LittleEndian.AppendUint32(mm, uint32(exeFd))
	mmAddr, err := lt.Put(mm)
	if err != nil {
		return err
	}
	if _, err := lt.Syscall(unix.SYS_PRCTL, unix.PR_SET_MM, prSetMmMap, uintptr(mmAddr), uintptr(len(mm)), 0); err != nil {
		return fmt.Errorf("prctl(PR_SET_MM_MAP): %w", err)
	}
	return nil
}

// prSetMmMap is PR_SET_MM_MAP from include/uapi/linux/prctl.h.
const prSetMmMap = 14

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

var _ = unsafe.Pointer(nil)
