package ptrace

import (
	"bytes"
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// syscallTrap is the stop signal of a syscall stop under PTRACE_O_TRACESYSGOOD.
const syscallTrap = int(unix.SIGTRAP) | 0x80

// event returns the PTRACE_EVENT_* in a stop status, 0 if none.
func event(ws unix.WaitStatus) int { return int(ws>>16) & 0xff }

// classify tells the kinds of ptrace stop apart (ptrace(2), "Stopped states").
// Preconditions:
//   - ws.Stopped().
func classify(ws unix.WaitStatus) (stopKind, int) {
	sig := int(ws.StopSignal())
	switch ev := event(ws); {
	case ev == unix.PTRACE_EVENT_STOP:
		return stopEvent, sig
	case ev != 0:
		return stopPtraceEv, sig
	case sig == syscallTrap:
		return stopSyscall, sig
	default:
		return stopSignal, sig
	}
}

// SeizeStop attaches to tid (unless already attached) and waits until it is
// in a PTRACE_EVENT_STOP: the stop where registers describe user space and
// injection may start. On the way, a signal the task was about to take is
// swallowed and recorded (PendingStopSig) for Detach to deliver again, a
// group-stop counts as the stop, and a task that exits gives an error
// wrapping ErrTaskGone. A task already in such a stop returns at once; a
// child the kernel attached for us (PTRACE_O_TRACECLONE and friends) is
// waited for, not seized again.
func (t *Tracer) SeizeStop(tid int, opts int) error {
	return t.Do(func() error {
		st, ok := t.known(tid)
		if ok && st.stop != running {
			// A task that died, or was let go, behind our back leaves
			// stale state; a stopped tracee of ours answers this.
			if _, err := getSigmask(tid); err != nil {
				t.forget(tid)
				ok = false
			}
		}
		switch {
		case !ok:
			if err := t.seize(tid, opts); err != nil {
				return err
			}
			if err := t.interruptGone(tid); err != nil {
				return err
			}
		case st.stop == stopEvent:
		case st.newChild && st.stop == running:
			// Its first stop is already on the way (include/linux/ptrace.h: ptrace_init_task()).
		case st.stop == running:
			if err := t.interruptGone(tid); err != nil {
				return err
			}
		default:
			// Some other ptrace stop: move on from it to an event stop.
			if err := t.interruptGone(tid); err != nil {
				return err
			}
			if err := t.leaveStop(tid, st); err != nil {
				return err
			}
		}
		if st, _ := t.known(tid); st.stop != stopEvent {
			if err := t.settle(tid); err != nil {
				return err
			}
		}
		if st, _ := t.known(tid); st.opts != opts {
			return t.setOptions(tid, opts)
		}
		return nil
	})
}

func (t *Tracer) interruptGone(tid int) error {
	if err := interrupt(tid); err != nil {
		if exiting(tid) {
			t.forget(tid)
			return goneErr("interrupt", tid, err)
		}
		return err
	}
	return nil
}

// leaveStop resumes tid from the stop st describes without losing a signal:
// the signal of a signal-delivery-stop is recorded, then suppressed.
// Preconditions:
//   - must run on the tracer thread;
//   - tid is in the ptrace stop st describes.
func (t *Tracer) leaveStop(tid int, st task) error {
	if st.stop == stopSignal {
		t.recordSignal(tid, st.stopSig)
	}
	return t.cont(tid, unix.PTRACE_CONT, 0)
}

// maxSettleSignals bounds the signals settle takes from one task before its
// stop: far more than a task is sent in that instant.
const maxSettleSignals = 1000

// settle waits until tid reaches a PTRACE_EVENT_STOP that is already
// pending (an interrupt, a new child's first stop, a group-stop).
// Preconditions:
//   - must run on the tracer thread;
//   - tid is not in a ptrace stop, and one is pending.
func (t *Tracer) settle(tid int) error {
	signals := 0
	for {
		ws, err := wait4(tid)
		if err != nil {
			return goneErr("wait for", tid, os.NewSyscallError("wait4", err))
		}
		t.observe(tid, ws)
		if ws.Exited() || ws.Signaled() {
			return goneErr("stop", tid, nil)
		}
		if !ws.Stopped() {
			continue
		}
		kind, sig := classify(ws)
		switch ev := event(ws); {
		case kind == stopEvent:
			return nil
		case ev == unix.PTRACE_EVENT_EXIT:
			// Let it finish dying; detached, it needs nothing from us.
			_, _ = ptrace(unix.PTRACE_DETACH, tid, 0, 0)
			t.forget(tid)
			return goneErr("stop", tid, nil)
		case ev == unix.PTRACE_EVENT_FORK || ev == unix.PTRACE_EVENT_VFORK || ev == unix.PTRACE_EVENT_CLONE:
			t.noteChild(tid)
		case kind == stopSignal:
			// A task that faults again as soon as it runs (the signal
			// of a fault comes back with the faulting instruction)
			// would keep us here for good.
			if signals++; signals > maxSettleSignals {
				return fmt.Errorf("task %d: signal %d came %d times before it would stop: it cannot run on (a fault it does not get past?)", tid, sig, signals)
			}
			t.recordSignal(tid, sig)
		}
		// Entering any ptrace stop cancels a pending interrupt ("any trap
		// clears pending STOP trap", kernel/signal.c: ptrace_stop()), so ask
		// again before letting the task go on.
		if err := interrupt(tid); err != nil {
			return err
		}
		if err := t.cont(tid, unix.PTRACE_CONT, 0); err != nil {
			return err
		}
	}
}

// recordSignal remembers the signal of the signal-delivery-stop tid is in,
// with its siginfo, before the caller suppresses it. Only one is kept; a
// second one is queued again at once with tgkill(2) and loses its siginfo
// (from a stranger, rt_tgsigqueueinfo(2) refuses kernel and kill() codes).
// Preconditions:
//   - must run on the tracer thread;
//   - tid is in a signal-delivery-stop for sig.
func (t *Tracer) recordSignal(tid int, sig int) {
	info, err := getSiginfo(tid)
	if err != nil {
		info = [128]byte{}
	}
	st := t.lookup(tid)
	t.mu.Lock()
	first := st.pending == nil
	if first {
		st.pending = &pendingSig{sig: sig, info: info}
	}
	t.mu.Unlock()
	if !first {
		if tgid, err := tgidOf(tid); err == nil {
			_ = unix.Tgkill(tgid, tid, unix.Signal(sig))
		}
	}
}

// noteChild records the task tid's fork, vfork or clone event stop
// announces: the kernel attached it to us with tid's options.
// Preconditions:
//   - must run on the tracer thread;
//   - tid is in a PTRACE_EVENT_FORK, _VFORK or _CLONE stop.
func (t *Tracer) noteChild(tid int) int {
	msg, err := getEventMsg(tid)
	if err != nil || msg == 0 {
		return 0
	}
	child := int(msg)
	parent := t.lookup(tid)
	t.mu.Lock()
	// Whatever we knew about an earlier task with this pid is stale.
	t.tasks[child] = &task{opts: parent.opts, newChild: true}
	t.mu.Unlock()
	return child
}

// WaitExit waits until every task in tids has exited, taking their exit
// reports in whatever order the kernel gives them. One at a time would
// deadlock: a dying pid-namespace init waits in the kernel until every
// traced thread and child of the namespace has been reaped by its tracer.
func (t *Tracer) WaitExit(tids []int) error {
	left := make(map[int]bool, len(tids))
	for _, tid := range tids {
		left[tid] = true
	}
	for len(left) > 0 {
		var ws unix.WaitStatus
		tid, err := unix.Wait4(-1, &ws, unix.WALL, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return fmt.Errorf("wait for %d tasks to exit: %w", len(left), os.NewSyscallError("wait4", err))
		}
		t.observe(tid, ws)
		if ws.Exited() || ws.Signaled() {
			delete(left, tid)
		}
	}
	return nil
}

// Wait waits for a state change of tid (wait4 with __WALL, EINTR retried)
// and returns its status. It runs on the calling goroutine.
func (t *Tracer) Wait(tid int) (unix.WaitStatus, error) {
	ws, err := wait4(tid)
	if err != nil {
		return ws, fmt.Errorf("wait for task %d: %w", tid, os.NewSyscallError("wait4", err))
	}
	t.observe(tid, ws)
	if ws.Stopped() {
		switch event(ws) {
		case unix.PTRACE_EVENT_FORK, unix.PTRACE_EVENT_VFORK, unix.PTRACE_EVENT_CLONE:
			_ = t.Do(func() error { t.noteChild(tid); return nil })
		}
	}
	return ws, nil
}

// Kill sends SIGKILL to tid's thread group and, if it is our tracee or our
// child, waits until it is gone (and reaped, if it is our child). Best
// effort: errors only come from kill(2).
func (t *Tracer) Kill(tid int) error {
	return t.Do(func() error {
		defer t.forget(tid)
		if err := unix.Kill(tid, unix.SIGKILL); err != nil && err != unix.ESRCH {
			return fmt.Errorf("kill task %d: %w", tid, os.NewSyscallError("kill", err))
		}
		for {
			ws, err := wait4(tid)
			if err != nil || ws.Exited() || ws.Signaled() {
				return nil // ECHILD: neither ours to reap nor traced any more
			}
			if ws.Stopped() {
				// Stopped before SIGKILL arrived; SIGKILL wakes it, CONT is a fallback.
				_, _ = ptrace(unix.PTRACE_CONT, tid, 0, 0)
			}
		}
	})
}

// exiting reports whether tid is gone or a zombie / dead task.
func exiting(tid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(tid) + "/stat")
	if err != nil {
		return true
	}
	// The state follows the last ')', which ends the command name.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 >= len(b) {
		return false
	}
	switch b[i+2] {
	case 'Z', 'X', 'x':
		return true
	}
	return false
}

// tgidOf returns the thread-group id of tid.
func tgidOf(tid int) (int, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(tid) + "/status")
	if err != nil {
		return 0, err
	}
	for _, line := range bytes.Split(b, []byte("\n")) {
		if v, ok := bytes.CutPrefix(line, []byte("Tgid:")); ok {
			return strconv.Atoi(string(bytes.TrimSpace(v)))
		}
	}
	return 0, fmt.Errorf("no Tgid in /proc/%d/status", tid)
}
