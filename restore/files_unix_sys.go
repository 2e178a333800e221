package restore

import (
	"encoding/binary"
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
	"github.com/ckpt/ckpt/internal/fsroot"
	"github.com/ckpt/ckpt/internal/remote"
)

// The syscalls that make unix sockets: run inside a task by injection
// where the task matters (credentials, paths, network namespace), the
// socket then kept by the restorer (files_unix.go).

// tempListener listens at the name of an accepted socket whose listener
// is not in the image, for the time of one connection. A socket file it
// creates is removed by cleanup; a stale one there already stays, as the
// closed listener left it. The name is looked at inside the task's root
// (internal/fsroot), never as a host path.
func (rs *restorer) tempListener(t *taskPlan, s *unixSock) (int, func(), error) {
	r := &image.UnixSk{Ino: s.rec.Ino, SockType: s.rec.SockType, Name: s.rec.Name}
	file := string(rs.addrOf(s))
	var root *fsroot.Root
	existed := false
	if r.Name[0] != 0 {
		var err error
		if root, err = fsroot.OpenTask(t.pid); err != nil {
			return -1, nil, fmt.Errorf("%v: temporary listener: %w", s, err)
		}
		_, err = root.Lstat(file)
		existed = err == nil
		r.Mode = keepMode
	}
	fd, err := rs.newSocket(t, r, true)
	if err != nil {
		root.Close()
		return -1, nil, fmt.Errorf("%v: temporary listener: %w", s, err)
	}
	if _, err := rs.inTask(t, fd, func(lt *remote.Task, tfd uintptr) (uintptr, error) {
		return lt.Syscall(unix.SYS_LISTEN, tfd, 1)
	}); err != nil {
		unix.Close(fd)
		root.Close()
		return -1, nil, fmt.Errorf("%v: temporary listener: listen: %w", s, err)
	}
	return fd, func() {
		unix.Close(fd)
		if root != nil && !existed {
			_, _ = root.RemoveIf(file, unix.S_IFSOCK)
		}
		root.Close()
	}, nil
}

// keepMode in a UNIX_SK given to newSocket leaves the socket file be.
const keepMode = ^uint32(0)

// newSocket makes a socket of r's type in task t and, if bind and r has a
// name, binds it there (bindSocket); it returns the restorer's copy.
func (rs *restorer) newSocket(t *taskPlan, r *image.UnixSk, bind bool) (int, error) {
	lt := t.leader
	tfd, err := lt.Syscall(unix.SYS_SOCKET, unix.AF_UNIX, uintptr(r.SockType)|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("socket %d: socket(%d) in task %d: %w", r.Ino, r.SockType, t.rec.Pid, err)
	}
	fd, err := rs.takeFromTask(t, tfd)
	if err != nil {
		return -1, err
	}
	if !bind {
		return fd, nil
	}
	if err := rs.bindSocket(t, fd, r); err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

// bindSocket binds fd to r's name, if it has one, from task t. A stale
// socket file at a path is removed first; the file's mode is set once
// every connection is made. For a socket whose file was removed after
// bind (Mode 0) nothing is removed: what is at the path is moved aside
// until the socket's own file is removed again (files_unix_aside.go).
func (rs *restorer) bindSocket(t *taskPlan, fd int, r *image.UnixSk) error {
	if len(r.Name) == 0 {
		return nil
	}
	path := ""
	var aside *asideFile
	if r.Name[0] != 0 {
		// The socket file is looked at and removed inside the task's
		// root: the name may lead through the container's own
		// symlinks, which must not reach the host's files.
		path = string(rs.unixPath(r.Ino, r.Name))
		root, err := fsroot.OpenTask(t.pid)
		if err != nil {
			return fmt.Errorf("socket %d: %w", r.Ino, err)
		}
		if r.Mode == 0 {
			aside, err = rs.moveAside(t.pid, path, r.Ino)
		} else {
			_, err = root.RemoveIf(path, unix.S_IFSOCK)
		}
		root.Close()
		if err != nil {
			return fmt.Errorf("socket %d: make room at %s: %w", r.Ino, r.Name, err)
		}
	}
	dir := rs.ux.dirs[r.Ino]
	if _, err := rs.inTask(t, fd, func(lt *remote.Task, tfd uintptr) (uintptr, error) {
		if r.Name[0] != 0 && r.Name[0] != '/' {
			return rs.bindFrom(t, lt, tfd, dir, r.Name)
		}
		addr, n, err := putSockaddr(lt, r.Name)
		if err != nil {
			return 0, err
		}
		return lt.Syscall(unix.SYS_BIND, tfd, uintptr(addr), uintptr(n))
	}); err != nil {
		return fmt.Errorf("socket %d: bind to %s: %w", r.Ino, showName(r.Name), err)
	}
	if aside != nil {
		if err := aside.bound(); err != nil {
			return fmt.Errorf("socket %d: the file bind made at %s: %w", r.Ino, r.Name, err)
		}
	}
	if path != "" && r.Mode != keepMode {
		mode, name, pid := r.Mode, r.Name, t.pid
		rs.ux.fixes = append(rs.ux.fixes, func() error {
			root, err := fsroot.OpenTask(pid)
			if err != nil {
				return fmt.Errorf("socket file %s: %w", name, err)
			}
			defer root.Close()
			if aside != nil {
				err = aside.putBack() // it was removed after bind
			} else {
				err = root.ChmodIf(path, unix.S_IFSOCK, mode&0o7777)
			}
			if err != nil {
				return fmt.Errorf("socket file %s: %w", name, err)
			}
			return nil
		})
	}
	return nil
}

// connectIn connects s to name from task t.
func (rs *restorer) connectIn(t *taskPlan, s *unixSock, name []byte) error {
	if _, err := rs.inTask(t, s.fd, func(lt *remote.Task, tfd uintptr) (uintptr, error) {
		addr, n, err := putSockaddr(lt, name)
		if err != nil {
			return 0, err
		}
		return lt.Syscall(unix.SYS_CONNECT, tfd, uintptr(addr), uintptr(n))
	}); err != nil {
		return fmt.Errorf("%v: connect to %s in task %d: %w", s, showName(name), t.rec.Pid, err)
	}
	return nil
}

// socketpair makes a connected pair in task t.
func (rs *restorer) socketpair(t *taskPlan, typ uint32) (int, int, error) {
	lt := t.leader
	defer lt.Reset()
	buf, err := lt.Alloc(8)
	if err != nil {
		return -1, -1, err
	}
	if _, err := lt.Syscall(unix.SYS_SOCKETPAIR, unix.AF_UNIX, uintptr(typ)|unix.SOCK_CLOEXEC, 0, uintptr(buf)); err != nil {
		return -1, -1, fmt.Errorf("socketpair in task %d: %w", t.rec.Pid, err)
	}
	var fds [8]byte
	if err := lt.Read(buf, fds[:]); err != nil {
		return -1, -1, err
	}
	a, err := rs.takeFromTask(t, uintptr(binary.LittleEndian.Uint32(fds[0:])))
	if err != nil {
		return -1, -1, err
	}
	b, err := rs.takeFromTask(t, uintptr(binary.LittleEndian.Uint32(fds[4:])))
	if err != nil {
		unix.Close(a)
		return -1, -1, err
	}
	return a, b, nil
}

// takeFromTask moves the task's fd tfd into the restorer.
func (rs *restorer) takeFromTask(t *taskPlan, tfd uintptr) (int, error) {
	f, err := rs.copyFromTask(t, int(tfd))
	_, _ = t.leader.Syscall(unix.SYS_CLOSE, tfd)
	if err != nil {
		return -1, err
	}
	fd, err := unix.Dup(int(f.Fd()))
	f.Close()
	if err != nil {
		return -1, err
	}
	unix.CloseOnExec(fd)
	return fd, nil
}

// inTask runs fn with the restorer's fd made a fd of task t for the time.
func (rs *restorer) inTask(t *taskPlan, fd int, fn func(*remote.Task, uintptr) (uintptr, error)) (uintptr, error) {
	lt := t.leader
	defer lt.Reset()
	tfd, err := t.pull(uintptr(fd))
	if err != nil {
		return 0, fmt.Errorf("take the socket into task %d: %w", t.rec.Pid, err)
	}
	defer lt.Syscall(unix.SYS_CLOSE, tfd)
	return fn(lt, tfd)
}

// putSockaddr writes a struct sockaddr_un for name into the task's
// scratch: a path with its NUL, an abstract name exactly.
func putSockaddr(lt *remote.Task, name []byte) (uint64, int, error) {
	b := binary.LittleEndian.AppendUint16(nil, unix.AF_UNIX)
	b = append(b, name...)
	if name[0] != 0 {
		b = append(b, 0)
	}
	addr, err := lt.Put(b)
	return addr, len(b), err
}

// sockaddr is name as x/sys/unix takes it, reachable from the restorer:
// an abstract name with a leading @; a path through an O_PATH fd of the
// socket file resolved inside the task's root (/proc/self/fd/N: short
// enough for sun_path however long the path), which done closes.
func (rs *restorer) sockaddr(name []byte) (sa *unix.SockaddrUnix, done func(), err error) {
	if name[0] == 0 {
		return &unix.SockaddrUnix{Name: "@" + string(name[1:])}, func() {}, nil
	}
	root, err := fsroot.OpenTask(rs.plans[0].pid)
	if err != nil {
		return nil, nil, fmt.Errorf("socket file %s: %w", name, err)
	}
	defer root.Close()
	f, err := root.Lookup(string(name))
	if err != nil {
		return nil, nil, fmt.Errorf("socket file %s: %w", name, err)
	}
	return &unix.SockaddrUnix{Name: fmt.Sprintf("/proc/self/fd/%d", f.Fd())}, func() { f.Close() }, nil
}
