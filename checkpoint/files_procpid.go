package checkpoint

import (
	"bytes"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
	"github.com/ckpt/ckpt/internal/proc"
)

// Files of /proc/PID/ (/proc/self/status, a child's /proc/PID/stat, a
// /proc/PID directory) are saved as the REG_FILE they are: restore opens
// the path again in the restored task, where PID names the restored task,
// with the same pid in the restored pid namespace, whose /proc is mounted
// where it was. That holds only if PID is a process of the tree as that
// /proc shows it: the pid the image gives it, in the tree's own pid
// namespace. Anything else (a task outside the tree, whose file would
// name whatever has its pid after restore; a /proc of another pid
// namespace; a thread, which restore makes after the files) is refused.
// The check needs the whole tree: the files are noted while collected and
// checked by checkProcFiles.

func init() {
	registerFileKind(fileKind{name: "file of /proc/PID", modes: []uint32{unix.S_IFREG, unix.S_IFDIR},
		is: func(p *process, of *openFd) bool { _, _, ok := procPidPath(p, of); return ok },
		dump: func(d *dumper, p *process, of *openFd, obj string) (image.Record, error) {
			mnt, pid, _ := procPidPath(p, of)
			d.procFiles = append(d.procFiles, procFile{p: p, obj: obj, mnt: mnt, pid: pid})
			return dumpRegFile(p, of, obj)
		}})
}

// procFile is a file of /proc/PID/ open in a task, for checkProcFiles.
type procFile struct {
	p   *process
	obj string
	mnt string // the proc mount point, as the task sees it
	pid int    // PID, as that proc mount shows it
}

// procPidPath tells whether of is a file of a /proc/PID directory (or the
// directory): on procfs, its path the proc mount point of the task's
// mount table, then a number.
func procPidPath(p *process, of *openFd) (mnt string, pid int, ok bool) {
	var fs unix.Statfs_t
	if err := unix.Statfs(fmt.Sprintf("/proc/%d/fd/%d", p.pid, of.fd), &fs); err != nil || fs.Type != unix.PROC_SUPER_MAGIC {
		return "", 0, false
	}
	mounts, err := proc.MountInfos(p.pid)
	if err != nil {
		return "", 0, false
	}
	for _, m := range mounts {
		if m.FsType != "proc" {
			continue
		}
		prefix := strings.TrimSuffix(m.MountPoint, "/") + "/"
		rest, found := strings.CutPrefix(of.link, prefix)
		if !found {
			continue
		}
		num, _, _ := strings.Cut(rest, "/")
		if n, err := strconv.Atoi(num); err == nil && n > 0 && strconv.Itoa(n) == num {
			return m.MountPoint, n, true
		}
	}
	return "", 0, false
}

// checkProcFiles refuses a file of /proc/PID whose PID will not name the
// same task after restore: PID must be a process of the tree (by its start
// time), as the tree's own pid namespace numbers it, and the proc mount
// must be of that namespace (NSpid of PID shows one level).
func (d *dumper) checkProcFiles(t *tree) error {
	for _, f := range d.procFiles {
		dir := fmt.Sprintf("%s/%d", strings.TrimSuffix(f.mnt, "/"), f.pid)
		nspid, start, err := procIdentity(f.p.pid, dir)
		if err != nil {
			return unsupported(f.p.pid, f.obj, "its /proc directory cannot be read (%v)", err)
		}
		var owner *process
		for _, q := range t.procs {
			if int(q.task.Pid) == f.pid {
				owner = q
			}
		}
		switch {
		case owner == nil && d.isTreeThread(t, f.pid):
			return unsupported(f.p.pid, f.obj, "a /proc file of thread %d: restore makes threads after the files, not supported yet", f.pid)
		case owner == nil:
			return unsupported(f.p.pid, f.obj, "a /proc file of task %d, which is not of the checkpoint: after restore the pid may be another's", f.pid)
		case len(nspid) != 1:
			return unsupported(f.p.pid, f.obj, "a /proc file of task %d seen through the /proc of another pid namespace (NSpid %v): restore could not name it", f.pid, nspid)
		case !sameStart(owner.pid, start):
			return unsupported(f.p.pid, f.obj, "a /proc file of pid %d, which is not the checkpoint's task %d (start times differ)", f.pid, owner.pid)
		}
		if rest := strings.TrimPrefix(strings.TrimPrefix(f.objPath(), dir), "/"); strings.HasPrefix(rest, "task/") {
			tid, _, _ := strings.Cut(strings.TrimPrefix(rest, "task/"), "/")
			if tid != strconv.Itoa(f.pid) {
				return unsupported(f.p.pid, f.obj, "a /proc file of thread %s: restore makes threads after the files, not supported yet", tid)
			}
		}
	}
	return nil
}

// sameStart tells whether task pid (ours) started at start.
func sameStart(pid int, start uint64) bool {
	st, err := proc.ReadStat(pid)
	return err == nil && st.StartTime == start
}

// objPath is the file's path, from obj ("fd N (PATH)").
func (f procFile) objPath() string {
	_, p, _ := strings.Cut(f.obj, "(")
	return strings.TrimSuffix(p, ")")
}

// isTreeThread tells whether tid is a thread (not a leader) of the tree,
// by the tree's own numbering.
func (d *dumper) isTreeThread(t *tree, tid int) bool {
	for _, q := range t.procs {
		if slices.ContainsFunc(q.threads, func(th *thread) bool { return int(th.rec.Tid) == tid }) {
			return true
		}
	}
	return false
}

// procIdentity reads NSpid (from status) and the start time (stat field
// 22) of the /proc directory dir inside task pid's root.
func procIdentity(pid int, dir string) ([]int, uint64, error) {
	read := func(name string) ([]byte, error) {
		fd, err := openInRoot(pid, dir+"/"+name, unix.O_RDONLY)
		if err != nil {
			return nil, err
		}
		f := os.NewFile(uintptr(fd), name)
		defer f.Close()
		b := make([]byte, 8192)
		n, err := f.Read(b)
		return b[:max(n, 0)], err
	}
	st, err := read("stat")
	if err != nil {
		return nil, 0, err
	}
	i := bytes.LastIndexByte(st, ')')
	if i < 0 {
		return nil, 0, fmt.Errorf("%s/stat: no command", dir)
	}
	fields := strings.Fields(string(st[i+1:]))
	if len(fields) < 20 {
		return nil, 0, fmt.Errorf("%s/stat: %d fields", dir, len(fields))
	}
	start, err := strconv.ParseUint(fields[19], 10, 64) // field 22; fields[0] is field 3
	if err != nil {
		return nil, 0, fmt.Errorf("%s/stat: start time: %w", dir, err)
	}
	status, err := read("status")
	if err != nil {
		return nil, 0, err
	}
	var nspid []int
	for _, l := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(l, "NSpid:"); ok {
			for _, f := range strings.Fields(v) {
				n, err := strconv.Atoi(f)
				if err != nil {
					return nil, 0, fmt.Errorf("%s/status: NSpid %q", dir, v)
				}
				nspid = append(nspid, n)
			}
		}
	}
	return nspid, start, nil
}
