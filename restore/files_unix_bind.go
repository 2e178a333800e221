package restore

import (
	"bytes"
	"fmt"
	"path"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
	"github.com/ckpt/ckpt/internal/fsroot"
	"github.com/ckpt/ckpt/internal/remote"
)

// A socket bound to a relative path (UNIX_BIND) is bound again with the
// same relative name, from the directory it was bound from: the name is
// what getsockname(2) and every peer see, so it cannot be made absolute.
// Everything else that reaches the socket by its name (connect, sendto, a
// stale file's removal, the file's mode) goes through the whole path.

// addUnixBind takes the UNIX_BIND of a UNIX_SK read before it.
func (rs *restorer) addUnixBind(b *image.UnixBind) error {
	s := rs.ux.socks[b.Ino]
	switch {
	case s == nil:
		return badImage("UNIX_BIND for socket %d, which no UNIX_SK before it describes", b.Ino)
	case len(s.rec.Name) == 0 || s.rec.Name[0] == 0 || s.rec.Name[0] == '/':
		return badImage("UNIX_BIND for %v, whose name is not a relative path", s)
	case rs.ux.dirs[b.Ino] != "":
		return badImage("UNIX_BIND for %v: a second one", s)
	case b.Flags != 0:
		return badImage("UNIX_BIND for %v: unknown Flags %#x", s, b.Flags)
	case len(b.Dir) == 0 || b.Dir[0] != '/' || bytes.IndexByte(b.Dir, 0) >= 0:
		return badImage("UNIX_BIND for %v: directory %q is not an absolute path", s, b.Dir)
	case len(path.Join(string(b.Dir), string(s.rec.Name))) > 107:
		return badImage("UNIX_BIND for %v: %s joined to the name does not fit sun_path", s, b.Dir)
	}
	if rs.ux.dirs == nil {
		rs.ux.dirs = map[uint32]string{}
	}
	rs.ux.dirs[b.Ino] = string(b.Dir)
	return nil
}

// checkUnixBinds checks that every socket bound to a relative path says
// where from.
func (rs *restorer) checkUnixBinds() error {
	for _, s := range rs.ux.order {
		if n := s.rec.Name; len(n) > 0 && n[0] != 0 && n[0] != '/' && rs.ux.dirs[s.rec.Ino] == "" {
			return badImage("%v: bound to a relative path, and no UNIX_BIND says where from", s)
		}
	}
	return nil
}

// unixPath is the path a socket file is reached by from the tasks' root:
// name itself, or joined to the directory the socket ino was bound from.
func (rs *restorer) unixPath(ino uint32, name []byte) []byte {
	if len(name) == 0 || name[0] == 0 || name[0] == '/' {
		return name
	}
	return []byte(path.Join(rs.ux.dirs[ino], string(name)))
}

// addrOf is the address that reaches socket s: its name, made whole.
func (rs *restorer) addrOf(s *unixSock) []byte {
	return rs.unixPath(s.rec.Ino, s.rec.Name)
}

// bindFrom binds the task's tfd to the relative name from the directory
// dir (resolved inside the task's root): the task changes its current
// directory there for the time of bind(2), then back to where it was.
func (rs *restorer) bindFrom(t *taskPlan, lt *remote.Task, tfd uintptr, dir string, name []byte) (uintptr, error) {
	root, err := fsroot.OpenTask(t.pid)
	if err != nil {
		return 0, err
	}
	defer root.Close()
	h, err := root.Lookup(dir)
	if err != nil {
		return 0, err
	}
	defer h.Close()
	dfd, err := t.pull(h.Fd())
	if err != nil {
		return 0, fmt.Errorf("take directory %s into task %d: %w", dir, t.rec.Pid, err)
	}
	defer lt.Syscall(unix.SYS_CLOSE, dfd)
	dot, err := lt.PutString(".")
	if err != nil {
		return 0, err
	}
	cwd, err := lt.Syscall(unix.SYS_OPENAT, atFdcwd, uintptr(dot), unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC)
	if err != nil {
		return 0, fmt.Errorf("open the current directory of task %d: %w", t.rec.Pid, err)
	}
	defer lt.Syscall(unix.SYS_CLOSE, cwd)
	if _, err := lt.Syscall(unix.SYS_FCHDIR, dfd); err != nil {
		return 0, fmt.Errorf("task %d: chdir to %s: %w", t.rec.Pid, dir, err)
	}
	addr, n, err := putSockaddr(lt, name)
	if err == nil {
		_, err = lt.Syscall(unix.SYS_BIND, tfd, uintptr(addr), uintptr(n))
	}
	if _, cerr := lt.Syscall(unix.SYS_FCHDIR, cwd); cerr != nil && err == nil {
		err = fmt.Errorf("task %d: back to its current directory: %w", t.rec.Pid, cerr)
	}
	return 0, err
}
