package image

// Sighand (SIGHAND, type 105, object) is a signal handler table, possibly
// shared by several tasks (CLONE_SIGHAND).
type Sighand struct {
	Objref  uint32      `ckpt:"objref"`
	Actions []Sigaction // index i is signal i+1
}

// Sigaction is the kernel struct sigaction as rt_sigaction(2) sees it on
// x86_64 (arch/x86/include/uapi/asm/signal.h with the kernel's sa_mask of
// one u64): handler, flags, restorer, mask.
type Sigaction struct {
	Handler  uint64
	Flags    uint64
	Restorer uint64
	Mask     uint64
}

// SigPending (SIGPENDING, type 106) is one queue of pending signals.
type SigPending struct {
	Tid   int32 // 0: the process-wide (shared) queue
	Infos []Siginfo
}

// Siginfo is one queued siginfo_t as PTRACE_PEEKSIGINFO returns it.
type Siginfo [SiginfoLen]byte

func (*Sighand) Type() Type    { return TypeSighand }
func (*SigPending) Type() Type { return TypeSigPending }
