package restore

import (
	"fmt"
	"time"

	"github.com/ckpt/ckpt/image"
	"github.com/ckpt/ckpt/internal/addrspace"
	"github.com/ckpt/ckpt/internal/guard"
)

// ensureTask prepares a task's address space for its pages once its layout
// is known; the first time, it creates the whole tree of tasks.
func (rs *restorer) ensureTask(t *taskPlan) error {
	if t.memReady {
		return nil
	}
	if t.mm == nil || uint32(len(t.vmas)) != t.mm.NrVmas {
		return badImage("task %d: memory layout incomplete before its pages", t.rec.Pid)
	}
	if !rs.made {
		if err := rs.prepareCgroups(); err != nil {
			return fmt.Errorf("cgroups: %w", err)
		}
		if err := rs.createTree(); err != nil {
			return fmt.Errorf("create tasks: %w", err)
		}
		rs.made = true
		if err := rs.journalTasks(); err != nil {
			return err
		}
		guard.Fault(faultCreated)
		if err := rs.placeTasks(); err != nil {
			return fmt.Errorf("cgroups: %w", err)
		}
	}
	if t.shares&image.ShareVM != 0 {
		return rs.borrowMemory(t)
	}
	start := time.Now()
	defer func() { rs.layoutTook += time.Since(start) }()
	if err := rs.layout(t); err != nil {
		return fmt.Errorf("task %d: memory layout: %w", t.rec.Pid, err)
	}
	t.memReady = true
	return rs.fillForkPages(t)
}

func imageRanges(vmas []image.Vma) []addrspace.Range {
	r := make([]addrspace.Range, len(vmas))
	for i, v := range vmas {
		r[i] = addrspace.Range{Start: v.Start, End: v.End}
	}
	return r
}

// journalTasks has the guardian kill every task made if ckpt dies before
// the restore is done. Until release they die with ckpt anyway (they are
// traced with PTRACE_O_EXITKILL); the journal covers release itself, when
// some tasks run and others are still stopped.
func (rs *restorer) journalTasks() error {
	for _, list := range [][]*taskPlan{rs.plans, rs.helpers} {
		for _, t := range list {
			if t.pid > 0 {
				if _, err := rs.opts.Journal.KillTask(t.pid); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
