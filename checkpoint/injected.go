package checkpoint

import (
	"encoding/binary"
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
	"github.com/ckpt/ckpt/internal/addrspace"
	"github.com/ckpt/ckpt/internal/guard"
	"github.com/ckpt/ckpt/internal/proc"
	"github.com/ckpt/ckpt/internal/ptrace"
	"github.com/ckpt/ckpt/internal/remote"
)

const scratchSize = addrspace.PageSize

// collectInjected asks the task what only the task can answer, by running
// syscalls in it: signal handlers, interval timers, personality, parent
// death signal, dumpability, securebits, brk, POSIX timers, and per thread the
// clear_child_tid address and the alternate signal stack.
//
// The answers need a little memory in the task, so a scratch page is mapped
// in a hole far from every mapping (so it cannot merge with a neighbour)
// and unmapped again before memory is dumped. /proc/PID/maps was read
// before, so the page never shows up in the image.
func (d *dumper) collectInjected(p *process) error {
	return d.inject(p, func(leader *remote.Task, insn, addr uint64) error {
		return d.collectInjectedWith(p, leader, insn, addr)
	})
}

// inject runs fn with a remote view of p's leader that can run syscalls,
// and a scratch page mapped in the task for their arguments (at addr, away
// from every mapping, gone again when fn returns). insn is the task's
// syscall instruction, for other threads' remote views.
func (d *dumper) inject(p *process, fn func(rt *remote.Task, insn, addr uint64) error) (err error) {
	insn, err := syscallInsn(p.vmas)
	if err != nil {
		return unsupported(p.pid, "vdso", "%v", err)
	}
	// A page for arguments, then one for the trampolines (trampolines).
	addr := addrspace.FindGap(2*scratchSize, vmaRanges(p.vmas))
	if addr == 0 {
		return fmt.Errorf("no room for a scratch area in task %d", p.pid)
	}
	rt, err := remote.New(d.tr, p.pid, insn)
	if err != nil {
		return err
	}
	defer func() {
		rt.UseScratch(addr, 2*scratchSize) // all of it goes
		if cerr := rt.UnmapScratch(); cerr != nil && err == nil {
			err = cerr
		}
		if cerr := rt.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	if err := rt.MapScratch(addr, 2*scratchSize, unix.PROT_READ|unix.PROT_WRITE|unix.PROT_EXEC); err != nil {
		return err
	}
	rt.UseScratch(addr, scratchSize)
	if err := rt.UseTrampoline(trampolineOf(addr, 0)); err != nil {
		return err
	}
	return fn(rt, insn, addr)
}

// trampolineOf is the trampoline of session i in the scratch area at addr:
// the leader's is 0, another thread's (one at a time) 1. A session's
// trampoline holds the registers it must go back to, so two sessions open
// at once each need their own.
func trampolineOf(addr uint64, i int) uint64 {
	return addr + scratchSize + uint64(i)*ptrace.TrampolineSize
}

func (d *dumper) collectInjectedWith(p *process, leader *remote.Task, insn, addr uint64) (err error) {
	if p.shares&image.ShareSighand == 0 {
		if err := d.collectSighand(p, leader); err != nil {
			return fmt.Errorf("signal handlers: %w", err)
		}
	}
	if err := d.collectMisc(p, leader); err != nil {
		return err
	}
	if p.shares&image.ShareVM == 0 {
		if err := checkAioOwned(p, leader); err != nil {
			return err
		}
	}
	if err := d.collectTaskProc(p, leader); err != nil {
		return fmt.Errorf("process settings: %w", err)
	}
	if err := d.collectTimers(p, leader); err != nil {
		return fmt.Errorf("POSIX timers: %w", err)
	}
	for i, t := range p.threads {
		rt := leader
		if i > 0 {
			if rt, err = remote.New(d.tr, t.tid, insn); err != nil {
				return err
			}
			rt.UseScratch(addr, scratchSize)
			if err := rt.UseTrampoline(trampolineOf(addr, 1)); err != nil {
				rt.Close()
				return err
			}
		}
		err := collectThreadInjected(rt, t)
		if i > 0 {
			if cerr := rt.Close(); cerr != nil && err == nil {
				err = cerr
			}
		}
		if err != nil {
			return fmt.Errorf("thread %d: %w", t.tid, err)
		}
	}
	guard.Fault(faultInjected)
	return nil
}

// syscallInsn finds a syscall instruction in the task: the vDSO is the same
// in every process of this kernel, so its offset is learnt from our own.
func syscallInsn(vmas []proc.Vma) (uint64, error) {
	off, err := ptrace.VdsoSyscallOffset()
	if err != nil {
		return 0, err
	}
	for _, v := range vmas {
		if v.Path == "[vdso]" {
			return v.Start + off, nil
		}
	}
	return 0, fmt.Errorf("the process has no [vdso] mapping to run syscalls from")
}

func vmaRanges(vmas []proc.Vma) []addrspace.Range {
	r := make([]addrspace.Range, len(vmas))
	for i, v := range vmas {
		r[i] = addrspace.Range{Start: v.Start, End: v.End}
	}
	return r
}

func (d *dumper) collectSighand(p *process, rt *remote.Task) error {
	p.sighand.Objref = d.nextObjref()
	buf, err := rt.Alloc(32)
	if err != nil {
		return err
	}
	// Only the task knows a handler's address, flags and mask; /proc tells
	// which signals have one. The rest are at their default, where flags
	// and mask mean nothing, except SIGCHLD's SA_NOCLDSTOP/SA_NOCLDWAIT.
	// Asking only where it matters keeps the tasks stopped for less time.
	ask := p.status.SigCgt | p.status.SigIgn | 1<<(unix.SIGCHLD-1)
	for sig := 1; sig <= 64; sig++ {
		if ask&(1<<(sig-1)) == 0 {
			p.sighand.Actions = append(p.sighand.Actions, image.Sigaction{})
			continue
		}
		if _, err := rt.Syscall(unix.SYS_RT_SIGACTION, uintptr(sig), 0, uintptr(buf), 8); err != nil {
			return fmt.Errorf("rt_sigaction(%d): %w", sig, err)
		}
		w, err := rt.ReadU64s(buf, 4)
		if err != nil {
			return err
		}
		p.sighand.Actions = append(p.sighand.Actions, image.Sigaction{
			Handler: w[0], Flags: w[1], Restorer: w[2], Mask: w[3],
		})
	}
	rt.Reset()
	return nil
}

func (d *dumper) collectMisc(p *process, rt *remote.Task) error {
	defer rt.Reset()
	buf, err := rt.Alloc(32)
	if err != nil {
		return err
	}
	for which := range 3 {
		if _, err := rt.Syscall(unix.SYS_GETITIMER, uintptr(which), uintptr(buf)); err != nil {
			return fmt.Errorf("getitimer(%d): %w", which, err)
		}
		w, err := rt.ReadU64s(buf, 4)
		if err != nil {
			return err
		}
		p.misc.Itimers[which] = image.Itimer{
			IntervalSec: int64(w[0]), IntervalUsec: int64(w[1]),
			ValueSec: int64(w[2]), ValueUsec: int64(w[3]),
		}
	}
	pers, err := rt.Syscall(unix.SYS_PERSONALITY, 0xffffffff)
	if err != nil {
		return fmt.Errorf("personality: %w", err)
	}
	p.misc.Personality = uint32(pers)
	if _, err := rt.Syscall(unix.SYS_PRCTL, unix.PR_GET_PDEATHSIG, uintptr(buf)); err != nil {
		return fmt.Errorf("prctl(PR_GET_PDEATHSIG): %w", err)
	}
	var sig [4]byte
	if err := rt.Read(buf, sig[:]); err != nil {
		return err
	}
	p.misc.PdeathSig = binary.LittleEndian.Uint32(sig[:])
	dumpable, err := rt.Syscall(unix.SYS_PRCTL, unix.PR_GET_DUMPABLE)
	if err != nil {
		return fmt.Errorf("prctl(PR_GET_DUMPABLE): %w", err)
	}
	p.misc.Dumpable = uint32(dumpable)
	secbits, err := rt.Syscall(unix.SYS_PRCTL, unix.PR_GET_SECUREBITS)
	if err != nil {
		return fmt.Errorf("prctl(PR_GET_SECUREBITS): %w", err)
	}
	p.creds.Securebits = uint32(secbits)
	// /proc/PID/stat has start_brk but not the current break; brk(0)
	// returns it without changing anything.
	brk, err := rt.Syscall(unix.SYS_BRK, 0)
	if err != nil {
		return fmt.Errorf("brk(0): %w", err)
	}
	p.mm.Brk = uint64(brk)
	return nil
}

func collectThreadInjected(rt *remote.Task, t *thread) error {
	defer rt.Reset()
	buf, err := rt.Alloc(24)
	if err != nil {
		return err
	}
	if _, err := rt.Syscall(unix.SYS_PRCTL, unix.PR_GET_TID_ADDRESS, uintptr(buf)); err != nil {
		return fmt.Errorf("prctl(PR_GET_TID_ADDRESS): %w", err)
	}
	w, err := rt.ReadU64s(buf, 1)
	if err != nil {
		return err
	}
	t.rec.TidAddress = w[0]
	if _, err := rt.Syscall(unix.SYS_SIGALTSTACK, 0, uintptr(buf)); err != nil {
		return fmt.Errorf("sigaltstack: %w", err)
	}
	if w, err = rt.ReadU64s(buf, 3); err != nil {
		return err
	}
	// stack_t: ss_sp, ss_flags (int, padded), ss_size.
	t.rec.AltstackSp, t.rec.AltstackFlags, t.rec.AltstackSize = w[0], uint32(w[1]), w[2]
	return nil
}
