package restore

import (
	"fmt"
	"os"
	"path"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
	"github.com/ckpt/ckpt/internal/kernel"
)

// shmemKind is the restore state of shared memory objects (SHMEM and the
// PAGES after it).
type shmemKind struct {
	shmFiles map[uint64]*os.File     // shared memory objects, by inode
	shmRecs  map[uint64]*image.Shmem // their records
	curShmem uint64                  // PAGES now belong to this object (0: to the task)
}

func init() {
	registerKind(kind{name: "shared memory", task: true,
		start: func(rs *restorer) { rs.shmFiles, rs.shmRecs = map[uint64]*os.File{}, map[uint64]*image.Shmem{} },
		takes: []taker{on(func(rs *restorer, x *image.Shmem) error {
			rs.objs[x.Objref] = x
			if err := rs.makeShmem(x); err != nil {
				return err
			}
			rs.curShmem = x.Ino
			return nil
		})},
		follow: func(rs *restorer, r *image.Reader, rec image.Record) (bool, error) {
			if rs.curShmem == 0 {
				return false, nil
			}
			if p, ok := rec.(*image.Pages); ok {
				return true, rs.fillShmem(r, rs.curShmem, p)
			}
			// The object's contents are complete.
			if err := rs.sealShmem(rs.curShmem); err != nil {
				return true, err
			}
			rs.curShmem = 0
			return false, nil
		},
		close: func(rs *restorer) {
			for _, f := range rs.shmFiles {
				f.Close()
			}
		}})
}

// makeShmem creates a shared memory object in the restorer, which keeps it
// open; the contents come from the PAGES records that follow, and every
// task that maps it takes the fd with pidfd_getfd. A memfd gets its name
// back. Anonymous shared memory is made the way the kernel makes it for a
// MAP_SHARED|MAP_ANONYMOUS mapping (shmem_zero_setup: a "dev/zero" file),
// through a mapping of our own whose file we keep: so /proc/PID/maps shows
// "/dev/zero (deleted)" in the restored tasks as it did.
func (rs *restorer) makeShmem(sh *image.Shmem) error {
	if _, dup := rs.shmFiles[sh.Ino]; dup {
		return badImage("a second SHMEM for inode %d", sh.Ino)
	}
	var f *os.File
	switch sh.Kind {
	case image.ShmemMemfd:
		flags := unix.MFD_CLOEXEC
		if sh.Seals != unix.F_SEAL_SEAL {
			flags |= unix.MFD_ALLOW_SEALING
		}
		fd, err := unix.MemfdCreate(sh.Name, flags)
		if err != nil {
			return fmt.Errorf("memfd_create(%q): %w", sh.Name, err)
		}
		f = os.NewFile(uintptr(fd), "memfd:"+sh.Name)
		if err := f.Truncate(int64(sh.Size)); err != nil {
			f.Close()
			return fmt.Errorf("memfd %q size %d: %w", sh.Name, sh.Size, err)
		}
	case image.ShmemFile:
		// Make it where it was, then delete it again; if the name is
		// taken now, next to it.
		// Made inside the restore's root, never through a host
		// path (paths.go).
		base := path.Base(sh.Name)
		var err error
		f, err = rs.createUnlinked(sh.Name, 0o600, func(i int) string { return base + ".ckpt" + strconv.Itoa(i) })
		if err != nil {
			return fmt.Errorf("re-create deleted file %q: %w", sh.Name, err)
		}
		if err := f.Truncate(int64(sh.Size)); err != nil {
			f.Close()
			return fmt.Errorf("deleted file %q size %d: %w", sh.Name, sh.Size, err)
		}
	case image.ShmemAnon:
		if sh.Size == 0 || sh.Size%pageSize != 0 {
			return badImage("anonymous shared memory of %d bytes", sh.Size)
		}
		m, err := unix.Mmap(-1, 0, int(sh.Size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_ANONYMOUS)
		if err != nil {
			return fmt.Errorf("map %d bytes of shared memory: %w", sh.Size, err)
		}
		start := uint64(kernel.BytesAddr(m))
		f, err = os.OpenFile(fmt.Sprintf("/proc/self/map_files/%x-%x", start, start+sh.Size), os.O_RDWR, 0)
		_ = unix.Munmap(m)
		if err != nil {
			return fmt.Errorf("open our shared mapping's file: %w", err)
		}
	default:
		return badImage("SHMEM of unknown kind %d", sh.Kind)
	}
	rs.shmFiles[sh.Ino] = f
	rs.shmRecs[sh.Ino] = sh
	return nil
}

// fillShmem writes one PAGES record's data into the object at the offsets
// its runs give: from the image file with sendfile(2), which copies in the
// kernel, or from the stream.
func (rs *restorer) fillShmem(r *image.Reader, ino uint64, p *image.Pages) error {
	f := rs.shmFiles[ino]
	sh := rs.shmRecs[ino]
	off := p.DataOffset
	for _, run := range p.Runs {
		n := int64(run.Pages) * pageSize
		if run.Vaddr+uint64(n) > sh.Size+pageSize-1 {
			return badImage("shared memory %d: pages at offset %#x past its size %d", ino, run.Vaddr, sh.Size)
		}
		// The last page may be partly past the end: writing all of it
		// would grow the object.
		keep := min(n, int64(sh.Size-run.Vaddr))
		if rs.imageFile != nil {
			// sendfile(2) copies in the kernel, across file systems
			// (copy_file_range(2) refuses ext4 to shmem with EXDEV).
			if _, err := f.Seek(int64(run.Vaddr), 0); err != nil {
				return err
			}
			src := off
			for left := keep; left > 0; {
				c, err := unix.Sendfile(int(f.Fd()), int(rs.imageFile.Fd()), &src, int(left))
				if err != nil {
					return fmt.Errorf("shared memory %d: copy from the image: %w", ino, err)
				}
				if c == 0 {
					return fmt.Errorf("shared memory %d: the image ends early", ino)
				}
				left -= int64(c)
			}
		} else {
			buf := make([]byte, n)
			if err := r.ReadPageData(buf); err != nil {
				return err
			}
			if _, err := f.WriteAt(buf[:keep], int64(run.Vaddr)); err != nil {
				return fmt.Errorf("shared memory %d: %w", ino, err)
			}
		}
		off += n
	}
	rs.pages += uint64(p.NrPages)
	return nil
}

// sealShmem puts back a memfd's seals once its contents are in.
func (rs *restorer) sealShmem(ino uint64) error {
	sh := rs.shmRecs[ino]
	if sh.Kind != image.ShmemMemfd || sh.Seals == 0 || sh.Seals == unix.F_SEAL_SEAL {
		return nil
	}
	if _, err := unix.FcntlInt(rs.shmFiles[ino].Fd(), unix.F_ADD_SEALS, int(sh.Seals)); err != nil {
		return fmt.Errorf("memfd %q seals %#x: %w", sh.Name, sh.Seals, err)
	}
	return nil
}
