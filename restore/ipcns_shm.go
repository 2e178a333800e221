package restore

import (
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/checkpoint/image"
	"github.com/ckpt/ckpt/internal/kernel"
)

// checkSysvVma refuses a VMA that attaches a segment the image does not
// hold, or a range outside the segment.
func (rs *restorer) checkSysvVma(v *image.Vma) error {
	s := rs.ipc.shms[int32(v.Ino)]
	if v.Ino > 1<<31-1 || s == nil {
		return badImage("vma %#x-%#x attaches System V shared memory segment %d, which the image does not hold", v.Start, v.End, v.Ino)
	}
	segLen := (s.Size + pageSize - 1) &^ (pageSize - 1)
	if v.Pgoff%pageSize != 0 || v.End <= v.Start || v.Pgoff+(v.End-v.Start) > segLen {
		return badImage("vma %#x-%#x at offset %#x is outside System V shared memory segment %d of %d bytes", v.Start, v.End, v.Pgoff, v.Ino, s.Size)
	}
	return nil
}

// attachSysvShm attaches the VMA's segment in the task with shmat(2), as
// the task had: read-only unless the VMA is writable. A VMA that covers
// only part of the segment (the rest was unmapped, or it was split) is cut
// out of a whole attachment made elsewhere and moved into place; the
// kernel counts each VMA as one attachment (shm_nattch), as it did before.
func (rs *restorer) attachSysvShm(t *taskPlan, v *image.Vma) error {
	lt := t.leader
	s := rs.ipc.shms[int32(v.Ino)]
	segLen := (s.Size + pageSize - 1) &^ (pageSize - 1)
	size := v.End - v.Start
	flags, prot := uintptr(0), uint32(unix.PROT_READ|unix.PROT_WRITE)
	if v.Prot&unix.PROT_WRITE == 0 {
		flags, prot = unix.SHM_RDONLY, unix.PROT_READ
	}
	if v.Prot&unix.PROT_EXEC != 0 {
		flags, prot = flags|kernel.SHM_EXEC, prot|unix.PROT_EXEC
	}
	what := fmt.Sprintf("vma %#x-%#x: System V shared memory segment %d", v.Start, v.End, v.Ino)
	if v.Pgoff == 0 && size == segLen {
		at, err := lt.Syscall(unix.SYS_SHMAT, uintptr(v.Ino), uintptr(v.Start), flags)
		if err != nil {
			return fmt.Errorf("%s: shmat: %w", what, err)
		}
		if uint64(at) != v.Start {
			return fmt.Errorf("%s: attached at %#x", what, at)
		}
	} else {
		at, err := lt.Syscall(unix.SYS_SHMAT, uintptr(v.Ino), 0, flags)
		if err != nil {
			return fmt.Errorf("%s: shmat: %w", what, err)
		}
		piece := uint64(at) + v.Pgoff
		if _, err := lt.Syscall(unix.SYS_MREMAP, uintptr(piece), uintptr(size), uintptr(size),
			unix.MREMAP_MAYMOVE|unix.MREMAP_FIXED, uintptr(v.Start)); err != nil {
			return fmt.Errorf("%s: move offset %#x into place: %w", what, v.Pgoff, err)
		}
		for _, r := range [][2]uint64{{uint64(at), piece}, {piece + size, uint64(at) + segLen}} {
			if r[1] > r[0] {
				if _, err := lt.Syscall(unix.SYS_MUNMAP, uintptr(r[0]), uintptr(r[1]-r[0])); err != nil {
					return fmt.Errorf("%s: unmap the rest: %w", what, err)
				}
			}
		}
	}
	if v.Prot != prot {
		if _, err := lt.Syscall(unix.SYS_MPROTECT, uintptr(v.Start), uintptr(size), uintptr(v.Prot)); err != nil {
			return fmt.Errorf("%s: mprotect %#x: %w", what, v.Prot, err)
		}
	}
	return nil
}
