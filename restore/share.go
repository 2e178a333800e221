package restore

import (
	"github.com/ckpt/ckpt/image"
)

// Processes that share an address space, fd table, fs_struct or signal
// handlers (clone(2) without CLONE_THREAD) are born sharing them: a
// sharer is cloned from its parent with the same flags while both are
// still copies of the stub, and then only the parent's objects are
// restored. A sharer of the address space injects its syscalls from its
// parent's scratch area, and the last task using an address space is the
// one to remove that area.

// addShares takes the SHARES record: after the PSTREE, before any task.
func (rs *restorer) addShares(sh *image.Shares) error {
	if !rs.tree || rs.cur != nil || rs.made || rs.mmUsers != nil {
		return badImage("SHARES out of place: it follows the PSTREE, once, before the first TASK")
	}
	rs.mmUsers = map[*taskPlan]int{}
	for _, e := range sh.Tasks {
		t := rs.byPid[e.Pid]
		switch {
		case t == nil:
			return badImage("SHARES names task %d, which is not in the PSTREE", e.Pid)
		case t == rs.plans[0]:
			return badImage("SHARES names the first task %d: it has no parent in the image", e.Pid)
		case t.zombie:
			return badImage("SHARES names zombie %d", e.Pid)
		case t.shares != 0:
			return badImage("SHARES names task %d twice", e.Pid)
		case e.Flags == 0 || e.Flags&^image.ShareAll != 0:
			return badImage("task %d shares %#x with its parent: not a set of CLONE_VM, CLONE_FS, CLONE_FILES, CLONE_SIGHAND", e.Pid, e.Flags)
		case e.Flags&image.ShareSighand != 0 && e.Flags&image.ShareVM == 0:
			return badImage("task %d shares its signal handlers but not its address space with its parent", e.Pid)
		}
		parent := rs.byPid[t.rec.PPid]
		if parent == nil || parent.zombie {
			return badImage("task %d shares objects with its parent %d, which is not a live task of the image", e.Pid, t.rec.PPid)
		}
		t.shares, t.shareParent = e.Flags, parent
	}
	return nil
}

// sharedOwner is the task whose object of kind share t uses.
func sharedOwner(t *taskPlan, share uint32) *taskPlan {
	for t.shares&share != 0 {
		t = t.shareParent
	}
	return t
}

// checkNotShared refuses, in a sharer's section, a record of an object it
// shares: its parent's record describes it. (A SHMEM and its PAGES are not
// the address space's: an fd may hold a memfd.)
func (rs *restorer) checkNotShared(t *taskPlan, rec image.Record) error {
	var share uint32
	switch rec.(type) {
	case *image.Pages:
		if rs.curShmem == 0 {
			share = image.ShareVM
		}
	case *image.Mm, *image.Vma, *image.AioRing, *image.ForkPages:
		share = image.ShareVM
	case *image.Files, *image.Fd:
		share = image.ShareFiles
	case *image.Fs:
		share = image.ShareFS
	case *image.Sighand:
		share = image.ShareSighand
	}
	if t.shares&share != 0 {
		return badImage("task %d shares with its parent what record %v describes", t.rec.Pid, rec.Type())
	}
	return nil
}

// checkSharedObjs makes sure a sharer's TASK_OBJS names its parent's
// objects for what it shares, and takes over the parent's memory layout.
func (rs *restorer) checkSharedObjs(t *taskPlan, x *image.TaskObjs) error {
	if t.shares == 0 {
		return nil
	}
	p := t.shareParent
	if p.taskObjs == nil {
		return badImage("task %d's section comes before its parent %d's", t.rec.Pid, p.rec.Pid)
	}
	for _, c := range []struct {
		share     uint32
		got, want uint32
		what      string
	}{
		{image.ShareVM, x.Mm, p.taskObjs.Mm, "MM"},
		{image.ShareFiles, x.Files, p.taskObjs.Files, "FILES"},
		{image.ShareFS, x.Fs, p.taskObjs.Fs, "FS"},
		{image.ShareSighand, x.Sighand, p.taskObjs.Sighand, "SIGHAND"},
	} {
		if t.shares&c.share != 0 && c.got != c.want {
			return badImage("task %d shares its %s with its parent %d, but its TASK_OBJS names %d, not %d", t.rec.Pid, c.what, p.rec.Pid, c.got, c.want)
		}
	}
	if t.shares&image.ShareVM != 0 {
		t.mm, t.vmas = p.mm, p.vmas
	}
	return nil
}

// borrowMemory readies a sharer of its parent's address space for
// injection: the parent has laid it out already.
func (rs *restorer) borrowMemory(t *taskPlan) error {
	p := sharedOwner(t, image.ShareVM)
	if !p.memReady {
		return badImage("task %d shares the address space of task %d, which is not restored yet", t.rec.Pid, p.rec.Pid)
	}
	t.scratch = p.scratch
	t.leader.Session().SetInsn(t.scratch)
	t.leader.UseScratch(t.scratch+pageSize, (scratchPages-1)*pageSize)
	t.memReady = true
	return nil
}

// lastMmUser says whether t is the last task still to use its address
// space's scratch area, and counts it off.
func (rs *restorer) lastMmUser(t *taskPlan) bool {
	owner := sharedOwner(t, image.ShareVM)
	if rs.mmUsers == nil {
		return true
	}
	rs.mmUsers[owner]--
	return rs.mmUsers[owner] <= 0
}
