package checkpoint

import (
	"fmt"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
)

func init() {
	registerFileKind(fileKind{name: "memfd", modes: []uint32{unix.S_IFREG},
		is: func(_ *process, of *openFd) bool { return isMemfd(of) }, dump: (*dumper).dumpMemfd})
}

// isMemfd tells an fd of a memfd: its link reads "/memfd:NAME (deleted)".
// A file on disk could be called "/memfd:x" but is not deleted, and a
// deleted one named so has links left or lives elsewhere than shmem: the
// file system and link count settle it in dumpMemfd.
func isMemfd(of *openFd) bool {
	return strings.HasPrefix(of.link, "/memfd:") && strings.HasSuffix(of.link, " (deleted)") &&
		of.st.Mode&unix.S_IFMT == unix.S_IFREG
}

// dumpMemfd records a description of a memfd. The memfd itself is a SHMEM
// object, shared with the mappings of it: found there if a task maps it,
// read here through the fd otherwise.
func (d *dumper) dumpMemfd(p *process, of *openFd, obj string) (image.Record, error) {
	fdPath := fmt.Sprintf("/proc/%d/fd/%d", p.pid, of.fd)
	var fs unix.Statfs_t
	if err := unix.Statfs(fdPath, &fs); err != nil {
		return nil, fmt.Errorf("statfs fd %d of task %d: %w", of.fd, p.pid, err)
	}
	switch {
	case fs.Type == unix.HUGETLBFS_MAGIC:
		return nil, unsupported(p.pid, obj, "memfds on hugetlbfs are not supported yet")
	case fs.Type != unix.TMPFS_MAGIC || of.st.Nlink != 0:
		// Not a memfd after all: a deleted file that happens to have such
		// a name, refused as deleted files are.
		return dumpRegFile(p, of, obj)
	}
	sh := d.shmems[of.st.Ino]
	if sh == nil {
		var err error
		if sh, err = readShmem(fdPath, strings.TrimSuffix(of.link, " (deleted)")); err != nil {
			return nil, fmt.Errorf("memfd %s of task %d: %w", obj, p.pid, err)
		}
		sh.rec.Objref = d.nextObjref()
		sh.rec.Ino = of.st.Ino
		d.shmems[of.st.Ino] = sh
		p.shmems = append(p.shmems, sh)
	}
	if sh.rec.Kind != image.ShmemMemfd {
		return nil, unsupported(p.pid, obj, "its inode %d is also that of shared memory of kind %d, not a memfd", of.st.Ino, sh.rec.Kind)
	}
	return &image.MemfdFile{Flags: of.info.Flags & openFlagsMask, Pos: of.info.Pos, Shmem: sh.rec.Objref}, nil
}
