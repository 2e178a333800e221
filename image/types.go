package image

import (
	"fmt"
	"reflect"
)

// Format constants. Each has exactly one definition, here.
const (
	MagicHead uint64 = 0x00feed0cc0a2d200
	MagicTail uint64 = 0x002d2a0cc0deef00

	VersionMajor uint16 = 3
	VersionMinor uint16 = 1
	// OldestMajor is the oldest Major this reader also reads: 3.0 gave
	// existing fields new values (VMA Madv and Flags bits) that a 2.x
	// reader would ignore, so 2.x readers must refuse 3.x images; no 2.x
	// image means anything else to a 3.x reader.
	OldestMajor uint16 = 2

	PageSize          = 4096
	PageShift         = 12
	MaxPagesPerRecord = 16384

	ArchAMD64 uint16 = 1

	// SkippableTypes starts the range of record types a reader that does
	// not know them skips instead of refusing the image.
	SkippableTypes Type = 0x80000000

	// MaxRecordLen bounds len for every record: a PAGES record of
	// MaxPagesPerRecord pages plus its fields and alignment padding.
	MaxRecordLen = MaxPagesPerRecord*PageSize + 8192
	// MaxPlainRecordLen bounds len for every record except PAGES, so a
	// reader never buffers more than this for one record.
	MaxPlainRecordLen = 1 << 20

	// recordHeaderLen is the {type u32, len u32} prefix of every record.
	recordHeaderLen = 8
	// recordAlign is the stream alignment of every record start.
	recordAlign = 8
)

// Type is a record type number. Numbers are never reused.
type Type uint32

// Record types of format version 1.
const (
	TypeHeader     Type = 1
	TypeTail       Type = 2
	TypeError      Type = 3
	TypeTask       Type = 100
	TypeTaskObjs   Type = 101
	TypeCreds      Type = 102
	TypeTaskMisc   Type = 103
	TypeRlimits    Type = 104
	TypeSighand    Type = 105
	TypeSigPending Type = 106
	TypeThread     Type = 107
	TypePstree     Type = 108
	TypeSched      Type = 109
	TypeUts        Type = 110
	TypeIpcShm     Type = 111
	TypeIpcSem     Type = 112
	TypeIpcMsg     Type = 113
	TypeIpcMsgData Type = 114
	TypeSemUndo    Type = 115
	TypeNetns      Type = 116
	TypeIpcNs      Type = 117
	TypeShares     Type = 130
	TypeFs         Type = 300
	TypeFiles      Type = 301
	TypeFd         Type = 302
	TypeRegFile    Type = 303
	TypeExtFile    Type = 304
	TypeEventFd    Type = 305
	TypeEpoll      Type = 306
	TypePipe       Type = 307
	TypePipeData   Type = 308
	TypeFifo       Type = 309
	TypeMemfdFile  Type = 310
	TypeMm         Type = 400
	TypeVma        Type = 401
	TypePages      Type = 402
	TypeShmem      Type = 403
	TypeMount      Type = 500
	TypeTmpfsFile  Type = 501
	TypeTmpfsData  Type = 502

	TypeStats Type = SkippableTypes + 1
)

// Record types of format version 2.4: POSIX timers and seccomp.
const (
	TypePosixTimers   Type = 120
	TypeSeccompFilter Type = 121
	TypeSeccomp       Type = 122
)

// Record types of format version 2.5: more kinds of files, file locks,
// sockets.
const (
	TypeTimerFd      Type = 311
	TypeSignalFd     Type = 312
	TypeInotify      Type = 313
	TypeInotifyWatch Type = 314
	TypePidFd        Type = 315
	TypeDeletedFile  Type = 316
	TypeDeletedData  Type = 317
	TypeDeletedOpen  Type = 318
	TypeFileOwner    Type = 319
	TypeFileLock     Type = 340
	TypeUnixSk       Type = 320
	TypeUnixQueue    Type = 321
	TypeTty          Type = 350
	TypeTtyData      Type = 351
	TypeTtyFile      Type = 352
	TypeInetSocket   Type = 330
	TypeTcpStream    Type = 331
	TypeTcpQueue     Type = 332
	TypeContainer    Type = 600
)

// Record is the payload of one record. Every record type is a struct
// used through a pointer (*Header, *Vma...).
type Record interface{ Type() Type }

// typeInfo is one row of the registry.
type typeInfo struct {
	typ       Type
	name      string
	new       func() Record
	skippable bool // must equal typ >= SkippableTypes; checked at init
	retired   bool // kept so the number is never reused; readers refuse it
}

// registry lists every record type ever defined. docs/image-format.md has
// one section per row (doc_test.go checks it).
var registry = []typeInfo{
	{typ: TypeHeader, name: "HEADER", new: func() Record { return new(Header) }},
	{typ: TypeTail, name: "TAIL", new: func() Record { return new(Tail) }},
	{typ: TypeError, name: "ERROR", new: func() Record { return new(Error) }},
	{typ: TypeTask, name: "TASK", new: func() Record { return new(Task) }},
	{typ: TypeTaskObjs, name: "TASK_OBJS", new: func() Record { return new(TaskObjs) }},
	{typ: TypeCreds, name: "CREDS", new: func() Record { return new(Creds) }},
	{typ: TypeTaskMisc, name: "TASK_MISC", new: func() Record { return new(TaskMisc) }},
	{typ: TypeRlimits, name: "RLIMITS", new: func() Record { return new(Rlimits) }},
	{typ: TypeTaskProc, name: "TASK_PROC", new: func() Record { return new(TaskProc) }},
	{typ: TypeExitSignals, name: "EXIT_SIGNALS", new: func() Record { return new(ExitSignals) }},
	{typ: TypeSighand, name: "SIGHAND", new: func() Record { return new(Sighand) }},
	{typ: TypeSigPending, name: "SIGPENDING", new: func() Record { return new(SigPending) }},
	{typ: TypeThread, name: "THREAD", new: func() Record { return new(Thread) }},
	{typ: TypePstree, name: "PSTREE", new: func() Record { return new(Pstree) }},
	{typ: TypeSched, name: "SCHED", new: func() Record { return new(Sched) }},
	{typ: TypeUts, name: "UTS", new: func() Record { return new(Uts) }},
	{typ: TypeShares, name: "SHARES", new: func() Record { return new(Shares) }},
	{typ: TypePosixTimers, name: "POSIX_TIMERS", new: func() Record { return new(PosixTimers) }},
	{typ: TypeSeccompFilter, name: "SECCOMP_FILTER", new: func() Record { return new(SeccompFilter) }},
	{typ: TypeSeccomp, name: "SECCOMP", new: func() Record { return new(Seccomp) }},
	{typ: TypeIpcShm, name: "IPC_SHM", new: func() Record { return new(IpcShm) }},
	{typ: TypeIpcSem, name: "IPC_SEM", new: func() Record { return new(IpcSem) }},
	{typ: TypeIpcMsg, name: "IPC_MSG", new: func() Record { return new(IpcMsg) }},
	{typ: TypeIpcMsgData, name: "IPC_MSG_DATA", new: func() Record { return new(IpcMsgData) }},
	{typ: TypeSemUndo, name: "SEM_UNDO", new: func() Record { return new(SemUndo) }},
	{typ: TypeNetns, name: "NETNS", new: func() Record { return new(Netns) }},
	{typ: TypeIpcNs, name: "IPC_NS", new: func() Record { return new(IpcNs) }},
	{typ: TypeFs, name: "FS", new: func() Record { return new(Fs) }},
	{typ: TypeFiles, name: "FILES", new: func() Record { return new(Files) }},
	{typ: TypeFd, name: "FD", new: func() Record { return new(Fd) }},
	{typ: TypeRegFile, name: "REG_FILE", new: func() Record { return new(RegFile) }},
	{typ: TypeExtFile, name: "EXT_FILE", new: func() Record { return new(ExtFile) }},
	{typ: TypeEventFd, name: "EVENTFD", new: func() Record { return new(EventFd) }},
	{typ: TypeEpoll, name: "EPOLL", new: func() Record { return new(Epoll) }},
	{typ: TypePipe, name: "PIPE", new: func() Record { return new(Pipe) }},
	{typ: TypePipeData, name: "PIPE_DATA", new: func() Record { return new(PipeData) }},
	{typ: TypeFifo, name: "FIFO", new: func() Record { return new(Fifo) }},
	{typ: TypeMemfdFile, name: "MEMFD_FILE", new: func() Record { return new(MemfdFile) }},
	{typ: TypeTimerFd, name: "TIMERFD", new: func() Record { return new(TimerFd) }},
	{typ: TypeSignalFd, name: "SIGNALFD", new: func() Record { return new(SignalFd) }},
	{typ: TypeInotify, name: "INOTIFY", new: func() Record { return new(Inotify) }},
	{typ: TypeInotifyWatch, name: "INOTIFY_WATCH", new: func() Record { return new(InotifyWatch) }},
	{typ: TypePidFd, name: "PIDFD", new: func() Record { return new(PidFd) }},
	{typ: TypeDeletedFile, name: "DELETED_FILE", new: func() Record { return new(DeletedFile) }},
	{typ: TypeDeletedData, name: "DELETED_DATA", new: func() Record { return new(DeletedData) }},
	{typ: TypeDeletedOpen, name: "DELETED_OPEN", new: func() Record { return new(DeletedOpen) }},
	{typ: TypeFileLock, name: "FILE_LOCK", new: func() Record { return new(FileLock) }},
	{typ: TypeFileOwner, name: "FILE_OWNER", new: func() Record { return new(FileOwner) }},
	{typ: TypeUnixSk, name: "UNIX_SK", new: func() Record { return new(UnixSk) }},
	{typ: TypeUnixQueue, name: "UNIX_QUEUE", new: func() Record { return new(UnixQueue) }},
	{typ: TypeTty, name: "TTY", new: func() Record { return new(Tty) }},
	{typ: TypeTtyData, name: "TTY_DATA", new: func() Record { return new(TtyData) }},
	{typ: TypeTtyFile, name: "TTY_FILE", new: func() Record { return new(TtyFile) }},
	{typ: TypeInetSocket, name: "INET_SOCKET", new: func() Record { return new(InetSocket) }},
	{typ: TypeTcpStream, name: "TCP_STREAM", new: func() Record { return new(TcpStream) }},
	{typ: TypeTcpQueue, name: "TCP_QUEUE", new: func() Record { return new(TcpQueue) }},
	{typ: TypeMm, name: "MM", new: func() Record { return new(Mm) }},
	{typ: TypeVma, name: "VMA", new: func() Record { return new(Vma) }},
	{typ: TypePages, name: "PAGES", new: func() Record { return new(Pages) }},
	{typ: TypeShmem, name: "SHMEM", new: func() Record { return new(Shmem) }},
	{typ: TypeMount, name: "MOUNT", new: func() Record { return new(Mount) }},
	{typ: TypeTmpfsFile, name: "TMPFS_FILE", new: func() Record { return new(TmpfsFile) }},
	{typ: TypeTmpfsData, name: "TMPFS_DATA", new: func() Record { return new(TmpfsData) }},
	{typ: TypeContainer, name: "CONTAINER", new: func() Record { return new(Container) }},
	{typ: TypeStats, name: "STATS", new: func() Record { return new(Stats) }, skippable: true},
}

// registerType adds a record type that its kind defines in a file of its
// own (rec_*.go), as `var _ = registerType(...)`: package variables are
// all set before init builds the tables below.
func registerType(ti typeInfo) bool {
	registry = append(registry, ti)
	return true
}

var (
	byType   = map[Type]*typeInfo{}
	byGoType = map[reflect.Type]*recCodec{} // keyed by the pointer type (*Vma)
)

// init builds the lookup tables and the codec of every record type. A
// malformed table or struct is a programming error, so it panics.
func init() {
	for i := range registry {
		ti := &registry[i]
		if _, dup := byType[ti.typ]; dup {
			panic(fmt.Sprintf("image: record type %d registered twice", ti.typ))
		}
		if ti.skippable != (ti.typ >= SkippableTypes) {
			panic(fmt.Sprintf("image: record type %s: skippable must be set exactly for types >= %#x", ti.name, uint32(SkippableTypes)))
		}
		byType[ti.typ] = ti
		if ti.retired {
			continue
		}
		rec := ti.new()
		if rec.Type() != ti.typ {
			panic(fmt.Sprintf("image: %T.Type() = %d, registry says %d", rec, rec.Type(), ti.typ))
		}
		c, err := newRecCodec(ti.typ, reflect.TypeOf(rec).Elem())
		if err != nil {
			panic(fmt.Sprintf("image: record type %s: %v", ti.name, err))
		}
		byGoType[reflect.TypeOf(rec)] = c
	}
}

// String returns the record name (e.g. "VMA"), or UNKNOWN(0x...) for a
// number not in the registry.
func (t Type) String() string {
	if ti, ok := byType[t]; ok {
		return ti.name
	}
	return fmt.Sprintf("UNKNOWN(%#x)", uint32(t))
}

// Skippable reports whether a reader that does not know t skips it.
func (t Type) Skippable() bool { return t >= SkippableTypes }
