package kernel

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// Regs is the general-purpose register set of a thread, as PTRACE_GETREGS
// and NT_PRSTATUS give it.
// From arch/x86/include/asm/user_64.h (struct user_regs_struct).
type Regs unix.PtraceRegs

// NumRegs is the number of 64-bit words in struct user_regs_struct.
const NumRegs = 27

// PC returns the instruction pointer (rip).
func (r Regs) PC() uint64 { return r.Rip }

// SetPC sets the instruction pointer (rip).
func (r *Regs) SetPC(pc uint64) { r.Rip = pc }

// SP returns the stack pointer (rsp).
func (r Regs) SP() uint64 { return r.Rsp }

// SyscallNo returns orig_rax: the number of the syscall the thread is in,
// or -1 if it did not stop inside a syscall.
func (r Regs) SyscallNo() int64 { return int64(r.Orig_rax) }

// Ret returns rax, which holds a syscall's return value (or -errno) once it
// has run.
func (r Regs) Ret() int64 { return int64(r.Rax) }

// SetSyscall loads a syscall number and up to six arguments the way the
// x86_64 syscall ABI takes them (rdi rsi rdx r10 r8 r9). orig_rax is set to
// -1 so that, if the thread passes through signal handling before it
// executes the syscall instruction, the kernel does not mistake it for an
// interrupted syscall and apply its restart fix-up to our registers
// (arch/x86/kernel/signal.c: arch_do_signal_or_restart()).
func (r *Regs) SetSyscall(nr uintptr, args ...uintptr) {
	if len(args) > 6 {
		panic(fmt.Sprintf("kernel: syscall %d given %d arguments, x86_64 passes at most 6", nr, len(args)))
	}
	var a [6]uint64
	for i, v := range args {
		a[i] = uint64(v)
	}
	r.Rax = uint64(nr)
	r.Orig_rax = ^uint64(0)
	r.Rdi, r.Rsi, r.Rdx, r.R10, r.R8, r.R9 = a[0], a[1], a[2], a[3], a[4], a[5]
}

// Array returns the registers in struct user_regs_struct order (r15 r14 r13
// r12 rbp rbx r11 r10 r9 r8 rax rcx rdx rsi rdi orig_rax rip cs eflags rsp ss
// fs_base gs_base ds es fs gs), the order the image stores them in.
func (r Regs) Array() [NumRegs]uint64 {
	return [NumRegs]uint64{
		r.R15, r.R14, r.R13, r.R12, r.Rbp, r.Rbx, r.R11, r.R10, r.R9, r.R8,
		r.Rax, r.Rcx, r.Rdx, r.Rsi, r.Rdi, r.Orig_rax, r.Rip, r.Cs, r.Eflags,
		r.Rsp, r.Ss, r.Fs_base, r.Gs_base, r.Ds, r.Es, r.Fs, r.Gs,
	}
}

// RegsFromArray is the inverse of Regs.Array.
func RegsFromArray(a [NumRegs]uint64) Regs {
	return Regs{
		R15: a[0], R14: a[1], R13: a[2], R12: a[3], Rbp: a[4], Rbx: a[5],
		R11: a[6], R10: a[7], R9: a[8], R8: a[9], Rax: a[10], Rcx: a[11],
		Rdx: a[12], Rsi: a[13], Rdi: a[14], Orig_rax: a[15], Rip: a[16],
		Cs: a[17], Eflags: a[18], Rsp: a[19], Ss: a[20], Fs_base: a[21],
		Gs_base: a[22], Ds: a[23], Es: a[24], Fs: a[25], Gs: a[26],
	}
}

// FixupRestart rewrites the registers of a thread that was stopped inside
// an interrupted syscall the way the kernel would when it returns to user
// space without running a signal handler (arch/x86/kernel/signal.c,
// arch_do_signal_or_restart()): the syscall instruction (2 bytes, 0f 05) is
// executed again with its original number.
//
// -ERESTART_RESTARTBLOCK is the exception. The kernel resumes such a call
// (nanosleep, clock_nanosleep, futex wait, poll with a timeout) through
// restart_syscall(2), which reads current->restart_block: state kept in the
// kernel's task_struct that no interface lets user space read or write. A
// restored task has a fresh, unrelated restart_block, so the call is made to
// fail with -EINTR instead, which every such syscall is allowed to return
// and callers must already handle.
//
// Use it on registers that will be loaded into a different task (restore).
// Registers put back into the task they were read from need no fix-up: the
// kernel applies its own on the way back to user space.
func (r *Regs) FixupRestart() {
	if int64(r.Orig_rax) < 0 {
		return
	}
	switch int64(r.Rax) {
	case -ERESTARTSYS, -ERESTARTNOINTR, -ERESTARTNOHAND:
		r.RewindSyscall()
	case -ERESTART_RESTARTBLOCK:
		r.Rax = ^uint64(unix.EINTR) + 1 // -EINTR
	}
}

// RewindSyscall sets a thread stopped after a syscall back onto its syscall
// instruction (2 bytes, 0f 05) with the syscall's number in rax, so that it
// makes the same call again when it resumes: what the kernel's restart
// fix-up does for -ERESTART* returns.
func (r *Regs) RewindSyscall() {
	r.Rax = r.Orig_rax
	r.Rip -= 2
}
