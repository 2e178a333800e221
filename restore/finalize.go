package restore

import (
	"fmt"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
	"github.com/ckpt/ckpt/internal/guard"
	"github.com/ckpt/ckpt/internal/kernel"
)

// taskStep is a step of finish run on each task in tree order; share, if
// set, says it restores an object the task may share with its parent,
// which is then the parent's to restore (share.go).
type taskStep struct {
	name  string
	fn    func(*taskPlan) error
	share uint32
}

// finishStep is a step of finish, done once for the whole tree. Its name
// is its phase: in the error when it fails ("restore: step ttys: ..."),
// and for the fault-injection switch (guard.Fault). None has an undo of
// its own: until release, whatever a step did lives in tasks that abort
// kills, or that die with ckpt (PTRACE_O_EXITKILL) and the guardian kills
// (the journal entries ensureTask writes).
type finishStep struct {
	name string
	fn   func() error
}

func (rs *restorer) taskSteps() []taskStep {
	return []taskStep{
		{"memory", rs.finishMemory, image.ShareVM},
		{"files", rs.restoreFiles, image.ShareFiles},
		{"file locks", rs.restoreLocks, image.ShareFiles},
		{"file owners", rs.restoreOwners, image.ShareFiles},
		{"fs", rs.restoreFs, image.ShareFS},
		{"signal handlers", rs.restoreSighand, image.ShareSighand},
		{"task state", rs.restoreMisc, 0},
		{"process settings", rs.restoreTaskProc, 0},
		{"rlimits", rs.restoreRlimits, 0},
		{"threads", rs.createThreads, 0},
		{"thread cgroups", rs.placeThreads, 0},
		{"POSIX timers", rs.restoreTimers, 0},
		{"seccomp", rs.restoreSeccomp, 0},
		{"thread state", rs.restoreThreadState, 0},
		{"late task state", rs.restoreLate, 0},
		{"registers", rs.loadRegisters, 0},
	}
}

func (rs *restorer) finishSteps() []finishStep {
	return []finishStep{
		// First: before anything may touch lazily restored memory
		// (lazy.go; nothing to do without --lazy).
		{"lazy pages", rs.startPageServer},
		{"unix sockets", rs.makeUnixSockets},
		{"ipc", rs.stepIpc},
		{"tasks", rs.stepTasks},
		{"ttys", rs.lockTtys},
		{"tcp", rs.finishTcp},
		{"release", rs.release},
	}
}

// FaultPhases names the phases of a restore at which CKPT_FAULT may kill
// ckpt (guard.Fault): "restore/tasks created" once the tree of tasks
// exists, "restore/STEP" before each step of finish and
// "restore/task:STEP" before each step run on the tasks (for the first
// task), and "restore/release:partial" once the first task is let go.
func FaultPhases() []string {
	out := []string{faultCreated}
	rs := &restorer{}
	for _, s := range rs.finishSteps() {
		out = append(out, "restore/"+s.name)
		if s.name == "tasks" {
			for _, ts := range rs.taskSteps() {
				out = append(out, "restore/task:"+ts.name)
			}
		}
	}
	return append(out, faultPartial)
}

const (
	faultCreated = "restore/tasks created"
	faultPartial = "restore/release:partial"
)

// finish restores everything after memory, once the whole image has been
// read and its tail checked, task by task in tree order, then releases all
// tasks at once.
func (rs *restorer) finish() error {
	for _, s := range rs.finishSteps() {
		if err := rs.ctx.Err(); err != nil {
			return fmt.Errorf("restore: before step %s: %w", s.name, err)
		}
		guard.Fault("restore/" + s.name)
		t0 := time.Now()
		if err := s.fn(); err != nil {
			return fmt.Errorf("restore: step %s: %w", s.name, err)
		}
		rs.log.Debug("step done", "step", s.name, "took", time.Since(t0))
	}
	rs.closeCopies()
	rs.closeCgroups(false)
	rs.nsRoot.Close()
	return nil
}

func (rs *restorer) stepIpc() error {
	if rs.mmUsers != nil {
		for _, t := range rs.plans {
			if !t.zombie {
				rs.mmUsers[sharedOwner(t, image.ShareVM)]++
			}
		}
	}
	return rs.finishIpc()
}

func (rs *restorer) stepTasks() error {
	steps := rs.taskSteps()
	took := make([]time.Duration, len(steps))
	defer func() {
		for i, s := range steps {
			rs.log.Debug("task step done", "step", s.name, "took", took[i])
		}
	}()
	for _, t := range rs.plans {
		if t.zombie {
			continue
		}
		for i, s := range steps {
			if t.shares&s.share != 0 {
				continue
			}
			guard.Fault("restore/task:" + s.name)
			t0 := time.Now()
			if err := s.fn(t); err != nil {
				return fmt.Errorf("task %d: %s: %w", t.rec.Pid, s.name, err)
			}
			took[i] += time.Since(t0)
		}
	}
	return nil
}

// release lets every thread go. If ckpt dies midway, the guardian kills
// the tasks let go as well as the others: nothing half-restored runs.
func (rs *restorer) release() error {
	for i, t := range rs.plans {
		if t.zombie {
			continue
		}
		for i := range t.threads {
			tid := t.threadRTs[int(t.threads[i].Tid)].Tid
			if err := rs.tr.Detach(tid, detachSignal(t, i)); err != nil {
				return fmt.Errorf("task %d thread %d: detach: %w", t.rec.Pid, t.threads[i].Tid, err)
			}
		}
		if i == 0 {
			guard.Fault(faultPartial)
		}
	}
	rs.waitStopped()
	return nil
}

// loadRegisters removes the scratch area and loads every thread's
// registers, FPU state and signal mask: the last thing before release.
func (rs *restorer) loadRegisters(t *taskPlan) error {
	// The last injected syscall unmaps the page it runs from: the thread
	// stops at syscall exit and never returns to user code there. Tasks
	// sharing the address space all inject from that page: the last one
	// removes it.
	if rs.lastMmUser(t) {
		if _, err := t.leader.Syscall(unix.SYS_MUNMAP, uintptr(t.scratch), scratchPages*pageSize); err != nil {
			return fmt.Errorf("unmap scratch: %w", err)
		}
	}
	for i := range t.threads {
		th := &t.threads[i]
		rt := t.threadRTs[int(th.Tid)]
		regs := kernel.RegsFromArray(th.Regs)
		regs.FixupRestart()
		if err := rs.tr.SetXState(rt.Tid, th.XState); err != nil {
			return fmt.Errorf("thread %d: xstate: %w", th.Tid, err)
		}
		if err := rt.Session().Finish(&regs); err != nil {
			return fmt.Errorf("thread %d: registers: %w", th.Tid, err)
		}
		if err := rs.tr.SetSigmask(rt.Tid, th.Sigmask); err != nil {
			return fmt.Errorf("thread %d: signal mask: %w", th.Tid, err)
		}
	}
	return nil
}

// checkXState refuses images whose FPU/vector state this CPU cannot load.
func checkXState(h *image.Header) error {
	have := kernel.XFeatures()
	if h.XFeatures&^have != 0 {
		return fmt.Errorf("image uses CPU state components %#x this CPU lacks (it has %#x)", h.XFeatures&^have, have)
	}
	if size := uint32(kernel.XStateSize()); h.Consts.XStateLen != size {
		return fmt.Errorf("image XSAVE area is %d bytes, this CPU's is %d", h.Consts.XStateLen, size)
	}
	return nil
}
