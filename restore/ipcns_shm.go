package restore

import (
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
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

// makeIpcShm creates a segment and attaches it to us, for its PAGES.
func (rs *restorer) makeIpcShm(s *image.IpcShm) error {
	o := ipcObject{"shm", s.Id, s.Key, s.Mode, s.Uid, s.Gid, s.Cuid, s.Cgid}
	if _, err := rs.ipcNamespace(); err != nil {
		return err
	}
	ip := &rs.ipc
	if err := o.check(ip.shms[s.Id] != nil); err != nil {
		return err
	}
	if s.Mode&^(image.IpcModeMask|image.IpcShmDest|image.IpcShmLocked) != 0 || s.Size == 0 || s.Size > 1<<46 {
		return badImage("%v: mode %#o, size %d", o, s.Mode, s.Size)
	}
	err := rs.inIpcns(func() error {
		if err := o.create(func(flags int) (int, error) { return unix.SysvShmGet(int(s.Key), int(s.Size), flags) }); err != nil {
			return err
		}
		ds, err := kernel.ShmStat(int(s.Id))
		if err != nil {
			return fmt.Errorf("%v: IPC_STAT: %w", o, err)
		}
		if ds.Perm.Uid != s.Uid || ds.Perm.Gid != s.Gid {
			ds.Perm.Uid, ds.Perm.Gid = s.Uid, s.Gid
			if err := kernel.ShmCtl(int(s.Id), unix.IPC_SET, ds); err != nil {
				return fmt.Errorf("%v: set owner %d:%d: %w", o, s.Uid, s.Gid, err)
			}
		}
		if s.Mode&image.IpcShmLocked != 0 {
			if err := kernel.ShmCtl(int(s.Id), kernel.SHM_LOCK, nil); err != nil {
				return fmt.Errorf("%v: SHM_LOCK: %w", o, err)
			}
		}
		at, err := kernel.ShmAttach(int(s.Id), 0)
		if err != nil {
			return fmt.Errorf("%v: attach to fill it: %w", o, err)
		}
		ip.shmAt = at
		if s.Mode&image.IpcShmDest != 0 {
			// Removed while attached: made with its old key, which
			// names it in the tasks' maps, and removed again right
			// away, which frees the key. Our attachment keeps it.
			if err := kernel.ShmCtl(int(s.Id), unix.IPC_RMID, nil); err != nil {
				return fmt.Errorf("%v: remove it again: %w", o, err)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	ip.shms[s.Id], ip.shm = s, s
	return nil
}

// fillIpcShm copies one PAGES record into the segment being filled.
func (rs *restorer) fillIpcShm(r *image.Reader, p *image.Pages) error {
	ip := &rs.ipc
	off := p.DataOffset
	for _, run := range p.Runs {
		n := uint64(run.Pages) * pageSize
		if run.Vaddr%pageSize != 0 || run.Vaddr+n > uint64(len(ip.shmAt)) {
			return badImage("shared memory segment %d: pages at offset %#x past its size %d", ip.shm.Id, run.Vaddr, ip.shm.Size)
		}
		buf := ip.shmAt[run.Vaddr : run.Vaddr+n]
		if rs.imageFile != nil {
			if _, err := rs.imageFile.ReadAt(buf, off); err != nil {
				return fmt.Errorf("shared memory segment %d: read from the image: %w", ip.shm.Id, err)
			}
		} else if err := r.ReadPageData(buf); err != nil {
			return err
		}
		off += int64(n)
	}
	rs.pages += uint64(p.NrPages)
	return nil
}
