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
// another file at its path by now: a FIFO, a regular file, a socket file
// of a later bind that was closed since. bind(2) needs the name free
// (EADDRINUSE otherwise), and that file is not ckpt's to remove or
// replace. It is moved aside in its own directory (renameat2 with
// RENAME_NOREPLACE: the same inode, nothing overwritten), the socket bound
// at the name, and once the socket file is removed again (u.fixes) the
// file is put back under its name. On a failed restore closeUnix puts it
// back too.

// asideFile is a file moved out of a socket's way.
type asideFile struct {
	dir  *fsroot.Dir // the directory and the file's name
	tmp  string      // its name meanwhile
	done bool
}

// moveAside moves whatever is at path (but a socket file) aside, if
// anything is; it returns nil when nothing was in the way.
func (rs *restorer) moveAside(root *fsroot.Root, path string, ino uint32) (*asideFile, error) {
	d, err := root.Parent(path)
	if errors.Is(err, unix.ENOENT) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	st, err := d.Lstat()
	if err != nil || st.Mode&unix.S_IFMT == unix.S_IFSOCK {
		d.Close()
		if errors.Is(err, unix.ENOENT) {
			err = nil
		}
		return nil, err
	}
	a := &asideFile{dir: d, tmp: ".ckpt-aside-" + strconv.FormatUint(uint64(ino), 10) + "-" + strconv.Itoa(os.Getpid())}
	if err := unix.Renameat2(d.Fd(), d.Name, d.Fd(), a.tmp, unix.RENAME_NOREPLACE); err != nil {
		d.Close()
		return nil, fmt.Errorf("move %v (mode %#o) out of the socket's way: %w", d, st.Mode, err)
	}
	rs.ux.asides = append(rs.ux.asides, a)
	return a, nil
}

// putBack removes the socket file bound at the name meanwhile (only a
// socket file) and gives the file its name back.
func (a *asideFile) putBack() error {
	if a.done {
		return nil
	}
	if _, err := a.dir.RemoveIf(unix.S_IFSOCK); err != nil {
		return err
	}
	if err := unix.Renameat2(a.dir.Fd(), a.tmp, a.dir.Fd(), a.dir.Name, unix.RENAME_NOREPLACE); err != nil {
		return fmt.Errorf("put %v back from %s: %w", a.dir, a.tmp, err)
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
			a.dir.Close()
		}
	}
	rs.ux.asides = nil
}
