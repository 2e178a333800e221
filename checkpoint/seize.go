package checkpoint

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
	"github.com/ckpt/ckpt/internal/kernel"
	"github.com/ckpt/ckpt/internal/proc"
	"github.com/ckpt/ckpt/internal/ptrace"
)

// process is everything collected about one checkpointed process.
type process struct {
	pid     int
	paths   *taskPaths // while it is collected (collect)
	zombie  bool
	threads []*thread // leader first
	stat    *proc.Stat
	status  *proc.Status
	vmas    []proc.Vma

	task  image.Task
	creds image.Creds
	misc  image.TaskMisc
	// taskProc: see taskproc.go; stopped: in a job-control stop when
	// first seen, before it was seized.
	taskProc image.TaskProc
	stopped  bool
	rlimits  image.Rlimits
	sighand  image.Sighand
	pending  []kernel.Siginfo // process-wide queue
	fs       image.Fs
	files    []*fileObj // open file descriptions first used here, in objref order
	fds      []image.Fd
	mm       image.Mm
	imgVmas  []image.Vma
	aios     []image.AioRing // AIO contexts' rings (mm_aio.go), not among imgVmas
	pipeFds  []pipeFd
	shmems   []*shmemObj // shared memory first mapped here
	semUndo  []image.SemUndo
	timers   *image.PosixTimers
	seccomp  []image.Record // SECCOMP_FILTERs first written here, then the SECCOMP of each thread

	// shares says which of its objects the process shares with its
	// parent, shareParent (image.Share* bits; see share.go). Its image
	// leaves those out and names the parent's.
	shares      uint32
	shareParent *process
	filesRef    uint32 // objref of its FILES, once written
	held        []int  // fds of ckpt's own (files_unix.go: the carrier of files in flight)
	// track is its dirty tracking (precopy.go); uffds its fds that are
	// tracking userfaultfds of the parent image, not saved.
	track *tracking
	uffds []int
}

// pipeFd is one fd of a process on a pipe, for the tree-wide pipe check.
type pipeFd struct {
	fd    int
	link  string
	write bool
	obj   *fileObj
}

type thread struct {
	tid     int
	rec     image.Thread
	sched   image.Sched
	pending []kernel.Siginfo
	// seccomp mode and number of filters, from /proc/PID/task/TID/status
	seccomp, seccompFilters int
}

// seizeOpts: TRACESYSGOOD lets injected syscalls be told apart from
// signal stops; SUSPEND_SECCOMP (when we may use it) keeps a task's seccomp
// filters from judging the syscalls we inject. No EXITKILL: if ckpt dies
// mid-checkpoint the kernel detaches the tasks and they carry on, which is
// what a failed checkpoint must do.
var seizeOpts = unix.PTRACE_O_TRACESYSGOOD | ptrace.SuspendSeccomp()

// seize stops every thread of pid. Threads created while we seize are found
// by listing /proc/PID/task again until the list is stable.
func (d *dumper) seize(pid int) (*process, error) {
	p := &process{pid: pid}
	seized := map[int]bool{}
	for round := 0; ; round++ {
		tids, err := proc.Tasks(pid)
		if err != nil {
			d.releaseTids(seized)
			return nil, fmt.Errorf("list threads of %d: %w", pid, err)
		}
		added := false
		for _, tid := range tids {
			if seized[tid] {
				continue
			}
			if err := d.tr.SeizeStop(tid, seizeOpts); err != nil {
				if errors.Is(err, ptrace.ErrTaskGone) {
					continue
				}
				d.releaseTids(seized)
				if errors.Is(err, unix.EPERM) {
					return nil, fmt.Errorf("thread %d of %d: already traced by another process, or not permitted: %w", tid, pid, err)
				}
				return nil, fmt.Errorf("thread %d of %d: %w", tid, pid, err)
			}
			seized[tid] = true
			added = true
		}
		if !added {
			break
		}
		if round > 100 {
			d.releaseTids(seized)
			return nil, fmt.Errorf("process %d keeps creating threads", pid)
		}
	}
	if !seized[pid] {
		d.releaseTids(seized)
		return nil, fmt.Errorf("process %d: %w", pid, unix.ESRCH)
	}
	tids := make([]int, 0, len(seized))
	for tid := range seized {
		tids = append(tids, tid)
	}
	slices.Sort(tids)
	p.threads = append(p.threads, &thread{tid: pid})
	for _, tid := range tids {
		if tid != pid {
			p.threads = append(p.threads, &thread{tid: tid})
		}
	}
	d.log.Debug("seized", "threads", len(p.threads))
	return p, nil
}

func (d *dumper) releaseTids(tids map[int]bool) {
	for tid := range tids {
		if err := d.tr.Detach(tid, 0); err != nil {
			d.log.Warn("detach failed", "tid", tid, "err", err)
		}
	}
}

// release detaches every thread; the process runs on as before. One that
// was in a job-control stop has its leader let go with SIGSTOP, delivered
// before it runs anything: being traced and resumed for the checkpoint
// may have ended its stop.
func (d *dumper) release(p *process) {
	for i, t := range p.threads {
		sig := 0
		if i == 0 && p.stopped {
			sig = int(unix.SIGSTOP)
		}
		if err := d.tr.Detach(t.tid, sig); err != nil && !errors.Is(err, unix.ESRCH) {
			d.log.Warn("detach failed", "tid", t.tid, "err", err)
		}
	}
	if p.stopped && !proc.WaitState([]int{p.pid}, 'T', 2*time.Second) {
		d.log.Warn("a stopped task let go has not stopped again yet", "pid", p.pid)
	}
}

// kill ends the checkpointed processes once their image is complete and
// consumes the exit reports we get as their tracer; the real parents
// still reap the zombies.
func (d *dumper) kill(live []*process) {
	var tids []int
	for _, p := range live {
		if err := unix.Kill(p.pid, unix.SIGKILL); err != nil {
			d.log.Warn("kill failed", "pid", p.pid, "err", err)
		}
		for _, t := range p.threads {
			tids = append(tids, t.tid)
		}
	}
	if err := d.tr.WaitExit(tids); err != nil {
		d.log.Warn("reaping the killed tasks", "err", err)
	}
}
