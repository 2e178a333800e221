package image

// FileLock (FILE_LOCK, type 340) is one file lock a task holds, taken
// again at restore through one of the task's fds on the locked file.
type FileLock struct {
	Fd       int32  // an fd of the task, of the description that holds the lock (flock, OFD) or on the file (POSIX)
	Kind     uint32 // LockFlock, LockPosix, LockOFD
	Write    uint32 // 1 for an exclusive (write) lock, 0 for a shared (read) one
	Reserved uint32
	Start    int64 // byte range (POSIX, OFD): first byte
	Len      int64 // length in bytes; 0 means up to the end of the file (and beyond)
}

// FileLock.Kind values.
const (
	LockFlock uint32 = 1
	LockPosix uint32 = 2
	LockOFD   uint32 = 3
)

func (*FileLock) Type() Type { return TypeFileLock }
