package restore

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
	"github.com/ckpt/ckpt/internal/kernel"
	"github.com/ckpt/ckpt/internal/remote"
)

// reopenMask drops the open(2) flags that would change the file instead of
// reopening it; O_CLOEXEC is the fd's, set by dup3.
const reopenMask = ^uint32(unix.O_CREAT | unix.O_EXCL | unix.O_TRUNC | unix.O_NOCTTY | unix.O_CLOEXEC)

// restoreFiles rebuilds the fd table. Each open file description is made
// once, in the first task that has it, at a temporary fd above every fd the
// task will have, and the restorer keeps a copy; a later task that shares
// it (fork did that) takes the copy with pidfd_getfd(2), and so do tasks
// holding external files, which are the restorer's. Then every fd gets its
// number with dup3, which shares the description (and its offset) the way
// dup and fork did; last every temporary fd and every fd the stub came
// with that the task did not have is closed.
func (rs *restorer) restoreFiles(t *taskPlan) error {
	lt := t.leader
	want := map[int]bool{}
	top := stubFirstFd + 1
	for _, fd := range t.fds {
		want[int(fd.Fd)] = true
		top = max(top, int(fd.Fd)+1)
	}
	if t.imageFd >= 0 {
		_, _ = lt.Syscall(unix.SYS_CLOSE, uintptr(t.imageFd))
		t.imageFd = -1
	}
	// The pidfd of the restorer must not sit where one of the task's fds goes.
	ctl, err := moveAbove(lt, uintptr(t.ctlPidfd), top)
	if err != nil {
		return err
	}
	t.ctlPidfd = ctl
	tmpBase := ctl + 1
	t.fdTargets = want
	defer func() { t.fdTargets = nil }()
	// Where each description lives in the task for now. Each sits at a
	// temporary number above every fd of the task until all are open;
	// when that many more fds would not fit under the task's
	// RLIMIT_NOFILE, each goes to its first fd at once instead (a close
	// more per description).
	direct, err := needsDirect(t.pid, top, len(t.fds))
	if err != nil {
		return err
	}
	where := map[uint32]int{}
	for _, fd := range t.fds {
		if _, ok := where[fd.File]; ok {
			continue
		}
		tmp, err := rs.openFile(t, fd, tmpBase)
		if err != nil {
			return fmt.Errorf("fd %d: %w", fd.Fd, err)
		}
		where[fd.File] = tmp
		if direct && tmp != int(fd.Fd) {
			if err := dupTo(lt, tmp, fd); err != nil {
				return err
			}
			_, _ = lt.Syscall(unix.SYS_CLOSE, uintptr(tmp))
			where[fd.File] = int(fd.Fd)
		}
	}
	for _, fd := range t.fds {
		if where[fd.File] == int(fd.Fd) {
			continue // placed at once (direct)
		}
		if err := dupTo(lt, where[fd.File], fd); err != nil {
			return err
		}
	}
	// Each run of numbers the task does not have goes with one
	// close_range(2) (numbers not open are skipped by it), not one close
	// per number: each is an injected syscall.
	for fd := 0; fd < top; {
		if want[fd] {
			fd++
			continue
		}
		end := fd
		for end+1 < top && !want[end+1] {
			end++
		}
		if _, err := lt.Syscall(unix.SYS_CLOSE_RANGE, uintptr(fd), uintptr(end), 0); err != nil {
			return fmt.Errorf("close_range(%d, %d): %w", fd, end, err)
		}
		fd = end + 1
	}
	if _, err := lt.Syscall(unix.SYS_CLOSE_RANGE, uintptr(top), ^uintptr(0), 0); err != nil {
		return fmt.Errorf("close_range(%d): %w", top, err)
	}
	// What names fds by number (an epoll's watches) goes in once every
	// fd has its own, once per description.
	placed := map[uint32]bool{}
	for _, fd := range t.fds {
		obj := rs.objs[fd.File]
		if obj == nil || placed[fd.File] {
			continue
		}
		placed[fd.File] = true
		if o := byOpen[obj.Type()]; o != nil && o.placed != nil {
			if err := o.placed(rs, t, fd, obj); err != nil {
				return err
			}
		}
	}
	return nil
}

// dupTo gives fd its number, sharing the description at from.
func dupTo(lt *remote.Task, from int, fd image.Fd) error {
	var flags uintptr
	if fd.Flags&unix.FD_CLOEXEC != 0 {
		flags = unix.O_CLOEXEC
	}
	if _, err := lt.Syscall(unix.SYS_DUP3, uintptr(from), uintptr(fd.Fd), flags); err != nil {
		return fmt.Errorf("dup3 to fd %d: %w", fd.Fd, err)
	}
	return nil
}

// needsDirect tells whether n temporary fds above top would pass task
// pid's RLIMIT_NOFILE (with room for the few an opener holds meanwhile).
func needsDirect(pid, top, n int) (bool, error) {
	var lim unix.Rlimit
	if err := unix.Prlimit(pid, unix.RLIMIT_NOFILE, nil, &lim); err != nil {
		return false, fmt.Errorf("read RLIMIT_NOFILE: %w", err)
	}
	return uint64(top+n+64) > lim.Cur, nil
}

// openFile gives the task the description fd refers to, at a fd >= min:
// from the restorer's copy if there is one, else as its kind opens it
// (kinds.go): made by the restorer, which keeps it, or in the task.
func (rs *restorer) openFile(t *taskPlan, fd image.Fd, min int) (int, error) {
	obj := rs.objs[fd.File]
	var o *opener
	if obj != nil {
		o = byOpen[obj.Type()]
	}
	if _, have := rs.ctlFiles[fd.File]; !have && o != nil && o.file != nil {
		f, err := o.file(rs, t, fd, obj)
		if err != nil {
			return -1, err
		}
		rs.ctlFiles[fd.File] = f
	}
	if f, ok := rs.ctlFiles[fd.File]; ok {
		got, err := t.pull(f.Fd())
		if err != nil {
			return -1, fmt.Errorf("take file %d from the restorer: %w", fd.File, err)
		}
		if t.fdTargets != nil && !t.fdTargets[int(got)] {
			// No fd of the task goes there, so no dup3 will close it
			// before it is used: it may stay (restoreFiles closes
			// every such number at the end), two injected syscalls
			// fewer than moving it above min.
			return int(got), nil
		}
		return moveAbove(t.leader, got, min)
	}
	if o == nil || o.inTask == nil {
		return -1, badImage("fd %d refers to object %d, which is not a file", fd.Fd, fd.File)
	}
	tmp, err := o.inTask(rs, t, fd, obj, min)
	if err != nil {
		return -1, err
	}
	if !o.keep {
		return tmp, nil // the kind keeps its own copy
	}
	if t.fdTargets != nil && rs.soleUser(fd.File) {
		return tmp, nil // no other task, and nothing in flight, needs it
	}
	// Keep a copy for the tasks that share it.
	if err := rs.keepCopy(t, fd.File, tmp); err != nil {
		return -1, err
	}
	return tmp, nil
}

// soleUser tells whether one fd table alone holds the description objref
// and no unix socket has it in flight: only then does the restorer keep no
// copy of it (one per description, kept for the restore's length, passed
// its own RLIMIT_NOFILE with 100,000 files in ten processes).
func (rs *restorer) soleUser(objref uint32) bool {
	if rs.fileUsers == nil {
		rs.fileUsers = map[uint32]int{}
		for _, t := range rs.plans {
			if t.zombie || t.shares&image.ShareFiles != 0 {
				continue // no fds, or its parent's table
			}
			seen := map[uint32]bool{}
			for _, fd := range t.fds {
				if !seen[fd.File] {
					seen[fd.File] = true
					rs.fileUsers[fd.File]++
				}
			}
		}
		for _, qs := range rs.ux.queues {
			for _, q := range qs {
				for _, f := range q.Fds {
					rs.fileUsers[f] += 2
				}
			}
		}
	}
	return rs.fileUsers[objref] == 1
}

// keepCopy takes a copy of the task's fd into the restorer.
func (rs *restorer) keepCopy(t *taskPlan, objref uint32, fd int) error {
	f, err := rs.copyFromTask(t, fd)
	if err != nil {
		return err
	}
	rs.ctlFiles[objref] = f
	return nil
}

// copyFromTask duplicates a fd of the task into the restorer.
func (rs *restorer) copyFromTask(t *taskPlan, fd int) (*os.File, error) {
	got, err := kernel.TakeFd(t.pid, fd)
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(got), fmt.Sprintf("task-%d-fd-%d", t.pid, fd)), nil
}

// pull takes the restorer's file fd into the task (pidfd_getfd through the
// task's pidfd of the restorer) and returns its number there.
func (t *taskPlan) pull(fd uintptr) (uintptr, error) {
	return t.leader.Syscall(unix.SYS_PIDFD_GETFD, uintptr(t.ctlPidfd), fd, 0)
}

// externalFile is what the caller connects an external file to: an
// --inherit-fd entry for its key, or for fds 0, 1 and 2 our own stdio.
func (rs *restorer) externalFile(ext *image.ExtFile, fd int) (*os.File, error) {
	if f, ok := rs.opts.InheritFds[ext.Key]; ok {
		if ext.Kind == image.ExtSocket && fd > 2 && !rs.opts.ExtUnixSk {
			return nil, fmt.Errorf("external socket %q (fd %d) leads outside the image: restore it with --ext-unix-sk", ext.Key, fd)
		}
		return f, nil
	}
	if f := rs.adoptedStdio(fd); f != nil {
		return f, nil
	}
	if ext.Kind == image.ExtTty && rs.opts.ShellJob {
		return rs.openShellTerminal(ext)
	}
	switch fd {
	case 0:
		return os.Stdin, nil
	case 1:
		return os.Stdout, nil
	case 2:
		return os.Stderr, nil
	}
	return nil, fmt.Errorf("external file %q (fd %d) leads outside the image: name what to connect it to with --inherit-fd fd[N]:%s", ext.Key, fd, ext.Key)
}

// moveAbove moves fd to the lowest free number >= min in the task.
func moveAbove(lt *remote.Task, fd uintptr, min int) (int, error) {
	tmp, err := lt.Syscall(unix.SYS_FCNTL, fd, unix.F_DUPFD, uintptr(min))
	_, _ = lt.Syscall(unix.SYS_CLOSE, fd)
	if err != nil {
		return -1, fmt.Errorf("move fd %d above %d: %w", fd, min, err)
	}
	return int(tmp), nil
}

// openRegFile opens a file description in the task at an fd >= min and
// moves it to its saved offset.
func (rs *restorer) openRegFile(t *taskPlan, rf *image.RegFile, min int) (int, error) {
	lt := t.leader
	defer lt.Reset()
	addr, err := lt.PutString(rf.Path)
	if err != nil {
		return -1, err
	}
	fd, err := lt.Syscall(unix.SYS_OPENAT, atFdcwd, uintptr(addr), uintptr(rf.Flags&reopenMask), 0)
	if err != nil {
		return -1, fmt.Errorf("open %q (flags %#o): %w", rf.Path, rf.Flags, err)
	}
	tmp, err := moveAbove(lt, fd, min)
	if err != nil {
		return -1, err
	}
	// An O_PATH description has no offset (lseek fails with EBADF).
	if rf.Flags&unix.O_PATH == 0 && (rf.Mode&unix.S_IFMT == unix.S_IFREG || rf.Mode&unix.S_IFMT == unix.S_IFDIR) {
		if _, err := lt.Syscall(unix.SYS_LSEEK, uintptr(tmp), uintptr(rf.Pos), unix.SEEK_SET); err != nil {
			return -1, fmt.Errorf("seek %q to %d: %w", rf.Path, rf.Pos, err)
		}
	}
	return tmp, nil
}

// restoreFs sets the working directory, and the root of a chrooted task
// (chroot.go).
func (rs *restorer) restoreFs(t *taskPlan) error {
	fs, ok := rs.objs[t.taskObjs.Fs].(*image.Fs)
	if !ok {
		return badImage("TASK_OBJS names fs object %d, which is not an FS record", t.taskObjs.Fs)
	}
	lt := t.leader
	defer lt.Reset()
	addr, err := lt.PutString(fs.Cwd)
	if err != nil {
		return err
	}
	if _, err := lt.Syscall(unix.SYS_CHDIR, uintptr(addr)); err != nil {
		return fmt.Errorf("chdir %q: %w", fs.Cwd, err)
	}
	if fs.Root != "/" {
		return rs.restoreChroot(t, fs)
	}
	return nil
}

func init() {
	registerKind(kind{name: "regular file", task: true,
		takes: []taker{object((*restorer).checkRegFile)},
		opens: []opener{inTaskOf(true, func(rs *restorer, t *taskPlan, _ image.Fd, x *image.RegFile, min int) (int, error) {
			return rs.openRegFile(t, x, min)
		})}})
	// A file outside the image: connected to what the caller gives.
	registerKind(kind{name: "external file", task: true,
		takes: []taker{object[*image.ExtFile](nil)},
		opens: []opener{fileOf(func(rs *restorer, _ *taskPlan, fd image.Fd, x *image.ExtFile) (*os.File, error) {
			return rs.externalFile(x, int(fd.Fd))
		})}})
}
