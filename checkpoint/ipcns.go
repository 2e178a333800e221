package checkpoint

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/checkpoint/image"
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
