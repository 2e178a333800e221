package restore

import (
	"errors"
	"slices"
	"testing"

	"github.com/ckpt/ckpt/image"
	"github.com/ckpt/ckpt/internal/addrspace"
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
	good := child(1)
	if err := rs.forkPages(good, &image.ForkPages{Runs: []image.PageRun{{Vaddr: 0x11000, Pages: 2}, {Vaddr: 0x18000, Pages: 2}}}); err != nil {
		t.Fatalf("a good record refused: %v", err)
	}
	if len(good.forkPieces) != 2 || good.forkPieces[0].DataOffset != 2*4096 || good.forkPieces[1].DataOffset != 8*4096 {
		t.Errorf("pieces %+v, want the parent's data at offsets 8192 and 32768", good.forkPieces)
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
	late := child(1)
	late.memReady = true
	if err := rs.forkPages(late, &image.ForkPages{Runs: []image.PageRun{{Vaddr: 0x10000, Pages: 1}}}); !errors.Is(err, ErrBadImage) {
		t.Errorf("after the memory is laid out: got %v, want a bad image", err)
	}
	// A second record must go on past the first's runs.
	c := child(1)
	c.forkRuns = []image.PageRun{{Vaddr: 0x18000, Pages: 1}}
	if err := rs.forkPages(c, &image.ForkPages{Runs: []image.PageRun{{Vaddr: 0x18000, Pages: 1}}}); !errors.Is(err, ErrBadImage) {
		t.Errorf("behind the previous record: got %v, want a bad image", err)
	}
}

func TestMinus(t *testing.T) {
	r := func(a, b uint64) addrspace.Range { return addrspace.Range{Start: a, End: b} }
	for _, c := range []struct {
		in   addrspace.Range
		out  []addrspace.Range
		want []addrspace.Range
	}{
		{r(0, 10), nil, []addrspace.Range{r(0, 10)}},
		{r(0, 10), []addrspace.Range{r(0, 10)}, nil},
		{r(0, 10), []addrspace.Range{r(2, 4), r(6, 8)}, []addrspace.Range{r(0, 2), r(4, 6), r(8, 10)}},
		{r(5, 10), []addrspace.Range{r(0, 6), r(9, 20)}, []addrspace.Range{r(6, 9)}},
		{r(5, 10), []addrspace.Range{r(0, 5), r(10, 20)}, []addrspace.Range{r(5, 10)}},
	} {
		if got := minus(c.in, c.out); !slices.Equal(got, c.want) {
			t.Errorf("minus(%v, %v) = %v, want %v", c.in, c.out, got, c.want)
		}
	}
}
