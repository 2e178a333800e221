package checkpoint

import (
	"encoding/binary"
	"fmt"

	"github.com/ckpt/ckpt/internal/kernel"
	"github.com/ckpt/ckpt/internal/ptrace"
)

// abortRseq does for a stopped thread what the kernel does when it
// preempts one inside an rseq critical section: move it to the section's
// abort handler. It must happen before anything is injected: returning to
// user space outside the section (at our syscall instruction) makes the
// kernel clear rseq_cs, and the thread would later resume mid-section with
// nothing to abort it.
//
// struct rseq (include/uapi/linux/rseq.h) holds at offset 8 a pointer to
// the current struct rseq_cs {u32 version, u32 flags, u64 start_ip,
// u64 post_commit_offset, u64 abort_ip}; the 4 bytes before abort_ip must
// hold the registered signature.
func abortRseq(tr *ptrace.Tracer, tid int, rseqAddr uint64, sig uint32, regs *kernel.Regs) (bool, error) {
	if rseqAddr == 0 {
		return false, nil
	}
	var ptr [8]byte
	if err := ptrace.ReadMem(tid, rseqAddr+8, ptr[:]); err != nil {
		return false, fmt.Errorf("read rseq area %#x: %w", rseqAddr, err)
	}
	csAddr := binary.LittleEndian.Uint64(ptr[:])
	if csAddr == 0 {
		return false, nil
	}
	var cs [32]byte
	if err := ptrace.ReadMem(tid, csAddr, cs[:]); err != nil {
		return false, fmt.Errorf("read rseq_cs %#x: %w", csAddr, err)
	}
	start := binary.LittleEndian.Uint64(cs[8:])
	length := binary.LittleEndian.Uint64(cs[16:])
	abort := binary.LittleEndian.Uint64(cs[24:])
	pc := regs.PC()
	if pc < start || pc-start >= length {
		return false, nil
	}
	var got [4]byte
	if err := ptrace.ReadMem(tid, abort-4, got[:]); err != nil {
		return false, fmt.Errorf("read rseq abort signature at %#x: %w", abort-4, err)
	}
	if binary.LittleEndian.Uint32(got[:]) != sig {
		return false, fmt.Errorf("rseq abort handler %#x lacks the registered signature", abort)
	}
	regs.SetPC(abort)
	if err := tr.SetRegs(tid, regs); err != nil {
		return false, err
	}
	return true, nil
}
