package restore

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
	"github.com/ckpt/ckpt/internal/ptrace"
)

// A session or process group outlives its leader: once the leader has
// exited and been reaped, its pid lives on only as the sid or pgid of the
// members, with no task behind it. Such ids can only be made again by a
// task with that pid that calls setsid or setpgid and then goes away, and
// a member can only enter a session by being born in it. So restore adds
// helper tasks that exist only while the tree is built:
//
//   - a session helper for each session whose leader is gone: a child of
//     the root that calls setsid;
//   - a group helper for each group whose leader is gone: born in the
//     group's session, it calls setpgid(0, 0);
//   - an orphan's midwife: an orphan (its parent is gone, so it is the
//     namespace init's child) in a session other than the root's must be
//     born in that session, from a task that then exits so that the
//     orphan is handed to the init. That is the group or session helper
//     when there is one, else a helper with a spare pid born from the
//     live session leader.
//
// Helpers exit, and are reaped by the task that made them, once every
// task is in its group.

// helperKind says what a helper does after birth.
type helperKind int

const (
	helperNone    helperKind = iota // a task of the image
	helperSession                   // setsid, at birth like every session leader
	helperGroup                     // setpgid(0, 0), with the other group leaders
	helperMidwife                   // nothing: it only gives birth
)

// planHelpers adds the helpers the tree needs (rs.helpers) and decides
// which task gives birth to each task (rs.creator). A task whose session
// it can neither inherit, nor make, nor get from a helper is refused.
func (rs *restorer) planHelpers() error {
	root := rs.plans[0]
	rs.creator = map[*taskPlan]*taskPlan{}
	rs.helperByPid = map[int32]*taskPlan{}
	// The root's session and group, when it does not lead them, are the
	// caller's (or 0: outside the pid namespace): inherited, never made.
	outside := func(id int32) bool { return id == 0 || id == root.rec.Sid || id == root.rec.Pgid }
	taken := map[int32]bool{}
	for _, t := range rs.plans {
		taken[t.rec.Pid] = true
	}
	helper := func(pid, sid int32, kind helperKind, creator *taskPlan) *taskPlan {
		h := newPlan(root.rec)
		h.rec.Pid, h.rec.Sid, h.rec.Pgid, h.rec.PPid = pid, sid, pid, creator.rec.Pid
		if kind == helperMidwife {
			h.rec.Pgid = creator.rec.Pgid
		}
		h.helper = kind
		rs.helpers = append(rs.helpers, h)
		rs.helperByPid[pid] = h
		rs.creator[h] = creator
		taken[pid] = true
		return h
	}
	// inSession returns a task or helper that is in session sid once born.
	inSession := func(sid int32) *taskPlan {
		if outside(sid) {
			return root
		}
		if t := rs.byPid[sid]; t != nil {
			return t
		}
		if h := rs.helperByPid[sid]; h != nil {
			return h
		}
		return helper(sid, sid, helperSession, root)
	}
	for _, t := range rs.plans[1:] {
		if g := t.rec.Pgid; !outside(g) && rs.byPid[g] == nil && rs.helperByPid[g] == nil {
			// A session helper leads the session's first group too.
			if s := inSession(t.rec.Sid); s.rec.Pid != g {
				helper(g, t.rec.Sid, helperGroup, s)
			}
		}
	}
	spare := int32(rs.pidMax())
	for _, t := range rs.plans[1:] {
		parent := rs.byPid[t.rec.PPid]
		if parent == root && root.rec.Flags&image.TaskFlagPidnsInit != 0 && parent.rec.Sid != t.rec.Sid {
			// The init's child in another session it did not make
			// itself: an orphan the init adopted.
			parent = nil
		}
		switch {
		case t.rec.Sid == t.rec.Pid:
			// A leader makes its session at birth, wherever it is born.
		case parent != nil && parent.rec.Sid != t.rec.Sid:
			return fmt.Errorf("task %d: it is in session %d but its parent %d is in session %d: "+
				"a session left by its parent after the fork is not supported", t.rec.Pid, t.rec.Sid, parent.rec.Pid, parent.rec.Sid)
		case parent == nil && !outside(t.rec.Sid):
			// An orphan in a session of its own: born from a helper.
			if h := rs.helperByPid[t.rec.Pgid]; h != nil {
				parent = h
			} else if s := inSession(t.rec.Sid); s.helper != helperNone {
				parent = s
			} else {
				for spare--; taken[spare]; spare-- {
				}
				if spare < 2 {
					return fmt.Errorf("task %d: no spare pid for the task to give birth to it", t.rec.Pid)
				}
				parent = helper(spare, t.rec.Sid, helperMidwife, s)
			}
		}
		if parent == nil {
			parent = root // an orphan, adopted by the namespace's init
		}
		if t.shares != 0 && parent != t.shareParent {
			return fmt.Errorf("task %d shares objects with its parent %d, but must be born from task %d to get its session",
				t.rec.Pid, t.shareParent.rec.Pid, parent.rec.Pid)
		}
		rs.creator[t] = parent
	}
	return nil
}

// pidMax is the highest pid plus one that set_tid may ask for.
func (rs *restorer) pidMax() int {
	b, err := os.ReadFile("/proc/sys/kernel/pid_max")
	if err == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && n > 300 {
			return n
		}
	}
	return 32768
}

// endHelpers makes every helper exit, last born first, and has its
// creator reap it. Helpers are born with exit signal 0: no SIGCHLD
// reaches a restored task on their account.
func (rs *restorer) endHelpers() error {
	for i := len(rs.helpers) - 1; i >= 0; i-- {
		h := rs.helpers[i]
		if _, err := h.leader.Syscall(unix.SYS_EXIT_GROUP, 0); err != nil && !errors.Is(err, ptrace.ErrTaskGone) {
			return fmt.Errorf("helper %d: exit: %w", h.rec.Pid, err)
		}
		// First as its tracer, then as its parent.
		_, _ = rs.tr.Wait(h.pid)
		h.leader = nil
		ct := rs.creator[h].leader
		if _, err := ct.Syscall(unix.SYS_WAIT4, uintptr(h.rec.Pid), 0, unix.WALL, 0); err != nil {
			return fmt.Errorf("helper %d: reap it in task %d: %w", h.rec.Pid, rs.creator[h].rec.Pid, err)
		}
		h.pid = 0
	}
	return nil
}
