package checkpoint

import (
	"errors"
	"fmt"
	"io"
	"sort"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
	"github.com/ckpt/ckpt/internal/kernel"
	"github.com/ckpt/ckpt/internal/proc"
	"github.com/ckpt/ckpt/internal/remote"
)

// Pre-copy (iterative) checkpoints. A --pre-dump leaves in each process a
// userfaultfd registered for asynchronous write protection
// (UFFD_FEATURE_WP_ASYNC) over its private memory, with every page
// protected: a write just clears the page's protection, and PAGEMAP_SCAN
// tells the written pages from the others. The next checkpoint with that
// image as its parent writes only the pages written since, and names the
// others in PARENT_PAGES records, whose content restore takes from the
// parent. Whatever cannot be vouched for is dumped whole: a mapping made
// since (not registered), a process that forked or exec'd (a new address
// space is not registered), a process whose userfaultfd is gone.
//
// Soft-dirty bits would not need anything in the task, but this kernel
// has no CONFIG_MEM_SOFT_DIRTY; a userfaultfd has to be made in the
// task's own address space, so it is created there by an injected
// userfaultfd(2) and stays one of the task's fds between checkpoints.

// uffdLink is what /proc/PID/fd/N reads for a userfaultfd.
const uffdLink = "anon_inode:[userfaultfd]"

// uffdFdRoom: the userfaultfd goes at the lowest free fd at or above
// min(RLIMIT_NOFILE, uffdFdCeiling) - uffdFdRoom, out of the way of the
// low fds a program expects to get, without growing its fd table to a huge
// limit.
const (
	uffdFdRoom    = 16
	uffdFdCeiling = 1024
)

// parentImage is what a checkpoint needs of its parent image.
type parentImage struct {
	rec    image.Parent
	tracks map[int32]image.DirtyTrack // by the task's pid in the image
	inos   map[uint64]bool            // every tracking userfaultfd's inode
}

// tracking is a process's dirty tracking.
type tracking struct {
	fd  int    // in the task
	ino uint64 // the userfaultfd's inode: it is unique to it
	// fromParent: the runs whose content is the parent's (not written
	// since), empty when the tracking is new.
	fromParent []image.PageRun
	// registered marks, by index in p.imgVmas, the mappings registered.
	registered []bool
	inherited  bool // the parent image's tracking, found in the task
}

// loadParent validates the parent image at path and reads its tracking
// records.
func loadParent(path, recorded string) (*parentImage, error) {
	im, err := image.Open(path)
	if err != nil {
		return nil, fmt.Errorf("parent image %s: %w", path, err)
	}
	defer im.Close()
	s := im.Summary
	pi := &parentImage{
		rec:    image.Parent{Bytes: s.Bytes, Records: s.Records, Digest: s.Digest, Path: recorded},
		tracks: map[int32]image.DirtyTrack{}, inos: map[uint64]bool{},
	}
	rd, err := im.Reader()
	if err != nil {
		return nil, err
	}
	var pid int32
	for {
		rec, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("parent image %s: %w", path, err)
		}
		switch x := rec.(type) {
		case *image.Task:
			pid = x.Pid
		case *image.DirtyTrack:
			if _, dup := pi.tracks[pid]; dup || pid == 0 {
				return nil, fmt.Errorf("parent image %s: a second DIRTY_TRACK for task %d, or one outside a task", path, pid)
			}
			pi.tracks[pid] = *x
			pi.inos[x.Ino] = true
		}
	}
	return pi, nil
}

// isTrackingFd tells an fd that is a tracking userfaultfd of a parent
// image: not the process's own, so not saved (and closed, see
// settleTracking).
func (d *dumper) isTrackingFd(of *openFd) bool {
	return d.parent != nil && of.link == uffdLink && d.parent.inos[of.st.Ino]
}

// imagePid is p's pid as the image records it (tree.go: treeIds, which
// runs after collect).
func imagePid(p *process) int32 {
	if n := len(p.status.NSpid); n > 0 {
		return int32(p.status.NSpid[n-1])
	}
	return int32(p.pid)
}

// collectTracking finds the tracking the parent image left in p, if it is
// still there: the same fd, still that userfaultfd.
func (d *dumper) collectTracking(p *process) error {
	if d.parent == nil {
		return nil
	}
	tr, ok := d.parent.tracks[imagePid(p)]
	if !ok {
		return nil
	}
	of, err := readFd(p.pid, int(tr.Fd))
	if err != nil || of.link != uffdLink || of.st.Ino != tr.Ino {
		d.log.Warn("the dirty tracking of the parent image is gone from the process: its memory is saved whole",
			"pid", p.pid, "fd", tr.Fd)
		return nil
	}
	p.track = &tracking{fd: int(tr.Fd), ino: tr.Ino, inherited: true}
	return nil
}

// trackable tells the mappings whose pages are tracked: private memory
// saved in PAGES and copied as it is by the snapshot fork.
func trackable(v *image.Vma) bool {
	return v.TakesPages() && v.Madv&(image.VmaMadvDontFork|image.VmaMadvWipeOnFork) == 0
}

// scanTracked reads, for the mappings of p registered with its tracking,
// which pages were not written since the parent image: present (or
// swapped) and still write-protected. Mappings not registered, and pages
// that went away (MADV_DONTNEED drops an anonymous page's protection with
// it), are not named, so they are saved whole or restored empty. With
// reprotect, written pages are protected again, for the next image of the
// chain; the process is stopped, so nothing is written in between.
//
// Before protecting again, the userfaultfd moves to another fd: from then
// on its state no longer tells what changed since the parent image, and
// a later checkpoint on that parent (this one failed, or ckpt died) must
// not find it where the parent says, but save everything.
func (d *dumper) scanTracked(p *process, reprotect bool) error {
	t := p.track
	t.registered = make([]bool, len(p.imgVmas))
	if reprotect {
		fd, err := d.injectMoveFd(p, t.fd)
		if err != nil {
			return fmt.Errorf("move the userfaultfd (fd %d): %w", t.fd, err)
		}
		t.fd = fd
	}
	pm, err := proc.OpenPagemap(p.pid)
	if err != nil {
		return err
	}
	defer pm.Close()
	var regs []kernel.PageRegion
	for i := range p.imgVmas {
		v := &p.imgVmas[i]
		if !p.vmas[i].Flags.Has("uw") {
			continue
		}
		t.registered[i] = true
		if !trackable(v) {
			continue
		}
		unchanged := proc.ScanQuery{
			Flags:    kernel.PM_SCAN_CHECK_WPASYNC,
			Inverted: kernel.PAGE_IS_WRITTEN, Mask: kernel.PAGE_IS_WRITTEN,
			AnyOf:  kernel.PAGE_IS_PRESENT | kernel.PAGE_IS_SWAPPED,
			Return: kernel.PAGE_IS_WRITTEN,
		}
		if regs, err = pm.Scan(v.Start, v.End, unchanged, regs[:0]); err != nil {
			return fmt.Errorf("vma %#x-%#x: %w", v.Start, v.End, err)
		}
		for _, r := range regs {
			t.fromParent = appendRun(t.fromParent, r.Start, r.End)
		}
		if reprotect {
			if err := protectWritten(pm, v.Start, v.End); err != nil {
				return fmt.Errorf("vma %#x-%#x: %w", v.Start, v.End, err)
			}
		}
	}
	return nil
}

// protectWritten write-protects the written pages of [start, end).
func protectWritten(pm *proc.Pagemap, start, end uint64) error {
	q := proc.ScanQuery{
		Flags: kernel.PM_SCAN_WP_MATCHING | kernel.PM_SCAN_CHECK_WPASYNC,
		Mask:  kernel.PAGE_IS_WRITTEN, Return: kernel.PAGE_IS_WRITTEN,
	}
	_, err := pm.Scan(start, end, q, nil)
	return err
}

// appendRun adds the pages [start, end) to runs, joining it to the last
// run when they touch.
func appendRun(runs []image.PageRun, start, end uint64) []image.PageRun {
	for start < end {
		n := min((end-start)/image.PageSize, 1<<31)
		if k := len(runs) - 1; k >= 0 {
			last := &runs[k]
			if last.Vaddr+uint64(last.Pages)*image.PageSize == start && uint64(last.Pages)+n < 1<<31 {
				last.Pages += uint32(n)
				start += n * image.PageSize
				continue
			}
		}
		runs = append(runs, image.PageRun{Vaddr: start, Pages: uint32(n)})
		start += n * image.PageSize
	}
	return runs
}

// inRuns tells whether addr is in one of runs (sorted, disjoint).
func inRuns(runs []image.PageRun, addr uint64) bool {
	i := sort.Search(len(runs), func(i int) bool {
		return runs[i].Vaddr+uint64(runs[i].Pages)*image.PageSize > addr
	})
	return i < len(runs) && runs[i].Vaddr <= addr
}

// settleTracking runs once everything is collected, the tasks stopped:
// it closes the tracking userfaultfds a task holds but must not keep
// (every one in a final checkpoint; in a pre-dump, those inherited by
// fork from another process), and for a pre-dump sets up the tracking of
// each process that has none and registers mappings made since the last.
func (d *dumper) settleTracking(live []*process) error {
	for _, p := range live {
		keep := -1
		if d.opts.PreDump && p.track != nil {
			keep = p.track.fd
		}
		var drop []int
		for _, fd := range p.uffds {
			if fd != keep {
				drop = append(drop, fd)
			}
		}
		if len(drop) > 0 {
			if err := d.injectClose(p, drop); err != nil {
				return fmt.Errorf("task %d: close the dirty tracking of the parent image: %w", p.pid, err)
			}
		}
		if !d.opts.PreDump || p.shares&image.ShareVM != 0 {
			continue
		}
		if err := d.startTracking(p); err != nil {
			return fmt.Errorf("task %d: dirty tracking: %w", p.pid, err)
		}
	}
	return nil
}

// startTracking gives p a tracking userfaultfd if it has none, registers
// every trackable mapping not registered yet and protects its pages.
func (d *dumper) startTracking(p *process) error {
	if p.track == nil {
		fd, err := d.injectUffd(p)
		if err != nil {
			return err
		}
		var st unix.Stat_t
		if err := unix.Stat(fmt.Sprintf("/proc/%d/fd/%d", p.pid, fd), &st); err != nil {
			return err
		}
		p.track = &tracking{fd: fd, ino: st.Ino, registered: make([]bool, len(p.imgVmas))}
		d.made = append(d.made, p)
	}
	uffd, err := kernel.TakeFd(p.pid, p.track.fd)
	if err != nil {
		return err
	}
	defer unix.Close(uffd)
	if !p.track.inherited {
		if err := kernel.UffdWPAsync(uffd); err != nil {
			return fmt.Errorf("UFFDIO_API(WP_ASYNC): %w", err)
		}
	}
	pm, err := proc.OpenPagemap(p.pid)
	if err != nil {
		return err
	}
	defer pm.Close()
	for i := range p.imgVmas {
		v := &p.imgVmas[i]
		if p.track.registered[i] || !trackable(v) {
			continue
		}
		if err := kernel.UffdRegisterWP(uffd, v.Start, v.End-v.Start); err != nil {
			// Not tracked: the next image saves it whole.
			d.log.Debug("mapping not tracked", "pid", p.pid, "vma", fmt.Sprintf("%#x-%#x", v.Start, v.End), "err", err)
			continue
		}
		// Registering protects nothing yet: every page reads as written.
		if err := protectWritten(pm, v.Start, v.End); err != nil {
			return fmt.Errorf("protect vma %#x-%#x: %w", v.Start, v.End, err)
		}
		p.track.registered[i] = true
	}
	return nil
}

// injectUffd has p create a userfaultfd (user-mode faults only, which an
// unprivileged task may) and moves it to a high fd, close-on-exec: an exec
// drops it with the address space it tracks.
func (d *dumper) injectUffd(p *process) (int, error) {
	insn, err := syscallInsn(p.vmas)
	if err != nil {
		return -1, err
	}
	rt, err := remote.New(d.tr, p.pid, insn)
	if err != nil {
		return -1, err
	}
	defer rt.Close()
	low, err := rt.Syscall(unix.SYS_USERFAULTFD, unix.O_CLOEXEC|unix.O_NONBLOCK|kernel.UffdUserModeOnly)
	if err != nil {
		return -1, fmt.Errorf("userfaultfd in the task: %w", err)
	}
	return moveFd(rt, p, int(low))
}

// injectMoveFd moves fd of p to another high fd (see injectUffd).
func (d *dumper) injectMoveFd(p *process, fd int) (int, error) {
	insn, err := syscallInsn(p.vmas)
	if err != nil {
		return -1, err
	}
	rt, err := remote.New(d.tr, p.pid, insn)
	if err != nil {
		return -1, err
	}
	defer rt.Close()
	return moveFd(rt, p, fd)
}

// moveFd dups fd to the lowest free fd from near the top of p's
// RLIMIT_NOFILE (at most uffdFdCeiling), close-on-exec, and closes fd.
func moveFd(rt *remote.Task, p *process, low int) (int, error) {
	limit := uint64(uffdFdCeiling)
	if len(p.rlimits.Limits) > unix.RLIMIT_NOFILE {
		limit = min(limit, p.rlimits.Limits[unix.RLIMIT_NOFILE].Cur)
	}
	want := uintptr(3)
	if limit > uffdFdRoom+3 {
		want = uintptr(limit - uffdFdRoom)
	}
	fd, err := rt.Syscall(unix.SYS_FCNTL, uintptr(low), unix.F_DUPFD_CLOEXEC, want)
	if _, cerr := rt.Syscall(unix.SYS_CLOSE, uintptr(low)); cerr != nil && err == nil {
		err = cerr
	}
	if err != nil {
		return -1, fmt.Errorf("move the userfaultfd to a high fd in the task: %w", err)
	}
	return int(fd), nil
}

// injectClose closes fds in p, which is stopped.
func (d *dumper) injectClose(p *process, fds []int) error {
	insn, err := syscallInsn(p.vmas)
	if err != nil {
		return err
	}
	rt, err := remote.New(d.tr, p.pid, insn)
	if err != nil {
		return err
	}
	defer rt.Close()
	for _, fd := range fds {
		if _, err := rt.Syscall(unix.SYS_CLOSE, uintptr(fd)); err != nil {
			return fmt.Errorf("close fd %d: %w", fd, err)
		}
	}
	return nil
}

// stepTracking closes the tracking fds the tasks must not keep and, in a
// pre-dump, sets up tracking where there is none (settleTracking), the
// tasks stopped. Undo, if the checkpoint fails: the tracking made here is
// closed again (the tasks are stopped again for it if they were let go),
// so that a failed checkpoint leaves no userfaultfd behind.
func (d *dumper) stepTracking(r *dumpRun) error {
	r.push("dirty tracking", func() { d.closeMade() })
	return d.settleTracking(r.live)
}

// closeMade closes the userfaultfds this checkpoint created.
func (d *dumper) closeMade() {
	for _, p := range d.made {
		if d.released {
			if err := d.tr.SeizeStop(p.pid, seizeOpts); err != nil {
				d.log.Warn("could not stop the process to close its dirty tracking", "pid", p.pid, "err", err)
				continue
			}
		}
		if err := d.injectClose(p, []int{p.track.fd}); err != nil {
			d.log.Warn("could not close the dirty tracking of a failed checkpoint", "pid", p.pid, "fd", p.track.fd, "err", err)
		}
		if d.released {
			if err := d.tr.Detach(p.pid, 0); err != nil {
				d.log.Warn("detach after closing the dirty tracking", "pid", p.pid, "err", err)
			}
		}
	}
	d.made = nil
}

// writeTracking writes, after p's VMAs, its PARENT_PAGES (but for the
// pages its FORK_PAGES name, fork) and, in a pre-dump, its DIRTY_TRACK.
func (d *dumper) writeTracking(w *image.Writer, p *process, fork []image.PageRun) error {
	if d.parent != nil && p.track != nil && p.track.inherited {
		runs := subtractRuns(p.track.fromParent, fork)
		for len(runs) > 0 {
			n := min(len(runs), image.MaxParentRunsPerRecord)
			if err := w.Write(&image.ParentPages{Runs: runs[:n]}); err != nil {
				return err
			}
			runs = runs[n:]
		}
	}
	if d.opts.PreDump && p.track != nil {
		return w.Write(&image.DirtyTrack{Fd: int32(p.track.fd), Ino: p.track.ino})
	}
	return nil
}
