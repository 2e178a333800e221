package restore

import (
	"errors"
	"fmt"
	"os"
	"path"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
	"github.com/ckpt/ckpt/internal/fsroot"
	"github.com/ckpt/ckpt/internal/guard"
	"github.com/ckpt/ckpt/internal/remote"
)

// A socket whose file was removed after bind(2) (UNIX_SK Mode 0) may find
// another file at its path by now: a FIFO, a regular file, the socket
// file of a later bind (a live socket's, or a closed one's). bind(2) needs
// the name free (EADDRINUSE otherwise), and that file is not ckpt's to
// remove or replace. It is moved aside in its own directory (renameat2
// with RENAME_NOREPLACE: the same inode, nothing overwritten), the socket
// bound at the name, and once the socket's own file is removed again
// (u.fixes: that file alone, known by its inode) the file is put back
// under its name. On a failed restore closeUnix puts it back too, and if
// ckpt dies meanwhile its guardian does ("unix-aside", undoAside).

func init() {
	guard.Register("unix-aside", undoAside)
}

// asideFile is the name of a socket bound only for the time of the
// restore, and what was moved out of its way.
type asideFile struct {
	dir      *fsroot.Dir // the directory and the name
	tmp      string      // the name of the file moved aside meanwhile; "" if none was
	dev, ino uint64      // the socket file bind(2) made, once made
	done     bool
	undo     guard.Undo // the guardian's, while a file is aside
}

// moveAside makes room at path (inside task pid's root) for a socket
// bound only for the time of the restore: whatever is there is renamed
// aside.
func (rs *restorer) moveAside(pid int, path string, ino uint32) (*asideFile, error) {
	root, err := fsroot.OpenTask(pid)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	d, err := root.Parent(path)
	if err != nil {
		return nil, err
	}
	a := &asideFile{dir: d}
	st, err := d.Lstat()
	switch {
	case errors.Is(err, unix.ENOENT):
	case err != nil:
		d.Close()
		return nil, err
	case st.Mode&unix.S_IFMT == unix.S_IFDIR:
		// A directory is never moved: a socket never had one's name
		// (bind(2) needs it free), and what an image names is not
		// trusted to stand for what the task bound.
		d.Close()
		return nil, fmt.Errorf("%v is a directory now: the socket cannot be bound there again", d)
	default:
		a.tmp = ".ckpt-aside-" + strconv.FormatUint(uint64(ino), 10) + "-" + strconv.Itoa(os.Getpid())
		// The guardian runs after the tasks are gone (they die with
		// ckpt): it finds the directory by the path the restorer sees.
		hostDir, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(d.Fd()))
		if err != nil {
			d.Close()
			return nil, err
		}
		if a.undo, err = rs.opts.Journal.Add("unix-aside", hostDir, d.Name, a.tmp); err != nil {
			d.Close()
			return nil, err
		}
		if err := unix.Renameat2(d.Fd(), d.Name, d.Fd(), a.tmp, unix.RENAME_NOREPLACE); err != nil {
			a.undo.Drop()
			d.Close()
			return nil, fmt.Errorf("move %v (mode %#o) out of the socket's way: %w", d, st.Mode, err)
		}
	}
	rs.ux.asides = append(rs.ux.asides, a)
	return a, nil
}

// bound notes the socket file bind(2) just made at the name.
func (a *asideFile) bound() error {
	st, err := a.dir.Lstat()
	if err != nil {
		return err
	}
	a.dev, a.ino = st.Dev, st.Ino
	return nil
}

// putBack removes the socket file bound at the name (if the name still
// holds it) and gives the file moved aside its name back.
func (a *asideFile) putBack() error {
	if a.done {
		return nil
	}
	if st, err := a.dir.Lstat(); err == nil && a.ino != 0 && st.Mode&unix.S_IFMT == unix.S_IFSOCK && st.Dev == a.dev && st.Ino == a.ino {
		if err := a.dir.Unlink(); err != nil {
			return err
		}
	} else if err != nil && !errors.Is(err, unix.ENOENT) {
		return err
	}
	if a.tmp != "" {
		if err := unix.Renameat2(a.dir.Fd(), a.tmp, a.dir.Fd(), a.dir.Name, unix.RENAME_NOREPLACE); err != nil {
			return fmt.Errorf("put %v back from %s: %w", a.dir, a.tmp, err)
		}
		a.undo.Drop()
	}
	a.done = true
	a.dir.Close()
	return nil
}

// putBackAsides puts back every file still aside (a failed restore).
func (rs *restorer) putBackAsides() {
	for _, a := range rs.ux.asides {
		if !a.done {
			_ = a.putBack()
			if !a.done {
				a.dir.Close()
			}
		}
	}
	rs.ux.asides = nil
}

// tempSender makes a datagram socket in the root task bound to name, the
// address of a sender closed before the checkpoint, for the time of one
// send (done closes it and gives the name back): an abstract name is
// bound again; at a path, what is there is moved aside meanwhile, as for
// a socket whose file was removed.
func (rs *restorer) tempSender(name []byte) (int, func(), error) {
	t := rs.plans[0]
	fd, err := rs.newSocket(t, &image.UnixSk{SockType: unix.SOCK_DGRAM}, false)
	if err != nil {
		return -1, nil, err
	}
	var aside *asideFile
	if name[0] != 0 {
		if aside, err = rs.moveAside(t.pid, string(name), 0); err != nil {
			unix.Close(fd)
			return -1, nil, fmt.Errorf("sender %s closed since: %w", showName(name), err)
		}
	}
	done := func() {
		unix.Close(fd)
		if aside != nil {
			_ = aside.putBack()
		}
	}
	if _, err := rs.inTask(t, fd, func(lt *remote.Task, tfd uintptr) (uintptr, error) {
		addr, n, err := putSockaddr(lt, name)
		if err != nil {
			return 0, err
		}
		return lt.Syscall(unix.SYS_BIND, tfd, uintptr(addr), uintptr(n))
	}); err != nil {
		done()
		return -1, nil, fmt.Errorf("sender %s closed since: bind again: %w", showName(name), err)
	}
	if aside != nil {
		if err := aside.bound(); err != nil {
			done()
			return -1, nil, err
		}
	}
	return fd, done, nil
}

// undoAside puts back a file moved aside, for a ckpt that died first
// (args: the directory as the restorer saw it, the name, the name the
// file has meanwhile): a socket file at the name (the one bound there
// meanwhile) is removed first. The tasks are gone by then, and their
// roots with them: the directory is looked up from the guardian's root,
// without following any symlink (the path is one the kernel printed); a
// directory that is not the one (another mount namespace's) has no file
// of that aside name, unique to the run, and is left alone.
func undoAside(args []string) error {
	if len(args) != 3 || args[1] == "" || args[2] == "" {
		return fmt.Errorf("unix-aside: want a directory and two names, got %q", args)
	}
	root, err := fsroot.Open("/")
	if err != nil {
		return err
	}
	defer root.Close()
	d, err := root.ParentNoSymlinks(path.Join(args[0], args[1]))
	if err != nil {
		return err
	}
	defer d.Close()
	var st unix.Stat_t
	if err := unix.Fstatat(d.Fd(), args[2], &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return nil // not aside (any more)
	}
	if _, err := d.RemoveIf(unix.S_IFSOCK); err != nil {
		return err
	}
	if err := unix.Renameat2(d.Fd(), args[2], d.Fd(), d.Name, unix.RENAME_NOREPLACE); err != nil {
		return fmt.Errorf("unix-aside: put %v back from %s: %w", d, args[2], err)
	}
	return nil
}
