package restore

import (
	"errors"
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/internal/fsroot"
)

// A socket whose file was removed after bind(2) (UNIX_SK Mode 0) may find
// another file at its path by now: a FIFO, a regular file, the socket
// file of a later bind (a live socket's, or a closed one's). bind(2) needs
// the name free (EADDRINUSE otherwise), and that file is not ckpt's to
// remove or replace. It is moved aside in its own directory (renameat2
// with RENAME_NOREPLACE: the same inode, nothing overwritten), the socket
// bound at the name, and once the socket's own file is removed again
// (u.fixes: that file alone, known by its inode) the file is put back
// under its name. On a failed restore closeUnix puts it back too.

// asideFile is the name of a socket bound only for the time of the
// restore, and what was moved out of its way.
type asideFile struct {
	dir      *fsroot.Dir // the directory and the name
	tmp      string      // the name of the file moved aside meanwhile; "" if none was
	dev, ino uint64      // the socket file bind(2) made, once made
	done     bool
}

// moveAside makes room at path for a socket bound only for the time of
// the restore: whatever is there is renamed aside.
func (rs *restorer) moveAside(root *fsroot.Root, path string, ino uint32) (*asideFile, error) {
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
	default:
		a.tmp = ".ckpt-aside-" + strconv.FormatUint(uint64(ino), 10) + "-" + strconv.Itoa(os.Getpid())
		if err := unix.Renameat2(d.Fd(), d.Name, d.Fd(), a.tmp, unix.RENAME_NOREPLACE); err != nil {
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
