package ptrace

import (
	"encoding/binary"

	"github.com/ckpt/ckpt/internal/kernel"
)

// TrampolineSize is the room one session's trampoline takes in the task.
const TrampolineSize = 512

// trampoline is the code an injected syscall runs from when the session has
// one (UseTrampoline): the syscall instruction, then what a thread that
// was left there by a tracer that died must do to go back to where it was:
// restore the signal mask the session blocked, the flags, every general
// register and the instruction pointer. While the tracer lives, the thread
// never runs past the syscall (it stops at syscall exit and the tracer
// puts its registers back); the rest only runs if ckpt is killed with a
// syscall injected, when the kernel detaches the thread with our registers
// (kernel/ptrace.c: exit_ptrace()). The registers restored are the ones the
// session found, with an interrupted syscall set to restart as the kernel
// would (kernel.Regs.FixupRestart). The FPU and vector state is never
// touched by an injected syscall, so it needs nothing.
//
// Layout: code, then at trampData the data it reads (rip-relative): the
// signal mask, rsp, rflags, rax, rbx, rcx, rdx, rsi, rdi, rbp, r8-r15, rip.
func trampoline(r kernel.Regs, mask uint64) []byte {
	r.FixupRestart()
	var c []byte
	// ref appends an instruction whose last 4 bytes are a rip-relative
	// displacement to data slot i (the displacement counts from the end
	// of the instruction).
	ref := func(op []byte, i int) {
		c = append(c, op...)
		end := len(c) + 4
		c = binary.LittleEndian.AppendUint32(c, uint32(int32(trampData+8*i-end)))
	}
	c = append(c, 0x0f, 0x05)                   // syscall: the injected one
	c = append(c, 0xb8, 0x0e, 0x00, 0x00, 0x00) // mov eax, 14 (rt_sigprocmask)
	c = append(c, 0xbf, 0x02, 0x00, 0x00, 0x00) // mov edi, 2 (SIG_SETMASK)
	ref([]byte{0x48, 0x8d, 0x35}, 0)            // lea rsi, [rip+mask]
	c = append(c, 0x31, 0xd2)                   // xor edx, edx
	c = append(c, 0x41, 0xba, 0x08, 0, 0, 0)    // mov r10d, 8
	c = append(c, 0x0f, 0x05)                   // syscall
	ref([]byte{0x48, 0x8b, 0x25}, 1)            // mov rsp, [rip+rsp]
	// The flags go through the stack, below the red zone the interrupted
	// code may be using; lea changes no flag.
	c = append(c, 0x48, 0x8d, 0xa4, 0x24, 0x00, 0xff, 0xff, 0xff) // lea rsp, [rsp-256]
	ref([]byte{0xff, 0x35}, 2)                                    // push qword [rip+rflags]
	c = append(c, 0x9d)                                           // popfq
	c = append(c, 0x48, 0x8d, 0xa4, 0x24, 0x00, 0x01, 0x00, 0x00) // lea rsp, [rsp+256]
	// mov REG, [rip+slot]: REX.W (REX.R for r8-r15), 8b, modrm 00 reg 101.
	for i, reg := range []byte{0, 3, 1, 2, 6, 7, 5} { // rax rbx rcx rdx rsi rdi rbp
		ref([]byte{0x48, 0x8b, reg<<3 | 5}, 3+i)
	}
	for i := range 8 { // r8-r15
		ref([]byte{0x4c, 0x8b, byte(i)<<3 | 5}, 10+i)
	}
	ref([]byte{0xff, 0x25}, 18) // jmp qword [rip+rip]
	if len(c) > trampData {
		panic("ptrace: trampoline code overruns its data")
	}
	c = append(c, make([]byte, trampData-len(c))...)
	for _, v := range []uint64{mask, r.Rsp, r.Eflags, r.Rax, r.Rbx, r.Rcx, r.Rdx, r.Rsi, r.Rdi, r.Rbp,
		r.R8, r.R9, r.R10, r.R11, r.R12, r.R13, r.R14, r.R15, r.Rip} {
		c = binary.LittleEndian.AppendUint64(c, v)
	}
	return c
}

// trampData is where the trampoline's data starts, after its code.
const trampData = 256
