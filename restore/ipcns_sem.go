package restore

import (
	"encoding/binary"
	"errors"
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
	"github.com/ckpt/ckpt/internal/kernel"
)

// makeIpcSem creates a semaphore set with its values.
func (rs *restorer) makeIpcSem(s *image.IpcSem) error {
	o := ipcObject{"sem", s.Id, s.Key, s.Mode, s.Uid, s.Gid, s.Cuid, s.Cgid}
	if _, err := rs.ipcNamespace(); err != nil {
		return err
	}
	if err := o.check(rs.ipc.sems[s.Id] != nil); err != nil {
		return err
	}
	if s.Mode&^image.IpcModeMask != 0 || len(s.Values) == 0 {
		return badImage("%v: mode %#o, %d semaphores", o, s.Mode, len(s.Values))
	}
	for i, v := range s.Values {
		if v > kernel.SEMVMX {
			return badImage("%v: semaphore %d has value %d, above %d", o, i, v, kernel.SEMVMX)
		}
	}
	err := rs.inIpcns(func() error {
		if err := o.create(func(flags int) (int, error) { return kernel.SemGet(int(s.Key), len(s.Values), flags) }); err != nil {
			return err
		}
		if err := kernel.SemSetAll(int(s.Id), s.Values); err != nil {
			return fmt.Errorf("%v: SETALL: %w", o, err)
		}
		ds, err := kernel.SemStat(int(s.Id))
		if err != nil {
			return fmt.Errorf("%v: IPC_STAT: %w", o, err)
		}
		if ds.Perm.Uid != s.Uid || ds.Perm.Gid != s.Gid {
			ds.Perm.Uid, ds.Perm.Gid = s.Uid, s.Gid
			if err := kernel.SemSet(int(s.Id), ds); err != nil {
				return fmt.Errorf("%v: set owner %d:%d: %w", o, s.Uid, s.Gid, err)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	rs.ipc.sems[s.Id] = s
	return nil
}

// addSemUndo keeps a task's undo adjustments for finishIpc.
func (rs *restorer) addSemUndo(u *image.SemUndo) error {
	t := rs.cur
	if t == nil {
		return badImage("SEM_UNDO before any TASK")
	}
	s := rs.ipc.sems[u.SemId]
	if s == nil {
		return badImage("task %d: SEM_UNDO for semaphore set %d, which the image does not hold", t.rec.Pid, u.SemId)
	}
	if len(u.Adj) != len(s.Values) {
		return badImage("task %d: SEM_UNDO for set %d has %d adjustments, the set %d semaphores", t.rec.Pid, u.SemId, len(u.Adj), len(s.Values))
	}
	for _, prev := range rs.ipc.undo[t.rec.Pid] {
		if prev.SemId == u.SemId {
			return badImage("task %d: a second SEM_UNDO for set %d", t.rec.Pid, u.SemId)
		}
	}
	rs.ipc.undo[t.rec.Pid] = append(rs.ipc.undo[t.rec.Pid], u)
	return nil
}

// applySemUndo makes the task's semadj what it was with one semop(2) in
// the task: for each semaphore, an operation of -adj with SEM_UNDO (which
// adds adj to semadj) and one of +adj without, in the order that keeps the
// value within 0..SEMVMX, so that the value ends where it was. The kernel
// applies operations on one semaphore in order and all of them or none.
func (rs *restorer) applySemUndo(t *taskPlan, u *image.SemUndo) error {
	s := rs.ipc.sems[u.SemId]
	var sops []byte
	add := func(num int, op int, flg int16) {
		sops = binary.LittleEndian.AppendUint16(sops, uint16(num))
		sops = binary.LittleEndian.AppendUint16(sops, uint16(int16(op)))
		sops = binary.LittleEndian.AppendUint16(sops, uint16(flg))
	}
	for i, a := range u.Adj {
		adj, v := int(a), int(s.Values[i])
		switch {
		case adj == 0:
		case v-adj >= 0 && v-adj <= kernel.SEMVMX:
			add(i, -adj, kernel.SEM_UNDO|unix.IPC_NOWAIT)
			add(i, adj, unix.IPC_NOWAIT)
		default:
			add(i, adj, unix.IPC_NOWAIT)
			add(i, -adj, kernel.SEM_UNDO|unix.IPC_NOWAIT)
		}
	}
	if len(sops) == 0 {
		return nil
	}
	lt := t.leader
	defer lt.Reset()
	addr, err := lt.Put(sops)
	if err != nil {
		return err
	}
	if _, err := lt.Syscall(unix.SYS_SEMOP, uintptr(u.SemId), uintptr(addr), uintptr(len(sops)/6)); err != nil {
		if errors.Is(err, unix.E2BIG) {
			return fmt.Errorf("semop with %d operations: more than this kernel's SEMOPM: %w", len(sops)/6, err)
		}
		return fmt.Errorf("semop: %w", err)
	}
	return nil
}
