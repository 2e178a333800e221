package image

// Records of the tree's private IPC and network namespaces. They follow
// the PSTREE (and UTS), before the first TASK: restore builds the
// namespaces before it creates the tasks that live in them.

// IpcNs (IPC_NS, type 117) holds the limits of the tree's private IPC
// namespace, its /proc/sys/kernel files: restore sets them in the new
// namespace before it makes the objects (shm_rmid_forced last, once the
// tasks are attached). It comes before the first IPC object record.
type IpcNs struct {
	ShmMax        uint64 // shmmax
	ShmAll        uint64 // shmall
	ShmMni        uint32 // shmmni
	ShmRmidForced uint32 // shm_rmid_forced
	MsgMax        uint32 // msgmax
	MsgMnb        uint32 // msgmnb
	MsgMni        uint32 // msgmni
	SemMsl        uint32 // sem, 1st value
	SemMns        uint32 // sem, 2nd value
	SemOpm        uint32 // sem, 3rd value
	SemMni        uint32 // sem, 4th value
	Reserved      uint32
}

// IpcShm (IPC_SHM, type 111) is one System V shared memory segment of the
// tree's private IPC namespace (the first task has TaskFlagIpcns). The
// PAGES records right after it, up to the next record of another type,
// hold its contents, a run's address being an offset in the segment. VMAs
// of kind VmaSysvShm attach it by Id.
type IpcShm struct {
	Id       int32  // shmid, kept across restore
	Key      int32  // IPC_PRIVATE (0) for private segments; a removed one's is the key it had
	Mode     uint32 // permission bits | IpcShmDest | IpcShmLocked
	Uid      uint32
	Gid      uint32
	Cuid     uint32
	Cgid     uint32
	Reserved uint32
	Size     uint64 // shm_segsz, bytes
}

// IpcShm.Mode bits beyond the permissions (include/uapi/linux/shm.h).
const (
	IpcShmDest   uint32 = 0o1000 // SHM_DEST: removed, alive while attached
	IpcShmLocked uint32 = 0o2000 // SHM_LOCKED: SHM_LOCK was applied
	// IpcModeMask is the permission bits every IPC object's Mode holds.
	IpcModeMask uint32 = 0o777
)

// IpcSem (IPC_SEM, type 112) is one System V semaphore set of the tree's
// private IPC namespace, with the value of each semaphore.
type IpcSem struct {
	Id     int32
	Key    int32
	Mode   uint32 // permission bits
	Uid    uint32
	Gid    uint32
	Cuid   uint32
	Cgid   uint32
	Values []uint16 // semval of each semaphore: sem_nsems of them
}

// IpcMsg (IPC_MSG, type 113) is one System V message queue of the tree's
// private IPC namespace. NrMsgs IPC_MSG_DATA records follow it, the
// queued messages oldest first.
type IpcMsg struct {
	Id     int32
	Key    int32
	Mode   uint32 // permission bits
	Uid    uint32
	Gid    uint32
	Cuid   uint32
	Cgid   uint32
	NrMsgs uint32
	Qbytes uint64 // msg_qbytes, the queue's byte limit
}

// IpcMsgData (IPC_MSG_DATA, type 114) is one queued message of the
// IPC_MSG before it.
type IpcMsgData struct {
	Mtype int64 // > 0
	Data  []byte
}

// SemUndo (SEM_UNDO, type 115) is the undo adjustment (semadj) a task
// holds on one semaphore set of the private IPC namespace: what the
// kernel adds back to each semaphore when the task exits. It comes in the
// task's section, before its TASK_OBJS; a set with no adjustment has none.
type SemUndo struct {
	SemId int32
	Adj   []int16 // one per semaphore of the set
}

func (*IpcNs) Type() Type      { return TypeIpcNs }
func (*IpcShm) Type() Type     { return TypeIpcShm }
func (*IpcSem) Type() Type     { return TypeIpcSem }
func (*IpcMsg) Type() Type     { return TypeIpcMsg }
func (*IpcMsgData) Type() Type { return TypeIpcMsgData }
func (*SemUndo) Type() Type    { return TypeSemUndo }
