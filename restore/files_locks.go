package restore

import (
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
	"github.com/ckpt/ckpt/internal/kernel"
)

// lockKind is the restore state of file locks.
type lockKind struct {
	locks map[*taskPlan][]*image.FileLock // FILE_LOCK records by task
}

func init() {
	registerKind(kind{name: "file lock", task: true,
		takes: []taker{on(func(rs *restorer, x *image.FileLock) error { return rs.addFileLock(rs.cur, x) })}})
}

// addFileLock takes a FILE_LOCK of the current task: it follows the task's
// FILES and FDs and names one of its fds.
func (rs *restorer) addFileLock(t *taskPlan, lk *image.FileLock) error {
	if t.files == nil || len(t.fds) != int(t.files.NrFds) {
		return badImage("FILE_LOCK of task %d before its FILES and FD records", t.rec.Pid)
	}
	found := false
	for _, fd := range t.fds {
		if fd.Fd == lk.Fd {
			found = true
			break
		}
	}
	switch {
	case !found:
		return badImage("FILE_LOCK of task %d names fd %d, which the task does not have", t.rec.Pid, lk.Fd)
	case lk.Kind != image.LockFlock && lk.Kind != image.LockPosix && lk.Kind != image.LockOFD:
		return badImage("FILE_LOCK of task %d, fd %d: unknown kind %d", t.rec.Pid, lk.Fd, lk.Kind)
	case lk.Write > 1 || lk.Start < 0 || lk.Len < 0:
		return badImage("FILE_LOCK of task %d, fd %d: write %d, range %d+%d", t.rec.Pid, lk.Fd, lk.Write, lk.Start, lk.Len)
	case lk.Kind == image.LockFlock && (lk.Start != 0 || lk.Len != 0):
		return badImage("FILE_LOCK of task %d, fd %d: a flock lock with a byte range", t.rec.Pid, lk.Fd)
	case !rs.opts.FileLocks:
		return fmt.Errorf("task %d holds a file lock on fd %d: restore with --file-locks to take it again", t.rec.Pid, lk.Fd)
	}
	if rs.locks == nil {
		rs.locks = map[*taskPlan][]*image.FileLock{}
	}
	rs.locks[t] = append(rs.locks[t], lk)
	return nil
}

// restoreLocks takes the task's locks again, in the task (a POSIX lock
// belongs to the fd table that takes it) and without waiting: nothing else
// can hold a conflicting lock unless another process took one since the
// checkpoint, and then the restore must fail rather than hang.
func (rs *restorer) restoreLocks(t *taskPlan) error {
	lt := t.leader
	defer lt.Reset()
	for _, lk := range rs.locks[t] {
		var err error
		if lk.Kind == image.LockFlock {
			how := uintptr(unix.LOCK_SH | unix.LOCK_NB)
			if lk.Write != 0 {
				how = unix.LOCK_EX | unix.LOCK_NB
			}
			_, err = lt.Syscall(unix.SYS_FLOCK, uintptr(lk.Fd), how)
		} else {
			fl := kernel.Flock{Type: unix.F_RDLCK, Whence: unix.SEEK_SET, Start: lk.Start, Len: lk.Len}
			if lk.Write != 0 {
				fl.Type = unix.F_WRLCK
			}
			cmd := uintptr(unix.F_SETLK)
			if lk.Kind == image.LockOFD {
				cmd = unix.F_OFD_SETLK
			}
			var addr uint64
			if addr, err = lt.Put(fl.Bytes()); err != nil {
				return err
			}
			_, err = lt.Syscall(unix.SYS_FCNTL, uintptr(lk.Fd), cmd, uintptr(addr))
		}
		if err != nil {
			return fmt.Errorf("take %s on fd %d again: %w", lockText(lk), lk.Fd, err)
		}
	}
	return nil
}

func lockText(lk *image.FileLock) string {
	kind := map[uint32]string{image.LockFlock: "flock", image.LockPosix: "POSIX", image.LockOFD: "OFD"}[lk.Kind]
	mode := "read"
	if lk.Write != 0 {
		mode = "write"
	}
	if lk.Kind == image.LockFlock {
		return fmt.Sprintf("the %s %s lock", mode, kind)
	}
	return fmt.Sprintf("the %s %s lock of bytes %d+%d", mode, kind, lk.Start, lk.Len)
}
