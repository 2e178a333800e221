// Package fsroot resolves paths that come from an image or from a task's
// file system inside a root directory, and acts on what it finds through
// file descriptors, never through a host path string.
//
// Restore and checkpoint run as root on the host; the paths they are given
// (a socket's bound name, an inotify watch, a FIFO, a deleted file's
// directory) are written by untrusted parties: the image, and the processes
// of the container, which can plant symlinks ("/x" -> "/etc") and rename
// directories. No path is ever joined to a root as a string here: handed
// to open(2), unlink(2) or chmod(2), such a joined string would let an
// absolute symlink resolve against the host's root (the container's
// "/x/victim" would be the host's "/etc/victim"). A root is only ever an
// O_PATH directory fd (OpenTask opens the task's root that way), and every
// path below it is resolved from that fd.
//
// Here every lookup is openat2(2) from a directory fd of the root with
// RESOLVE_IN_ROOT (an absolute symlink and ".." stop at the root, as for a
// process chrooted there) and RESOLVE_NO_MAGICLINKS (no /proc/PID/fd jump
// out), by github.com/cyphar/filepath-securejoin's pathrs-lite, which
// runc uses for the same job. Operations that must not follow the last
// name (unlink, chmod of a socket file, exclusive create) resolve the
// parent directory that way and then use the *at call on the parent's fd
// with the last name alone, checking the file's type on an O_NOFOLLOW
// handle first.
//
// What stays outside the package's promise: a root of "/" (restoring a
// plain process on the host) contains nothing; resolution is then only
// free of magic links.
package fsroot

import (
	"errors"
	"fmt"
	"os"
	"path"
	"strconv"
	"strings"

	pathrs "github.com/cyphar/filepath-securejoin/pathrs-lite"
	"golang.org/x/sys/unix"
)

// Root is a directory paths are resolved inside: a task's root
// (/proc/PID/root, opened once) or a container's rootfs directory.
type Root struct {
	f    *os.File
	name string // for messages
}

// Open opens dir, a directory named by a trusted party (the caller, a
// bundle's spec), as a root.
func Open(dir string) (*Root, error) {
	fd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open root", Path: dir, Err: err}
	}
	return &Root{f: os.NewFile(uintptr(fd), dir), name: dir}, nil
}

// OpenTask opens the root directory of task pid, as it sees it: lookups
// from it walk the task's mount namespace.
func OpenTask(pid int) (*Root, error) {
	p := "/proc/" + strconv.Itoa(pid) + "/root"
	fd, err := unix.Open(p, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open the root of task %d: %w", pid, err)
	}
	return &Root{f: os.NewFile(uintptr(fd), p), name: "task " + strconv.Itoa(pid) + "'s root"}, nil
}

// Close closes the root's fd.
func (r *Root) Close() error {
	if r == nil || r.f == nil {
		return nil
	}
	return r.f.Close()
}

func (r *Root) String() string { return r.name }

// Fd is the root's O_PATH directory fd, for callers that resolve with
// openat2 flags of their own.
func (r *Root) Fd() int { return int(r.f.Fd()) }

// Lookup resolves p inside the root, following symlinks (inside the
// root) up to and including the last name, and returns an O_PATH handle.
func (r *Root) Lookup(p string) (*os.File, error) {
	if err := checkName(p); err != nil {
		return nil, err
	}
	f, err := pathrs.OpenatInRoot(r.f, p)
	if err != nil {
		return nil, fmt.Errorf("resolve %q in %s: %w", p, r.name, unwrapPath(err))
	}
	return f, nil
}

// OpenFile resolves p as Lookup does and, if it is a file of type typ (0:
// any), opens it with flags (O_CREAT is not allowed: see Dir.Create)
// through the O_PATH handle, so the file opened is the one resolved and
// checked: opening a device or a FIFO has effects of its own.
func (r *Root) OpenFile(p string, typ uint32, flags int) (*os.File, error) {
	if flags&unix.O_CREAT != 0 {
		return nil, fmt.Errorf("open %q in %s: O_CREAT through OpenFile", p, r.name)
	}
	h, err := r.Lookup(p)
	if err != nil {
		return nil, err
	}
	defer h.Close()
	if typ != 0 {
		var st unix.Stat_t
		if err := unix.Fstat(int(h.Fd()), &st); err != nil {
			return nil, fmt.Errorf("open %q in %s: %w", p, r.name, err)
		}
		if st.Mode&unix.S_IFMT != typ {
			return nil, fmt.Errorf("open %q in %s: it is not of type %#o but mode %#o", p, r.name, typ, st.Mode)
		}
	}
	f, err := pathrs.Reopen(h, flags|unix.O_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("open %q in %s (flags %#o): %w", p, r.name, flags, unwrapPath(err))
	}
	return f, nil
}

// Stat is stat(2) of p resolved inside the root.
func (r *Root) Stat(p string) (unix.Stat_t, error) {
	var st unix.Stat_t
	h, err := r.Lookup(p)
	if err != nil {
		return st, err
	}
	defer h.Close()
	if err := unix.Fstat(int(h.Fd()), &st); err != nil {
		return st, fmt.Errorf("stat %q in %s: %w", p, r.name, err)
	}
	return st, nil
}

// Parent is p's directory, resolved inside the root, and p's last name:
// what *at calls that must not follow the last name take. The last name
// is never "", "." or "..".
func (r *Root) Parent(p string) (*Dir, error) {
	if err := checkName(p); err != nil {
		return nil, err
	}
	p = strings.TrimRight(p, "/")
	dir, name := path.Split(p)
	if name == "" || name == "." || name == ".." {
		return nil, fmt.Errorf("%q in %s: no file name at its end", p, r.name)
	}
	if dir == "" {
		dir = "."
	}
	d, err := r.Lookup(dir)
	if err != nil {
		return nil, err
	}
	var st unix.Stat_t
	if err := unix.Fstat(int(d.Fd()), &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFDIR {
		d.Close()
		return nil, fmt.Errorf("%q in %s: the parent is not a directory (%w)", p, r.name, err)
	}
	return &Dir{f: d, Name: name, path: p, root: r.name}, nil
}

// ParentNoSymlinks is Parent for a path the kernel printed (d_path: an
// fd's link, a mapping): such a path has no symlink in it, so one found
// on the way now means the file system changed since, and the lookup
// fails (ELOOP). This matters where the root contains nothing (a root of
// "/"): a symlink planted since the checkpoint cannot send a creation
// elsewhere.
func (r *Root) ParentNoSymlinks(p string) (*Dir, error) {
	if err := checkName(p); err != nil {
		return nil, err
	}
	p = strings.TrimRight(p, "/")
	dir, name := path.Split(p)
	if name == "" || name == "." || name == ".." {
		return nil, fmt.Errorf("%q in %s: no file name at its end", p, r.name)
	}
	if dir == "" {
		dir = "."
	}
	fd, err := unix.Openat2(r.Fd(), dir, &unix.OpenHow{
		Flags:   unix.O_PATH | unix.O_DIRECTORY | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS | unix.RESOLVE_NO_SYMLINKS,
	})
	if err != nil {
		return nil, fmt.Errorf("resolve %q in %s without symlinks: %w", dir, r.name, err)
	}
	return &Dir{f: os.NewFile(uintptr(fd), dir), Name: name, path: p, root: r.name}, nil
}

// Lstat is lstat(2) of p resolved inside the root: the last name is not
// followed.
func (r *Root) Lstat(p string) (unix.Stat_t, error) {
	var st unix.Stat_t
	d, err := r.Parent(p)
	if err != nil {
		return st, err
	}
	defer d.Close()
	return d.Lstat()
}

// RemoveIf unlinks p, the last name not followed, if it is a file of type
// typ (S_IFSOCK, S_IFIFO, ...); it reports whether it did. A missing file
// is no error.
func (r *Root) RemoveIf(p string, typ uint32) (bool, error) {
	d, err := r.Parent(p)
	if errors.Is(err, unix.ENOENT) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer d.Close()
	return d.RemoveIf(typ)
}

// ChmodIf sets the permission bits of p, the last name not followed, if
// it is a file of type typ; a file of another type is an error.
func (r *Root) ChmodIf(p string, typ, mode uint32) error {
	d, err := r.Parent(p)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.ChmodIf(typ, mode)
}

// Dir is a directory resolved inside a root and one name in it.
type Dir struct {
	f    *os.File // O_PATH
	Name string   // the last name: no "/" in it
	path string   // the whole path, for messages
	root string
}

// Close closes the directory's fd.
func (d *Dir) Close() error { return d.f.Close() }

// Fd is the directory's O_PATH fd, for *at calls with Name.
func (d *Dir) Fd() int { return int(d.f.Fd()) }

func (d *Dir) String() string { return fmt.Sprintf("%q in %s", d.path, d.root) }

// Lstat is fstatat(2) of the name, not followed.
func (d *Dir) Lstat() (unix.Stat_t, error) {
	var st unix.Stat_t
	if err := unix.Fstatat(d.Fd(), d.Name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return st, fmt.Errorf("lstat %v: %w", d, err)
	}
	return st, nil
}

// RemoveIf unlinks the name if it is a file of type typ; see
// Root.RemoveIf.
func (d *Dir) RemoveIf(typ uint32) (bool, error) {
	st, err := d.Lstat()
	if errors.Is(err, unix.ENOENT) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if st.Mode&unix.S_IFMT != typ {
		return false, nil
	}
	if err := unix.Unlinkat(d.Fd(), d.Name, 0); err != nil && !errors.Is(err, unix.ENOENT) {
		return false, fmt.Errorf("unlink %v: %w", d, err)
	}
	return true, nil
}

// Unlink unlinks the name, whatever it is (not a directory).
func (d *Dir) Unlink() error {
	if err := unix.Unlinkat(d.Fd(), d.Name, 0); err != nil {
		return fmt.Errorf("unlink %v: %w", d, err)
	}
	return nil
}

// ChmodIf sets the permission bits of the name, if it is a file of type
// typ. The file is held by an O_PATH|O_NOFOLLOW fd, its type checked on
// that fd, and the mode set on the same fd (fchmodat2(AT_EMPTY_PATH), or
// through /proc/self/fd on kernels before 6.6): a symlink is never
// followed, and a file swapped in between is not touched.
func (d *Dir) ChmodIf(typ, mode uint32) error {
	if err := ChmodAt(d.Fd(), d.Name, typ, mode); err != nil {
		return fmt.Errorf("chmod %v: %w", d, err)
	}
	return nil
}

// ChmodAt sets the permission bits of name in the directory dirfd, if it
// is a file of type typ (never S_IFLNK: a symlink has no mode to set),
// without following it: chmod(2) and fchmodat(2) follow a symlink, and an
// absolute one resolves against our root, the host's, whatever directory
// dirfd is in.
func ChmodAt(dirfd int, name string, typ, mode uint32) error {
	fd, err := unix.Openat(dirfd, name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT != typ || typ == unix.S_IFLNK {
		return fmt.Errorf("it is not of type %#o but mode %#o", typ, st.Mode)
	}
	err = unix.Fchmodat(fd, "", mode&0o7777, unix.AT_EMPTY_PATH)
	if errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.ENOSYS) {
		err = unix.Chmod("/proc/self/fd/"+strconv.Itoa(fd), mode&0o7777)
	}
	if err != nil {
		return fmt.Errorf("to %#o: %w", mode&0o7777, err)
	}
	return nil
}

// Create makes the name as a new regular file (O_CREAT|O_EXCL|O_NOFOLLOW:
// never through a symlink, never an existing file) opened with flags.
func (d *Dir) Create(flags int, perm uint32) (*os.File, error) {
	fd, err := unix.Openat(d.Fd(), d.Name, flags|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, perm)
	if err != nil {
		return nil, fmt.Errorf("create %v: %w", d, err)
	}
	return os.NewFile(uintptr(fd), d.path), nil
}

// Sibling is another name in the same directory, for a retry under
// another name; d stays usable.
func (d *Dir) Sibling(name string) (*Dir, error) {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\x00") {
		return nil, fmt.Errorf("sibling name %q of %v", name, d)
	}
	f, err := unix.Dup(d.Fd())
	if err != nil {
		return nil, err
	}
	unix.CloseOnExec(f)
	return &Dir{f: os.NewFile(uintptr(f), path.Dir(d.path)), Name: name, path: path.Join(path.Dir(d.path), name), root: d.root}, nil
}

// checkName refuses what no resolution should be asked: an empty path, a
// NUL, a path longer than PATH_MAX.
func checkName(p string) error {
	switch {
	case p == "":
		return errors.New("empty path")
	case strings.IndexByte(p, 0) >= 0:
		return fmt.Errorf("path %q holds a NUL", p)
	case len(p) >= unix.PathMax:
		return fmt.Errorf("path of %d bytes is longer than PATH_MAX", len(p))
	}
	return nil
}

// unwrapPath strips securejoin's *os.PathError, whose Op and Path the
// caller's message repeats, keeping the errno for errors.Is.
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) && pe.Op == "securejoin.OpenInRoot" {
		return pe.Err
	}
	return err
}
