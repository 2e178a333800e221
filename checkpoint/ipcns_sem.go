package checkpoint

import (
	"encoding/binary"
	"errors"
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
	"github.com/ckpt/ckpt/internal/kernel"
	"github.com/ckpt/ckpt/internal/proc"
	"github.com/ckpt/ckpt/internal/ptrace"
	"github.com/ckpt/ckpt/internal/remote"
	"github.com/ckpt/ckpt/internal/sysvipc"
)

// restartSemops puts back into semop every thread our stop took out of
// one (see restartSemop), right after the seize: then the registers
// collected, and those the live thread resumes with (after
// --leave-running, or a refused checkpoint), are the restarted ones.
func (d *dumper) restartSemops(live []*process) error {
	for _, p := range live {
		for _, th := range p.threads {
			regs, err := restartSemop(d.tr, p.pid, th.tid)
			if err != nil {
				return fmt.Errorf("task %d thread %d: %w", p.pid, th.tid, err)
			}
			if regs != nil {
				d.log.Debug("thread interrupted in semop: restarts it", "tid", th.tid)
			}
		}
	}
	return nil
}

// restartSemop undoes what a ptrace stop does to a thread blocked in
// semop(2) or semtimedop(2). The kernel does not restart them: a thread
// blocked in one when we seize it (PTRACE_INTERRUPT wakes it as a signal
// would) comes back with -EINTR, which the program would see although no
// signal was delivered to it. Such a thread is moved back to its syscall
// instruction with the syscall number in rax, so that it blocks again when
// it resumes. A thread with an unblocked signal pending keeps its -EINTR:
// that signal interrupted it and will be delivered. (A semtimedop so
// restarted waits its whole timeout again.) It returns the new registers,
// or nil if the thread was left alone.
func restartSemop(tr *ptrace.Tracer, pid, tid int) (*kernel.Regs, error) {
	regs, err := tr.GetRegs(tid)
	if err != nil {
		return nil, err
	}
	nr := regs.SyscallNo()
	if (nr != unix.SYS_SEMOP && nr != unix.SYS_SEMTIMEDOP) || regs.Ret() != -int64(unix.EINTR) {
		return nil, nil
	}
	st, err := proc.ReadTaskStatus(pid, tid)
	if err != nil {
		return nil, err
	}
	if (st.SigPnd|st.ShdPnd)&^st.SigBlk != 0 {
		return nil, nil
	}
	regs.RewindSyscall()
	if err := tr.SetRegs(tid, &regs); err != nil {
		return nil, fmt.Errorf("put it back into semop: %w", err)
	}
	return &regs, nil
}

// collectSemUndo finds the undo adjustments (semadj) each task holds on
// each semaphore set. The kernel has no call that reads them, so they are
// measured by semop(2) run in the task, which never changes anything: each
// probe moves the task's semadj of some semaphores by k, through pairs of
// operations (one with SEM_UNDO, its opposite without) that leave the
// values where they were, and ends with an operation that cannot proceed
// (IPC_NOWAIT: EAGAIN). The kernel applies the operations of one semop in
// order and reverts them all on failure (ipc/sem.c,
// perform_atomic_semop_slow()); it fails with ERANGE instead if an
// adjustment leaves -32768..32767 on the way. So a probe tells whether
// semadj+k > 32767, and a binary search over k gives semadj.
func (d *dumper) collectSemUndo(t *tree, sems []*image.IpcSem) error {
	if len(sems) == 0 {
		return nil
	}
	for _, p := range t.live() {
		if err := d.taskSemUndo(p, sems); err != nil {
			return err
		}
	}
	return nil
}

// semopMax is the fewest operations one semop may take (SEMOPM in
// include/uapi/linux/sem.h); combined probes beyond it go per semaphore.
const semopMax = 500

func (d *dumper) taskSemUndo(p *process, sems []*image.IpcSem) error {
	return d.inject(p, func(rt *remote.Task, _, _ uint64) error {
		return d.probeSemUndo(p, rt, sems)
	})
}

func (d *dumper) probeSemUndo(p *process, rt *remote.Task, sems []*image.IpcSem) error {
	for _, s := range sems {
		pr := semProber{rt: rt, set: s}
		all := make([]int, len(s.Values))
		for i := range all {
			all[i] = i
		}
		candidates := all
		if 4*len(all)+1 <= semopMax {
			// One probe each way tells whether any adjustment is
			// positive or negative at all: usually none is.
			pos, err := pr.exceeds(all, kernel.SEMAEM, true)
			if err != nil {
				return semProbeErr(p.pid, s, err)
			}
			neg, err := pr.exceeds(all, kernel.SEMAEM, false)
			if err != nil {
				return semProbeErr(p.pid, s, err)
			}
			if !pos && !neg {
				continue
			}
		}
		u := image.SemUndo{SemId: s.Id, Adj: make([]int16, len(s.Values))}
		nonzero := false
		for _, i := range candidates {
			adj, err := pr.adj(i)
			if err != nil {
				return semProbeErr(p.pid, s, err)
			}
			u.Adj[i] = adj
			nonzero = nonzero || adj != 0
		}
		if nonzero {
			p.semUndo = append(p.semUndo, u)
		}
	}
	return nil
}

func semProbeErr(pid int, s *image.IpcSem, err error) error {
	var se *ptrace.SyscallError
	if errors.As(err, &se) && se.Errno == unix.EACCES {
		return unsupported(pid, fmt.Sprintf("System V semaphore set %d", s.Id),
			"the task may not operate on it, so its undo adjustments cannot be read")
	}
	return fmt.Errorf("task %d: read undo adjustments of semaphore set %d: %w", pid, s.Id, err)
}

// semProber runs probes in one task on one set.
type semProber struct {
	rt  *remote.Task
	set *image.IpcSem
}

// adj finds semadj of semaphore i: the least k in 1..65535 for which
// semadj+k > 32767 is 32768-semadj; none means semadj is -32768.
func (pr *semProber) adj(i int) (int16, error) {
	lo, hi := 1, 65536 // the answer k is in lo..hi, hi meaning none
	for lo < hi {
		mid := (lo + hi) / 2
		over, err := pr.exceeds([]int{i}, mid, true)
		if err != nil {
			return 0, err
		}
		if over {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return int16(32768 - lo), nil
}

// exceeds runs one probe: it moves semadj of every semaphore in nums by +k
// (up) or -k and reports whether one of them left its range.
func (pr *semProber) exceeds(nums []int, k int, up bool) (bool, error) {
	var sops []byte
	add := func(num, op int, flg int16) {
		sops = binary.LittleEndian.AppendUint16(sops, uint16(num))
		sops = binary.LittleEndian.AppendUint16(sops, uint16(int16(op)))
		sops = binary.LittleEndian.AppendUint16(sops, uint16(flg))
	}
	for _, num := range nums {
		v := int(pr.set.Values[num])
		for left := k; left > 0; {
			// The pair goes from v to v±a and back: a fits either way.
			a := min(left, max(v, kernel.SEMVMX-v))
			left -= a
			undoOp := -a // SEM_UNDO subtracts the operation from semadj
			if !up {
				undoOp = a
			}
			if v+undoOp >= 0 && v+undoOp <= kernel.SEMVMX {
				add(num, undoOp, kernel.SEM_UNDO|unix.IPC_NOWAIT)
				add(num, -undoOp, unix.IPC_NOWAIT)
			} else {
				add(num, -undoOp, unix.IPC_NOWAIT)
				add(num, undoOp, kernel.SEM_UNDO|unix.IPC_NOWAIT)
			}
		}
	}
	// No value can drop by 32768: the call fails here at the latest.
	add(nums[0], -32768, unix.IPC_NOWAIT)
	defer pr.rt.Reset()
	addr, err := pr.rt.Put(sops)
	if err != nil {
		return false, err
	}
	_, err = pr.rt.Syscall(unix.SYS_SEMOP, uintptr(pr.set.Id), uintptr(addr), uintptr(len(sops)/6))
	switch {
	case errors.Is(err, unix.ERANGE):
		return true, nil
	case errors.Is(err, unix.EAGAIN):
		return false, nil
	case err == nil:
		return false, fmt.Errorf("a probe semop succeeded: the set changed under us")
	}
	return false, err
}

// readSem saves every semaphore set with its values. Which task last
// operated on a semaphore (GETPID) and the waiters' counts are not saved:
// the kernel has no way to set the first, and the waiters come back by
// themselves, restarting their semop.
func (st *ipcState) readSem(pid int) error {
	rows, err := sysvipc.Rows("sem")
	if err != nil {
		return err
	}
	for _, row := range rows {
		n, err := sysvipc.Nums(row, 0, 1, 2, 3, 4, 5, 6, 7)
		if err != nil {
			return err
		}
		s := &image.IpcSem{
			Key: int32(n[0]), Id: int32(n[1]), Mode: uint32(n[2]),
			Uid: uint32(n[4]), Gid: uint32(n[5]), Cuid: uint32(n[6]), Cgid: uint32(n[7]),
		}
		if s.Mode&^image.IpcModeMask != 0 {
			return unsupported(pid, fmt.Sprintf("System V semaphore set %d", s.Id), "mode %#o has bits we do not know", s.Mode)
		}
		if s.Values, err = kernel.SemGetAll(int(s.Id), int(n[3])); err != nil {
			return err
		}
		st.sems = append(st.sems, s)
	}
	return nil
}
