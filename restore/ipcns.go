package restore

import (
	"errors"
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
	"github.com/ckpt/ckpt/internal/kernel"
)

// ipcRestore is the restore state of the tree's private IPC namespace.
// Its objects are made as their records come, in a namespace of our own
// making (rs.ipcNs) that the root task enters once it exists.
type ipcRestore struct {
	shms   map[int32]*image.IpcShm // segments made, by id
	sems   map[int32]*image.IpcSem
	msgs   map[int32]bool
	destAt [][]byte                   // our attachments of removed segments, kept until the tasks have theirs
	undo   map[int32][]*image.SemUndo // by task pid
	limits *image.IpcNs
	shm    *image.IpcShm // the segment whose PAGES are coming
	shmAt  []byte        // our attachment of it
	msg    *image.IpcMsg // the queue whose messages are coming
	left   uint32        // messages still to come for msg
}

// ipcKind is the tree's private IPC namespace, made while reading the
// image, and the IPC objects being made in it.
type ipcKind struct {
	ipcNs *os.File
	ipc   ipcRestore
}

func init() {
	registerKind(kind{name: "IPC namespace",
		takes: []taker{
			inIpcns("IPC_NS", (*restorer).makeIpcns),
			inIpcns("IPC_SHM", (*restorer).makeIpcShm),
			inIpcns("IPC_SEM", (*restorer).makeIpcSem),
			inIpcns("IPC_MSG", (*restorer).makeIpcMsg),
			on((*restorer).addIpcMsg),
			on((*restorer).addSemUndo),
		},
		follow: (*restorer).followIpc,
		close: func(rs *restorer) {
			if rs.ipcNs != nil {
				rs.ipcNs.Close()
			}
		}})
}

// inIpcns takes an IPC object's record once ipcPlace agrees.
func inIpcns[R image.Record](name string, make func(rs *restorer, x R) error) taker {
	return on(func(rs *restorer, x R) error {
		if err := rs.ipcPlace(name); err != nil {
			return err
		}
		return make(rs, x)
	})
}

// followIpc sees every record: it takes the PAGES of a shared memory
// segment, ends the segment at any other record, checks that a message
// queue has all its messages, and checks a task's System V shared memory
// mappings as they come.
func (rs *restorer) followIpc(r *image.Reader, rec image.Record) (bool, error) {
	ip := &rs.ipc
	if p, ok := rec.(*image.Pages); ok && ip.shm != nil {
		return true, rs.fillIpcShm(r, p)
	}
	if ip.shm != nil {
		// The segment's contents are complete. A removed one lives on
		// only as long as someone has it attached: we keep it until the
		// tasks have it.
		var err error
		if ip.shm.Mode&image.IpcShmDest == 0 {
			err = kernel.ShmDetach(ip.shmAt)
		} else {
			ip.destAt = append(ip.destAt, ip.shmAt)
		}
		ip.shm, ip.shmAt = nil, nil
		if err != nil {
			return true, fmt.Errorf("detach our copy of a shared memory segment: %w", err)
		}
	}
	if _, ok := rec.(*image.IpcMsgData); !ok && ip.left > 0 {
		return true, badImage("message queue %d: %d of its messages are missing", ip.msg.Id, ip.left)
	}
	if x, ok := rec.(*image.Vma); ok && x.Kind == image.VmaSysvShm {
		// Checked here, before the task is made; handle keeps it.
		return false, rs.checkSysvVma(x)
	}
	return false, nil
}

// ipcPlace checks that an IPC object record is where it belongs: after the
// PSTREE, before the first TASK, with a first task that had its own IPC
// namespace.
func (rs *restorer) ipcPlace(name string) error {
	if !rs.tree || rs.cur != nil {
		return badImage("%s out of place: IPC objects follow the PSTREE, before the first TASK", name)
	}
	if rs.plans[0].rec.Flags&image.TaskFlagIpcns == 0 {
		return badImage("%s, but the first task had no IPC namespace of its own", name)
	}
	return nil
}

// makeIpcns makes the new IPC namespace with the image's limits.
func (rs *restorer) makeIpcns(l *image.IpcNs) error {
	if rs.ipcNs != nil {
		return badImage("IPC_NS out of place: it comes once, before the IPC objects")
	}
	rs.ipc.limits = l
	_, err := rs.ipcNamespace()
	return err
}

// ipcLimits are the /proc/sys/kernel files of an IPC namespace's limits,
// with their values in l. shm_rmid_forced is not here: see finishIpc.
func ipcLimits(l *image.IpcNs) map[string]string {
	return map[string]string{
		"shmmax": fmt.Sprint(l.ShmMax), "shmall": fmt.Sprint(l.ShmAll), "shmmni": fmt.Sprint(l.ShmMni),
		"msgmax": fmt.Sprint(l.MsgMax), "msgmnb": fmt.Sprint(l.MsgMnb), "msgmni": fmt.Sprint(l.MsgMni),
		"sem": fmt.Sprint(l.SemMsl, " ", l.SemMns, " ", l.SemOpm, " ", l.SemMni),
	}
}

// ipcNamespace returns the new IPC namespace, making it the first time,
// with the limits of the IPC_NS record if there was one.
func (rs *restorer) ipcNamespace() (*os.File, error) {
	if rs.ipcNs != nil {
		return rs.ipcNs, nil
	}
	f, err := newNamespace(unix.CLONE_NEWIPC, func() error {
		if rs.ipc.limits == nil {
			return nil
		}
		for name, v := range ipcLimits(rs.ipc.limits) {
			if err := os.WriteFile("/proc/sys/kernel/"+name, []byte(v), 0); err != nil {
				return fmt.Errorf("IPC namespace limit %s = %s: %w", name, v, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("IPC namespace: %w", err)
	}
	rs.ipcNs = f
	ip := &rs.ipc
	ip.shms, ip.sems, ip.msgs = map[int32]*image.IpcShm{}, map[int32]*image.IpcSem{}, map[int32]bool{}
	ip.undo = map[int32][]*image.SemUndo{}
	return f, nil
}

// inIpcns runs fn on a thread in the new IPC namespace.
func (rs *restorer) inIpcns(fn func() error) error {
	ns, err := rs.ipcNamespace()
	if err != nil {
		return err
	}
	return inNamespace(ns, unix.CLONE_NEWIPC, fn)
}

// ipcObject is what every IPC object record has in common.
type ipcObject struct {
	kind                       string // "shm", "sem" or "msg": the /proc/sys/kernel/KIND_next_id name
	id, key                    int32
	mode, uid, gid, cuid, cgid uint32
}

func (o ipcObject) String() string {
	names := map[string]string{"shm": "shared memory segment", "sem": "semaphore set", "msg": "message queue"}
	return fmt.Sprintf("%s %d (key %#x)", names[o.kind], o.id, uint32(o.key))
}

// check refuses an object whose id is taken or negative.
func (o ipcObject) check(taken bool) error {
	if o.id < 0 {
		return badImage("%v: negative id", o)
	}
	if taken {
		return badImage("%v: a second record with this id", o)
	}
	return nil
}

// create makes the object with its original id: the kernel hands out the
// id written to KIND_next_id (CONFIG_CHECKPOINT_RESTORE) to the next object
// of that kind. get runs with the thread's effective uid and gid set to the
// creator's, so that the kernel records them as cuid and cgid; it is given
// the flags to create with. Runs on a thread in the namespace.
func (o ipcObject) create(get func(flags int) (int, error)) error {
	if err := os.WriteFile("/proc/sys/kernel/"+o.kind+"_next_id", []byte(strconv.Itoa(int(o.id))), 0); err != nil {
		return fmt.Errorf("%v: set the next id: %w", o, err)
	}
	flags := unix.IPC_CREAT | unix.IPC_EXCL | int(o.mode&image.IpcModeMask)
	var id int
	err := asCreator(o.cuid, o.cgid, func() (err error) {
		id, err = get(flags)
		return err
	})
	if err != nil {
		return fmt.Errorf("%v: create: %w", o, err)
	}
	if id != int(o.id) {
		return fmt.Errorf("%v: created as %d, not with its id", o, id)
	}
	return nil
}

// asCreator runs fn with the calling thread's effective uid and gid set to
// uid and gid, and back to ours after. setresuid(2) and setresgid(2) are
// made raw: they then change this thread only, not the whole process as
// their Go wrappers do; our saved ids stay, so the way back is open.
func asCreator(uid, gid uint32, fn func() error) error {
	euid, egid := uint32(unix.Geteuid()), uint32(unix.Getegid())
	if uid == euid && gid == egid {
		return fn()
	}
	const keep = ^uint32(0)
	if err := kernel.ThreadSetresgid(keep, gid, keep); err != nil {
		return fmt.Errorf("setresgid(-1, %d, -1): %w", gid, err)
	}
	if err := kernel.ThreadSetresuid(keep, uid, keep); err != nil {
		_ = kernel.ThreadSetresgid(keep, egid, keep)
		return fmt.Errorf("setresuid(-1, %d, -1): %w", uid, err)
	}
	err := fn()
	e1 := kernel.ThreadSetresuid(keep, euid, keep)
	e2 := kernel.ThreadSetresgid(keep, egid, keep)
	if err == nil && (e1 != nil || e2 != nil) {
		err = fmt.Errorf("take back our uid and gid: %w", errors.Join(e1, e2))
	}
	return err
}

// finishIpc, once every task is made and attached, gives each task its
// undo adjustments back, sets shm_rmid_forced and lets go of the removed
// segments, which the tasks now keep.
func (rs *restorer) finishIpc() error {
	if rs.ipcNs == nil {
		return nil
	}
	for _, t := range rs.plans {
		for _, u := range rs.ipc.undo[t.rec.Pid] {
			if err := rs.applySemUndo(t, u); err != nil {
				return fmt.Errorf("task %d: undo adjustments on semaphore set %d: %w", t.rec.Pid, u.SemId, err)
			}
		}
	}
	err := rs.inIpcns(func() error {
		if l := rs.ipc.limits; l != nil && l.ShmRmidForced != 0 {
			// Only now: with it set, a segment no task has attached
			// would go when our thread that made it exits.
			if err := os.WriteFile("/proc/sys/kernel/shm_rmid_forced", []byte(fmt.Sprint(l.ShmRmidForced)), 0); err != nil {
				return fmt.Errorf("IPC namespace limit shm_rmid_forced: %w", err)
			}
		}
		return nil
	})
	for _, at := range rs.ipc.destAt {
		if derr := kernel.ShmDetach(at); derr != nil && err == nil {
			err = fmt.Errorf("detach our copy of a removed shared memory segment: %w", derr)
		}
	}
	rs.ipc.destAt = nil
	return err
}
