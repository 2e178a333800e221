package kernel

import "structs"

// From include/linux/signal_types.h (struct sigaction, kernel side, with
// __ARCH_HAS_SA_RESTORER) as rt_sigaction(2) reads and writes it on x86_64.
// It differs from glibc's struct sigaction: the mask is one u64 (_NSIG = 64)
// and comes last.
type KSigaction struct {
	_        structs.HostLayout
	Handler  uint64 // SIG_DFL (0), SIG_IGN (1) or a handler address
	Flags    uint64 // SA_*; x86_64 requires SA_RESTORER for user handlers
	Restorer uint64
	Mask     uint64
}

// From arch/x86/include/uapi/asm/signal.h (stack_t, x86_64), for
// sigaltstack(2).
type StackT struct {
	_     structs.HostLayout
	Sp    uint64
	Flags int32 // SS_ONSTACK, SS_DISABLE, SS_AUTODISARM
	_     [4]byte
	Size  uint64
}
