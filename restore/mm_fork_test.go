package restore

import (
	"errors"
	"testing"

	"github.com/ckpt/ckpt/image"
)

func TestForkPagesRefuses(t *testing.T) {
	vmas := []image.Vma{{Start: 0x10000, End: 0x20000, Kind: image.VmaAnon, Flags: 0x22}}
	parent := newPlan(image.Task{Pid: 1})
	parent.mm, parent.vmas = &image.Mm{NrVmas: 1}, vmas
	// The parent's PAGES hold 0x10000-0x14000 and 0x18000-0x1a000.
	parent.indexPages(&image.Pages{Runs: []image.PageRun{{Vaddr: 0x10000, Pages: 4}}, DataOffset: 4096})
	parent.indexPages(&image.Pages{Runs: []image.PageRun{{Vaddr: 0x18000, Pages: 2}}, DataOffset: 8 * 4096})
	zombie := newPlan(image.Task{Pid: 3, State: image.TaskZombie})
	rs := &restorer{byPid: map[int32]*taskPlan{1: parent, 3: zombie}}
	child := func(ppid int32) *taskPlan {
		c := newPlan(image.Task{Pid: 2, PPid: ppid})
		c.mm, c.vmas = &image.Mm{NrVmas: 1}, vmas
		c.memReady = true // nothing to lay out: the checks come first
		return c
	}
	bad := map[string]struct {
		ppid int32
		runs []image.PageRun
	}{
		"not in the parent's PAGES": {1, []image.PageRun{{Vaddr: 0x13000, Pages: 2}}},
		"a gap in the parent's":     {1, []image.PageRun{{Vaddr: 0x14000, Pages: 1}}},
		"outside the mappings":      {1, []image.PageRun{{Vaddr: 0x20000, Pages: 1}}},
		"unaligned":                 {1, []image.PageRun{{Vaddr: 0x10001, Pages: 1}}},
		"empty run":                 {1, []image.PageRun{{Vaddr: 0x10000, Pages: 0}}},
		"out of order":              {1, []image.PageRun{{Vaddr: 0x18000, Pages: 1}, {Vaddr: 0x10000, Pages: 1}}},
		"no parent":                 {0, []image.PageRun{{Vaddr: 0x10000, Pages: 1}}},
		"parent not in the image":   {9, []image.PageRun{{Vaddr: 0x10000, Pages: 1}}},
		"zombie parent":             {3, []image.PageRun{{Vaddr: 0x10000, Pages: 1}}},
	}
	for name, c := range bad {
		if err := rs.forkPages(child(c.ppid), &image.ForkPages{Runs: c.runs}); !errors.Is(err, ErrBadImage) {
			t.Errorf("%s: got %v, want a bad image", name, err)
		}
	}
	noLayout := child(1)
	noLayout.vmas = nil
	if err := rs.forkPages(noLayout, &image.ForkPages{Runs: []image.PageRun{{Vaddr: 0x10000, Pages: 1}}}); !errors.Is(err, ErrBadImage) {
		t.Errorf("before the VMAs: got %v, want a bad image", err)
	}
	// A second record must go on past the first's runs.
	c := child(1)
	c.forkEnd = 0x19000
	if err := rs.forkPages(c, &image.ForkPages{Runs: []image.PageRun{{Vaddr: 0x18000, Pages: 1}}}); !errors.Is(err, ErrBadImage) {
		t.Errorf("behind the previous record: got %v, want a bad image", err)
	}
}
