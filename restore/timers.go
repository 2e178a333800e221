package restore

import (
	"encoding/binary"
	"fmt"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
	"github.com/ckpt/ckpt/internal/kernel"
)

// checkTimers refuses a POSIX_TIMERS record restore could not follow,
// before anything is created: ids unique and ascending, known
// notifications and clocks, sane times.
func checkTimers(x *image.PosixTimers) error {
	for i, tm := range x.Timers {
		what := fmt.Sprintf("POSIX timer %d", tm.ID)
		switch {
		case tm.ID < 0:
			return badImage("%s: negative id", what)
		case i > 0 && tm.ID <= x.Timers[i-1].ID:
			return badImage("%s: timer ids are not in ascending order", what)
		case tm.Notify != kernel.SigevNone && tm.Notify != kernel.SigevSignal && tm.Notify != kernel.SigevSignal|kernel.SigevThreadID:
			return badImage("%s: unknown notification %d", what, tm.Notify)
		case tm.Notify != kernel.SigevNone && (tm.Signo < 1 || tm.Signo > 64):
			return badImage("%s: signal %d", what, tm.Signo)
		case tm.IntervalNs < 0 || tm.RemainingNs < 0:
			return badImage("%s: negative interval or time left", what)
		case tm.Flags&^image.PosixTimerSigPending != 0:
			return badImage("%s: unknown flags %#x", what, tm.Flags)
		case tm.Flags&image.PosixTimerSigPending != 0 && (tm.Notify == kernel.SigevNone || tm.Clock < 0):
			return badImage("%s: a pending signal from a timer that sends none or counts CPU time", what)
		}
		if kernel.DynamicClock(tm.Clock) {
			return badImage("%s: a clock device (clockid %d)", what, tm.Clock)
		}
		if tm.Clock < 0 {
			if pid, _ := kernel.CPUClockPid(tm.Clock); pid != 0 {
				return badImage("%s: the CPU clock of another task (%d)", what, pid)
			}
		}
	}
	return nil
}

// checkTaskTimers checks what depends on the task's threads, once they are
// known.
func checkTaskTimers(t *taskPlan) error {
	if t.timers == nil {
		return nil
	}
	for _, tm := range t.timers.Timers {
		if tm.Notify&kernel.SigevThreadID != 0 && !t.hasThread(tm.Tid) {
			return badImage("task %d: POSIX timer %d signals thread %d, which the task does not have", t.rec.Pid, tm.ID, tm.Tid)
		}
		if _, perThread := kernel.CPUClockPid(tm.Clock); tm.Clock < 0 && perThread && len(t.threads) > 1 {
			return badImage("task %d: POSIX timer %d counts one thread's CPU time, and the task has %d threads", t.rec.Pid, tm.ID, len(t.threads))
		}
	}
	return nil
}

func (t *taskPlan) hasThread(tid int32) bool {
	for i := range t.threads {
		if t.threads[i].Tid == tid {
			return true
		}
	}
	return false
}

// restoreTimers creates the task's POSIX timers with their ids and arms
// them with the time they had left. It runs once every thread exists (a
// timer may signal one) and before pending signals are queued.
//
// PR_TIMER_CREATE_RESTORE_IDS makes timer_create take the id from
// *timerid instead of choosing one; creating them in ascending order also
// leaves the kernel's next free id where it was, after the highest one.
// A timer whose signal was pending is armed to expire at once, and restore
// waits until the kernel has queued its signal: the task then holds the
// timer's own signal, as it did, and the timer goes on from there when the
// signal is delivered.
func (rs *restorer) restoreTimers(t *taskPlan) error {
	if t.timers == nil || len(t.timers.Timers) == 0 {
		return nil
	}
	lt := t.leader
	defer lt.Reset()
	if _, err := lt.Syscall(unix.SYS_PRCTL, unix.PR_TIMER_CREATE_RESTORE_IDS, unix.PR_TIMER_CREATE_RESTORE_IDS_ON, 0, 0, 0); err != nil {
		return fmt.Errorf("prctl(PR_TIMER_CREATE_RESTORE_IDS, ON): %w", err)
	}
	for _, tm := range t.timers.Timers {
		ev, err := lt.Put(kernel.Sigevent(tm.Sigval, tm.Signo, tm.Notify, tm.Tid))
		if err != nil {
			return err
		}
		idAddr, err := lt.Put(binary.LittleEndian.AppendUint32(nil, uint32(tm.ID)))
		if err != nil {
			return err
		}
		if _, err := lt.Syscall(unix.SYS_TIMER_CREATE, uintptr(tm.Clock), uintptr(ev), uintptr(idAddr)); err != nil {
			return fmt.Errorf("timer_create(clock %d) for timer %d: %w", tm.Clock, tm.ID, err)
		}
		w, err := lt.ReadU64s(idAddr, 1)
		if err != nil {
			return err
		}
		if got := int32(w[0]); got != tm.ID {
			return fmt.Errorf("timer_create gave timer id %d, not %d", got, tm.ID)
		}
		lt.Reset()
	}
	if _, err := lt.Syscall(unix.SYS_PRCTL, unix.PR_TIMER_CREATE_RESTORE_IDS, unix.PR_TIMER_CREATE_RESTORE_IDS_OFF, 0, 0, 0); err != nil {
		return fmt.Errorf("prctl(PR_TIMER_CREATE_RESTORE_IDS, OFF): %w", err)
	}
	for _, tm := range t.timers.Timers {
		pending := tm.Flags&image.PosixTimerSigPending != 0
		value := tm.RemainingNs
		if pending {
			value = 1 // the shortest time there is: it expires at once
		}
		if value == 0 {
			continue // disarmed
		}
		// struct itimerspec, relative (no TIMER_ABSTIME): the time left is
		// counted from now on, in whatever clock the timer uses; a CPU
		// clock's count restarts with the new task, the time left does not.
		its, err := lt.Put(le64(uint64(tm.IntervalNs/1e9), uint64(tm.IntervalNs%1e9), uint64(value/1e9), uint64(value%1e9)))
		if err != nil {
			return err
		}
		if _, err := lt.Syscall(unix.SYS_TIMER_SETTIME, uintptr(tm.ID), 0, uintptr(its), 0); err != nil {
			return fmt.Errorf("timer_settime(%d): %w", tm.ID, err)
		}
		lt.Reset()
		if pending {
			if err := rs.awaitTimerSignal(t, tm); err != nil {
				return err
			}
		}
	}
	return nil
}

// timerSignalWait bounds the wait for an expired timer's signal to be
// queued, which the kernel does from the timer interrupt right after
// expiry; only a badly broken kernel would take it.
const timerSignalWait = 10 * time.Second

// awaitTimerSignal waits until timer tm's signal is in the queue it goes
// to: the thread's for SIGEV_THREAD_ID, else the process's.
func (rs *restorer) awaitTimerSignal(t *taskPlan, tm image.PosixTimer) error {
	tid, shared := t.pid, true
	if tm.Notify&kernel.SigevThreadID != 0 {
		tid, shared = t.threadRTs[int(tm.Tid)].Tid, false
	}
	deadline := time.Now().Add(timerSignalWait)
	for {
		infos, err := rs.tr.PeekSiginfo(tid, shared)
		if err != nil {
			return fmt.Errorf("timer %d: look for its signal: %w", tm.ID, err)
		}
		for _, si := range infos {
			if si.Code() == kernel.SiTimer && si.TimerID() == tm.ID {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("timer %d expired but its signal %d was not queued within %v", tm.ID, tm.Signo, timerSignalWait)
		}
		select {
		case <-rs.ctx.Done():
			return rs.ctx.Err()
		case <-time.After(time.Millisecond):
		}
	}
}
