package restore

import (
	"fmt"

	"github.com/ckpt/ckpt/checkpoint/image"
	"github.com/ckpt/ckpt/internal/addrspace"
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
		if err := rs.createTree(); err != nil {
			return fmt.Errorf("create tasks: %w", err)
		}
		rs.made = true
	}
	if t.shares&image.ShareVM != 0 {
		return rs.borrowMemory(t)
	}
	if err := rs.layout(t); err != nil {
		return fmt.Errorf("task %d: memory layout: %w", t.rec.Pid, err)
	}
	t.memReady = true
	return nil
}

func imageRanges(vmas []image.Vma) []addrspace.Range {
	r := make([]addrspace.Range, len(vmas))
	for i, v := range vmas {
		r[i] = addrspace.Range{Start: v.Start, End: v.End}
	}
	return r
}
