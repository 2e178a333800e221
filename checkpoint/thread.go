package checkpoint

import (
	"fmt"
	"os"
	"strings"

	"github.com/ckpt/ckpt/image"
	"github.com/ckpt/ckpt/internal/kernel"
	"github.com/ckpt/ckpt/internal/proc"
)

const (
	taskFlagPidnsInit = image.TaskFlagPidnsInit
	nRlimits          = 16 // RLIM_NLIMITS, include/uapi/asm-generic/resource.h
)

// collectThreads reads each thread's state that ptrace and /proc give from
// outside: registers, FPU/vector state, signal mask, rseq, robust futex
// list, queued signals.
func (d *dumper) collectThreads(p *process) error {
	for _, t := range p.threads {
		if err := d.collectThread(p, t); err != nil {
			return fmt.Errorf("thread %d: %w", t.tid, err)
		}
	}
	shared, err := d.tr.PeekSiginfo(p.pid, true)
	if err != nil {
		return fmt.Errorf("shared signal queue: %w", err)
	}
	p.pending = shared
	return nil
}

func (d *dumper) collectThread(p *process, t *thread) error {
	r := &t.rec
	// Ids in the image are the ones the task sees, in its own pid
	// namespace: restore recreates them there.
	st, err := proc.ReadTaskStatus(p.pid, t.tid)
	if err != nil {
		return err
	}
	t.seccomp, t.seccompFilters = st.Seccomp, st.SeccompFilters
	r.Tid = int32(t.tid)
	if n := len(st.NSpid); n > 0 {
		r.Tid = int32(st.NSpid[n-1])
	}
	regs, err := d.tr.GetRegs(t.tid)
	if err != nil {
		return err
	}
	if r.XState, err = d.tr.GetXState(t.tid); err != nil {
		return err
	}
	if r.Sigmask, err = d.tr.GetSigmask(t.tid); err != nil {
		return err
	}
	rseq, err := d.tr.RseqConfig(t.tid)
	if err != nil {
		return err
	}
	if rseq.Flags != 0 {
		return unsupported(p.pid, fmt.Sprintf("rseq of thread %d", t.tid), "unknown rseq flags %#x", rseq.Flags)
	}
	r.RseqAddr, r.RseqLen, r.RseqSig = rseq.RseqAbiPointer, rseq.RseqAbiSize, rseq.Signature
	if moved, err := abortRseq(d.tr, t.tid, r.RseqAddr, r.RseqSig, &regs); err != nil {
		return unsupported(p.pid, fmt.Sprintf("rseq of thread %d", t.tid), "%v", err)
	} else if moved {
		d.log.Debug("thread was in an rseq critical section: moved to its abort handler", "tid", t.tid)
	}
	r.Regs = regs.Array()
	if r.RobustList, r.RobustListLen, err = robustList(t.tid); err != nil {
		return err
	}
	if t.pending, err = d.tr.PeekSiginfo(t.tid, false); err != nil {
		return err
	}
	comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/comm", p.pid, t.tid))
	if err != nil {
		return err
	}
	copy(r.Comm[:], strings.TrimSuffix(string(comm), "\n"))
	if t.sched, err = collectSched(t.tid, r.Tid); err != nil {
		return err
	}
	return nil
}

// robustList asks the kernel for tid's robust futex list head; unlike most
// per-thread state, get_robust_list(2) takes a tid, so no injection is needed.
func robustList(tid int) (head, size uint64, err error) {
	if head, size, err = kernel.GetRobustList(tid); err != nil {
		return 0, 0, fmt.Errorf("get_robust_list(%d): %w", tid, err)
	}
	return head, size, nil
}
