package restore

import (
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/checkpoint/image"
	"github.com/ckpt/ckpt/internal/kernel"
)

// finish restores everything after memory, once the whole image has been
// read and its tail checked, task by task in tree order, then releases all
// tasks at once.
func (rs *restorer) finish() error {
	// A step restoring an object the task shares with its parent is the
	// parent's to run (share.go).
	steps := []struct {
		name  string
		fn    func(*taskPlan) error
		share uint32
	}{
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
		{"POSIX timers", rs.restoreTimers, 0},
		{"seccomp", rs.restoreSeccomp, 0},
		{"thread state", rs.restoreThreadState, 0},
		{"late task state", rs.restoreLate, 0},
		{"registers", rs.loadRegisters, 0},
	}
	if err := rs.makeUnixSockets(); err != nil {
		return fmt.Errorf("unix sockets: %w", err)
	}
	if rs.mmUsers != nil {
		for _, t := range rs.plans {
			if !t.zombie {
				rs.mmUsers[sharedOwner(t, image.ShareVM)]++
			}
		}
	}
	if err := rs.finishIpc(); err != nil {
		return err
	}
	for _, t := range rs.plans {
		if t.zombie {
			continue
		}
		for _, s := range steps {
			if t.shares&s.share != 0 {
				continue
			}
			if err := s.fn(t); err != nil {
				return fmt.Errorf("task %d: %s: %w", t.rec.Pid, s.name, err)
			}
		}
	}
	if err := rs.lockTtys(); err != nil {
		return err
	}
	if err := rs.finishTcp(); err != nil {
		return err
	}
	for _, t := range rs.plans {
		if t.zombie {
			continue
		}
		for i := range t.threads {
			tid := t.threadRTs[int(t.threads[i].Tid)].Tid
			if err := rs.tr.Detach(tid, detachSignal(t, i)); err != nil {
				return fmt.Errorf("task %d thread %d: detach: %w", t.rec.Pid, t.threads[i].Tid, err)
			}
		}
	}
	rs.waitStopped()
	rs.closeCopies()
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
