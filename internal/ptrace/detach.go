package ptrace

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// Detach lets tid go. sig 0 delivers the signal SeizeStop recorded
// (PendingStopSig), if any, with its original siginfo; another sig is
// delivered instead of it.
//
// A signal given to PTRACE_DETACH is only delivered from a
// signal-delivery-stop (from event stops the kernel ignores it, from
// syscall stops it sends it with a made-up siginfo), so unless tid is
// already in that stop for sig, Detach queues sig with tgkill(2), lets tid
// run into the signal-delivery-stop it causes (the kernel looks for signals
// before it returns to user space, so no user code runs), puts the original
// siginfo back with PTRACE_SETSIGINFO and detaches with the signal there.
func (t *Tracer) Detach(tid int, sig int) error {
	return t.Do(func() error {
		st, _ := t.known(tid)
		defer t.forget(tid)
		var p *pendingSig
		switch {
		case sig != 0 && st.pending != nil && st.pending.sig == sig:
			p = st.pending
		case sig != 0:
			p = &pendingSig{sig: sig}
		default:
			p = st.pending
		}
		if p == nil {
			return detach(tid, 0)
		}
		return t.detachWith(tid, st, p)
	})
}

func detach(tid int, sig int) error {
	if _, err := ptrace(unix.PTRACE_DETACH, tid, 0, uintptr(sig)); err != nil {
		return ptraceErr(fmt.Sprintf("PTRACE_DETACH, signal %d", sig), tid, err)
	}
	return nil
}

// detachWith detaches tid, delivering p on the way.
// Preconditions:
//   - must run on the tracer thread;
//   - tid is in the ptrace stop st describes.
func (t *Tracer) detachWith(tid int, st task, p *pendingSig) error {
	deliver := func() error {
		if p.info.Signo() == int32(p.sig) {
			if err := setSiginfo(tid, &p.info); err != nil {
				return err
			}
		}
		return detach(tid, p.sig)
	}
	if st.stop == stopSignal && st.stopSig == p.sig {
		return deliver()
	}
	mask, err := getSigmask(tid)
	if err != nil {
		return err
	}
	tgid, err := tgidOf(tid)
	if err != nil {
		return goneErr("detach", tid, err)
	}
	if err := unix.Tgkill(tgid, tid, unix.Signal(p.sig)); err != nil {
		return fmt.Errorf("queue signal %d for task %d: %w", p.sig, tid, os.NewSyscallError("tgkill", err))
	}
	if mask&(1<<(p.sig-1)) != 0 {
		// Blocked: it waits in the queue until unblocked, as it would have.
		return detach(tid, 0)
	}
	resume := 0
	if st.stop == stopSignal {
		resume = st.stopSig // a different signal, mid-delivery: let it through
	}
	for {
		if err := t.cont(tid, unix.PTRACE_CONT, resume); err != nil {
			return err
		}
		ws, err := wait4(tid)
		if err != nil {
			return goneErr("wait for", tid, os.NewSyscallError("wait4", err))
		}
		t.observe(tid, ws)
		if ws.Exited() || ws.Signaled() {
			return goneErr("detach", tid, nil)
		}
		if !ws.Stopped() {
			continue
		}
		kind, sig := classify(ws)
		switch {
		case kind == stopSignal && sig == p.sig:
			return deliver()
		case kind == stopSignal:
			// Another signal that was already pending came first; it goes
			// through now and ours stays queued, without its siginfo.
			return detach(tid, sig)
		case event(ws) == unix.PTRACE_EVENT_EXIT:
			_ = detach(tid, 0)
			return goneErr("detach", tid, nil)
		}
		resume = 0
	}
}
