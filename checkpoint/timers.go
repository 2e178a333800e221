package checkpoint

import (
	"fmt"
	"slices"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
	"github.com/ckpt/ckpt/internal/kernel"
	"github.com/ckpt/ckpt/internal/proc"
	"github.com/ckpt/ckpt/internal/remote"
)

// collectTimers reads the POSIX timers of p. /proc/PID/timers tells each
// timer's id, clock and notification; only the task can tell its time left,
// interval and overrun, so those are asked with injected timer_gettime and
// timer_getoverrun (which read, and change nothing the task can see: the
// kernel itself forwards a periodic timer the same way on every
// timer_gettime).
//
// A timer whose signal is queued is marked so, and that siginfo is taken out
// of the pending queue it was found in: restore lets the new timer expire at
// once, so the kernel queues the timer's own signal (which timer_delete
// removes, and whose overrun the kernel counts), not a copy that would be
// delivered alongside the next expiry. Collected after the threads, whose
// pending queues must be known.
func (d *dumper) collectTimers(p *process, rt *remote.Task) error {
	list, err := proc.Timers(p.pid)
	if err != nil {
		return err
	}
	if len(list) == 0 {
		return nil
	}
	slices.SortFunc(list, func(a, b proc.PosixTimer) int { return int(a.ID) - int(b.ID) })
	defer rt.Reset()
	buf, err := rt.Alloc(32)
	if err != nil {
		return err
	}
	recs := &image.PosixTimers{}
	for _, pt := range list {
		what := fmt.Sprintf("POSIX timer %d", pt.ID)
		tm := image.PosixTimer{ID: pt.ID, Clock: pt.Clock, Signo: pt.Signo, Sigval: pt.Sigval}
		var target *thread // SIGEV_THREAD_ID
		switch {
		case pt.Notify == "none" && !pt.ThreadID:
			tm.Notify = kernel.SigevNone
		case pt.Notify == "signal" && !pt.ThreadID:
			tm.Notify = kernel.SigevSignal
		case pt.Notify == "signal":
			tm.Notify = kernel.SigevSignal | kernel.SigevThreadID
			for _, t := range p.threads {
				if t.tid == int(pt.Pid) {
					target = t
				}
			}
			if target == nil {
				return unsupported(p.pid, what, "it signals thread %d, which is not a thread of the process", pt.Pid)
			}
			tm.Tid = target.rec.Tid
		default:
			return unsupported(p.pid, what, "unknown notification %q", pt.Notify)
		}
		if pt.Clock < 0 {
			pid, perThread := kernel.CPUClockPid(pt.Clock)
			switch {
			case kernel.DynamicClock(pt.Clock):
				return unsupported(p.pid, what, "it runs on a clock device (clockid %d)", pt.Clock)
			case pid != 0:
				return unsupported(p.pid, what, "it counts the CPU time of another task (%d), which restore cannot name", pid)
			case perThread && len(p.threads) > 1:
				// The clock is the creating thread's, and nothing tells which one.
				return unsupported(p.pid, what, "it counts the CPU time of one of %d threads, and /proc does not tell which", len(p.threads))
			}
		}
		if _, err := rt.Syscall(unix.SYS_TIMER_GETTIME, uintptr(pt.ID), uintptr(buf)); err != nil {
			return fmt.Errorf("timer_gettime(%d): %w", pt.ID, err)
		}
		w, err := rt.ReadU64s(buf, 4)
		if err != nil {
			return err
		}
		// struct itimerspec: it_interval then it_value, each {sec, nsec}.
		tm.IntervalNs = int64(w[0])*1e9 + int64(w[1])
		tm.RemainingNs = int64(w[2])*1e9 + int64(w[3])
		over, err := rt.Syscall(unix.SYS_TIMER_GETOVERRUN, uintptr(pt.ID))
		if err != nil {
			return fmt.Errorf("timer_getoverrun(%d): %w", pt.ID, err)
		}
		tm.Overrun = int32(over)
		// A CPU clock does not advance while the task is stopped, so restore
		// could not make such a timer expire at once: its queued signal stays
		// an ordinary pending signal.
		if tm.Notify != kernel.SigevNone && pt.Clock >= 0 {
			q := &p.pending
			if target != nil {
				q = &target.pending
			}
			if i := slices.IndexFunc(*q, func(si kernel.Siginfo) bool {
				return si.Code() == kernel.SiTimer && si.TimerID() == pt.ID && si.Signo() == pt.Signo
			}); i >= 0 {
				*q = slices.Delete(*q, i, i+1)
				tm.Flags |= image.PosixTimerSigPending
			}
		}
		recs.Timers = append(recs.Timers, tm)
	}
	p.timers = recs
	return nil
}
