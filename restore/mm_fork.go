package restore

import (
	"fmt"

	"github.com/ckpt/ckpt/image"
)

// forkPages takes a FORK_PAGES record of the current task: its runs are
// the pages of its parent's memory at the same addresses, which the image
// holds in that memory's PAGES. They are read from there into the task,
// lazily with --lazy as the task's own pages would be; the task gets its
// own copies (re-making the copy-on-write sharing would need the parent's
// memory filled before the child is forked: docs/state.md).
func (rs *restorer) forkPages(t *taskPlan, fp *image.ForkPages) error {
	if t.mm == nil || uint32(len(t.vmas)) != t.mm.NrVmas {
		return badImage("task %d: FORK_PAGES before its memory layout", t.rec.Pid)
	}
	parent := rs.byPid[t.rec.PPid]
	if t.rec.PPid == 0 || parent == nil || parent.zombie {
		return badImage("task %d: FORK_PAGES, but its parent %d is not a live task of the image", t.rec.Pid, t.rec.PPid)
	}
	owner := sharedOwner(parent, image.ShareVM)
	if owner == sharedOwner(t, image.ShareVM) {
		return badImage("task %d: FORK_PAGES, but it shares its parent's memory", t.rec.Pid)
	}
	var runs []image.PageRun
	if err := appendParentRuns(&runs, fp.Runs); err != nil {
		return fmt.Errorf("task %d: FORK_PAGES: %w", t.rec.Pid, err)
	}
	if len(runs) > 0 && runs[0].Vaddr < t.forkEnd {
		return badImage("task %d: FORK_PAGES runs out of order", t.rec.Pid)
	}
	for _, r := range runs {
		if !pagesFit(t.vmas, r.Vaddr, uint64(r.Pages)*pageSize) {
			return badImage("FORK_PAGES run %#x+%d pages is outside every mapping that takes pages", r.Vaddr, r.Pages)
		}
		t.forkEnd = runEnd(r)
	}
	// Every page of every run must be in the parent's PAGES: find where
	// (checked whole before a page is written).
	var pieces []*image.Pages
	for _, r := range runs {
		found := uint64(0)
		for _, pr := range owner.pageIdx {
			off := pr.dataOff
			for _, pr1 := range pr.runs {
				for _, piece := range intersectRuns([]image.PageRun{pr1}, []image.PageRun{r}) {
					at := off + int64(piece.Vaddr-pr1.Vaddr)
					pieces = append(pieces, &image.Pages{NrPages: piece.Pages, Runs: []image.PageRun{piece}, Vaddr: piece.Vaddr, DataOffset: at})
					found += uint64(piece.Pages)
				}
				off += int64(pr1.Pages) * pageSize
			}
		}
		if found != uint64(r.Pages) {
			return badImage("task %d: FORK_PAGES run %#x+%d pages: %d of them are not in the PAGES of its parent %d", t.rec.Pid, r.Vaddr, r.Pages, uint64(r.Pages)-found, owner.rec.Pid)
		}
	}
	if err := rs.ensureTask(t); err != nil {
		return err
	}
	for _, p := range pieces {
		if err := rs.fillFromImage(t, p); err != nil {
			return fmt.Errorf("task %d: pages %#x+%d of its parent's: %w", t.rec.Pid, p.Vaddr, p.NrPages, err)
		}
	}
	return nil
}

// fillFromImage puts pages whose data is elsewhere in the image file in
// place, as fillPages does with a record's own.
func (rs *restorer) fillFromImage(t *taskPlan, p *image.Pages) error {
	switch {
	case t.lazy != nil:
		return rs.fillLazy(t, p)
	case t.imageFd >= 0:
		if err := rs.preadRuns(t, p); err != nil {
			return err
		}
	case rs.imageFile != nil:
		if err := rs.copyFromFile(t, rs.imageFile, p.DataOffset, p.Vaddr, uint64(p.NrPages)*pageSize); err != nil {
			return err
		}
	default:
		return fmt.Errorf("pages shared with the parent task need the image in a file")
	}
	rs.pages += uint64(p.NrPages)
	return nil
}

// indexPages notes where the data of a PAGES record of t's memory is, for
// the FORK_PAGES of its children.
func (t *taskPlan) indexPages(p *image.Pages) {
	t.pageIdx = append(t.pageIdx, chainPages{runs: append([]image.PageRun(nil), p.Runs...), dataOff: p.DataOffset})
}
