package checkpoint

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
	"github.com/ckpt/ckpt/internal/kernel"
	"github.com/ckpt/ckpt/internal/sysvipc"
)

// readShm saves every shared memory segment: its identity and contents.
// The contents are read through an attachment of our own (read-only), by
// the file behind it, so that pages never touched stay holes and cost
// nothing.
func (st *ipcState) readShm(pid int) error {
	rows, err := sysvipc.Rows("shm")
	if err != nil {
		return err
	}
	for _, row := range rows {
		n, err := sysvipc.Nums(row, 0, 1, 2, 3, 7, 8, 9, 10)
		if err != nil {
			return err
		}
		s := &ipcShm{rec: image.IpcShm{
			Key: int32(n[0]), Id: int32(n[1]), Mode: uint32(n[2]), Size: uint64(n[3]),
			Uid: uint32(n[4]), Gid: uint32(n[5]), Cuid: uint32(n[6]), Cgid: uint32(n[7]),
		}}
		obj := fmt.Sprintf("System V shared memory segment %d (key %#x)", s.rec.Id, uint32(s.rec.Key))
		if s.rec.Mode&^(image.IpcModeMask|image.IpcShmDest|image.IpcShmLocked) != 0 {
			return unsupported(pid, obj, "mode %#o has bits we do not know", s.rec.Mode)
		}
		at, err := kernel.ShmAttach(int(s.rec.Id), unix.SHM_RDONLY)
		if err != nil {
			return fmt.Errorf("%s: attach to read it: %w", obj, err)
		}
		addr := kernel.BytesAddr(at)
		path := fmt.Sprintf("/proc/self/map_files/%x-%x", addr, addr+uintptr(len(at)))
		var fs unix.Statfs_t
		if err := unix.Statfs(path, &fs); err == nil && fs.Type == unix.HUGETLBFS_MAGIC {
			_ = kernel.ShmDetach(at)
			return unsupported(pid, obj, "a huge page segment (SHM_HUGETLB) is not supported yet")
		}
		content, err := readShmem(path, "sysv")
		if derr := kernel.ShmDetach(at); derr != nil && err == nil {
			err = derr
		}
		if err != nil {
			return fmt.Errorf("%s: read its contents: %w", obj, err)
		}
		s.runs, s.data = content.runs, content.data
		st.shms = append(st.shms, s)
	}
	return nil
}

// matchAttachments checks that every segment the tasks have attached is
// the one of that id in the tree's IPC namespace, by the key in its name
// (/SYSV%08x, from the key it was made with), and gives each removed
// segment back the key it had: restore makes it with that key, so that its
// name stays. Removed segments go first: their keys may have been used
// again since, and restore frees each as soon as it has made the segment.
func (st *ipcState) matchAttachments(t *tree) error {
	byId := map[uint64]*ipcShm{}
	for _, s := range st.shms {
		byId[uint64(s.rec.Id)] = s
	}
	for _, p := range t.live() {
		for i, v := range p.imgVmas {
			if v.Kind != image.VmaSysvShm {
				continue
			}
			obj := fmt.Sprintf("System V shared memory segment %d attached at %#x", v.Ino, v.Start)
			s := byId[v.Ino]
			key, err := strconv.ParseUint(strings.TrimPrefix(p.vmas[i].Path, "/SYSV"), 16, 32)
			if s == nil || err != nil {
				return unsupported(p.pid, obj, "the segment is not in the tree's IPC namespace")
			}
			switch {
			case s.rec.Mode&image.IpcShmDest != 0:
				s.rec.Key = int32(key)
			case int32(key) != s.rec.Key:
				return unsupported(p.pid, obj, "its key %#x is not the one of segment %d in the tree's IPC namespace (%#x): it is another namespace's", key, v.Ino, uint32(s.rec.Key))
			}
		}
	}
	slices.SortStableFunc(st.shms, func(a, b *ipcShm) int {
		return int(b.rec.Mode&image.IpcShmDest) - int(a.rec.Mode&image.IpcShmDest)
	})
	return nil
}
