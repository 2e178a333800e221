package kernel

import "structs"

// From include/uapi/linux/sched.h (struct clone_args, CLONE_ARGS_SIZE_VER2).
// Pointers are carried as u64 addresses in the target task.
type CloneArgs struct {
	_          structs.HostLayout
	Flags      uint64
	Pidfd      uint64 // address of an int the kernel fills with a pidfd (CLONE_PIDFD)
	ChildTid   uint64
	ParentTid  uint64
	ExitSignal uint64
	Stack      uint64 // lowest address of the stack area, not its top
	StackSize  uint64
	TLS        uint64
	SetTid     uint64 // address of a pid_t array, innermost pid namespace last
	SetTidSize uint64
	Cgroup     uint64 // cgroup2 directory fd, with CLONE_INTO_CGROUP
}

// From include/uapi/linux/prctl.h (struct prctl_mm_map), for
// prctl(PR_SET_MM, PR_SET_MM_MAP, &map, sizeof(map), 0).
type PrctlMmMap struct {
	_          structs.HostLayout
	StartCode  uint64
	EndCode    uint64
	StartData  uint64
	EndData    uint64
	StartBrk   uint64
	Brk        uint64
	StartStack uint64
	ArgStart   uint64
	ArgEnd     uint64
	EnvStart   uint64
	EnvEnd     uint64
	Auxv       uint64 // address of the auxv array in the calling task
	AuxvSize   uint32 // in bytes
	ExeFd      uint32 // fd in the calling task, or -1 as uint32 to keep exe
}

// From include/uapi/linux/ptrace.h (struct ptrace_rseq_configuration),
// filled by PTRACE_GET_RSEQ_CONFIGURATION.
type RseqConfig struct {
	_              structs.HostLayout
	RseqAbiPointer uint64
	RseqAbiSize    uint32
	Signature      uint32
	Flags          uint32
	_              uint32
}

// From include/uapi/linux/ptrace.h (struct ptrace_peeksiginfo_args), the
// argument of PTRACE_PEEKSIGINFO.
type PeekSiginfoArgs struct {
	_     structs.HostLayout
	Off   uint64 // index of the first queued siginfo to copy
	Flags uint32 // 0 or unix.PTRACE_PEEKSIGINFO_SHARED
	Nr    int32  // how many to copy at most
}

// Kernel-internal return codes a syscall leaves in rax when it was
// interrupted by a signal and may be restarted. User space never sees them
// unless it looks at a stopped task's registers, as a tracer does.
// From include/linux/errno.h.
const (
	ERESTARTSYS           = 512
	ERESTARTNOINTR        = 513
	ERESTARTNOHAND        = 514 // restart only if no handler runs
	ERESTART_RESTARTBLOCK = 516 // restart through restart_syscall(2) and current->restart_block
)

// PF_KTHREAD is the task flag, shown in /proc/PID/stat's flags field, of a
// kernel thread. From include/linux/sched.h.
const PF_KTHREAD = 0x00200000
