package checkpoint

import (
	"fmt"

	"github.com/ckpt/ckpt/image"
	"github.com/ckpt/ckpt/internal/kernel"
)

// write emits the image of p: header, then the task's section (identity,
// its objects, memory), then its threads, and the tail (written by the
// caller). Every object is written before the first record referring to it.
func (d *dumper) write(w *image.Writer, t *tree, snaps map[*process]*snapshot) error {
	live := t.live()
	hdr := image.NewHeader()
	hdr.Consts.XStateLen = uint32(len(live[0].threads[0].rec.XState))
	hdr.XFeatures = kernel.XFeatures()
	pstree := &image.Pstree{}
	for _, p := range t.procs {
		pstree.Tasks = append(pstree.Tasks, p.task)
	}
	recs := []image.Record{hdr}
	if d.opts.Container != nil {
		recs = append(recs, d.opts.Container)
	}
	if d.parent != nil {
		recs = append(recs, &d.parent.rec)
	}
	recs = append(recs, pstree)
	if sh := sharesRecord(t); sh != nil {
		recs = append(recs, sh)
	}
	if es := exitSignalsRecord(t); es != nil {
		recs = append(recs, es)
	}
	if d.cgroups != nil {
		recs = append(recs, d.cgroups.recs...)
	}
	if d.uts != nil {
		recs = append(recs, d.uts)
	}
	if d.netns != nil {
		recs = append(recs, d.netns)
		if d.pingRange != nil {
			recs = append(recs, d.pingRange)
		}
	}
	for _, r := range recs {
		if err := w.Write(r); err != nil {
			return err
		}
	}
	if d.mnt != nil {
		if err := d.mnt.write(w, live[0].pid); err != nil {
			return err
		}
	}
	if err := d.writeIpc(w); err != nil {
		return err
	}
	if d.ttys != nil {
		for _, r := range d.ttys.recs {
			if err := w.Write(r); err != nil {
				return fmt.Errorf("record %v: %w", r.Type(), err)
			}
		}
	}
	d.forkParents(live)
	for _, p := range live {
		if err := d.writeTask(w, p, snaps[p]); err != nil {
			return fmt.Errorf("task %d: %w", p.pid, err)
		}
	}
	return nil
}

// writeTask writes the section of one live task.
func (d *dumper) writeTask(w *image.Writer, p *process, snap *snapshot) error {
	recs := []image.Record{&p.task, &p.creds, &p.misc, &p.taskProc, &p.rlimits}
	if p.shares&image.ShareSighand == 0 {
		recs = append(recs, &p.sighand)
	}
	if len(p.pending) > 0 {
		recs = append(recs, &image.SigPending{Tid: 0, Infos: siginfos(p.pending)})
	}
	for _, t := range p.threads {
		if len(t.pending) > 0 {
			recs = append(recs, &image.SigPending{Tid: t.rec.Tid, Infos: siginfos(t.pending)})
		}
	}
	if p.timers != nil {
		recs = append(recs, p.timers)
	}
	recs = append(recs, p.seccomp...)
	for i := range p.semUndo {
		recs = append(recs, &p.semUndo[i])
	}
	for _, r := range recs {
		if err := w.Write(r); err != nil {
			return fmt.Errorf("record %v: %w", r.Type(), err)
		}
	}
	// Shared memory comes before the files: a MEMFD_FILE refers to its SHMEM.
	for _, sh := range p.shmems {
		if err := w.Write(&sh.rec); err != nil {
			return fmt.Errorf("shared memory %d: %w", sh.rec.Ino, err)
		}
		if len(sh.runs) > 0 {
			if err := w.WritePageRuns(sh.runs, sh.data); err != nil {
				return fmt.Errorf("shared memory %d: %w", sh.rec.Ino, err)
			}
		}
		if sh.attr != nil {
			sh.attr.Object = sh.rec.Objref
			if err := w.Write(sh.attr); err != nil {
				return fmt.Errorf("shared memory %d: %w", sh.rec.Ino, err)
			}
		}
	}
	// Deleted files come before the files and memory that use them.
	recs = d.deletedRecords(p)
	if p.shares&image.ShareFS == 0 {
		recs = append(recs, &p.fs)
	}
	if p.shares&image.ShareFiles == 0 {
		for _, f := range p.files {
			recs = append(recs, f.rec)
			recs = append(recs, f.extra...)
		}
		p.filesRef = d.nextObjref()
		recs = append(recs, &image.Files{Objref: p.filesRef, NrFds: uint32(len(p.fds))})
		for i := range p.fds {
			recs = append(recs, &p.fds[i])
		}
		recs = append(recs, d.locks[p]...)
		recs = append(recs, d.fileOwners(p)...)
	}
	for _, r := range recs {
		if err := w.Write(r); err != nil {
			return fmt.Errorf("record %v: %w", r.Type(), err)
		}
	}
	if p.shares&image.ShareVM == 0 {
		if err := d.writeMemory(w, p, snap); err != nil {
			return err
		}
	}
	objs := &image.TaskObjs{
		Mm:      sharedOwner(p, image.ShareVM).mm.Objref,
		Files:   sharedOwner(p, image.ShareFiles).filesRef,
		Fs:      sharedOwner(p, image.ShareFS).fs.Objref,
		Sighand: sharedOwner(p, image.ShareSighand).sighand.Objref,
	}
	if err := w.Write(objs); err != nil {
		return err
	}
	for _, t := range p.threads {
		if err := w.Write(&t.rec); err != nil {
			return fmt.Errorf("thread %d: %w", t.tid, err)
		}
		if err := w.Write(&t.sched); err != nil {
			return fmt.Errorf("thread %d: %w", t.tid, err)
		}
	}
	return nil
}

// writeMemory writes p's MM, its VMAs and its pages.
func (d *dumper) writeMemory(w *image.Writer, p *process, snap *snapshot) error {
	if err := w.Write(&p.mm); err != nil {
		return err
	}

	// Every VMA first, then the pages: a restorer knows the whole layout
	// (and so where there is room for its own temporary mappings) before
	// the first page arrives.
	for i := range p.imgVmas {
		v := &p.imgVmas[i]
		if err := w.Write(v); err != nil {
			return fmt.Errorf("vma %#x-%#x: %w", v.Start, v.End, err)
		}
	}
	for i := range p.aios {
		a := &p.aios[i]
		if err := w.Write(a); err != nil {
			return fmt.Errorf("AIO ring %#x: %w", a.Start, err)
		}
	}
	src, pre := p.pid, map[int][]chunk(nil)
	if snap != nil {
		src, pre = snap.pid, snap.pre
	}
	var skip []image.PageRun
	if d.parent != nil && p.track != nil && p.track.inherited {
		skip = p.track.fromParent
	}
	fk := d.forkFor(p)
	if err := fk.scan(src, p.imgVmas, pre); err != nil {
		return fmt.Errorf("pages shared with the parent: %w", err)
	}
	if err := d.writeForkPages(w, fk); err != nil {
		return err
	}
	if err := d.writeTracking(w, p, fk.runs); err != nil {
		return fmt.Errorf("dirty tracking: %w", err)
	}
	pages, err := d.dumpPages(w, src, p.imgVmas, pre, snap != nil, skip, fk)
	d.pages += pages
	if err != nil {
		return fmt.Errorf("pages: %w", err)
	}
	d.keepForkPages(p, fk)
	return nil
}

// sharedOwner is the process whose object of kind share p uses: p itself,
// or the ancestor it shares it with.
func sharedOwner(p *process, share uint32) *process {
	for p.shares&share != 0 {
		p = p.shareParent
	}
	return p
}

func siginfos(in []kernel.Siginfo) []image.Siginfo {
	out := make([]image.Siginfo, len(in))
	for i := range in {
		out[i] = image.Siginfo(in[i])
	}
	return out
}
