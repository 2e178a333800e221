package checkpoint

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
	"github.com/ckpt/ckpt/internal/proc"
)

// shmemObj is one shared memory object and its contents, read while the
// tasks are stopped (with --leave-running they run on during the dump, and
// a fork's copy-on-write snapshot does not cover shared memory).
type shmemObj struct {
	rec  image.Shmem
	attr *image.InodeAttr // a memfd's or deleted file's owner, mode and times
	runs []image.PageRun  // offsets in the object
	data [][]byte
}

// collectShmem finds the shared memory objects p maps that no earlier task
// did, and reads them through /proc/PID/map_files.
func (d *dumper) collectShmem(p *process) error {
	for i, v := range p.imgVmas {
		if v.Kind != image.VmaShmem {
			continue
		}
		if _, seen := d.shmems[v.Ino]; seen {
			continue
		}
		pv := p.vmas[i]
		obj, err := readShmem(proc.MapFilesPath(p.pid, pv.Start, pv.End), pv.Path)
		if err != nil {
			return fmt.Errorf("shared memory mapped at %#x: %w", pv.Start, err)
		}
		obj.rec.Objref = d.nextObjref()
		obj.rec.Ino = v.Ino
		d.shmems[v.Ino] = obj
		p.shmems = append(p.shmems, obj)
	}
	return nil
}

func readShmem(path, name string) (*shmemObj, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	obj := &shmemObj{rec: image.Shmem{Kind: image.ShmemAnon, Size: uint64(fi.Size())}}
	if name != "/dev/zero" && !strings.HasPrefix(name, "/memfd:") {
		obj.rec.Kind, obj.rec.Name = image.ShmemFile, name
	} else if n, ok := strings.CutPrefix(name, "/memfd:"); ok {
		obj.rec.Kind, obj.rec.Name = image.ShmemMemfd, n
		seals, err := unix.FcntlInt(f.Fd(), unix.F_GET_SEALS, 0)
		if err != nil {
			return nil, fmt.Errorf("F_GET_SEALS: %w", err)
		}
		obj.rec.Seals = uint32(seals)
	}
	if obj.rec.Kind != image.ShmemAnon {
		var st unix.Stat_t
		if err := unix.Fstat(int(f.Fd()), &st); err != nil {
			return nil, err
		}
		a := inodeAttr(&st)
		obj.attr = &a
	}
	// Only what was written matters: walk the data, skip holes and zeros.
	fd := int(f.Fd())
	const ps = image.PageSize
	for off := int64(0); off < fi.Size(); {
		data, err := unix.Seek(fd, off, unix.SEEK_DATA)
		if errors.Is(err, unix.ENXIO) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("SEEK_DATA: %w", err)
		}
		hole, err := unix.Seek(fd, data, unix.SEEK_HOLE)
		if err != nil {
			return nil, fmt.Errorf("SEEK_HOLE: %w", err)
		}
		data &^= ps - 1
		hole = min((hole+ps-1)&^(ps-1), (fi.Size()+ps-1)&^(ps-1))
		buf := make([]byte, hole-data)
		if _, err := f.ReadAt(buf, data); err != nil && int64(len(buf)) > fi.Size()-data {
			// The last page may be partly past the end: it reads as zero.
		} else if err != nil {
			return nil, err
		}
		for i := 0; i < len(buf); i += ps {
			page := buf[i : i+ps]
			if bytes.Equal(page, zeroPage) {
				continue
			}
			addr := uint64(data) + uint64(i)
			if n := len(obj.runs); n > 0 && obj.runs[n-1].Vaddr+uint64(obj.runs[n-1].Pages)*ps == addr {
				obj.runs[n-1].Pages++
				obj.data[len(obj.data)-1] = buf[i-int(obj.runs[n-1].Pages-1)*ps : i+ps]
			} else {
				obj.runs = append(obj.runs, image.PageRun{Vaddr: addr, Pages: 1})
				obj.data = append(obj.data, page)
			}
		}
		off = hole
	}
	return obj, nil
}
