package restore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/ckpt/ckpt/image"
	"github.com/ckpt/ckpt/internal/addrspace"
	"github.com/ckpt/ckpt/internal/fsroot"
	"github.com/ckpt/ckpt/internal/ptrace"
	"github.com/ckpt/ckpt/internal/remote"
)

// restorer is the state of one restore run.
type restorer struct {
	ctx       context.Context
	log       *slog.Logger
	opts      Options
	tr        *ptrace.Tracer
	imageFile *os.File       // the validated image (image.Image.File): tasks read pages from it
	forkPids  map[int32]bool // tasks with FORK_PAGES (image.Summary), for planLate

	hdr   *image.Header
	objs  map[uint32]image.Record
	plans []*taskPlan // in PSTREE order: parents first
	byPid map[int32]*taskPlan

	helpers     []*taskPlan // in order of birth (helpers.go)
	helperByPid map[int32]*taskPlan
	creator     map[*taskPlan]*taskPlan // who gives birth to each task but the root
	cur         *taskPlan               // the task whose section is being read
	tree        bool                    // the image has a PSTREE
	made        bool                    // the tree of tasks exists
	pages       uint64
	buf         []byte
	ancestors   []*chainImage // the ancestors of a pre-copy image (chain.go)

	// ctlFiles holds the restorer's own copy of every file description
	// restored so far (and of external files), by objref: a task that
	// shares one with an earlier task takes it from here with
	// pidfd_getfd(2), through a pidfd of the restorer every task inherits.
	ctlFiles map[uint32]*os.File
	// fileUsers counts, by description, the fd tables and unix queues
	// that hold it (soleUser).
	fileUsers map[uint32]int
	ctlPidfd  *os.File

	// The state of each kind of object (kinds.go), in the kind's file.
	pipeKind                // files_pipe.go
	fifoKind                // files_fifo.go
	ux        unixRestore   // files_unix.go
	inet      inetState     // files_inet.go
	inotify   inotifyState  // files_inotify.go
	lockKind                // files_locks.go
	ownerKind               // files_fown.go
	deleted   deletedState  // files_deleted.go
	ttyKind                 // files_tty.go
	mnt       *mntRestore   // mntns.go
	ipcKind                 // ipcns.go
	netnsKind               // netns.go
	shmemKind               // shmem.go
	utsKind                 // utsns.go
	cg        cgroupRestore // cgroup.go
	// nsRoot is the root task's root, kept before the first chroot
	// (chroot.go): paths of the image are resolved in it.
	nsRoot *fsroot.Root

	// mmUsers counts, by the task whose address space it is, the tasks
	// that still need it to hold the scratch area (share.go).
	mmUsers map[*taskPlan]int

	// Restoring into a container (adopt.go): its CONTAINER record, and
	// the stdio the runtime gave the stub.
	container *image.Container
	stdio     [3]*os.File

	privs privScan // every task's privileges against the grant (privs.go)

	pageServer int // the lazy page server's pid (lazy.go)

	// For the --debug log: time spent laying out address spaces and
	// filling pages while the image is read.
	layoutTook, fillTook time.Duration
}

// taskPlan is one process: what the image says about it, then the live
// task being built.
type taskPlan struct {
	rec      image.Task
	creds    *image.Creds
	misc     *image.TaskMisc
	taskProc *image.TaskProc
	rlimits  *image.Rlimits
	pending  []*image.SigPending
	files    *image.Files
	fds      []image.Fd
	mm       *image.Mm
	vmas     []image.Vma
	aios     []image.AioRing // AIO contexts of its MM (mm_aio.go)
	// pageIdx: where its MM's PAGES data is, for its children's
	// FORK_PAGES; forkRuns, forkPieces: its FORK_PAGES, and where their
	// data is; late: born from its parent once its memory is in
	// (mm_fork.go).
	pageIdx    []chainPages
	forkRuns   []image.PageRun
	forkPieces []*image.Pages
	forkChain  []image.PageRun // of forkRuns, those in the parent's PARENT_PAGES
	late       bool
	kept       []addrspace.Range // the mappings a late task kept from its parent
	taskObjs   *image.TaskObjs
	threads    []image.Thread
	sched      map[int32]*image.Sched // by tid
	timers     *image.PosixTimers
	seccomp    []*image.Seccomp

	zombie bool
	// shares: what the task shares with its parent, shareParent, from
	// birth (image.Share* bits, the clone flags that make it so).
	shares      uint32
	shareParent *taskPlan
	// exitSignal is the signal the parent gets when the task ends, if not
	// SIGCHLD (hasExitSignal; EXIT_SIGNALS).
	exitSignal    uint32
	hasExitSignal bool
	helper        helperKind // not a task of the image: a helper (helpers.go)
	pid           int        // in our pid namespace
	leader        *remote.Task
	memReady      bool
	unlocked      []bool // by VMA: writable for its pages (mapVmas, unlockFor)
	scratch       uint64 // the injection page (syscall insn, then arguments)
	imageFd       int    // the image file's fd in the task, -1 if none
	ctlPidfd      int    // the task's fd of a pidfd of the restorer
	// fdTargets: while restoreFiles runs, the fd numbers the task will
	// have (a temporary fd must not sit on one).
	fdTargets  map[int]bool
	threadRTs  map[int]*remote.Task
	lazy       *lazyTask       // its private anonymous pages arrive lazily (lazy.go)
	parentRuns []image.PageRun // PARENT_PAGES taken so far (chain.go)
}

func newPlan(rec image.Task) *taskPlan {
	return &taskPlan{rec: rec, zombie: rec.State == image.TaskZombie, imageFd: -1, threadRTs: map[int]*remote.Task{}}
}

func (rs *restorer) run(r *image.Reader) error {
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if err := rs.ctx.Err(); err != nil {
			return fmt.Errorf("restore cancelled at record %s: %w", rec.Type(), err)
		}
		if err := image.CheckPaths(rec); err != nil {
			return badImage("%v", err) // before anything is made of it: paths.go
		}
		if err := rs.handle(r, rec); err != nil {
			return err
		}
	}
	if len(rs.plans) == 0 {
		return badImage("the image holds no process")
	}
	for _, t := range rs.plans {
		if t.zombie {
			continue
		}
		if !t.memReady || t.taskObjs == nil || len(t.threads) == 0 {
			return badImage("the section of task %d is missing or incomplete", t.rec.Pid)
		}
		if err := errors.Join(checkTaskTimers(t), checkTaskSeccomp(t)); err != nil {
			return err
		}
	}
	if err := errors.Join(rs.checkKinds(), rs.checkCgroupThreads()); err != nil {
		return err
	}
	rs.log.Debug("image read", "layout", rs.layoutTook, "pages", rs.fillTook)
	return rs.finish()
}

// handle takes one record. Records are checked as they come; the process is
// only created when its memory layout is known (first PAGES or TASK_OBJS),
// after every file it needs has been found. The records of the image as a
// whole and of the tree come first; those of an object kind go to the
// kind's row (kinds.go); the rest describe the current task.
func (rs *restorer) handle(r *image.Reader, rec image.Record) error {
	if err := rs.privs.take(rec); err != nil {
		return err
	}
	if done, err := rs.followKinds(r, rec); done || err != nil {
		return err
	}
	switch x := rec.(type) {
	case *image.Header:
		return rs.checkHeader(x)
	case *image.Tail, *image.Stats:
		return nil
	case *image.Container:
		return rs.addContainer(x)
	case *image.Parent:
		return rs.openChain(x)
	}
	if rs.opts.Adopt != nil && rs.container == nil {
		return badImage("the image is not a whole container (no CONTAINER record after the HEADER): restore it with 'ckpt restore --image-path', not into a container")
	}
	switch x := rec.(type) {
	case *image.Pstree:
		return rs.addPstree(x)
	case *image.Shares:
		return rs.addShares(x)
	case *image.ExitSignals:
		return rs.addExitSignals(x)
	case *image.CgroupDir:
		return rs.addCgroupDir(x)
	case *image.CgroupProp:
		return rs.addCgroupProp(x)
	case *image.CgroupMember:
		return rs.addCgroupMember(x)
	case *image.Task:
		return rs.startTask(x)
	}
	if ok, err := rs.takeKind(r, rec); ok {
		return err
	}
	return rs.handleTaskRecord(r, rec)
}

// handleTaskRecord takes a record of the current task's own state.
func (rs *restorer) handleTaskRecord(r *image.Reader, rec image.Record) error {
	t := rs.cur
	if t == nil {
		return badImage("record %v before any TASK", rec.Type())
	}
	if err := rs.checkNotShared(t, rec); err != nil {
		return err
	}
	switch x := rec.(type) {
	case *image.Creds:
		t.creds = x
	case *image.TaskMisc:
		t.misc = x
	case *image.TaskProc:
		return rs.addTaskProc(t, x)
	case *image.Rlimits:
		t.rlimits = x
	case *image.SigPending:
		t.pending = append(t.pending, x)
	case *image.Sighand:
		rs.objs[x.Objref] = x
	case *image.Fs:
		rs.objs[x.Objref] = x
	case *image.Files:
		rs.objs[x.Objref] = x
		t.files = x
	case *image.Fd:
		t.fds = append(t.fds, *x)
	case *image.Mm:
		if err := rs.checkFile("executable", x.ExePath, x.ExeDev, x.ExeIno); err != nil {
			return err
		}
		rs.objs[x.Objref] = x
		t.mm = x
	case *image.Vma:
		if err := checkVmaMadv(x); err != nil {
			return err
		}
		if x.Kind == image.VmaDeleted {
			if err := rs.checkDeletedVma(x); err != nil {
				return err
			}
		}
		if x.Kind == image.VmaFile {
			if err := rs.checkFile(fmt.Sprintf("file mapped at %#x", x.Start), x.Path, x.Dev, x.Ino); err != nil {
				return err
			}
		}
		t.vmas = append(t.vmas, *x)
	case *image.AioRing:
		return rs.addAioRing(t, x)
	case *image.Pages:
		if err := rs.ensureTask(t); err != nil {
			return err
		}
		start := time.Now()
		defer func() { rs.fillTook += time.Since(start) }()
		return rs.fillPages(r, t, x)
	case *image.ParentPages:
		return rs.parentPages(t, x)
	case *image.ForkPages:
		return rs.forkPages(t, x)
	case *image.DirtyTrack:
		// Only the next checkpoint of a pre-copy chain uses it.
		if t.mm == nil || t.memReady && len(t.threads) > 0 {
			return badImage("DIRTY_TRACK outside the memory of task %d", t.rec.Pid)
		}
	case *image.TaskObjs:
		if err := rs.checkSharedObjs(t, x); err != nil {
			return err
		}
		if err := rs.ensureTask(t); err != nil {
			return err
		}
		t.taskObjs = x
	case *image.Thread:
		t.threads = append(t.threads, *x)
	case *image.PosixTimers:
		if t.timers != nil {
			return badImage("a second POSIX_TIMERS for task %d", t.rec.Pid)
		}
		if err := checkTimers(x); err != nil {
			return err
		}
		t.timers = x
	case *image.SeccompFilter:
		if err := rs.checkSeccompFilter(x); err != nil {
			return err
		}
		rs.objs[x.Objref] = x
	case *image.Seccomp:
		return rs.addSeccomp(t, x)
	case *image.Sched:
		if t.sched == nil {
			t.sched = map[int32]*image.Sched{}
		}
		t.sched[x.Tid] = x
	default:
		return badImage("record %v is not supported by this restorer", rec.Type())
	}
	return nil
}

// addPstree plans every task of the tree. Parents come before their
// children; a task whose parent is not in the tree can only be the first
// one, or an orphan adopted by the pid namespace's init.
func (rs *restorer) addPstree(pt *image.Pstree) error {
	if rs.tree || len(rs.plans) > 0 {
		return badImage("a second PSTREE, or one after a TASK")
	}
	if len(pt.Tasks) == 0 {
		return badImage("empty PSTREE")
	}
	rs.tree = true
	for i, e := range pt.Tasks {
		if _, dup := rs.byPid[e.Pid]; dup {
			return badImage("PSTREE lists pid %d twice", e.Pid)
		}
		if i > 0 {
			if parent := rs.byPid[e.PPid]; parent == nil && rs.plans[0].rec.Flags&image.TaskFlagPidnsInit == 0 {
				return badImage("task %d's parent %d is not in the tree before it", e.Pid, e.PPid)
			} else if parent != nil && parent.zombie {
				return badImage("task %d's parent %d is a zombie", e.Pid, e.PPid)
			}
		} else if e.State == image.TaskZombie {
			return badImage("the first task of the tree is a zombie")
		}
		t := newPlan(e)
		rs.plans = append(rs.plans, t)
		rs.byPid[e.Pid] = t
	}
	return nil
}

// startTask begins the section of a live task.
func (rs *restorer) startTask(tk *image.Task) error {
	if !rs.tree {
		// Images before format 1.2 hold one task and no PSTREE.
		if len(rs.plans) > 0 {
			return badImage("more than one TASK and no PSTREE")
		}
		t := newPlan(*tk)
		rs.plans = append(rs.plans, t)
		rs.byPid[tk.Pid] = t
	}
	t := rs.byPid[tk.Pid]
	switch {
	case t == nil:
		return badImage("TASK %d is not in the PSTREE", tk.Pid)
	case t.zombie:
		return badImage("TASK %d is a zombie in the PSTREE", tk.Pid)
	case t.rec != *tk:
		return badImage("TASK %d differs from its PSTREE entry", tk.Pid)
	case t.mm != nil || len(t.threads) > 0:
		return badImage("a second section for task %d", tk.Pid)
	}
	if rs.cur != nil && (!rs.cur.memReady || len(rs.cur.threads) == 0) {
		return badImage("task %d's section ended before its memory and threads", rs.cur.rec.Pid)
	}
	rs.cur = t
	if t.late {
		return rs.bornLate(t) // mm_fork.go
	}
	return nil
}

// checkHeader refuses images from another architecture or kernel ABI, and
// images whose FPU state this CPU cannot load.
func (rs *restorer) checkHeader(h *image.Header) error {
	rs.hdr = h
	want := image.NewHeader()
	if h.Arch != want.Arch {
		return fmt.Errorf("image is for architecture %d, this is %d", h.Arch, want.Arch)
	}
	got := h.Consts
	got.XStateLen = 0
	if got != want.Consts {
		return fmt.Errorf("image kernel constants %+v differ from this kernel's %+v", h.Consts, want.Consts)
	}
	return checkXState(h)
}

// abort kills whatever was created. The stub and the tasks are traced with
// PTRACE_O_EXITKILL, so even if this never runs they die with the tracer.
func (rs *restorer) abort() {
	for i := len(rs.helpers) - 1; i >= 0; i-- {
		if t := rs.helpers[i]; t.pid > 0 {
			_ = rs.tr.Kill(t.pid)
		}
	}
	for i := len(rs.plans) - 1; i >= 0; i-- {
		if t := rs.plans[i]; t.pid > 0 {
			_ = rs.tr.Kill(t.pid)
		}
	}
	rs.closeCopies()
	rs.closeLazy()
	rs.closeCgroups(true)
	rs.nsRoot.Close()
}

// closeCopies closes the restorer's copies of the tasks' files: each
// kind's (kinds.go), then those it took from the tasks or its caller.
func (rs *restorer) closeCopies() {
	rs.closeKinds()
	rs.closeAdoptedStdio()
	for _, f := range rs.ctlFiles {
		if f != os.Stdin && f != os.Stdout && f != os.Stderr {
			f.Close()
		}
	}
}
