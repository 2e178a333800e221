package restore

import (
	"errors"
	"fmt"
	"path"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/internal/fsroot"
)

// fillTmpfs writes the saved content into the tmpfs just mounted on
// mp.rec.MountPoint in the task's namespace, from here, through the task's
// root. Every name is made under the mount's root without following any
// symlink or leaving the mount, whatever the image says. Directories get
// their times last, once nothing more is made in them.
func fillTmpfs(pid int, mp *mountPlan) error {
	root, err := openInTaskRoot(pid, mp.rec.MountPoint, unix.O_RDONLY|unix.O_DIRECTORY)
	if err != nil {
		return err
	}
	defer unix.Close(root)
	var fs unix.Statfs_t
	if err := unix.Fstatfs(root, &fs); err != nil || fs.Type != unix.TMPFS_MAGIC {
		return fmt.Errorf("%q is not the tmpfs just mounted (%w)", mp.rec.MountPoint, err)
	}
	var dirs []*tmpfsEntry
	for _, e := range mp.files {
		if err := makeTmpfsEntry(root, e); err != nil {
			return fmt.Errorf("tmpfs file %q: %w", e.rec.Path, err)
		}
		if e.rec.Mode&unix.S_IFMT == unix.S_IFDIR {
			dirs = append(dirs, e)
		}
	}
	for i := len(dirs) - 1; i >= 0; i-- {
		if err := inParent(root, dirs[i].rec.Path, func(dir int, name string) error {
			return setTimes(dir, name, &dirs[i].rec.Atime, &dirs[i].rec.Mtime)
		}); err != nil {
			return fmt.Errorf("tmpfs directory %q: times: %w", dirs[i].rec.Path, err)
		}
	}
	return nil
}

// inParent calls fn with an fd of the directory holding p (a path from
// the mount's root) and p's last name; for "/" the fd is root itself and
// the name "".
func inParent(root int, p string, fn func(dir int, name string) error) error {
	if p == "/" {
		return fn(root, "")
	}
	dir, err := openBeneath(root, path.Dir(p))
	if err != nil {
		return err
	}
	defer unix.Close(dir)
	return fn(dir, path.Base(p))
}

// openBeneath opens directory p (from the mount's root) for *at calls,
// refusing symlinks, magic links and mount crossings on the way.
func openBeneath(root int, p string) (int, error) {
	rel := strings.TrimPrefix(p, "/")
	if rel == "" {
		rel = "."
	}
	fd, err := unix.Openat2(root, rel, &unix.OpenHow{
		Flags:   unix.O_PATH | unix.O_DIRECTORY | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS | unix.RESOLVE_NO_XDEV,
	})
	if err != nil {
		return -1, fmt.Errorf("open directory %q: %w", p, err)
	}
	return fd, nil
}

func makeTmpfsEntry(root int, e *tmpfsEntry) error {
	r := &e.rec
	typ := r.Mode & unix.S_IFMT
	return inParent(root, r.Path, func(dir int, name string) error {
		at := unix.AT_SYMLINK_NOFOLLOW
		if name == "" {
			at = unix.AT_EMPTY_PATH
		}
		switch {
		case r.Flags != 0: // a hard link: the first name has it all
			return inParent(root, r.Link, func(odir int, oname string) error {
				return unix.Linkat(odir, oname, dir, name, 0)
			})
		case name == "": // the root directory exists
		case typ == unix.S_IFDIR:
			if err := unix.Mkdirat(dir, name, 0o700); err != nil {
				return fmt.Errorf("mkdir: %w", err)
			}
		case typ == unix.S_IFREG:
			if err := writeTmpfsFile(dir, name, e); err != nil {
				return err
			}
		case typ == unix.S_IFLNK:
			if err := unix.Symlinkat(r.Link, dir, name); err != nil {
				return fmt.Errorf("symlink: %w", err)
			}
		default: // device nodes, FIFOs
			if err := unix.Mknodat(dir, name, r.Mode, int(r.Rdev)); err != nil {
				return fmt.Errorf("mknod: %w", err)
			}
		}
		// The owner first: chown clears the set-id bits chmod then sets.
		if err := unix.Fchownat(dir, name, int(r.Uid), int(r.Gid), at); err != nil {
			return fmt.Errorf("chown %d:%d: %w", r.Uid, r.Gid, err)
		}
		if typ != unix.S_IFLNK {
			if err := chmodAt(dir, name, typ, r.Mode&0o7777); err != nil {
				return fmt.Errorf("chmod %#o: %w", r.Mode&0o7777, err)
			}
		}
		if typ != unix.S_IFDIR {
			if err := setTimes(dir, name, &r.Atime, &r.Mtime); err != nil {
				return fmt.Errorf("times: %w", err)
			}
		}
		return nil
	})
}

// chmodAt changes the mode of name in dir, or of dir itself ("" name),
// if it is of type typ, never through a symlink: a hard link record may
// name an earlier symlink whatever its own mode says, and a followed
// absolute symlink would lead to the host's file (internal/fsroot).
func chmodAt(dir int, name string, typ, mode uint32) error {
	if name == "" {
		fd, err := unix.Openat(dir, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		return unix.Fchmod(fd, mode)
	}
	return fsroot.ChmodAt(dir, name, typ, mode)
}

func setTimes(dir int, name string, atime, mtime *int64) error {
	at := unix.AT_SYMLINK_NOFOLLOW
	if name == "" {
		at = unix.AT_EMPTY_PATH
	}
	ts := []unix.Timespec{unix.NsecToTimespec(*atime), unix.NsecToTimespec(*mtime)}
	return unix.UtimesNanoAt(dir, name, ts, at)
}

// writeTmpfsFile makes a regular file with its staged content, holes
// kept, and its size.
func writeTmpfsFile(dir int, name string, e *tmpfsEntry) error {
	fd, err := unix.Openat(dir, name, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return fmt.Errorf("create: %w", err)
	}
	defer unix.Close(fd)
	if e.data != nil {
		src := int(e.data.Fd())
		buf := make([]byte, 256<<10)
		for off := int64(0); off < e.rec.Size; {
			data, err := unix.Seek(src, off, unix.SEEK_DATA)
			if errors.Is(err, unix.ENXIO) {
				break
			}
			if err != nil {
				return fmt.Errorf("staged content: %w", err)
			}
			hole, err := unix.Seek(src, data, unix.SEEK_HOLE)
			if err != nil {
				return fmt.Errorf("staged content: %w", err)
			}
			for p := data; p < hole; {
				n, err := unix.Pread(src, buf[:min(hole-p, int64(len(buf)))], p)
				if err != nil || n == 0 {
					return fmt.Errorf("staged content at %d: %w", p, err)
				}
				if w, err := unix.Pwrite(fd, buf[:n], p); err != nil || w != n {
					return fmt.Errorf("write %d bytes at %d: %d written (%w)", n, p, w, err)
				}
				p += int64(n)
			}
			off = hole
		}
	}
	if err := unix.Ftruncate(fd, e.rec.Size); err != nil {
		return fmt.Errorf("truncate to %d: %w", e.rec.Size, err)
	}
	return nil
}
