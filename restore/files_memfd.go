package restore

import (
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
)

func init() {
	registerKind(kind{name: "memfd", task: true,
		takes: []taker{object((*restorer).checkMemfdFile)},
		opens: []opener{fileOf(func(rs *restorer, _ *taskPlan, _ image.Fd, x *image.MemfdFile) (*os.File, error) {
			return rs.openMemfd(x)
		})}})
}

// checkMemfdFile checks a MEMFD_FILE as it is read: the object it names
// is a memfd already in the image.
func (rs *restorer) checkMemfdFile(m *image.MemfdFile) error {
	sh, ok := rs.objs[m.Shmem].(*image.Shmem)
	if !ok {
		return badImage("MEMFD_FILE %d refers to object %d, which is not a SHMEM", m.Objref, m.Shmem)
	}
	if sh.Kind != image.ShmemMemfd {
		return badImage("MEMFD_FILE %d refers to SHMEM %d of kind %d, not a memfd", m.Objref, m.Shmem, sh.Kind)
	}
	if m.Flags&unix.O_ACCMODE == unix.O_ACCMODE {
		return badImage("MEMFD_FILE %d: open flags %#o have no access mode", m.Objref, m.Flags)
	}
	if m.Pos < 0 {
		return badImage("MEMFD_FILE %d: offset %d", m.Objref, m.Pos)
	}
	return nil
}

// openMemfd opens one description of a restored memfd in the restorer:
// reopening the memfd through /proc gives a new description of the same
// file with the saved mode, so the tasks' fds reach the same memory as
// their mappings.
func (rs *restorer) openMemfd(m *image.MemfdFile) (*os.File, error) {
	sh := rs.objs[m.Shmem].(*image.Shmem) // checked on read
	mf := rs.shmFiles[sh.Ino]
	fd, err := unix.Open("/proc/self/fd/"+strconv.Itoa(int(mf.Fd())), int(m.Flags&reopenMask)|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("reopen memfd %q (flags %#o): %w", sh.Name, m.Flags, err)
	}
	f := os.NewFile(uintptr(fd), "memfd:"+sh.Name)
	if _, err := unix.Seek(fd, m.Pos, unix.SEEK_SET); err != nil {
		f.Close()
		return nil, fmt.Errorf("memfd %q: seek to %d: %w", sh.Name, m.Pos, err)
	}
	return f, nil
}
