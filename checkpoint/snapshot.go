package checkpoint

import (
	"fmt"
	"strconv"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
	"github.com/ckpt/ckpt/internal/guard"
	"github.com/ckpt/ckpt/internal/proc"
	"github.com/ckpt/ckpt/internal/remote"
)

// snapshot is a copy-on-write copy of a process's memory: a child forked
// from the frozen process by an injected clone(2). With --leave-running the
// process runs on as soon as the copy exists, and its pages are dumped
// from the copy, so the freeze window does not grow with memory size.
//
// A fork does not copy everything faithfully: MADV_DONTFORK mappings are
// missing in the child and MADV_WIPEONFORK ones are empty, so their pages
// are read from the process itself before it is let go (shared mappings
// would show later writes, and are refused for now anyway).
type snapshot struct {
	pid   int             // in our pid namespace
	nsPid int             // as the process sees its child
	pre   map[int][]chunk // VMA index -> pages read before release
	undo  guard.Undo      // the guardian's entry: kill and reap it
}

// takeSnapshot forks the frozen leader. The child has exit signal 0, so the
// process gets no SIGCHLD for it and a plain wait(2) does not see it.
func (d *dumper) takeSnapshot(p *process) (*snapshot, error) {
	insn, err := syscallInsn(p.vmas)
	if err != nil {
		return nil, err
	}
	if err := d.tr.SetOptions(p.pid, seizeOpts|unix.PTRACE_O_TRACECLONE); err != nil {
		return nil, err
	}
	defer d.tr.SetOptions(p.pid, seizeOpts)
	rt, err := remote.New(d.tr, p.pid, insn)
	if err != nil {
		return nil, err
	}
	_, err = rt.Syscall(unix.SYS_CLONE, 0, 0, 0, 0, 0)
	child := rt.Session().LastChild()
	if cerr := rt.Close(); cerr != nil && err == nil {
		err = cerr
	}
	if err != nil || child <= 0 {
		if child > 0 {
			d.dropChild(child)
		}
		return nil, fmt.Errorf("fork a copy of task %d: %w", p.pid, err)
	}
	if _, err := d.tr.Wait(child); err != nil {
		d.dropChild(child)
		return nil, fmt.Errorf("wait for the copy %d: %w", child, err)
	}
	// The copy runs the process's code if ever let go: it dies with ckpt,
	// and the guardian has its parent reap it. (Between the clone and
	// here it has no EXITKILL yet: doc.go, "If ckpt dies".)
	if err := d.tr.SetOptions(child, seizeOpts|unix.PTRACE_O_EXITKILL); err != nil {
		d.dropChild(child)
		return nil, fmt.Errorf("the copy %d: %w", child, err)
	}
	s := &snapshot{pid: child, nsPid: child, pre: map[int][]chunk{}}
	if st, err := proc.ReadStatus(child); err == nil && len(st.NSpid) > 0 {
		s.nsPid = st.NSpid[len(st.NSpid)-1]
	}
	if s.undo, err = d.j.Add("snapshot", strconv.Itoa(p.pid), strconv.Itoa(child), strconv.Itoa(s.nsPid)); err != nil {
		d.drop(p, s)
		return nil, err
	}
	if err := d.preRead(p, s); err != nil {
		d.drop(p, s)
		return nil, err
	}
	return s, nil
}

// preRead reads, from the process itself, the pages of mappings the fork
// did not copy as they were.
func (d *dumper) preRead(p *process, s *snapshot) error {
	pm, err := proc.OpenPagemap(p.pid)
	if err != nil {
		return err
	}
	defer pm.Close()
	zpfn, err := proc.ZeroPFN()
	if err != nil {
		zpfn = ^uint64(0)
	}
	r := &pageReader{pid: p.pid, pm: pm, zeroPFN: zpfn}
	for i := range p.imgVmas {
		v := &p.imgVmas[i]
		if v.Madv&(image.VmaMadvDontFork|image.VmaMadvWipeOnFork) == 0 || !v.TakesPages() {
			continue
		}
		for start := v.Start; start < v.End; start += dumpChunk * image.PageSize {
			end := min(v.End, start+dumpChunk*image.PageSize)
			c, err := r.readRange(make([]byte, (end-start)), start, end, v.Kind != image.VmaFile && v.Kind != image.VmaDeleted && v.Kind != image.VmaShmem)
			if err != nil {
				return fmt.Errorf("vma %#x-%#x: %w", v.Start, v.End, err)
			}
			s.pre[i] = append(s.pre[i], c)
		}
	}
	return nil
}

// drop kills the copy and has the process reap it, so that no zombie is
// left behind: the copy is the process's child, and only its parent can
// reap it. That takes one more very short stop of the process.
func (d *dumper) drop(p *process, s *snapshot) {
	d.dropChild(s.pid)
	d.reap(p, s)
	s.undo.Drop()
}

// reap has the process reap its dead snapshot copy.
func (d *dumper) reap(p *process, s *snapshot) {
	start := time.Now()
	if err := d.tr.SeizeStop(p.pid, seizeOpts); err != nil {
		d.log.Warn("could not stop the process to reap its snapshot copy", "copy", s.pid, "err", err)
		return
	}
	if _, err := restartSemop(d.tr, p.pid, p.pid); err != nil {
		d.log.Warn("could not put the process back into semop", "err", err)
	}
	defer func() {
		if err := d.tr.Detach(p.pid, 0); err != nil {
			d.log.Warn("detach after reaping the snapshot copy", "err", err)
		}
		d.log.Debug("reaped the snapshot copy", "copy", s.pid, "stopped", time.Since(start))
	}()
	// The memory map read at the checkpoint may be stale: the process ran
	// meanwhile, and may have exec'd (a shell's child between fork and
	// exec), which moves the vDSO the syscall instruction is taken from.
	vmas, err := proc.Maps(p.pid)
	if err != nil {
		d.log.Warn("could not read the memory map to reap the snapshot copy", "copy", s.pid, "err", err)
		return
	}
	insn, err := syscallInsn(vmas)
	if err != nil {
		d.log.Warn("could not reap the snapshot copy", "copy", s.pid, "err", err)
		return
	}
	rt, err := remote.New(d.tr, p.pid, insn)
	if err != nil {
		return
	}
	defer rt.Close()
	for try := 0; try < 100; try++ {
		r, err := rt.Syscall(unix.SYS_WAIT4, uintptr(s.nsPid), 0, unix.WNOHANG|unix.WALL, 0)
		if err != nil || int(r) == s.nsPid {
			return
		}
		time.Sleep(time.Millisecond)
	}
	d.log.Warn("the snapshot copy was not reaped", "copy", s.pid)
}

func (d *dumper) dropChild(pid int) {
	_ = unix.Kill(pid, unix.SIGKILL)
	_, _ = d.tr.Wait(pid)
}
