package restore

import (
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
	"github.com/ckpt/ckpt/internal/addrspace"
	"github.com/ckpt/ckpt/internal/remote"
)

// Pages a task shared copy-on-write with its parent at checkpoint
// (FORK_PAGES, which come before its PAGES) are shared again when the task
// can be forked from its parent once the parent's memory is in (a late
// birth, see planLate): the task then keeps, of the mappings it inherits,
// those its image has too, and in them the pages its FORK_PAGES name. A
// task that cannot be born so (lazy restore, a task with children, one in
// another process group or session, one born from a helper) gets its own
// copies, read from the parent's PAGES data in the image.

// forkPages takes a FORK_PAGES record of the current task, before its
// memory is laid out: its runs are the pages of its parent's memory at the
// same addresses, which the image holds in that memory's PAGES.
func (rs *restorer) forkPages(t *taskPlan, fp *image.ForkPages) error {
	if t.mm == nil || uint32(len(t.vmas)) != t.mm.NrVmas || t.memReady {
		return badImage("task %d: FORK_PAGES out of place (after its VMAs, before the rest of its memory)", t.rec.Pid)
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
	if len(runs) > 0 && len(t.forkRuns) > 0 && runs[0].Vaddr < runEnd(t.forkRuns[len(t.forkRuns)-1]) {
		return badImage("task %d: FORK_PAGES runs out of order", t.rec.Pid)
	}
	for _, r := range runs {
		if !pagesFit(t.vmas, r.Vaddr, uint64(r.Pages)*pageSize) {
			return badImage("FORK_PAGES run %#x+%d pages is outside every mapping that takes pages", r.Vaddr, r.Pages)
		}
	}
	// Every page of every run must be in the parent's PAGES, or in its
	// PARENT_PAGES (pre-copy: its pages unchanged since the parent image):
	// find where.
	for _, r := range runs {
		chain := intersectRuns([]image.PageRun{r}, owner.parentRuns)
		t.forkChain = append(t.forkChain, chain...)
		found := uint64(0)
		for _, c := range chain {
			found += uint64(c.Pages)
		}
		for _, pr := range owner.pageIdx {
			off := pr.dataOff
			for _, pr1 := range pr.runs {
				for _, piece := range intersectRuns([]image.PageRun{pr1}, []image.PageRun{r}) {
					at := off + int64(piece.Vaddr-pr1.Vaddr)
					t.forkPieces = append(t.forkPieces, &image.Pages{NrPages: piece.Pages, Runs: []image.PageRun{piece}, Vaddr: piece.Vaddr, DataOffset: at})
					found += uint64(piece.Pages)
				}
				off += int64(pr1.Pages) * pageSize
			}
		}
		if found != uint64(r.Pages) {
			return badImage("task %d: FORK_PAGES run %#x+%d pages: %d of them are not in the PAGES or PARENT_PAGES of its parent %d", t.rec.Pid, r.Vaddr, r.Pages, uint64(r.Pages)-found, owner.rec.Pid)
		}
	}
	t.forkRuns = append(t.forkRuns, runs...)
	return nil
}

// fillForkPages gives a task its own copies of the pages its FORK_PAGES
// name, once its memory is laid out: all of them if it was not forked
// from its parent, else those outside the mappings it kept (its parent's
// mapping there was not the same: a stack grown since, say).
func (rs *restorer) fillForkPages(t *taskPlan) error {
	for _, p := range t.forkPieces {
		r := addrspace.Range{Start: p.Vaddr, End: p.Vaddr + uint64(p.NrPages)*pageSize}
		for _, g := range minus(r, t.kept) {
			n := (g.End - g.Start) / pageSize
			piece := &image.Pages{NrPages: uint32(n), Runs: []image.PageRun{{Vaddr: g.Start, Pages: uint32(n)}},
				Vaddr: g.Start, DataOffset: p.DataOffset + int64(g.Start-p.Vaddr)}
			if err := rs.fillFromImage(t, piece); err != nil {
				return fmt.Errorf("task %d: pages %#x+%d of its parent's: %w", t.rec.Pid, piece.Vaddr, piece.NrPages, err)
			}
		}
	}
	t.forkPieces = nil
	// Those the parent has from the parent image, read from there.
	var chain []image.PageRun
	for _, c := range t.forkChain {
		for _, g := range minus(addrspace.Range{Start: c.Vaddr, End: runEnd(c)}, t.kept) {
			chain = append(chain, image.PageRun{Vaddr: g.Start, Pages: uint32((g.End - g.Start) / pageSize)})
		}
	}
	t.forkChain = nil
	if len(chain) == 0 {
		return nil
	}
	return rs.fillFromChainOf(t, sharedOwner(rs.byPid[t.rec.PPid], image.ShareVM).rec.Pid, chain, 0)
}

// fillFromImage puts pages whose data is elsewhere in the image file in
// place, as fillPages does with a record's own.
func (rs *restorer) fillFromImage(t *taskPlan, p *image.Pages) error {
	if t.lazy == nil {
		// A read-only mapping is writable only once pages come for it.
		if err := rs.unlockFor(t, p.Runs); err != nil {
			return err
		}
	}
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

// planLate picks the tasks born late, from their parent once its memory is
// in, so that they share its pages again: those with FORK_PAGES whose
// birth nothing else waits for. Each is a leaf of the tree, born from its
// own parent (no helper), sharing no object with it (clone without
// CLONE_* sharing flags), in its parent's session (inherited) and either
// in its parent's process group (inherited) or leading one of its own that
// no other task is in and no terminal has in the foreground (bornLate
// makes it: setGroups and setForegrounds run before), and the parent has
// a memory of its own. A lazy restore keeps copies: its memory
// is registered with userfaultfd (UFFD_FEATURE_EVENT_FORK), so a fork
// before the page server runs would wait for it, and the pages are not
// there yet to share.
func (rs *restorer) planLate() {
	if rs.opts.Lazy || len(rs.forkPids) == 0 {
		return
	}
	hasChild := map[*taskPlan]bool{}
	for _, c := range rs.creator {
		hasChild[c] = true
	}
	// Groups some other task or helper is in, or a terminal's foreground.
	busy := map[int32]bool{}
	for _, list := range [][]*taskPlan{rs.plans, rs.helpers} {
		for _, u := range list {
			if u.rec.Pgid != u.rec.Pid {
				busy[u.rec.Pgid] = true
			}
		}
	}
	for _, st := range rs.ttys {
		busy[st.rec.Pgrp] = true
	}
	for _, t := range rs.plans[1:] {
		p := rs.byPid[t.rec.PPid]
		if !rs.forkPids[t.rec.Pid] || t.zombie || t.shares != 0 || hasChild[t] || p == nil || rs.creator[t] != p ||
			p.zombie || p.shares&image.ShareVM != 0 || t.rec.Sid != p.rec.Sid || t.rec.Sid == t.rec.Pid {
			continue
		}
		inherits := t.rec.Pgid == p.rec.Pgid && t.rec.Pgid != t.rec.Pid
		leads := t.rec.Pgid == t.rec.Pid && !busy[t.rec.Pid]
		t.late = inherits || leads
	}
}

// bornLate makes a late task, at the start of its section: its parent's
// section is over, its memory laid out and filled, and none of its other
// state is restored yet (finish does that for every task at the end).
func (rs *restorer) bornLate(t *taskPlan) error {
	p := rs.byPid[t.rec.PPid]
	if !rs.made || p == nil || p.pid == 0 || !p.memReady {
		return badImage("task %d: its section comes before its parent %d's memory", t.rec.Pid, t.rec.PPid)
	}
	sig := uint64(unix.SIGCHLD)
	if t.hasExitSignal {
		sig = uint64(t.exitSignal)
	}
	var err error
	if t.pid, err = rs.cloneTask(p.leader, sig, t.rec.Pid); err != nil {
		return fmt.Errorf("task %d (born from %d): %w", t.rec.Pid, p.rec.Pid, err)
	}
	if _, err := rs.opts.Journal.KillTask(t.pid); err != nil {
		return err
	}
	// Forked in its parent's cgroups; its own before it touches a page.
	if err := rs.placeTask(t); err != nil {
		return fmt.Errorf("cgroups: %w", err)
	}
	// It stopped in the parent's scratch page, which it inherited.
	if t.leader, err = remote.New(rs.tr, t.pid, p.scratch); err != nil {
		return err
	}
	t.leader.UseScratch(p.scratch+pageSize, (scratchPages-1)*pageSize)
	t.ctlPidfd = p.ctlPidfd
	if t.rec.Pgid == t.rec.Pid && t.rec.Pgid != p.rec.Pgid {
		if _, err := t.leader.Syscall(unix.SYS_SETPGID, 0, 0); err != nil {
			return fmt.Errorf("task %d: setpgid(0, 0): %w", t.rec.Pid, err)
		}
	}
	return nil
}

// inherited tells, for a late task, which of its VMAs it has from its
// parent as they are to be: the same private mapping, taking pages, that
// fork copied (not MADV_DONTFORK nor MADV_WIPEONFORK). Nil for others.
func (rs *restorer) inherited(t *taskPlan) []bool {
	if !t.late {
		return nil
	}
	p := rs.byPid[t.rec.PPid]
	keep := make([]bool, len(t.vmas))
	for i, v := range t.vmas {
		if !v.TakesPages() || v.Flags&unix.MAP_SHARED != 0 || v.Madv&(image.VmaMadvDontFork|image.VmaMadvWipeOnFork) != 0 {
			continue
		}
		for _, pv := range p.vmas {
			if pv == v {
				keep[i] = true
				break
			}
		}
	}
	return keep
}

// keptRanges are the ranges of the VMAs keep marks.
func keptRanges(vmas []image.Vma, keep []bool) []addrspace.Range {
	var out []addrspace.Range
	for i, k := range keep {
		if k {
			out = append(out, addrspace.Range{Start: vmas[i].Start, End: vmas[i].End})
		}
	}
	return out
}

// minus returns r without the ranges of out (ascending, disjoint).
func minus(r addrspace.Range, out []addrspace.Range) []addrspace.Range {
	var res []addrspace.Range
	at := r.Start
	for _, o := range out {
		if o.End <= at || o.Start >= r.End {
			continue
		}
		if o.Start > at {
			res = append(res, addrspace.Range{Start: at, End: o.Start})
		}
		at = max(at, o.End)
	}
	if at < r.End {
		res = append(res, addrspace.Range{Start: at, End: r.End})
	}
	return res
}

// dropUnshared empties, in the VMAs a late task kept, every page its
// FORK_PAGES do not name: its PAGES (and PARENT_PAGES) then write theirs,
// and the others read as zero, or as the file, as at checkpoint.
func dropUnshared(lt *remote.Task, vmas []image.Vma, keep []bool, fork []image.PageRun) error {
	shared := make([]addrspace.Range, len(fork))
	for i, r := range fork {
		shared[i] = addrspace.Range{Start: r.Vaddr, End: runEnd(r)}
	}
	for i, k := range keep {
		if !k {
			continue
		}
		v := addrspace.Range{Start: vmas[i].Start, End: vmas[i].End}
		for _, g := range minus(v, shared) {
			if _, err := lt.Syscall(unix.SYS_MADVISE, uintptr(g.Start), uintptr(g.End-g.Start), unix.MADV_DONTNEED); err != nil {
				return fmt.Errorf("madvise(MADV_DONTNEED) %#x-%#x: %w", g.Start, g.End, err)
			}
		}
	}
	return nil
}
