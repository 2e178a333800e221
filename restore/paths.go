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
)

// Paths of the image are never used as host path strings (see
// internal/fsroot and docs/security-paths.md). Before the tasks exist, a
// path of the image is mapped by imagePath to a path inside the restore's
// path root: the container's rootfs when restoring into a container, the
// caller's root otherwise; once they exist, a path is resolved inside the
// root task's root (/proc/PID/root). Either way the lookup is openat2 with
// RESOLVE_IN_ROOT, and what is done to the file is done through an fd.

// pathRoot opens the root that imagePath's results are resolved in.
func (rs *restorer) pathRoot() (*fsroot.Root, error) {
	if rs.opts.Adopt != nil {
		return fsroot.Open(rs.opts.Adopt.Rootfs)
	}
	return fsroot.Open("/")
}

// taskRoot opens the root of the image's tasks: the root task's, as it
// was before any task was chrooted (chroot.go keeps it then).
// Preconditions:
//   - the root task exists.
func (rs *restorer) taskRoot() (*fsroot.Root, error) {
	if rs.nsRoot != nil {
		return rs.nsRoot.Dup()
	}
	return fsroot.OpenTask(rs.plans[0].pid)
}

// statImagePath stats p, a result of imagePath, inside the path root.
func (rs *restorer) statImagePath(p string) (unix.Stat_t, error) {
	root, err := rs.pathRoot()
	if err != nil {
		return unix.Stat_t{}, err
	}
	defer root.Close()
	return root.Stat(p)
}

// checkFile makes sure what the image refers to by path is still there and
// is the same file; dev and ino 0 mean "any". The path is one of the
// image's mount namespace.
func (rs *restorer) checkFile(what, p string, dev, ino uint64) error {
	where, check, err := rs.imagePath(p)
	if err != nil || !check {
		return err
	}
	st, err := rs.statImagePath(where)
	if err != nil {
		return fmt.Errorf("%s %q: %w", what, p, err)
	}
	if rs.opts.Adopt != nil && rs.opts.Adopt.RootfsCopy {
		// By path only (see Adopt.RootfsCopy); what a task executes or
		// maps must still be a regular file there, not whatever else the
		// copy holds under that name.
		if st.Mode&unix.S_IFMT != unix.S_IFREG {
			return fmt.Errorf("%s %q is not a regular file in the restored rootfs (mode %#o)", what, p, st.Mode)
		}
		return nil
	}
	if ino != 0 && (st.Ino != ino || st.Dev != dev) {
		return fmt.Errorf("%s %q was replaced since the checkpoint (inode %d on %#x, image has %d on %#x)", what, p, st.Ino, st.Dev, ino, dev)
	}
	return nil
}

// checkRegFile makes sure an open file's path still names a file of its
// type.
func (rs *restorer) checkRegFile(f *image.RegFile) error {
	where, check, err := rs.imagePath(f.Path)
	if err != nil || !check {
		return err
	}
	st, err := rs.statImagePath(where)
	if err != nil {
		return fmt.Errorf("open file %q: %w", f.Path, err)
	}
	if st.Mode&unix.S_IFMT != f.Mode&unix.S_IFMT {
		return fmt.Errorf("open file %q changed type since the checkpoint (mode %#o, image has %#o)", f.Path, st.Mode, f.Mode)
	}
	// A copy of the rootfs holds the files as they were at the checkpoint
	// (containerd takes the rw diff while the container is paused for it):
	// a file open then has the size it had, or it is another file, and
	// the task's offset and data would not match.
	if rs.opts.Adopt != nil && rs.opts.Adopt.RootfsCopy && f.Mode&unix.S_IFMT == unix.S_IFREG && st.Size != f.Size {
		return fmt.Errorf("open file %q in the restored rootfs is %d bytes, it was %d at the checkpoint: not the checkpointed file", f.Path, st.Size, f.Size)
	}
	return nil
}

// createUnlinked makes a new regular file named p (an image path) inside
// the path root, or next to it under tmpName(i) when the name is taken,
// and unlinks it at once: the file lives on as the returned fd. Nothing
// is created through a symlink or outside the root; what is removed is
// the name just made. p is a path the kernel printed, with no symlink in
// it: a symlink on the way now is refused, which also holds when the root
// is the caller's own "/" (a plain process).
func (rs *restorer) createUnlinked(p string, perm uint32, tmpName func(i int) string) (*os.File, error) {
	where, check, err := rs.imagePath(path.Dir(p))
	if err != nil {
		return nil, err
	}
	if !check || where == "" {
		return nil, fmt.Errorf("its directory is on a file system the restore makes anew or the runtime mounts: re-creating it there is not supported yet")
	}
	root, err := rs.pathRoot()
	if err != nil {
		return nil, err
	}
	defer root.Close()
	d, err := root.ParentNoSymlinks(path.Join(where, path.Base(p)))
	if err != nil {
		return nil, err
	}
	defer func() { d.Close() }()
	f, err := d.Create(unix.O_RDWR, perm)
	for i := 0; errors.Is(err, unix.EEXIST) && i < 100; i++ {
		nd, serr := d.Sibling(tmpName(i))
		if serr != nil {
			return nil, serr
		}
		d.Close()
		d = nd
		f, err = d.Create(unix.O_RDWR, perm)
	}
	if err != nil {
		return nil, err
	}
	if err := d.Unlink(); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// createTmpfile makes a new unnamed regular file with O_TMPFILE in the
// directory of p (an image path), resolved as createUnlinked resolves it,
// opened with flags (O_TMPFILE among them).
func (rs *restorer) createTmpfile(p string, flags int, perm uint32) (*os.File, error) {
	where, check, err := rs.imagePath(path.Dir(p))
	if err != nil {
		return nil, err
	}
	if !check || where == "" {
		return nil, fmt.Errorf("its directory is on a file system the restore makes anew or the runtime mounts: re-creating it there is not supported yet")
	}
	root, err := rs.pathRoot()
	if err != nil {
		return nil, err
	}
	defer root.Close()
	d, err := root.ParentNoSymlinks(path.Join(where, path.Base(p)))
	if err != nil {
		return nil, err
	}
	defer d.Close()
	fd, err := unix.Openat(d.Fd(), ".", flags|unix.O_TMPFILE|unix.O_CLOEXEC, perm)
	if err != nil {
		return nil, fmt.Errorf("open(O_TMPFILE) in %v's directory: %w", d, err)
	}
	return os.NewFile(uintptr(fd), p), nil
}

// tmpNameFor is the fallback name scheme of re-created deleted files.
func tmpNameFor(prefix string, ino uint64) func(int) string {
	return func(i int) string {
		return prefix + strconv.FormatUint(ino, 10) + "-" + strconv.Itoa(os.Getpid()) + "-" + strconv.Itoa(i)
	}
}
