package restore

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	"github.com/ckpt/ckpt/image"
)

// Pre-copy chains: an image with a PARENT record holds only the pages
// written since its parent image; its PARENT_PAGES records name the pages
// whose content is the parent's, found there in PAGES or, through the
// parent's own PARENT_PAGES, further up the chain. Every image of the
// chain is opened and validated whole, and checked to be the very image
// its child names (TAIL digest, length and record count), before the
// first task is made.

// maxChain bounds the images of a chain, so that a loop of images naming
// each other ends.
const maxChain = 64

// chainImage is one ancestor image, indexed by task.
type chainImage struct {
	path string
	im   *image.Image
	mms  map[int32]*chainMm // by the task's pid in the image
}

// chainMm is what an ancestor holds of one task's memory.
type chainMm struct {
	pages      []chainPages
	parentRuns []image.PageRun
}

// chainPages is one PAGES record of an ancestor: its runs and where their
// data starts in the image file.
type chainPages struct {
	runs    []image.PageRun
	dataOff int64
}

// imageFileIn is the image file a path names: the path itself, or the
// image inside it when it is a directory.
func imageFileIn(path string) string {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return filepath.Join(path, image.FileName)
	}
	return path
}

// openChain opens every ancestor of the image, from its PARENT record.
func (rs *restorer) openChain(p *image.Parent) error {
	if len(rs.ancestors) > 0 || rs.tree || len(rs.plans) > 0 {
		return badImage("PARENT out of place: it follows the HEADER, once")
	}
	path := rs.opts.ParentPath
	if path == "" {
		path = p.Path
		if !filepath.IsAbs(path) {
			if rs.opts.ImageDir == "" {
				return fmt.Errorf("the image holds only what changed since its parent image %q (pre-copy) and its own directory is not known: give the parent with --parent-path", p.Path)
			}
			path = filepath.Join(rs.opts.ImageDir, path)
		}
	}
	want := *p
	for {
		if len(rs.ancestors) >= maxChain {
			return fmt.Errorf("pre-copy chain longer than %d images", maxChain)
		}
		file := imageFileIn(path)
		im, err := image.Open(file)
		if err != nil {
			return fmt.Errorf("parent image %s (pre-copy: this image holds only what changed since it): %w", file, err)
		}
		s := im.Summary
		if s.Bytes != want.Bytes || s.Records != want.Records || s.Digest != want.Digest {
			im.Close()
			return fmt.Errorf("%w: the image at %s is not the parent this image was checkpointed on (it has %d bytes, %d records, digest %#x; the parent had %d bytes, %d records, digest %#x)",
				ErrBadImage, file, s.Bytes, s.Records, s.Digest, want.Bytes, want.Records, want.Digest)
		}
		ci := &chainImage{path: file, im: im}
		rs.ancestors = append(rs.ancestors, ci)
		if err := ci.index(); err != nil {
			return fmt.Errorf("parent image %s: %w", file, err)
		}
		if s.Parent == nil {
			return nil
		}
		want = *s.Parent
		path = want.Path
		if !filepath.IsAbs(path) {
			path = filepath.Join(filepath.Dir(file), path)
		}
	}
}

// closeChain closes the ancestors.
func (rs *restorer) closeChain() {
	for _, ci := range rs.ancestors {
		ci.im.Close()
	}
	rs.ancestors = nil
}

// index finds the PAGES and PARENT_PAGES of each task's MM. Those of
// shared memory and IPC objects (PAGES after a SHMEM or IPC_SHM) are not
// the MM's.
func (ci *chainImage) index() error {
	rd, err := ci.im.Reader()
	if err != nil {
		return err
	}
	ci.mms = map[int32]*chainMm{}
	var pid int32
	var cur *chainMm // the MM whose records are being read
	for {
		rec, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		switch x := rec.(type) {
		case *image.Task:
			pid, cur = x.Pid, nil
		case *image.Mm:
			if pid == 0 || ci.mms[pid] != nil {
				return badImage("MM outside a task, or a second one for task %d", pid)
			}
			cur = &chainMm{}
			ci.mms[pid] = cur
		case *image.Vma, *image.AioRing, *image.DirtyTrack:
		case *image.Pages:
			if cur != nil {
				cur.pages = append(cur.pages, chainPages{runs: x.Runs, dataOff: x.DataOffset})
			}
		case *image.ForkPages:
			// Never written in a pre-dump image: a child image takes a
			// task's pages from its parent by pid, in PAGES only.
			return badImage("a parent image with FORK_PAGES (task %d)", pid)
		case *image.ParentPages:
			if cur == nil {
				return badImage("PARENT_PAGES outside an MM")
			}
			if err := appendParentRuns(&cur.parentRuns, x.Runs); err != nil {
				return err
			}
		default:
			cur = nil
		}
	}
}

// appendParentRuns checks runs (ascending, disjoint, after those already
// in dst) and appends them.
func appendParentRuns(dst *[]image.PageRun, runs []image.PageRun) error {
	var end uint64
	if n := len(*dst); n > 0 {
		end = runEnd((*dst)[n-1])
	}
	for _, r := range runs {
		if r.Pages == 0 || r.Vaddr%pageSize != 0 || r.Vaddr < end || runEnd(r) <= r.Vaddr {
			return badImage("PARENT_PAGES run %#x+%d pages: empty, unaligned, out of order or overlapping", r.Vaddr, r.Pages)
		}
		end = runEnd(r)
		*dst = append(*dst, r)
	}
	return nil
}

func runEnd(r image.PageRun) uint64 { return r.Vaddr + uint64(r.Pages)*pageSize }

// parentPages takes a PARENT_PAGES record of the current task: it puts the
// content of its runs, from the ancestors, in place.
func (rs *restorer) parentPages(t *taskPlan, p *image.ParentPages) error {
	if len(rs.ancestors) == 0 {
		return badImage("PARENT_PAGES in an image without a PARENT")
	}
	if t.mm == nil || uint32(len(t.vmas)) != t.mm.NrVmas {
		return badImage("task %d: PARENT_PAGES before its memory layout", t.rec.Pid)
	}
	var runs []image.PageRun
	if err := appendParentRuns(&runs, p.Runs); err != nil {
		return err
	}
	if len(t.parentRuns) > 0 && len(runs) > 0 && runs[0].Vaddr < runEnd(t.parentRuns[len(t.parentRuns)-1]) {
		return badImage("task %d: PARENT_PAGES runs out of order", t.rec.Pid)
	}
	for _, r := range runs {
		if !pagesFit(t.vmas, r.Vaddr, uint64(r.Pages)*pageSize) {
			return badImage("PARENT_PAGES run %#x+%d pages is outside every mapping that takes pages", r.Vaddr, r.Pages)
		}
	}
	t.parentRuns = append(t.parentRuns, runs...)
	if err := rs.ensureTask(t); err != nil {
		return err
	}
	return rs.fillFromChain(t, runs, 0)
}

// fillFromChain writes into t the pages of runs that ancestor lvl holds,
// and asks the next ancestor for those it names as its parent's.
func (rs *restorer) fillFromChain(t *taskPlan, runs []image.PageRun, lvl int) error {
	return rs.fillFromChainOf(t, t.rec.Pid, runs, lvl)
}

// fillFromChainOf is fillFromChain with the pages the ancestors hold of
// task pid (t's parent, for its FORK_PAGES: mm_fork.go).
func (rs *restorer) fillFromChainOf(t *taskPlan, pid int32, runs []image.PageRun, lvl int) error {
	if lvl >= len(rs.ancestors) {
		return badImage("task %d: PARENT_PAGES in the last image of the chain", pid)
	}
	ci := rs.ancestors[lvl]
	mm := ci.mms[pid]
	if mm == nil {
		return fmt.Errorf("%w: parent image %s holds no memory of task %d", ErrBadImage, ci.path, pid)
	}
	for _, pr := range mm.pages {
		off := pr.dataOff
		for _, r := range pr.runs {
			for _, piece := range intersectRuns([]image.PageRun{r}, runs) {
				if err := rs.unlockFor(t, []image.PageRun{piece}); err != nil {
					return err
				}
				at := off + int64(piece.Vaddr-r.Vaddr)
				if err := rs.copyFromFile(t, ci.im.File(), at, piece.Vaddr, uint64(piece.Pages)*pageSize); err != nil {
					return fmt.Errorf("pages %#x+%d from parent image %s: %w", piece.Vaddr, piece.Pages, ci.path, err)
				}
				rs.pages += uint64(piece.Pages)
			}
			off += int64(r.Pages) * pageSize
		}
	}
	if up := intersectRuns(runs, mm.parentRuns); len(up) > 0 {
		return rs.fillFromChainOf(t, pid, up, lvl+1)
	}
	return nil
}

// copyFromFile copies n bytes at off in f to addr in t.
func (rs *restorer) copyFromFile(t *taskPlan, f *os.File, off int64, addr, n uint64) error {
	const chunk = 4 << 20
	if len(rs.buf) < chunk {
		rs.buf = make([]byte, chunk)
	}
	for n > 0 {
		b := rs.buf[:min(n, chunk)]
		if _, err := f.ReadAt(b, off); err != nil {
			return err
		}
		if err := writeTaskMem(t.pid, addr, b); err != nil {
			return err
		}
		off, addr, n = off+int64(len(b)), addr+uint64(len(b)), n-uint64(len(b))
	}
	return nil
}

// intersectRuns returns the pages in both a and b (each ascending and
// disjoint), ascending.
func intersectRuns(a, b []image.PageRun) []image.PageRun {
	var out []image.PageRun
	j := sort.Search(len(b), func(j int) bool { return len(a) > 0 && runEnd(b[j]) > a[0].Vaddr })
	for i := 0; i < len(a) && j < len(b); {
		lo, hi := max(a[i].Vaddr, b[j].Vaddr), min(runEnd(a[i]), runEnd(b[j]))
		if lo < hi {
			out = append(out, image.PageRun{Vaddr: lo, Pages: uint32((hi - lo) / pageSize)})
		}
		if runEnd(a[i]) < runEnd(b[j]) {
			i++
		} else {
			j++
		}
	}
	return out
}
