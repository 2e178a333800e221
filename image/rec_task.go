package image

// Task (TASK, type 100) starts the section of one process. The object
// records that follow, up to its TASK_OBJS, belong to it.
type Task struct {
	Pid       int32 // in the innermost pid namespace of the checkpointed set
	PPid      int32
	Pgid      int32
	Sid       int32
	Flags     uint32 // TaskFlag* bits
	State     uint32 // TaskAlive or TaskZombie
	ExitCode  int32  // zombies: the wait status
	NrThreads uint32
	Comm      [TaskCommLen]byte
}

// Task.Flags bits.
const (
	// TaskFlagPidnsInit: the task was pid 1 of its pid namespace.
	TaskFlagPidnsInit uint32 = 1
	// TaskFlagMntns: the task (the tree's first) had a mount namespace of
	// its own; restore gives it a new one, a copy of the restorer's, which
	// it turns into the one the MOUNT records after the PSTREE describe.
	TaskFlagMntns uint32 = 2
	// TaskFlagProcMount: in that namespace /proc was a proc mount (of the
	// task's pid namespace); restore mounts a fresh one there. Only images
	// without MOUNT records (format 2.2 and 2.3) have it.
	TaskFlagProcMount uint32 = 4
	// TaskFlagUtsns: the task (the tree's first) had a UTS namespace of its
	// own, described by the UTS record after the PSTREE.
	TaskFlagUtsns uint32 = 8
	// TaskFlagIpcns: the task (the tree's first) had an IPC namespace of
	// its own, whose objects the IPC_SHM, IPC_SEM and IPC_MSG records after
	// the PSTREE describe.
	TaskFlagIpcns uint32 = 16
	// TaskFlagNetns: the task (the tree's first) had a network namespace
	// of its own, described by the NETNS record after the PSTREE.
	TaskFlagNetns uint32 = 32
)

// Uts (UTS, type 110) is the host and domain name of the tree's private
// UTS namespace. It follows the PSTREE when the first task has
// TaskFlagUtsns.
type Uts struct {
	Hostname   string
	Domainname string
}

// Task.State values.
const (
	TaskAlive  uint32 = 0
	TaskZombie uint32 = 1
)

// Pstree (PSTREE, type 108) lists every task of the image, parents before
// their children, so that a restorer can create the whole tree before the
// first task's section arrives. Each live task then has a TASK section
// whose TASK record repeats its entry; zombies have no section.
type Pstree struct {
	Tasks []Task
}

// Shares (SHARES, type 130) lists the tasks that share a kernel object
// with their parent the way clone(2) flags made them: an address space, an
// fd table, an fs_struct, a table of signal handlers. It follows the
// PSTREE, before the first TASK, so that a restorer can give birth to each
// such task with the same clone flags. A task's section then leaves out
// what it shares: its TASK_OBJS names its parent's objects.
type Shares struct {
	Tasks []TaskShare
}

// TaskShare is one entry of SHARES.
type TaskShare struct {
	Pid   int32
	Flags uint32 // Share* bits
}

// TaskShare.Flags bits: the clone(2) flag values (include/uapi/linux/sched.h).
const (
	ShareVM      uint32 = 0x100 // CLONE_VM: the MM
	ShareFS      uint32 = 0x200 // CLONE_FS: the FS (cwd, root, umask)
	ShareFiles   uint32 = 0x400 // CLONE_FILES: the FILES
	ShareSighand uint32 = 0x800 // CLONE_SIGHAND: the SIGHAND; needs ShareVM
	ShareAll            = ShareVM | ShareFS | ShareFiles | ShareSighand
)

// Sched (SCHED, type 109) is one thread's scheduling: policy, nice,
// real-time priority, deadline parameters (sched_getattr(2)) and CPU
// affinity. It follows the thread's THREAD record.
type Sched struct {
	Tid      int32
	Policy   uint32
	Flags    uint64 // sched_flags
	Nice     int32
	Priority uint32
	Runtime  uint64 // SCHED_DEADLINE, in ns
	Deadline uint64
	Period   uint64
	Affinity []uint64 // CPU mask, CPU n is bit n%64 of word n/64
}

// TaskObjs (TASK_OBJS, type 101) ends the object section of a task and
// names the shared objects it uses.
type TaskObjs struct {
	Mm      uint32 `ckpt:"ref"`
	Files   uint32 `ckpt:"ref"`
	Fs      uint32 `ckpt:"ref"`
	Sighand uint32 `ckpt:"ref"`
}

// Creds (CREDS, type 102) holds the task's credentials.
type Creds struct {
	Uid, Euid, Suid, Fsuid uint32
	Gid, Egid, Sgid, Fsgid uint32
	CapInh                 uint64
	CapPrm                 uint64
	CapEff                 uint64
	CapBnd                 uint64
	CapAmb                 uint64
	Securebits             uint32
	NoNewPrivs             uint32
	Groups                 []uint32
}

// TaskMisc (TASK_MISC, type 103) holds per-process settings that fit no
// other record.
type TaskMisc struct {
	Personality uint32
	Umask       uint32
	PdeathSig   uint32
	Dumpable    uint32
	Itimers     [3]Itimer // ITIMER_REAL, ITIMER_VIRTUAL, ITIMER_PROF
}

// Itimer is one interval timer as getitimer(2) returns it.
type Itimer struct {
	IntervalSec  int64
	IntervalUsec int64
	ValueSec     int64
	ValueUsec    int64
}

// Rlimits (RLIMITS, type 104) holds the resource limits, indexed by
// RLIMIT_* number.
type Rlimits struct {
	Limits []Rlimit
}

// Rlimit is one limit as prlimit(2) returns it.
type Rlimit struct {
	Cur uint64
	Max uint64
}

// Thread (THREAD, type 107) is one thread, written after the task's
// TASK_OBJS; the first THREAD of a task is its thread-group leader.
type Thread struct {
	Tid           int32
	Flags         uint32                // none defined in v1
	Regs          [UserRegsWords]uint64 // struct user_regs_struct, arch/x86/include/asm/user_64.h order
	Sigmask       uint64
	TidAddress    uint64 // clear_child_tid
	RobustList    uint64
	RobustListLen uint64
	RseqAddr      uint64
	RseqLen       uint32
	RseqSig       uint32
	AltstackSp    uint64
	AltstackSize  uint64
	AltstackFlags uint32
	Reserved      uint32
	Comm          [TaskCommLen]byte // /proc/PID/task/TID/comm; the leader's is also in TASK
	XState        []byte            // NT_X86_XSTATE regset
}

func (*Task) Type() Type     { return TypeTask }
func (*Pstree) Type() Type   { return TypePstree }
func (*Sched) Type() Type    { return TypeSched }
func (*Uts) Type() Type      { return TypeUts }
func (*TaskObjs) Type() Type { return TypeTaskObjs }
func (*Shares) Type() Type   { return TypeShares }
func (*Creds) Type() Type    { return TypeCreds }
func (*TaskMisc) Type() Type { return TypeTaskMisc }
func (*Rlimits) Type() Type  { return TypeRlimits }
func (*Thread) Type() Type   { return TypeThread }
