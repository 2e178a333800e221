package checkpoint

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
	"github.com/ckpt/ckpt/internal/kernel"
	"github.com/ckpt/ckpt/internal/proc"
)

// fileObj is one open file description: several fds (dup, fork) may share
// it, and with it their offset and status flags.
type fileObj struct {
	objref uint32
	rec    image.Record
	dev    uint64
	ino    uint64
	pid    int // the first task and fd found referring to it, for kcmp
	fd     int
	link   string         // what /proc/PID/fd/N reads, for the leak check
	extra  []image.Record // written right after rec (PIPE_DATA)
}

// openFd is what is known about one fd before dispatching on its kind.
type openFd struct {
	fd   int
	link string
	st   unix.Stat_t
	info *proc.FdInfo
}

// collectFiles walks the fd table and dispatches each fd to the handler of
// its kind. Anything without a handler is refused, naming the fd.
func (d *dumper) collectFiles(p *process) error {
	fds, err := proc.Fds(p.pid)
	if err != nil {
		return err
	}
	for _, fd := range fds {
		of, err := readFd(p.pid, fd)
		if err != nil {
			return err
		}
		if d.isTrackingFd(of) {
			p.uffds = append(p.uffds, fd)
			continue
		}
		obj, err := d.sharedFile(p, of)
		if err != nil {
			return err
		}
		if obj == nil {
			rec, k, err := d.dumpFileKind(p, of)
			if err != nil {
				return err
			}
			obj = &fileObj{objref: d.nextObjref(), rec: rec, dev: of.st.Dev, ino: of.st.Ino, pid: p.pid, fd: fd, link: of.link,
				extra: d.fileExtra[rec]}
			image.SetObjref(rec, obj.objref)
			if k.extra != nil {
				obj.extra = append(obj.extra, k.extra(d, rec)...)
			}
			p.files = append(p.files, obj)
			if err := d.addFile(obj); err != nil {
				return err
			}
			if err := d.collectOwner(p, of); err != nil {
				return err
			}
		}
		if err := d.collectLocks(p, of, obj); err != nil {
			return err
		}
		if n := len(p.pipeFds); n > 0 && p.pipeFds[n-1].fd == fd {
			p.pipeFds[n-1].obj = obj
		}
		var flags uint32
		if of.info.Flags&unix.O_CLOEXEC != 0 {
			flags = unix.FD_CLOEXEC
		}
		p.fds = append(p.fds, image.Fd{Fd: int32(fd), Flags: flags, File: obj.objref})
	}
	return nil
}

func readFd(pid, fd int) (*openFd, error) {
	link, err := proc.FdLink(pid, fd)
	if err != nil {
		return nil, err
	}
	of := &openFd{fd: fd, link: link}
	if err := unix.Stat(fmt.Sprintf("/proc/%d/fd/%d", pid, fd), &of.st); err != nil {
		return nil, fmt.Errorf("stat fd %d of task %d: %w", fd, pid, err)
	}
	if of.info, err = proc.ReadFdInfo(pid, fd); err != nil {
		return nil, err
	}
	return of, nil
}

// sharedFile finds an already collected description that fd refers to too,
// in this task or an earlier one (fork shares them). Candidates share an
// inode; kcmp(KCMP_FILE) tells whether the description itself is the same.
func (d *dumper) sharedFile(p *process, of *openFd) (*fileObj, error) {
	f, _, err := searchInode(d.byInode[devIno{of.st.Dev, of.st.Ino}], p.pid, of.fd)
	return f, err
}

// searchInode looks for the description fd of task pid refers to in list
// (one inode's descriptions, in kcmp(2) order) and returns it, or where it
// would go. kcmp orders descriptions, so a binary search takes log n calls
// where a scan took n (10,000 fds of one file made 50 million).
func searchInode(list []*fileObj, pid, fd int) (*fileObj, int, error) {
	lo, hi := 0, len(list)
	for lo < hi {
		mid := (lo + hi) / 2
		f := list[mid]
		r, err := kernel.Kcmp(f.pid, pid, kernel.KCMP_FILE, uintptr(f.fd), uintptr(fd))
		if err != nil {
			return nil, 0, fmt.Errorf("fd %d of task %d and fd %d of task %d: %w", f.fd, f.pid, fd, pid, err)
		}
		switch r {
		case kernel.KcmpEqual:
			return f, mid, nil
		case kernel.KcmpLess: // f's sorts before ours
			lo = mid + 1
		case kernel.KcmpGreater:
			hi = mid
		default:
			return nil, 0, fmt.Errorf("fd %d of task %d and fd %d of task %d: kcmp gives them no order", f.fd, f.pid, fd, pid)
		}
	}
	return nil, lo, nil
}

// addFile records a new open file description, one sharedFile did not
// find, in its inode's list at its place in kcmp order (found again: other
// descriptions of the inode may have been added since, by the kinds that
// save files in flight).
func (d *dumper) addFile(obj *fileObj) error {
	k := devIno{obj.dev, obj.ino}
	list := d.byInode[k]
	f, at, err := searchInode(list, obj.pid, obj.fd)
	if err != nil {
		return err
	}
	if f != nil {
		return fmt.Errorf("fd %d of task %d: its open file description was saved twice (objrefs %d and %d)", obj.fd, obj.pid, f.objref, obj.objref)
	}
	if d.byInode == nil {
		d.byInode = map[devIno][]*fileObj{}
	}
	d.byInode[k] = slices.Insert(list, at, obj)
	d.files = append(d.files, obj)
	return nil
}

// dumpFile saves the description an fd refers to, as the kind of file it
// is says (kinds.go).
func (d *dumper) dumpFile(p *process, of *openFd) (image.Record, error) {
	rec, _, err := d.dumpFileKind(p, of)
	return rec, err
}

// dumpFileKind is dumpFile, also returning the kind. Anything no kind
// takes is refused, naming the fd.
func (d *dumper) dumpFileKind(p *process, of *openFd) (image.Record, *fileKind, error) {
	obj := fmt.Sprintf("fd %d (%s)", of.fd, of.link)
	if k := fileKindOf(p, of); k != nil {
		rec, err := k.dump(d, p, of, obj)
		return rec, k, err
	}
	if kind, ok := refusedAnonKinds[of.link]; ok {
		return nil, nil, unsupported(p.pid, obj, "%s files cannot be checkpointed", kind)
	}
	if strings.HasPrefix(of.link, "anon_inode:") {
		return nil, nil, unsupported(p.pid, obj, "%s files are not supported yet", strings.TrimPrefix(of.link, "anon_inode:"))
	}
	return nil, nil, unsupported(p.pid, obj, "unknown file type (mode %#o)", of.st.Mode)
}

// refusedAnonKinds are the kernel objects behind anonymous inodes that
// hold state no syscall can read back or re-create (kernel-side rings,
// counters tied to hardware, programs, fault handlers): refused, named.
var refusedAnonKinds = map[string]string{
	"anon_inode:[io_uring]":    "io_uring",
	"anon_inode:[perf_event]":  "perf_event",
	"anon_inode:bpf-map":       "bpf map",
	"anon_inode:bpf-prog":      "bpf program",
	"anon_inode:bpf_link":      "bpf link",
	"anon_inode:[fanotify]":    "fanotify",
	"anon_inode:[userfaultfd]": "userfaultfd",
}

// takeFd is kernel.TakeFd as an *os.File.
func takeFd(pid, fd int) (*os.File, error) {
	got, err := kernel.TakeFd(pid, fd)
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(got), fmt.Sprintf("task-%d-fd-%d", pid, fd)), nil
}
