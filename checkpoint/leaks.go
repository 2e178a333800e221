package checkpoint

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
	"github.com/ckpt/ckpt/internal/kernel"
	"github.com/ckpt/ckpt/internal/proc"
)

// Leak detection: a checkpoint takes a set of tasks, and a restore rebuilds
// every kernel object they use as theirs alone. An object also used by a
// task outside the set would come back split in two: the outside task keeps
// the original, the restored one gets a copy, and what one does the other
// no longer sees. The kernel C/R patches compared each object's refcount
// with the references found inside the set; user space sees no refcounts,
// so the holders outside are looked for instead, among every other process
// in /proc, and the checkpoint is refused naming both tasks and the object.
//
// Two passes. checkTaskLeaks runs right after the tasks are seized, before
// anything is injected into them: mm, fd table, fs and signal handlers,
// compared with kcmp(2). checkFileLeaks runs once every task is collected
// and the pipes resolved: open file descriptions, pipes and shared memory.
//
// What is shared with the outside on purpose is not a leak: a terminal, a
// pipe or socket with its other end outside (external files, which restore
// reconnects to what its caller passes), /dev/null and its kin, and a file
// opened for appending only (a log): their open file description carries
// no state a restore would lose.

// outsider is a live user process outside the checkpoint, a possible
// holder of the checkpoint's objects.
type outsider struct {
	pid  int
	tids []int // its live threads, the leader first if it is alive
}

// outsiders lists the processes in /proc other than the tree's, kernel
// threads, zombies and ckpt itself. A process that vanishes or denies
// access meanwhile is left out: it holds nothing anymore, or nothing we
// could ever learn about.
func outsiders(t *tree) ([]outsider, error) {
	pids, err := proc.Pids()
	if err != nil {
		return nil, err
	}
	self := os.Getpid()
	var out []outsider
	for _, pid := range pids {
		if pid == self || t.byPid[pid] != nil {
			continue
		}
		st, err := proc.ReadStat(pid)
		if err != nil || st.Flags&kernel.PF_KTHREAD != 0 || st.State == 'X' || st.State == 'Z' && st.NumThreads <= 1 {
			continue
		}
		o := outsider{pid: pid, tids: []int{pid}}
		if st.NumThreads > 1 {
			tids, err := proc.Tasks(pid)
			if err != nil {
				continue
			}
			if st.State == 'Z' {
				// A leader that exited before its threads holds
				// nothing: they do.
				tids = tids[1:]
			}
			if len(tids) == 0 {
				continue
			}
			o.tids = tids
		}
		out = append(out, o)
	}
	return out, nil
}

// taskObjs are the per-task kernel objects clone(2) can share, in the order
// they are checked. Sharing the mm implies sharing little else worth
// naming, so it comes first.
var taskObjs = []struct {
	typ    int
	object string // as the refusal names it, after "its"
	clone  string
	// perThread: the threads of one process may each have their own
	// (unshare(2) in a thread); otherwise the leader speaks for all.
	perThread bool
}{
	{kernel.KCMP_VM, "mm (address space)", "CLONE_VM", false},
	{kernel.KCMP_FILES, "fd table (files)", "CLONE_FILES", true},
	{kernel.KCMP_FS, "fs (cwd, root and umask)", "CLONE_FS", true},
	{kernel.KCMP_SIGHAND, "signal handler table", "CLONE_SIGHAND", false},
}

// checkTaskLeaks refuses tasks that share their mm, fd table, fs or signal
// handlers with a task outside the tree. It also lists the outsiders for
// checkFileLeaks. It runs before anything is injected: a task whose mm is
// shared would show our scratch mappings to the outside task too.
//
// Preconditions:
//   - every task of t is seized.
func (d *dumper) checkTaskLeaks(t *tree) error {
	start := time.Now()
	// Lookups take a failing kcmp for a task that is gone or denies
	// access, so make sure first that the kernel has kcmp at all.
	self := os.Getpid()
	if _, err := kernel.Kcmp(self, self, kernel.KCMP_VM, 0, 0); err != nil {
		return fmt.Errorf("kcmp(2) is needed to find objects shared with tasks outside the checkpoint (CONFIG_KCMP): %w", err)
	}
	outs, err := outsiders(t)
	if err != nil {
		return err
	}
	d.outsiders = outs
	var leaks []error
	for _, obj := range taskObjs {
		var inside []taskRef
		for _, p := range t.live() {
			for i, th := range p.threads {
				if i > 0 && !obj.perThread {
					break
				}
				inside = append(inside, taskRef{pid: p.pid, tid: th.tid})
			}
		}
		idx, err := newKcmpIndex(obj.typ, inside)
		if err != nil {
			return err
		}
		for _, o := range outs {
			tids := o.tids[:1]
			if obj.perThread {
				tids = o.tids
			}
			for _, tid := range tids {
				in, found := idx.find(tid)
				if !found {
					continue
				}
				where := ""
				if tid != o.pid {
					where = fmt.Sprintf("its thread %d", tid)
				}
				leaks = append(leaks, leak(in.pid, "its "+obj.object, "used by", o.pid, where,
					"the two share it through clone(%s), and a restore would give the task one of its own", obj.clone))
				break
			}
		}
	}
	d.log.Debug("leak check: tasks", "outsiders", len(outs), "took", time.Since(start))
	return joinLeaks(leaks)
}

// checkFileLeaks refuses open file descriptions, pipes and shared memory of
// the tree that a task outside holds too.
//
// Preconditions:
//   - checkTaskLeaks ran (it lists the outsiders);
//   - every task is collected;
//   - resolvePipes ran: it tells the pipes wholly inside, which restore
//     rebuilds, from those leading outside, which it reconnects.
func (d *dumper) checkFileLeaks(t *tree) error {
	start := time.Now()
	files := map[string][]*fileObj{} // link -> descriptions to compare with kcmp
	pipes := map[string]*fileObj{}   // link -> an end of a pipe restore rebuilds
	for _, f := range d.files {
		switch r := f.rec.(type) {
		case *image.ExtFile:
			continue // leads outside on purpose; restore reconnects it
		case *image.Pipe:
			if pipes[f.link] == nil {
				pipes[f.link] = f
			}
			continue
		case *image.RegFile:
			if stateless(r) {
				continue
			}
		}
		files[f.link] = append(files[f.link], f)
	}
	shm := map[uint64][]shmMapping{} // by inode
	for _, p := range t.live() {
		for _, v := range p.imgVmas {
			if v.Kind == image.VmaShmem {
				shm[v.Ino] = append(shm[v.Ino], shmMapping{pid: p.pid, dev: v.Dev, ino: v.Ino, start: v.Start, end: v.End, path: v.Path})
			}
		}
	}
	if len(files) == 0 && len(pipes) == 0 && len(shm) == 0 {
		return nil
	}
	// With --allow-shared-offset the regular files shared with a task
	// outside are saved all the same; each is said.
	parted := map[string][]*fileObj{}
	if d.opts.SharedOffset {
		for link, fs := range files {
			for _, f := range fs {
				if _, ok := f.rec.(*image.RegFile); ok {
					parted[link] = append(parted[link], f)
				}
			}
		}
		for link := range parted {
			delete(files, link)
		}
	}
	var leaks []error
	for _, o := range d.outsiders {
		for _, e := range fdLeaks(o.pid, parted, nil, nil) {
			d.log.Warn("the restored task will have an open file description of its own (--allow-shared-offset)", "shared", e)
		}
		leaks = append(leaks, fdLeaks(o.pid, files, pipes, shm)...)
		if len(shm) > 0 {
			leaks = append(leaks, mapLeaks(o.pid, shm)...)
		}
	}
	d.log.Debug("leak check: files", "outsiders", len(d.outsiders), "took", time.Since(start))
	return joinLeaks(leaks)
}

// stateless tells the regular files whose open file description holds
// nothing a fresh one would not: devices like /dev/null, whose offset means
// nothing, and files opened for appending only, whose every write goes to
// the end whatever the offset (a log the caller shares with the task).
func stateless(r *image.RegFile) bool {
	return plainCharDevs[r.Path] || r.Flags&unix.O_APPEND != 0 && r.Flags&unix.O_ACCMODE == unix.O_WRONLY
}

// shmMapping is a mapping of shared memory in the tree.
type shmMapping struct {
	pid        int
	dev, ino   uint64
	start, end uint64
	path       string
}

func (m shmMapping) object() string {
	what := "shared memory " + m.path
	if m.path == "/dev/zero" {
		what = "shared memory (MAP_SHARED|MAP_ANONYMOUS)"
	}
	return fmt.Sprintf("%s (inode %d) mapped at %#x-%#x", what, m.ino, m.start, m.end)
}

const (
	splitFile = "the same open file description; a restore would give the task a new one, and the offset and flags they share would part"
	// splitRegFile is splitFile for a regular file, which
	// --allow-shared-offset lets part.
	splitRegFile = splitFile + " (--allow-shared-offset accepts that)"
	splitPipe    = "a restore would give the task a new pipe, and the data queued in this one would be read twice or lost"
	splitShm     = "a restore would give the task a copy, and writes on one side would no longer be seen on the other"
)

// fdLeaks compares the fds of outside process pid with the tree's files.
// The link /proc/PID/fd/N reads is a cheap prefilter: one open file
// description has one path, so it reads the same in both tasks. kcmp then
// tells whether it is the same description or another opening of the file.
// A pipe restore rebuilds is leaked by any opening of it.
func fdLeaks(pid int, files map[string][]*fileObj, pipes map[string]*fileObj, shm map[uint64][]shmMapping) []error {
	fds, err := proc.Fds(pid)
	if err != nil {
		return nil
	}
	var leaks []error
	var pipeOrder []string
	pipeFds := map[string][]string{} // the pipes restore rebuilds that pid holds, and its fds on them
	for _, fd := range fds {
		link, err := proc.FdLink(pid, fd)
		if err != nil {
			continue
		}
		where := "fd " + strconv.Itoa(fd)
		if pipes[link] != nil {
			if pipeFds[link] == nil {
				pipeOrder = append(pipeOrder, link)
			}
			pipeFds[link] = append(pipeFds[link], strconv.Itoa(fd))
			continue
		}
		for _, f := range files[link] {
			if o, err := kernel.Kcmp(f.pid, pid, kernel.KCMP_FILE, uintptr(f.fd), uintptr(fd)); err == nil && o == kernel.KcmpEqual {
				why := splitFile
				if _, ok := f.rec.(*image.RegFile); ok {
					why = splitRegFile
				}
				leaks = append(leaks, leak(f.pid, fmt.Sprintf("fd %d (%s)", f.fd, link), "held by", pid, where, "%s", why))
				break
			}
		}
		if len(shm) > 0 && (strings.HasPrefix(link, "/memfd:") || strings.HasSuffix(link, " (deleted)")) {
			// A memfd or an unlinked tmpfs file, maybe one the tree maps.
			// fdinfo's inode first: stat would ask the file's filesystem.
			info, err := proc.ReadFdInfo(pid, fd)
			if err != nil || shm[info.Ino] == nil {
				continue
			}
			var st unix.Stat_t
			if unix.Stat(fmt.Sprintf("/proc/%d/fd/%d", pid, fd), &st) != nil {
				continue
			}
			for _, m := range shm[st.Ino] {
				if m.dev == st.Dev {
					leaks = append(leaks, leak(m.pid, m.object(), "held by", pid, where, splitShm))
					break
				}
			}
		}
	}
	for _, link := range pipeOrder {
		f, where := pipes[link], "fd "
		if len(pipeFds[link]) > 1 {
			where = "fds "
		}
		where += strings.Join(pipeFds[link], ", ")
		leaks = append(leaks, leak(f.pid, fmt.Sprintf("%s (fd %d)", link, f.fd), "held by", pid, where, splitPipe))
	}
	return leaks
}

// mapLeaks compares the shared mappings of outside process pid with the
// tree's shared memory, by device and inode.
func mapLeaks(pid int, shm map[uint64][]shmMapping) []error {
	vmas, err := proc.Maps(pid)
	if err != nil {
		return nil
	}
	var leaks []error
	seen := map[uint64]bool{}
	for _, v := range vmas {
		if !v.Shared || seen[v.Inode] {
			continue
		}
		for _, m := range shm[v.Inode] {
			if m.dev == v.Dev {
				seen[v.Inode] = true
				leaks = append(leaks, leak(m.pid, m.object(), "mapped by", pid,
					fmt.Sprintf("at %#x-%#x", v.Start, v.End), splitShm))
				break
			}
		}
	}
	return leaks
}

// leak makes the refusal for an object of task pid that task other, outside
// the tree, holds too.
func leak(pid int, object, verb string, other int, where, reasonFormat string, args ...any) error {
	e := &LeakError{Pid: pid, Object: object, Verb: verb, Outside: other, Where: where, Reason: fmt.Sprintf(reasonFormat, args...)}
	if st, err := proc.ReadStatus(pid); err == nil && len(st.NSpid) > 1 {
		e.NsPid = st.NSpid[len(st.NSpid)-1]
	}
	return e
}

// maxLeaks bounds how many leaks one refusal lists: past a few, more say
// nothing new.
const maxLeaks = 8

func joinLeaks(leaks []error) error {
	if len(leaks) > maxLeaks {
		n := len(leaks) - maxLeaks
		leaks = append(leaks[:maxLeaks:maxLeaks], fmt.Errorf("and %d more objects shared with tasks outside the checkpoint", n))
	}
	return errors.Join(leaks...)
}

// taskRef is a thread of a checkpointed process.
type taskRef struct{ pid, tid int }

// kcmpIndex finds which task of a set uses the same kernel object (of one
// kcmp type) as a given task. The kernel orders objects, so the set is
// sorted once and each lookup takes O(log n) kcmp calls, not n: a
// checkpoint of many tasks on a host of many processes stays cheap.
type kcmpIndex struct {
	typ     int
	tasks   []taskRef // sorted by their object
	ordered bool      // false if the kernel gave no order: look up one by one
}

func newKcmpIndex(typ int, tasks []taskRef) (*kcmpIndex, error) {
	x := &kcmpIndex{typ: typ, tasks: tasks, ordered: true}
	var err error
	slices.SortFunc(x.tasks, func(a, b taskRef) int {
		if err != nil || !x.ordered || a == b {
			return 0
		}
		o, e := kernel.Kcmp(a.tid, b.tid, typ, 0, 0)
		switch {
		case e != nil:
			err = fmt.Errorf("kcmp type %d of tasks %d and %d: %w", typ, a.tid, b.tid, e)
		case o == kernel.KcmpLess:
			return -1
		case o == kernel.KcmpGreater:
			return 1
		case o == kernel.KcmpUnordered:
			x.ordered = false
		}
		return 0
	})
	return x, err
}

// find returns a task of the set that uses the same object as thread tid.
// An error comparing with tid (it exited, or denies access) is no match.
func (x *kcmpIndex) find(tid int) (taskRef, bool) {
	if !x.ordered {
		for _, t := range x.tasks {
			if o, err := kernel.Kcmp(t.tid, tid, x.typ, 0, 0); err == nil && o == kernel.KcmpEqual {
				return t, true
			}
		}
		return taskRef{}, false
	}
	lo, hi := 0, len(x.tasks)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		o, err := kernel.Kcmp(x.tasks[m].tid, tid, x.typ, 0, 0)
		if err != nil {
			return taskRef{}, false
		}
		switch o {
		case kernel.KcmpEqual:
			return x.tasks[m], true
		case kernel.KcmpLess:
			lo = m + 1
		case kernel.KcmpGreater:
			hi = m
		default:
			x.ordered = false
			return x.find(tid)
		}
	}
	return taskRef{}, false
}
