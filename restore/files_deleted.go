package restore

import (
	"errors"
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
)

func init() {
	registerKind(kind{name: "deleted file", task: true,
		takes: []taker{on((*restorer).addTmpfile), on((*restorer).addDeletedFile), on((*restorer).addDeletedData), object((*restorer).checkDeletedOpen)},
		opens: []opener{fileOf(func(rs *restorer, _ *taskPlan, _ image.Fd, x *image.DeletedOpen) (*os.File, error) {
			return rs.openDeleted(x)
		})},
		close: (*restorer).closeDeleted})
}

// deletedState is the deleted files re-created so far.
type deletedState struct {
	files  map[uint32]*deletedGhost    // by DELETED_FILE objref
	byNode map[[2]uint64]*deletedGhost // by checkpoint-time dev and inode, for VMAs
	tmp    *image.Tmpfile              // the TMPFILE read, for the DELETED_FILE after it
}

// deletedGhost is a re-created deleted file: unlinked already, held open
// by the restorer until every task has what it needs of it.
type deletedGhost struct {
	rec  *image.DeletedFile
	f    *os.File
	next int64 // where the next DELETED_DATA may start
	// made is the description open(O_TMPFILE) made, for the first
	// DELETED_OPEN with madeFlags; nil once taken, or for other files.
	made      *os.File
	madeFlags uint32
}

// addDeletedFile re-creates a deleted file, unlinked, in the directory it
// was deleted from: at its old name if that is free, so /proc shows the
// same path as before, else at a temporary one. It is made and unlinked at
// once; DELETED_DATA records then fill it through the restorer's fd.
// The directory is found as the image's mount namespace will show it: in
// a private one, through the source of a bind mount; a directory on a
// tmpfs the restore itself re-creates is not supported yet.
func (rs *restorer) addDeletedFile(df *image.DeletedFile) error {
	if df.Mode&unix.S_IFMT != unix.S_IFREG {
		return badImage("DELETED_FILE %d: mode %#o is not a regular file's", df.Objref, df.Mode)
	}
	if df.Size < 0 || len(df.Path) < 2 || df.Path[0] != '/' {
		return badImage("DELETED_FILE %d: size %d, path %q", df.Objref, df.Size, df.Path)
	}
	if rs.deleted.files == nil {
		rs.deleted.files = map[uint32]*deletedGhost{}
		rs.deleted.byNode = map[[2]uint64]*deletedGhost{}
	}
	node := [2]uint64{df.Dev, df.Ino}
	if rs.deleted.byNode[node] != nil {
		return badImage("DELETED_FILE %d: a second record for inode %d on %#x", df.Objref, df.Ino, df.Dev)
	}
	// Made inside the restore's root, never through a host path: the
	// directory may hold the tasks' own symlinks (paths.go).
	perm := df.Mode & 0o7777
	tmp := rs.deleted.tmp
	rs.deleted.tmp = nil
	if tmp != nil && (tmp.Dev != df.Dev || tmp.Ino != df.Ino) {
		return badImage("TMPFILE for inode %d on %#x before DELETED_FILE %d of inode %d on %#x", tmp.Ino, tmp.Dev, df.Objref, df.Ino, df.Dev)
	}
	g := &deletedGhost{rec: df}
	var f *os.File
	var err error
	if tmp != nil {
		f, err = rs.remakeTmpfile(g, tmp, perm)
	} else {
		f, err = rs.createUnlinked(df.Path, perm, tmpNameFor(".ckpt-deleted-", df.Ino))
	}
	if err != nil {
		return fmt.Errorf("re-create deleted file %q: %w", df.Path, err)
	}
	fd := int(f.Fd())
	// The mode again: umask took bits off at creation.
	if err := errors.Join(unix.Fchown(fd, int(df.Uid), int(df.Gid)), unix.Fchmod(fd, perm), unix.Ftruncate(fd, df.Size)); err != nil {
		f.Close()
		if g.made != nil {
			g.made.Close()
		}
		return fmt.Errorf("re-created deleted file %q: owner %d:%d, mode %#o, size %d: %w", df.Path, df.Uid, df.Gid, perm, df.Size, err)
	}
	g.f = f
	rs.deleted.files[df.Objref] = g
	rs.deleted.byNode[node] = g
	return nil
}

// addDeletedData writes one run of a re-created deleted file.
func (rs *restorer) addDeletedData(dd *image.DeletedData) error {
	g := rs.deleted.files[dd.File]
	if g == nil {
		return badImage("DELETED_DATA refers to object %d, which is not a DELETED_FILE", dd.File)
	}
	if dd.Offset < g.next || dd.Offset+int64(len(dd.Data)) > g.rec.Size || len(dd.Data) > image.DeletedDataChunk {
		return badImage("DELETED_DATA of DELETED_FILE %d: %d bytes at %d, out of order or beyond its size %d", dd.File, len(dd.Data), dd.Offset, g.rec.Size)
	}
	if _, err := g.f.WriteAt(dd.Data, dd.Offset); err != nil {
		return fmt.Errorf("re-created deleted file %q: %w", g.rec.Path, err)
	}
	g.next = dd.Offset + int64(len(dd.Data))
	return nil
}

// checkDeletedOpen checks a DELETED_OPEN as it is read.
func (rs *restorer) checkDeletedOpen(do *image.DeletedOpen) error {
	if rs.deleted.files[do.File] == nil {
		return badImage("DELETED_OPEN %d refers to object %d, which is not a DELETED_FILE", do.Objref, do.File)
	}
	if do.Pos < 0 || do.Flags&unix.O_ACCMODE == unix.O_ACCMODE {
		return badImage("DELETED_OPEN %d: flags %#o, offset %d", do.Objref, do.Flags, do.Pos)
	}
	return nil
}

// openDeleted opens a new description of a re-created deleted file in the
// restorer, with the saved flags and offset: reopening through /proc gives
// a description of the same (unlinked) inode.
func (rs *restorer) openDeleted(do *image.DeletedOpen) (*os.File, error) {
	g := rs.deleted.files[do.File] // checked on read
	if g.made != nil && do.Flags == g.madeFlags {
		f := g.made
		g.made = nil
		if _, err := unix.Seek(int(f.Fd()), do.Pos, unix.SEEK_SET); err != nil {
			f.Close()
			return nil, fmt.Errorf("re-created O_TMPFILE file %q: seek to %d: %w", g.rec.Path, do.Pos, err)
		}
		return f, nil
	}
	// A reopen never makes a file: O_TMPFILE (which holds O_DIRECTORY)
	// is the creating open's alone.
	fd, err := unix.Open("/proc/self/fd/"+strconv.Itoa(int(g.f.Fd())), int(do.Flags&reopenMask&^unix.O_TMPFILE)|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("reopen re-created deleted file %q (flags %#o): %w", g.rec.Path, do.Flags, err)
	}
	f := os.NewFile(uintptr(fd), g.rec.Path+" (deleted)")
	if do.Flags&unix.O_PATH == 0 {
		if _, err := unix.Seek(fd, do.Pos, unix.SEEK_SET); err != nil {
			f.Close()
			return nil, fmt.Errorf("re-created deleted file %q: seek to %d: %w", g.rec.Path, do.Pos, err)
		}
	}
	return f, nil
}

// checkDeletedVma checks that a VMA of kind VmaDeleted maps a deleted file
// of the image.
func (rs *restorer) checkDeletedVma(v *image.Vma) error {
	if rs.deleted.byNode[[2]uint64{v.Dev, v.Ino}] == nil {
		return badImage("vma %#x-%#x maps deleted file %d on %#x, which the image does not hold", v.Start, v.End, v.Ino, v.Dev)
	}
	return nil
}

// deletedForVma returns the restorer's fd of the deleted file a VMA maps.
func (rs *restorer) deletedForVma(v *image.Vma) *os.File {
	return rs.deleted.byNode[[2]uint64{v.Dev, v.Ino}].f // checked on read
}

// closeDeleted closes the restorer's fds of re-created deleted files.
func (rs *restorer) closeDeleted() {
	for _, g := range rs.deleted.files {
		g.f.Close()
		if g.made != nil {
			g.made.Close()
		}
	}
	rs.deleted.files, rs.deleted.byNode = nil, nil
}

// addTmpfile takes a TMPFILE, for the DELETED_FILE right after it.
func (rs *restorer) addTmpfile(t *image.Tmpfile) error {
	const never = unix.O_CREAT | unix.O_EXCL | unix.O_TRUNC | unix.O_PATH
	switch {
	case rs.deleted.tmp != nil:
		return badImage("TMPFILE for inode %d: another TMPFILE before it has no DELETED_FILE", t.Ino)
	case t.Flags&unix.O_TMPFILE != unix.O_TMPFILE || t.Flags&never != 0 || t.Flags&unix.O_ACCMODE == unix.O_RDONLY || t.Flags&unix.O_ACCMODE == unix.O_ACCMODE:
		return badImage("TMPFILE for inode %d: flags %#o", t.Ino, t.Flags)
	}
	rs.deleted.tmp = t
	return nil
}

// remakeTmpfile makes g's file with O_TMPFILE and t's flags (that
// description is g.made) and returns a read-write description of it for
// the restorer: for its data, its mappings and other descriptions.
func (rs *restorer) remakeTmpfile(g *deletedGhost, t *image.Tmpfile, perm uint32) (*os.File, error) {
	made, err := rs.createTmpfile(g.rec.Path, int(t.Flags&reopenMask), perm)
	if err != nil {
		return nil, err
	}
	fd, err := unix.Open("/proc/self/fd/"+strconv.Itoa(int(made.Fd())), unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		made.Close()
		return nil, fmt.Errorf("reopen the O_TMPFILE file read-write: %w", err)
	}
	g.made, g.madeFlags = made, t.Flags
	return os.NewFile(uintptr(fd), g.rec.Path+" (deleted)"), nil
}
