package restore

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
	"github.com/ckpt/ckpt/internal/kernel"
)

func init() {
	registerKind(kind{name: "inode attributes", task: true,
		takes: []taker{on((*restorer).applyInodeAttr)}})
}

// applyInodeAttr gives an object restore made anew (a memfd, a deleted
// file) the owner, mode and times it had, once its contents are written:
// writing moved its times, and a write by a task without CAP_FSETID, or a
// chown, would have cleared set-user-ID bits set before.
func (rs *restorer) applyInodeAttr(a *image.InodeAttr) error {
	what := fmt.Sprintf("INODE_ATTR of object %d", a.Object)
	if a.Mode&^0o7777 != 0 || a.Flags&^image.InodeAttrTimes != 0 || a.Reserved != 0 {
		return badImage("%s: mode %#o, flags %#x, reserved %#x", what, a.Mode, a.Flags, a.Reserved)
	}
	var f *os.File
	switch x := rs.objs[a.Object].(type) {
	case *image.Shmem:
		if x.Kind == image.ShmemAnon {
			return badImage("%s: anonymous shared memory has none", what)
		}
		f = rs.shmFiles[x.Ino]
	default:
		if g := rs.deleted.files[a.Object]; g != nil {
			f = g.f
		}
	}
	if f == nil {
		return badImage("%s: not a SHMEM or DELETED_FILE before it", what)
	}
	return setInodeAttr(int(f.Fd()), a)
}

// setInodeAttr sets owner, mode, then times: chown clears set-user-ID
// bits, and both move the change time only.
func setInodeAttr(fd int, a *image.InodeAttr) error {
	err := errors.Join(unix.Fchown(fd, int(a.Uid), int(a.Gid)), unix.Fchmod(fd, a.Mode))
	if err == nil && a.Flags&image.InodeAttrTimes != 0 {
		if e := kernel.Futimens(fd, a.AtimeNs, a.MtimeNs); e != nil {
			err = fmt.Errorf("futimens: %w", e)
		}
	}
	if err != nil {
		return fmt.Errorf("owner %d:%d, mode %#o, times: %w", a.Uid, a.Gid, a.Mode, err)
	}
	return nil
}
