package ptrace

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/internal/kernel"
)

// Session runs system calls inside one stopped thread. It is not safe for
// concurrent use.
type Session struct {
	t         *Tracer
	tid       int
	insn      uint64
	saved     kernel.Regs
	savedMask uint64
	lastChild int
	resumed   bool // the thread has left the stop NewSession found it in
	closed    bool
}

// NewSession prepares syscall injection into tid. insn is the address of a
// syscall instruction (0f 05) mapped executable in tid's address space.
// It saves tid's registers and signal mask, then blocks every signal
// (PTRACE_SETSIGMASK all-ones; the kernel keeps SIGKILL and SIGSTOP
// deliverable) so that no handler runs in the middle: signals that arrive
// stay queued, none is lost. Close puts mask and registers back.
// Preconditions:
//   - tid is in a ptrace stop reached through SeizeStop, Wait (a new child's
//     first stop) or an earlier Session, not in a syscall-entry-stop.
func (t *Tracer) NewSession(tid int, insn uint64) (*Session, error) {
	s := &Session{t: t, tid: tid, insn: insn}
	err := t.Do(func() error {
		st, ok := t.known(tid)
		if !ok {
			st.opts = -1 // attached through Do, say
		}
		var err error
		if s.saved, err = getRegs(tid); err != nil {
			return err
		}
		if s.savedMask, err = getSigmask(tid); err != nil {
			return err
		}
		// Syscall stops must be told from signal stops.
		if st.opts == -1 || st.opts&unix.PTRACE_O_TRACESYSGOOD == 0 {
			opts := unix.PTRACE_O_TRACESYSGOOD
			if st.opts != -1 {
				opts |= st.opts
			}
			if err := t.setOptions(tid, opts); err != nil {
				return err
			}
		}
		if st.stop == stopSignal {
			// Our first PTRACE_SYSCALL will swallow it.
			t.recordSignal(tid, st.stopSig)
		}
		return setSigmask(tid, ^uint64(0))
	})
	if err != nil {
		return nil, fmt.Errorf("start injecting into task %d: %w", tid, err)
	}
	return s, nil
}

// SetInsn changes the address of the syscall instruction used from now on.
func (s *Session) SetInsn(addr uint64) { s.insn = addr }

// UseTrampoline makes the session's syscalls run from a trampoline written
// at addr, TrampolineSize bytes of the task's memory that are the session's
// alone (mapped by an earlier injected syscall; /proc/PID/mem writes them
// whatever their protection): if ckpt dies while a syscall is injected, the
// thread goes back to where it was instead of running on with our
// registers. See trampoline.
func (s *Session) UseTrampoline(addr uint64) error {
	if err := WriteMem(s.tid, addr, trampoline(s.saved, s.savedMask)); err != nil {
		return fmt.Errorf("trampoline for task %d: %w", s.tid, err)
	}
	s.insn = addr
	return nil
}

// LastChild returns the task created by the last Syscall, a fork, vfork or
// clone, or 0 if that call created none. The kernel attached it to the Tracer; it starts
// in a PTRACE_EVENT_STOP that Wait or SeizeStop collects.
func (s *Session) LastChild() int { return s.lastChild }

// Saved returns the registers saved by NewSession.
func (s *Session) Saved() kernel.Regs { return s.saved }

// Syscall runs system call nr with args in the thread and returns its
// result; a result in [-4095, -1] becomes a *SyscallError. The thread is
// taken from syscall-entry-stop to syscall-exit-stop and left there, so no
// user code runs, even if the syscall unmaps the instruction it ran from.
// A CLONE_VFORK child would keep the exit-stop from coming until it execs or
// exits: do not inject vfork.
func (s *Session) Syscall(nr uintptr, args ...uintptr) (uintptr, error) {
	if s.closed {
		return 0, fmt.Errorf("injected syscall %d in task %d: session closed", nr, s.tid)
	}
	var ret uint64
	s.lastChild = 0
	injectedSyscalls.Add(1)
	err := s.t.Do(func() error {
		r := s.saved
		r.SetSyscall(nr, args...)
		r.SetPC(s.insn)
		if err := setRegs(s.tid, &r); err != nil {
			return err
		}
		s.resumed = true
		var err error
		ret, err = s.t.runSyscall(s)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("injected syscall %d in task %d: %w", nr, s.tid, err)
	}
	if r := int64(ret); r < 0 && r >= -4095 {
		return 0, &SyscallError{Tid: s.tid, Nr: nr, Errno: unix.Errno(-r)}
	}
	return uintptr(ret), nil
}

// runSyscall steps the thread through the syscall its registers hold and
// returns rax at syscall-exit-stop.
// Preconditions:
//   - must run on the tracer thread;
//   - the registers are loaded and the thread is in a ptrace stop that is
//     not a syscall-entry-stop.
func (t *Tracer) runSyscall(s *Session) (uint64, error) {
	entered := false
	signals := 0
	for {
		if err := t.cont(s.tid, unix.PTRACE_SYSCALL, 0); err != nil {
			return 0, err
		}
		ws, err := wait4(s.tid)
		if err != nil {
			return 0, goneErr("wait for", s.tid, os.NewSyscallError("wait4", err))
		}
		t.observe(s.tid, ws)
		if ws.Exited() || ws.Signaled() {
			return 0, goneErr("run syscall in", s.tid, nil)
		}
		if !ws.Stopped() {
			continue
		}
		kind, sig := classify(ws)
		switch ev := event(ws); {
		case kind == stopSyscall && !entered:
			entered = true
		case kind == stopSyscall:
			r, err := getRegs(s.tid)
			return r.Rax, err
		case ev == unix.PTRACE_EVENT_FORK || ev == unix.PTRACE_EVENT_VFORK || ev == unix.PTRACE_EVENT_CLONE:
			s.lastChild = t.noteChild(s.tid)
		case ev == unix.PTRACE_EVENT_EXIT:
			return 0, goneErr("run syscall in", s.tid, nil)
		case kind == stopSignal:
			// Only what a full mask cannot hold back gets here (SIGSTOP, or
			// a signal forced on the thread); keep it for Detach. A fault
			// at the injected instruction would come back for ever.
			if signals++; signals > maxSettleSignals {
				return 0, fmt.Errorf("task %d: signal %d came %d times while a syscall was injected: the thread faults at %#x", s.tid, sig, signals, s.insn)
			}
			t.recordSignal(s.tid, sig)
		}
		// PTRACE_EVENT_STOP (a leftover interrupt, a group-stop), exec,
		// seccomp: not ours, carry on.
	}
}

// Close puts back the registers and signal mask NewSession saved.
func (s *Session) Close() error { return s.Finish(&s.saved) }

// Finish is Close with registers r instead of the saved ones. r go in as
// they are: registers that did not come from this thread should be passed
// through kernel.Regs.FixupRestart first.
//
// After an injected syscall the thread sits in syscall-exit-stop. The
// registers saved by NewSession may describe a syscall interrupted with
// -ERESTART*, which the kernel completes only when it passes through signal
// handling on the way back to user space (arch/x86/kernel/signal.c:
// arch_do_signal_or_restart()). PTRACE_DETACH happens to force that pass
// (kernel/ptrace.c: __ptrace_unlink() kicks the task with TIF_SIGPENDING),
// PTRACE_CONT does not. So Finish interrupts the thread and lets it run into
// the PTRACE_EVENT_STOP that signal handling reports: the thread is then in
// the same kind of stop SeizeStop left it in, and however it is resumed the
// kernel restarts (or fails with EINTR, or hands to a signal handler) the
// interrupted syscall exactly as it would have without us.
func (s *Session) Finish(r *kernel.Regs) error {
	err := s.t.Do(func() error {
		if err := setRegs(s.tid, r); err != nil {
			return err
		}
		if err := setSigmask(s.tid, s.savedMask); err != nil {
			return err
		}
		if !s.resumed {
			return nil
		}
		if err := s.t.interruptGone(s.tid); err != nil {
			return err
		}
		if err := s.t.cont(s.tid, unix.PTRACE_CONT, 0); err != nil {
			return err
		}
		if err := s.t.settle(s.tid); err != nil {
			return err
		}
		s.resumed = false
		return nil
	})
	s.closed = true
	if err != nil {
		return fmt.Errorf("end injection into task %d: %w", s.tid, err)
	}
	return nil
}
