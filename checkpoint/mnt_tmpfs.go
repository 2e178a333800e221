package checkpoint

import (
	"errors"
	"fmt"
	"os"
	"sort"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
)

// tmpfsTree is the content of a tmpfs made in the namespace: every name,
// directories before what they hold. File data is read at write time
// through rootFd (the tasks are still stopped then), or, when they run on
// after the checkpoint, read at once and kept.
type tmpfsTree struct {
	mountID uint32
	rootFd  int
	entries []tmpfsEntry
}

type tmpfsEntry struct {
	rec  image.TmpfsFile
	ino  uint64
	data []image.TmpfsData // read at collect time (--leave-running)
}

// walkTmpfs reads the tmpfs whose root is open as rootFd (from the task's
// root, so in its mount namespace, or a private copy of the mount).
// Anything it cannot re-create is refused: sockets, extended attributes
// (ACLs included), immutable/append-only/nodump inode flags.
func walkTmpfs(pid int, obj string, id uint32, rootFd int, readNow bool) (*tmpfsTree, error) {
	dup, err := unix.FcntlInt(uintptr(rootFd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("dup the root of %s: %w", obj, err)
	}
	t := &tmpfsTree{mountID: id, rootFd: dup}
	var st unix.Statx_t
	if err := unix.Statx(rootFd, "", unix.AT_EMPTY_PATH, unix.STATX_MNT_ID, &st); err != nil {
		t.close()
		return nil, fmt.Errorf("%s: statx: %w", obj, err)
	}
	w := &tmpfsWalker{t: t, pid: pid, obj: obj, readNow: readNow, links: map[uint64]string{}, mnt: st.Mnt_id}
	if err := w.add(rootFd, "", "/"); err != nil {
		t.close()
		return nil, err
	}
	return t, nil
}

type tmpfsWalker struct {
	t       *tmpfsTree
	pid     int
	obj     string
	readNow bool
	links   map[uint64]string // inode -> first name, for hard links
	mnt     uint64            // the mount id of what we read (the tmpfs, or our copy of it)
}

// add records the name path (name in dirFd; "" is dirFd itself) and, for
// a directory, everything in it.
func (w *tmpfsWalker) add(dirFd int, name, path string) error {
	flags := unix.AT_SYMLINK_NOFOLLOW
	if name == "" {
		flags = unix.AT_EMPTY_PATH
	}
	var st unix.Statx_t
	if err := unix.Statx(dirFd, name, flags, unix.STATX_BASIC_STATS|unix.STATX_MNT_ID, &st); err != nil {
		return fmt.Errorf("%s: statx %q: %w", w.obj, path, err)
	}
	if st.Mnt_id != w.mnt {
		return unsupported(w.pid, w.obj, "mount %d on %q inside the tmpfs hides what the tmpfs has there", st.Mnt_id, path)
	}
	if a := st.Attributes & st.Attributes_mask & (unix.STATX_ATTR_IMMUTABLE | unix.STATX_ATTR_APPEND | unix.STATX_ATTR_NODUMP); a != 0 {
		return unsupported(w.pid, w.obj, "%q has inode flags (statx attributes %#x), which are not supported yet", path, a)
	}
	if n, err := unix.Llistxattr(fmt.Sprintf("/proc/self/fd/%d/%s", dirFd, name), nil); err == nil && n > 0 {
		return unsupported(w.pid, w.obj, "%q has extended attributes, which are not supported yet", path)
	}
	rec := image.TmpfsFile{
		Mount: w.t.mountID, Mode: uint32(st.Mode), Uid: st.Uid, Gid: st.Gid, Nlink: st.Nlink,
		Atime: st.Atime.Sec*1e9 + int64(st.Atime.Nsec), Mtime: st.Mtime.Sec*1e9 + int64(st.Mtime.Nsec),
		Path: path,
	}
	typ := uint32(st.Mode) & unix.S_IFMT
	if typ != unix.S_IFDIR && st.Nlink > 1 {
		if first, ok := w.links[st.Ino]; ok {
			rec.Flags, rec.Link = image.TmpfsHardLink, first
			w.t.entries = append(w.t.entries, tmpfsEntry{rec: rec, ino: st.Ino})
			return nil
		}
		w.links[st.Ino] = path
	}
	e := tmpfsEntry{rec: rec, ino: st.Ino}
	switch typ {
	case unix.S_IFDIR:
		w.t.entries = append(w.t.entries, e)
		return w.addDir(dirFd, name, path)
	case unix.S_IFREG:
		e.rec.Size = int64(st.Size)
		if w.readNow {
			fd, err := unix.Openat(dirFd, name, unix.O_RDONLY|unix.O_NOATIME|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
			if err != nil {
				return fmt.Errorf("%s: open %q: %w", w.obj, path, err)
			}
			err = readTmpfsData(fd, w.t.mountID, e.rec.Size, func(d *image.TmpfsData) error {
				d.Data = append([]byte(nil), d.Data...)
				e.data = append(e.data, *d)
				return nil
			})
			unix.Close(fd)
			if err != nil {
				return fmt.Errorf("%s: read %q: %w", w.obj, path, err)
			}
		}
	case unix.S_IFLNK:
		buf := make([]byte, 4096)
		n, err := unix.Readlinkat(dirFd, name, buf)
		if err != nil || n >= len(buf) {
			return fmt.Errorf("%s: readlink %q: %w", w.obj, path, err)
		}
		e.rec.Link = string(buf[:n])
	case unix.S_IFCHR, unix.S_IFBLK:
		e.rec.Rdev = unix.Mkdev(st.Rdev_major, st.Rdev_minor)
	case unix.S_IFIFO:
	default:
		return unsupported(w.pid, w.obj, "%q is a socket or of unknown type (mode %#o): not supported", path, st.Mode)
	}
	w.t.entries = append(w.t.entries, e)
	return nil
}

func (w *tmpfsWalker) addDir(dirFd int, name, path string) error {
	if name == "" {
		name = "."
	}
	fd, err := unix.Openat(dirFd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOATIME|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("%s: open directory %q: %w", w.obj, path, err)
	}
	f := os.NewFile(uintptr(fd), path)
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return fmt.Errorf("%s: read directory %q: %w", w.obj, path, err)
	}
	sort.Strings(names)
	for _, n := range names {
		if err := w.add(fd, n, joinPath(path, "/"+n)); err != nil {
			return err
		}
	}
	return nil
}

// readTmpfsData passes the data runs of the file open as fd, up to size,
// to emit in chunks; holes are skipped. The chunk passed is reused.
func readTmpfsData(fd int, mount uint32, size int64, emit func(*image.TmpfsData) error) error {
	buf := make([]byte, min(size, image.TmpfsDataChunk))
	for off := int64(0); off < size; {
		data, err := unix.Seek(fd, off, unix.SEEK_DATA)
		if errors.Is(err, unix.ENXIO) {
			return nil // only a hole is left
		}
		if err != nil {
			return fmt.Errorf("SEEK_DATA at %d: %w", off, err)
		}
		hole, err := unix.Seek(fd, data, unix.SEEK_HOLE)
		if err != nil {
			return fmt.Errorf("SEEK_HOLE at %d: %w", data, err)
		}
		hole = min(hole, size)
		for p := data; p < hole; {
			n, err := unix.Pread(fd, buf[:min(hole-p, int64(len(buf)))], p)
			if err != nil {
				return fmt.Errorf("read at %d: %w", p, err)
			}
			if n == 0 {
				return fmt.Errorf("the file shrank below %d bytes while being read", size)
			}
			if err := emit(&image.TmpfsData{Mount: mount, Offset: p, Data: buf[:n]}); err != nil {
				return err
			}
			p += int64(n)
		}
		off = hole
	}
	return nil
}

// write writes the TMPFS_FILE records, each regular file followed by its
// TMPFS_DATA.
func (t *tmpfsTree) write(w *image.Writer, pid int) error {
	for i := range t.entries {
		e := &t.entries[i]
		if err := w.Write(&e.rec); err != nil {
			return fmt.Errorf("%q: %w", e.rec.Path, err)
		}
		if e.rec.Mode&unix.S_IFMT != unix.S_IFREG || e.rec.Flags&image.TmpfsHardLink != 0 || e.rec.Size == 0 {
			continue
		}
		if e.data != nil {
			for j := range e.data {
				if err := w.Write(&e.data[j]); err != nil {
					return fmt.Errorf("%q: %w", e.rec.Path, err)
				}
			}
			continue
		}
		if err := t.writeData(w, pid, e); err != nil {
			return fmt.Errorf("%q: %w", e.rec.Path, err)
		}
	}
	return nil
}

func (t *tmpfsTree) writeData(w *image.Writer, pid int, e *tmpfsEntry) error {
	fd, err := unix.Openat2(t.rootFd, "."+e.rec.Path, &unix.OpenHow{
		Flags:   unix.O_RDONLY | unix.O_NOATIME | unix.O_NOFOLLOW | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_XDEV,
	})
	if err != nil {
		return fmt.Errorf("open: %w", err)
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Ino != e.ino || st.Size != e.rec.Size {
		return unsupported(pid, fmt.Sprintf("tmpfs file %q", e.rec.Path), "it changed between collect and write (%v)", err)
	}
	return readTmpfsData(fd, t.mountID, e.rec.Size, func(d *image.TmpfsData) error { return w.Write(d) })
}

func (t *tmpfsTree) close() {
	if t.rootFd >= 0 {
		unix.Close(t.rootFd)
		t.rootFd = -1
	}
}
