package checkpoint

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
	"github.com/ckpt/ckpt/internal/proc"
)

func init() {
	registerFileKind(fileKind{name: "deleted file", modes: []uint32{unix.S_IFREG},
		is: func(_ *process, of *openFd) bool {
			return strings.HasSuffix(of.link, " (deleted)") && !isMemfd(of)
		},
		dump: (*dumper).dumpDeletedFile})
}

// secretmemMagic is SECRETMEM_MAGIC from include/uapi/linux/magic.h: the
// file system of memfd_secret(2) files, whose pages not even the kernel
// reads for another process.
const secretmemMagic = 0x5345434d

// deletedObj is a deleted file saved with its contents, once for every
// description and mapping of it.
type deletedObj struct {
	rec  image.DeletedFile
	data []image.Record // its DELETED_DATA records
	attr image.InodeAttr
	tmp  *image.Tmpfile // made with O_TMPFILE, never linked
}

// oTmpfileBit is __O_TMPFILE (include/uapi/asm-generic/fcntl.h): O_TMPFILE
// without O_DIRECTORY, kept in the status flags of the description
// open(2) made with it.
const oTmpfileBit = unix.O_TMPFILE &^ unix.O_DIRECTORY

type devIno struct{ dev, ino uint64 }

// deletedFile saves the deleted file open at, or mapped from, fdPath
// (a /proc/PID/fd or map_files link) the first time it is seen, and adds it
// to the objects p writes before its files and memory.
func (d *dumper) deletedFile(p *process, fdPath, link, obj string) (*deletedObj, error) {
	var st unix.Stat_t
	if err := unix.Stat(fdPath, &st); err != nil {
		return nil, fmt.Errorf("stat %s of task %d: %w", obj, p.pid, err)
	}
	key := devIno{st.Dev, st.Ino}
	if df := d.deleted[key]; df != nil {
		return df, nil
	}
	orig := strings.TrimSuffix(link, " (deleted)")
	var fs unix.Statfs_t
	if err := unix.Statfs(fdPath, &fs); err != nil {
		return nil, fmt.Errorf("statfs %s of task %d: %w", obj, p.pid, err)
	}
	switch {
	case fs.Type == secretmemMagic:
		return nil, unsupported(p.pid, obj, "memfd_secret memory cannot be read")
	case st.Mode&unix.S_IFMT != unix.S_IFREG:
		return nil, unsupported(p.pid, obj, "a deleted file that is not a regular file (mode %#o)", st.Mode)
	case st.Nlink != 0:
		return nil, unsupported(p.pid, obj, "the file's path was deleted but it has %d other links, which cannot be found", st.Nlink)
	case !strings.HasPrefix(orig, "/"):
		return nil, unsupported(p.pid, obj, "deleted file with no path to re-create it at")
	case fs.Flags&unix.ST_RDONLY != 0:
		return nil, unsupported(p.pid, obj, "the deleted file was on a read-only mount, where restore cannot re-create it")
	}
	// Restore re-creates it in the directory it was in: that must still be
	// there, writable.
	dir := path.Dir(orig)
	dst, err := statInTask(p.pid, dir)
	if err != nil || dst.Dev != st.Dev {
		return nil, unsupported(p.pid, obj, "the directory %s the file was deleted from is gone or on another file system: nowhere to re-create it", dir)
	}
	if dfs, err := statfsInTask(p.pid, dir); err != nil || dfs.Flags&unix.ST_RDONLY != 0 {
		return nil, unsupported(p.pid, obj, "the directory %s is on a read-only mount: restore cannot re-create the deleted file there", dir)
	}
	if sh := d.shmems[st.Ino]; sh != nil && fs.Type == unix.TMPFS_MAGIC {
		return nil, unsupported(p.pid, obj, "a deleted tmpfs file both open and mapped shared: not supported yet")
	}
	df := &deletedObj{rec: image.DeletedFile{
		Objref: d.nextObjref(), Mode: st.Mode, Uid: st.Uid, Gid: st.Gid, Size: st.Size,
		Dev: st.Dev, Ino: st.Ino, Path: orig,
	}, attr: inodeAttr(&st)}
	if path.Base(orig) == "#"+strconv.FormatUint(st.Ino, 10) {
		// The name d_tmpfile() gives a file made with O_TMPFILE: it was
		// never linked (a link would have named it).
		df.tmp = &image.Tmpfile{Dev: st.Dev, Ino: st.Ino, Flags: unix.O_TMPFILE | unix.O_RDWR}
	}
	if err := readDeletedData(fdPath, df); err != nil {
		return nil, fmt.Errorf("read deleted file %s of task %d: %w", obj, p.pid, err)
	}
	if d.deleted == nil {
		d.deleted = map[devIno]*deletedObj{}
		d.deletedOf = map[*process][]*deletedObj{}
	}
	d.deleted[key] = df
	d.deletedOf[p] = append(d.deletedOf[p], df)
	return df, nil
}

// readDeletedData reads the file's data runs, skipping holes
// (SEEK_DATA/SEEK_HOLE), into DELETED_DATA records.
func readDeletedData(fdPath string, df *deletedObj) error {
	f, err := os.Open(fdPath)
	if err != nil {
		return err
	}
	defer f.Close()
	fd := int(f.Fd())
	size := df.rec.Size
	for off := int64(0); off < size; {
		start, err := unix.Seek(fd, off, unix.SEEK_DATA)
		if errors.Is(err, unix.ENXIO) {
			break // only a hole is left
		}
		if err != nil {
			return fmt.Errorf("SEEK_DATA at %d: %w", off, err)
		}
		end, err := unix.Seek(fd, start, unix.SEEK_HOLE)
		if err != nil {
			return fmt.Errorf("SEEK_HOLE at %d: %w", start, err)
		}
		end = min(end, size)
		for pos := start; pos < end; {
			n := min(end-pos, image.DeletedDataChunk)
			buf := make([]byte, n)
			got, err := f.ReadAt(buf, pos)
			if err != nil && !(errors.Is(err, io.EOF) && got > 0) {
				return fmt.Errorf("read at %d: %w", pos, err)
			}
			df.data = append(df.data, &image.DeletedData{File: df.rec.Objref, Offset: pos, Data: buf[:got]})
			pos += int64(got)
		}
		off = end
	}
	return nil
}

// dumpDeletedFile saves an open description of a deleted file.
func (d *dumper) dumpDeletedFile(p *process, of *openFd, obj string) (image.Record, error) {
	df, err := d.deletedFile(p, fmt.Sprintf("/proc/%d/fd/%d", p.pid, of.fd), of.link, obj)
	if err != nil {
		return nil, err
	}
	flags := of.info.Flags & openFlagsMask
	if flags&oTmpfileBit != 0 {
		if df.tmp == nil {
			return nil, unsupported(p.pid, obj, "a file made with O_TMPFILE, linked and deleted since: its description's O_TMPFILE flags (%#o) cannot be given back", flags)
		}
		df.tmp.Flags = flags // the description open(2) made: restore makes it so again
	}
	return &image.DeletedOpen{Flags: flags, Pos: of.info.Pos, File: df.rec.Objref}, nil
}

// deletedVma makes a private or shared mapping of a deleted file (not on
// tmpfs: that is shared memory) one of kind VmaDeleted.
func (d *dumper) deletedVma(p *process, v proc.Vma, iv *image.Vma) error {
	obj := fmt.Sprintf("vma %x-%x %s", v.Start, v.End, v.Path)
	df, err := d.deletedFile(p, proc.MapFilesPath(p.pid, v.Start, v.End), v.Path, obj)
	if err != nil {
		return err
	}
	iv.Kind, iv.Dev, iv.Ino = image.VmaDeleted, df.rec.Dev, df.rec.Ino
	return nil
}

// deletedRecords returns the DELETED_FILE and DELETED_DATA records p is the
// first to use, to write before its files and memory.
func (d *dumper) deletedRecords(p *process) []image.Record {
	var recs []image.Record
	for _, df := range d.deletedOf[p] {
		if df.tmp != nil {
			recs = append(recs, df.tmp)
		}
		recs = append(recs, &df.rec)
		recs = append(recs, df.data...)
		df.attr.Object = df.rec.Objref
		recs = append(recs, &df.attr)
	}
	return recs
}

// errDeletedVma is classifyVma's answer for a mapping of a deleted file,
// which collectVmas then saves with deletedVma.
var errDeletedVma = errors.New("mapping of a deleted file")

// inodeAttr is the INODE_ATTR of an inode restore makes anew, from its
// stat taken before the checkpoint reads it (a read moves its atime).
func inodeAttr(st *unix.Stat_t) image.InodeAttr {
	return image.InodeAttr{Mode: st.Mode & 0o7777, Uid: st.Uid, Gid: st.Gid,
		AtimeNs: st.Atim.Nano(), MtimeNs: st.Mtim.Nano(), Flags: image.InodeAttrTimes}
}
