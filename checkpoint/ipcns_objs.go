package checkpoint

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/checkpoint/image"
	"github.com/ckpt/ckpt/internal/kernel"
	"github.com/ckpt/ckpt/internal/sysvipc"
)

// maxMsgData bounds one saved message: it must fit in one record.
const maxMsgData = image.MaxPlainRecordLen - 64

// These run on a thread that has entered the tree's IPC namespace (see
// inNamespace); pid, the tree's first task, only names it in errors.

// readLimits reads the namespace's limits from /proc/sys/kernel.
func (st *ipcState) readLimits() error {
	l := &st.limits
	for _, f := range []struct {
		name string
		dst  []any
	}{
		{"shmmax", []any{&l.ShmMax}}, {"shmall", []any{&l.ShmAll}}, {"shmmni", []any{&l.ShmMni}},
		{"shm_rmid_forced", []any{&l.ShmRmidForced}}, {"msgmax", []any{&l.MsgMax}}, {"msgmnb", []any{&l.MsgMnb}},
		{"msgmni", []any{&l.MsgMni}}, {"sem", []any{&l.SemMsl, &l.SemMns, &l.SemOpm, &l.SemMni}},
	} {
		b, err := os.ReadFile("/proc/sys/kernel/" + f.name)
		if err != nil {
			return err
		}
		if n, err := fmt.Sscan(string(b), f.dst...); err != nil || n != len(f.dst) {
			return fmt.Errorf("/proc/sys/kernel/%s %q: %w", f.name, b, err)
		}
	}
	return nil
}

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

// readSem saves every semaphore set with its values. Which task last
// operated on a semaphore (GETPID) and the waiters' counts are not saved:
// the kernel has no way to set the first, and the waiters come back by
// themselves, restarting their semop.
func (st *ipcState) readSem(pid int) error {
	rows, err := sysvipc.Rows("sem")
	if err != nil {
		return err
	}
	for _, row := range rows {
		n, err := sysvipc.Nums(row, 0, 1, 2, 3, 4, 5, 6, 7)
		if err != nil {
			return err
		}
		s := &image.IpcSem{
			Key: int32(n[0]), Id: int32(n[1]), Mode: uint32(n[2]),
			Uid: uint32(n[4]), Gid: uint32(n[5]), Cuid: uint32(n[6]), Cgid: uint32(n[7]),
		}
		if s.Mode&^image.IpcModeMask != 0 {
			return unsupported(pid, fmt.Sprintf("System V semaphore set %d", s.Id), "mode %#o has bits we do not know", s.Mode)
		}
		if s.Values, err = kernel.SemGetAll(int(s.Id), int(n[3])); err != nil {
			return err
		}
		st.sems = append(st.sems, s)
	}
	return nil
}

// readMsg saves every message queue and its messages, oldest first, copied
// out with MSG_COPY so that the queue stays as it is.
func (st *ipcState) readMsg(pid int) error {
	rows, err := sysvipc.Rows("msg")
	if err != nil {
		return err
	}
	for _, row := range rows {
		n, err := sysvipc.Nums(row, 0, 1, 2, 3, 4, 7, 8, 9, 10)
		if err != nil {
			return err
		}
		q := &ipcMsg{rec: image.IpcMsg{
			Key: int32(n[0]), Id: int32(n[1]), Mode: uint32(n[2]),
			Uid: uint32(n[5]), Gid: uint32(n[6]), Cuid: uint32(n[7]), Cgid: uint32(n[8]),
		}}
		obj := fmt.Sprintf("System V message queue %d (key %#x)", q.rec.Id, uint32(q.rec.Key))
		if q.rec.Mode&^image.IpcModeMask != 0 {
			return unsupported(pid, obj, "mode %#o has bits we do not know", q.rec.Mode)
		}
		ds, err := kernel.MsgStat(int(q.rec.Id))
		if err != nil {
			return fmt.Errorf("%s: IPC_STAT: %w", obj, err)
		}
		q.rec.Qbytes = ds.Qbytes
		// No message is longer than all the queue's bytes together.
		limit := int(min(ds.Cbytes, maxMsgData))
		for i := 0; i < int(ds.Qnum); i++ {
			mtype, text, err := kernel.MsgCopy(int(q.rec.Id), i, limit)
			if errors.Is(err, unix.E2BIG) {
				return unsupported(pid, obj, "message %d is longer than %d bytes", i, limit)
			}
			if err != nil {
				return fmt.Errorf("%s: copy message %d: %w", obj, i, err)
			}
			q.msgs = append(q.msgs, image.IpcMsgData{Mtype: mtype, Data: text})
		}
		q.rec.NrMsgs = uint32(len(q.msgs))
		st.msgs = append(st.msgs, q)
	}
	return nil
}
