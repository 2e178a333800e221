package image

// Record types of format version 2.6: per-process kernel state that no
// earlier record holds.
const (
	TypeTaskProc    Type = 140
	TypeExitSignals Type = 141
)

// TaskProc (TASK_PROC, type 140) holds per-process settings kept by the
// kernel outside every other record: the OOM killer's adjustment, the
// audit login uid, the child-subreaper flag, membarrier registrations and
// the job-control stop, THP and KSM settings and the core dump filter of
// the mm, the I/O priority and timer slack of the leader. It follows the task's TASK_MISC. Images before 2.6
// have none; a restorer then leaves these settings as a new task has them.
type TaskProc struct {
	OomScoreAdj int32  // /proc/PID/oom_score_adj, -1000..1000
	LoginUid    uint32 // /proc/PID/loginuid; 4294967295 when unset
	Flags       uint32 // TaskProc* bits
	Membarrier  uint32 // MEMBARRIER_CMD_REGISTER_* commands the process's mm is registered for
	// CoredumpFilter is /proc/PID/coredump_filter (of the mm; 0 in a task
	// that shares its parent's).
	CoredumpFilter uint32
	// IoPrio is ioprio_get(IOPRIO_WHO_PROCESS) of the thread-group leader.
	IoPrio uint32
	// TimerSlackNs is the leader's timer slack (PR_GET_TIMERSLACK).
	TimerSlackNs uint64
}

// TaskProc.Flags bits.
const (
	// TaskProcSubreaper: prctl(PR_SET_CHILD_SUBREAPER) was set.
	TaskProcSubreaper uint32 = 1
	// TaskProcStopped: the process was in a job-control stop (SIGSTOP,
	// SIGTSTP...): restore leaves it stopped.
	TaskProcStopped uint32 = 2
	// TaskProcThpDisable: prctl(PR_SET_THP_DISABLE) was set on the mm
	// (not in a task that shares its parent's).
	TaskProcThpDisable uint32 = 4
	// TaskProcMemoryMerge: prctl(PR_SET_MEMORY_MERGE) was set on the mm:
	// KSM merges every mapping it can (not in a task that shares its
	// parent's).
	TaskProcMemoryMerge uint32 = 8
	// TaskProcAll is every bit defined.
	TaskProcAll = TaskProcSubreaper | TaskProcStopped | TaskProcThpDisable | TaskProcMemoryMerge
)

// TaskProc.Membarrier bits: the values of membarrier(2)'s registration
// commands (include/uapi/linux/membarrier.h), as MEMBARRIER_CMD_GET_REGISTRATIONS
// returns them.
const (
	MembarrierGlobalExpedited          uint32 = 1 << 2 // MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED
	MembarrierPrivateExpedited         uint32 = 1 << 4 // MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED
	MembarrierPrivateExpeditedSyncCore uint32 = 1 << 6 // ..._SYNC_CORE
	MembarrierPrivateExpeditedRseq     uint32 = 1 << 8 // ..._RSEQ
	MembarrierAll                             = MembarrierGlobalExpedited | MembarrierPrivateExpedited |
		MembarrierPrivateExpeditedSyncCore | MembarrierPrivateExpeditedRseq
)

func (*TaskProc) Type() Type { return TypeTaskProc }

// ExitSignals (EXIT_SIGNALS, type 141) lists the tasks whose exit signal,
// the signal their parent gets when they end (clone(2)'s exit_signal,
// /proc/PID/stat field 38), is not SIGCHLD: a parent waits for such a
// child only with __WCLONE or __WALL. It follows the PSTREE (and the
// SHARES), before the first TASK, and is left out when every task has
// SIGCHLD. The first task is never listed: its parent is outside.
type ExitSignals struct {
	Tasks []TaskExitSignal
}

// TaskExitSignal is one entry of EXIT_SIGNALS.
type TaskExitSignal struct {
	Pid    int32
	Signal uint32 // 0 (none) to 64
}

func (*ExitSignals) Type() Type { return TypeExitSignals }
