package checkpoint

import (
	"fmt"
	"sort"

	"github.com/ckpt/ckpt/image"
	"github.com/ckpt/ckpt/internal/proc"
)

// Pages a task shares copy-on-write with its parent (inherited across
// fork, written by neither since) are the same physical page in both:
// /proc/PID/pagemap shows the same PFN at the same address (we are root,
// so PFNs are not hidden). The parent's section comes first (PSTREE
// order); its PAGES hold such a page, and the child's image names it in a
// FORK_PAGES record instead of holding it a second time. Both sides are
// read while frozen (or both from their copy-on-write snapshots), so the
// same PFN means the same content.

// pfnAt is a page the image holds in the task's PAGES, by address.
type pfnAt struct{ addr, pfn uint64 }

// forkState is what dumpPages does about copy-on-write sharing for one
// task: match against its parent's pages, record its own for its
// children, and the FORK_PAGES runs it found.
type forkState struct {
	parent []pfnAt // the parent MM's pages saved, ascending; nil: no matching
	record bool    // keep saved (a child may match against it)
	saved  []pfnAt
	runs   []image.PageRun
}

// pfnOf returns the PFN the parent's saved page at addr had, 0 if none.
func (f *forkState) pfnOf(addr uint64) uint64 {
	i := sort.Search(len(f.parent), func(i int) bool { return f.parent[i].addr >= addr })
	if i < len(f.parent) && f.parent[i].addr == addr {
		return f.parent[i].pfn
	}
	return 0
}

// scan finds, before any page of the task is read, its pages that are
// its parent's (FORK_PAGES come before the PAGES: a restore that forks
// the task from its parent needs them to lay its memory out). pid is the
// process to look at (the task or its snapshot); mappings read
// beforehand (pre, see snapshot.go) are not looked at.
func (f *forkState) scan(pid int, vmas []image.Vma, pre map[int][]chunk) error {
	if f == nil || len(f.parent) == 0 {
		return nil
	}
	pm, err := proc.OpenPagemap(pid)
	if err != nil {
		return err
	}
	defer pm.Close()
	var ents []uint64
	for i := range vmas {
		v := &vmas[i]
		if _, ok := pre[i]; ok || !v.TakesPages() {
			continue
		}
		for start := v.Start; start < v.End; start += dumpChunk * image.PageSize {
			end := min(v.End, start+dumpChunk*image.PageSize)
			if ents, err = pm.Read(start, end, ents); err != nil {
				return fmt.Errorf("vma %#x-%#x: pagemap: %w", v.Start, v.End, err)
			}
			f.collect(ents, start)
		}
	}
	return nil
}

// collect notes as FORK_PAGES runs the pages of ents (pagemap entries of
// the range from start) that are the parent's. Pages of the task's own
// parent image (PARENT_PAGES) are taken too: writeTracking leaves them out
// of its PARENT_PAGES, so that a restore can share them again.
func (f *forkState) collect(ents []uint64, start uint64) {
	for i, e := range ents {
		pfn := proc.PME(e).PFN()
		addr := start + uint64(i)*image.PageSize
		if pfn == 0 || f.pfnOf(addr) != pfn {
			continue
		}
		if n := len(f.runs); n > 0 && runEnd(f.runs[n-1]) == addr {
			f.runs[n-1].Pages++
		} else {
			f.runs = append(f.runs, image.PageRun{Vaddr: addr, Pages: 1})
		}
	}
}

// exclude takes out of ents the pages scan found to be the parent's: they
// are not read, nor saved here.
func (f *forkState) exclude(ents []uint64, start uint64) {
	if f == nil || len(f.runs) == 0 {
		return
	}
	for i := range ents {
		if inRuns(f.runs, start+uint64(i)*image.PageSize) {
			ents[i] = 0
		}
	}
}

// note records the PFNs of the pages of runs, which the image holds.
func (f *forkState) note(ents []uint64, start uint64, runs []pageRun) {
	if f == nil || !f.record {
		return
	}
	for _, r := range runs {
		for off := 0; off < len(r.data); off += image.PageSize {
			addr := r.addr + uint64(off)
			if pfn := proc.PME(ents[(addr-start)/image.PageSize]).PFN(); pfn != 0 {
				f.saved = append(f.saved, pfnAt{addr, pfn})
			}
		}
	}
}

// noteSkipped records the PFNs of the pages of skip (the parent image's:
// unchanged since it was taken, so the same content) that are present: a
// child sharing one names it too, and restore finds it through the
// task's PARENT_PAGES. Those the task's own FORK_PAGES name are not in
// its PARENT_PAGES (writeTracking), so not recorded.
func (f *forkState) noteSkipped(ents []uint64, start uint64, skip []image.PageRun) {
	if f == nil || !f.record || len(skip) == 0 {
		return
	}
	for i, e := range ents {
		addr := start + uint64(i)*image.PageSize
		if pfn := proc.PME(e).PFN(); pfn != 0 && inRuns(skip, addr) && !inRuns(f.runs, addr) {
			f.saved = append(f.saved, pfnAt{addr, pfn})
		}
	}
}

// subtractRuns returns the pages of a (ascending, disjoint) not in b
// (ascending, disjoint), ascending.
func subtractRuns(a, b []image.PageRun) []image.PageRun {
	var out []image.PageRun
	j := 0
	for _, r := range a {
		at, end := r.Vaddr, runEnd(r)
		for j < len(b) && runEnd(b[j]) <= at {
			j++
		}
		for k := j; k < len(b) && b[k].Vaddr < end; k++ {
			if b[k].Vaddr > at {
				out = append(out, image.PageRun{Vaddr: at, Pages: uint32((b[k].Vaddr - at) / image.PageSize)})
			}
			at = max(at, runEnd(b[k]))
		}
		if at < end {
			out = append(out, image.PageRun{Vaddr: at, Pages: uint32((end - at) / image.PageSize)})
		}
	}
	return out
}

func runEnd(r image.PageRun) uint64 { return r.Vaddr + uint64(r.Pages)*image.PageSize }

// forkParents finds, for each live task with a memory of its own, the
// memory its PSTREE parent uses, as restore will (by PPid). A pre-dump
// image gets none: the next image of its chain takes a task's pages from
// it by pid, in PAGES only.
func (d *dumper) forkParents(live []*process) {
	d.forkParent = map[*process]*process{}
	d.forkRecord = map[*process]bool{}
	d.forkSaved = map[*process][]pfnAt{}
	if d.opts.PreDump {
		return
	}
	byPid := map[int32]*process{}
	for _, p := range live {
		byPid[p.task.Pid] = p
	}
	for _, p := range live {
		parent := byPid[p.task.PPid]
		if p.task.PPid == 0 || parent == nil || p.shares&image.ShareVM != 0 {
			continue
		}
		owner := sharedOwner(parent, image.ShareVM)
		d.forkParent[p] = owner
		d.forkRecord[owner] = true
	}
}

// forkFor is the forkState of p's dumpPages.
func (d *dumper) forkFor(p *process) *forkState {
	f := &forkState{record: d.forkRecord[p]}
	if parent := d.forkParent[p]; parent != nil {
		f.parent = d.forkSaved[parent]
	}
	return f
}

// keepForkPages keeps the pages p saved, for its children's scan.
func (d *dumper) keepForkPages(p *process, f *forkState) {
	if f.record {
		sort.Slice(f.saved, func(i, j int) bool { return f.saved[i].addr < f.saved[j].addr })
		d.forkSaved[p] = f.saved
	}
}

// writeForkPages writes the FORK_PAGES of p's memory.
func (d *dumper) writeForkPages(w *image.Writer, f *forkState) error {
	for runs := f.runs; len(runs) > 0; {
		n := min(len(runs), image.MaxForkRunsPerRecord)
		if err := w.Write(&image.ForkPages{Runs: runs[:n]}); err != nil {
			return fmt.Errorf("FORK_PAGES: %w", err)
		}
		for _, r := range runs[:n] {
			d.forkPages += uint64(r.Pages)
		}
		runs = runs[n:]
	}
	return nil
}
