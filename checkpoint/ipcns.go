package checkpoint

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
)

// ipcState is the content of the tree's private IPC namespace.
type ipcState struct {
	limits image.IpcNs
	shms   []*ipcShm
	sems   []*image.IpcSem
	msgs   []*ipcMsg
}

type ipcShm struct {
	rec  image.IpcShm
	runs []image.PageRun // offsets in the segment
	data [][]byte
}

type ipcMsg struct {
	rec  image.IpcMsg
	msgs []image.IpcMsgData
}

// collectIpcns records the tree's private IPC namespace: its System V shared
// memory segments with their contents, semaphore sets, message queues with
// their messages, and each task's semaphore undo adjustments. Without one
// the tree uses an IPC namespace of the outside, whose objects are not
// ours to save: a task attached to one of its segments is refused.
func (d *dumper) collectIpcns(t *tree) error {
	private, err := privateNs(t, "ipc", "IPC namespace")
	if err != nil {
		return err
	}
	root := t.procs[0]
	if !private {
		for _, p := range t.live() {
			for _, v := range p.imgVmas {
				if v.Kind == image.VmaSysvShm {
					return unsupported(p.pid, fmt.Sprintf("System V shared memory segment %d attached at %#x", v.Ino, v.Start),
						"the segment belongs to an IPC namespace shared with processes outside the tree (give the tree an IPC namespace of its own)")
				}
			}
		}
		return nil
	}
	st := &ipcState{}
	err = inNamespace(root.pid, "ipc", unix.CLONE_NEWIPC, func() error {
		if err := st.readLimits(); err != nil {
			return err
		}
		if err := st.readShm(root.pid); err != nil {
			return err
		}
		if err := st.readSem(root.pid); err != nil {
			return err
		}
		return st.readMsg(root.pid)
	})
	if err != nil {
		return fmt.Errorf("IPC namespace of task %d: %w", root.pid, err)
	}
	if err := st.matchAttachments(t); err != nil {
		return err
	}
	if err := d.collectSemUndo(t, st.sems); err != nil {
		return err
	}
	if d.opts.Container != nil {
		// The runtime makes the container's IPC namespace again from
		// the bundle, empty: objects in it cannot be carried over yet.
		if n := len(st.shms) + len(st.sems) + len(st.msgs); n > 0 {
			return unsupported(root.pid, "IPC namespace", "the container holds %d System V IPC objects: not supported yet for containers", n)
		}
		return nil
	}
	root.task.Flags |= image.TaskFlagIpcns
	d.ipc = st
	return nil
}

// writeIpc writes the objects of the private IPC namespace: each segment
// followed by the PAGES of its contents, each set, each queue followed by
// its messages.
func (d *dumper) writeIpc(w *image.Writer) error {
	if d.ipc == nil {
		return nil
	}
	if err := w.Write(&d.ipc.limits); err != nil {
		return fmt.Errorf("IPC namespace limits: %w", err)
	}
	for _, s := range d.ipc.shms {
		if err := w.Write(&s.rec); err != nil {
			return fmt.Errorf("shared memory segment %d: %w", s.rec.Id, err)
		}
		if len(s.runs) > 0 {
			if err := w.WritePageRuns(s.runs, s.data); err != nil {
				return fmt.Errorf("shared memory segment %d: %w", s.rec.Id, err)
			}
		}
	}
	for _, s := range d.ipc.sems {
		if err := w.Write(s); err != nil {
			return fmt.Errorf("semaphore set %d: %w", s.Id, err)
		}
	}
	for _, q := range d.ipc.msgs {
		if err := w.Write(&q.rec); err != nil {
			return fmt.Errorf("message queue %d: %w", q.rec.Id, err)
		}
		for i := range q.msgs {
			if err := w.Write(&q.msgs[i]); err != nil {
				return fmt.Errorf("message queue %d: message %d: %w", q.rec.Id, i, err)
			}
		}
	}
	return nil
}

// readLimits and the read* of ipcns_shm.go, ipcns_sem.go and ipcns_msg.go
// run on a thread that has entered the tree's IPC namespace (see
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
