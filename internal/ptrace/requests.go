package ptrace

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/internal/kernel"
)

// Seize attaches to tid with PTRACE_SEIZE and the given PTRACE_O_* options,
// without stopping it.
func (t *Tracer) Seize(tid int, opts int) error {
	return t.Do(func() error { return t.seize(tid, opts) })
}

// seize also tells "the task is exiting" apart from other refusals: the
// kernel answers EPERM both for a zombie and for a task someone else traces
// (kernel/ptrace.c: ptrace_attach()).
func (t *Tracer) seize(tid int, opts int) error {
	_, err := ptrace(unix.PTRACE_SEIZE, tid, 0, uintptr(opts))
	if err != nil {
		if errors.Is(err, unix.ESRCH) || (errors.Is(err, unix.EPERM) && exiting(tid)) {
			return goneErr("seize", tid, ptraceErr("PTRACE_SEIZE", tid, err))
		}
		return ptraceErr("PTRACE_SEIZE", tid, err)
	}
	t.mu.Lock()
	t.tasks[tid] = &task{opts: opts}
	t.mu.Unlock()
	return nil
}

// Interrupt asks a seized tid to enter a PTRACE_EVENT_STOP; Wait reports it.
func (t *Tracer) Interrupt(tid int) error {
	return t.Do(func() error { return interrupt(tid) })
}

func interrupt(tid int) error {
	if _, err := ptrace(unix.PTRACE_INTERRUPT, tid, 0, 0); err != nil {
		return ptraceErr("PTRACE_INTERRUPT", tid, err)
	}
	return nil
}

// GetRegs reads tid's general-purpose registers.
func (t *Tracer) GetRegs(tid int) (kernel.Regs, error) {
	var r kernel.Regs
	err := t.Do(func() (err error) {
		r, err = getRegs(tid)
		return err
	})
	return r, err
}

// SetRegs writes tid's general-purpose registers.
func (t *Tracer) SetRegs(tid int, r *kernel.Regs) error {
	return t.Do(func() error { return setRegs(tid, r) })
}

// GetXState reads tid's XSAVE area (x87, SSE, AVX, ... state) in the
// standard format, as long as the kernel says it is.
func (t *Tracer) GetXState(tid int) ([]byte, error) {
	size := kernel.XStateSize()
	if size == 0 {
		return nil, fmt.Errorf("read xstate of task %d: the kernel does not use XSAVE: %w", tid, errors.ErrUnsupported)
	}
	b := make([]byte, size)
	var n int
	err := t.Do(func() (err error) {
		n, err = getRegset(tid, unix.NT_X86_XSTATE, b)
		return err
	})
	if err != nil {
		return nil, ptraceErr("PTRACE_GETREGSET NT_X86_XSTATE", tid, err)
	}
	return b[:n], nil
}

// SetXState loads an XSAVE area read by GetXState into tid.
func (t *Tracer) SetXState(tid int, b []byte) error {
	if len(b) == 0 {
		return fmt.Errorf("set xstate of task %d: empty buffer: %w", tid, unix.EINVAL)
	}
	err := t.Do(func() error { return setRegset(tid, unix.NT_X86_XSTATE, b) })
	if err != nil {
		return ptraceErr(fmt.Sprintf("PTRACE_SETREGSET NT_X86_XSTATE, %d bytes", len(b)), tid, err)
	}
	return nil
}

// GetSigmask reads tid's blocked-signal mask (bit n-1 is signal n).
func (t *Tracer) GetSigmask(tid int) (uint64, error) {
	var m uint64
	err := t.Do(func() (err error) {
		m, err = getSigmask(tid)
		return err
	})
	return m, err
}

// SetSigmask sets tid's blocked-signal mask. The kernel drops SIGKILL and
// SIGSTOP from it.
func (t *Tracer) SetSigmask(tid int, mask uint64) error {
	return t.Do(func() error { return setSigmask(tid, mask) })
}

// PeekSiginfo returns every signal queued for tid, in queue order: the
// thread's own queue, or with shared the queue of its whole thread group.
// The signals stay queued.
func (t *Tracer) PeekSiginfo(tid int, shared bool) ([]kernel.Siginfo, error) {
	var out []kernel.Siginfo
	err := t.Do(func() error {
		args := kernel.PeekSiginfoArgs{Nr: 32}
		if shared {
			args.Flags = unix.PTRACE_PEEKSIGINFO_SHARED
		}
		buf := make([]kernel.Siginfo, args.Nr)
		for {
			n, err := peekSiginfo(tid, &args, buf)
			if err != nil {
				return err
			}
			if n == 0 {
				return nil
			}
			out = append(out, buf[:n]...)
			args.Off += uint64(n)
		}
	})
	return out, err
}

// RseqConfig returns tid's rseq registration (all zero if none).
func (t *Tracer) RseqConfig(tid int) (kernel.RseqConfig, error) {
	var c kernel.RseqConfig
	err := t.Do(func() (err error) {
		c, err = rseqConfig(tid)
		return err
	})
	return c, err
}

// SetOptions replaces tid's PTRACE_O_* options.
func (t *Tracer) SetOptions(tid int, opts int) error {
	return t.Do(func() error { return t.setOptions(tid, opts) })
}

func (t *Tracer) setOptions(tid int, opts int) error {
	if _, err := ptrace(unix.PTRACE_SETOPTIONS, tid, 0, uintptr(opts)); err != nil {
		return ptraceErr("PTRACE_SETOPTIONS", tid, err)
	}
	t.update(tid, func(st *task) { st.opts = opts })
	return nil
}

// Cont resumes tid, delivering sig if tid is in a signal-delivery-stop
// (0 suppresses the signal it stopped for).
func (t *Tracer) Cont(tid int, sig int) error {
	return t.Do(func() error { return t.cont(tid, unix.PTRACE_CONT, sig) })
}

func (t *Tracer) cont(tid int, req int, sig int) error {
	if _, err := ptrace(req, tid, 0, uintptr(sig)); err != nil {
		name := "PTRACE_CONT"
		if req == unix.PTRACE_SYSCALL {
			name = "PTRACE_SYSCALL"
		}
		return ptraceErr(name, tid, err)
	}
	t.setRunning(tid)
	return nil
}
