package checkpoint

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/ckpt/ckpt/image"
	"github.com/ckpt/ckpt/internal/allow"
	"github.com/ckpt/ckpt/internal/guard"
	"github.com/ckpt/ckpt/internal/logctx"
	"github.com/ckpt/ckpt/internal/ptrace"
)

// Options control a checkpoint.
type Options struct {
	// LeaveRunning lets the process carry on after the image is written;
	// otherwise it is killed once the image is complete.
	LeaveRunning bool
	// FreezeCgroup, if set, is a cgroup directory (v1 freezer or v2) holding
	// the tasks: it is frozen while they are seized, so that nothing forks
	// or exits meanwhile.
	FreezeCgroup string
	// LeaveFrozen, with LeaveRunning, lets the tasks go into their frozen
	// cgroup (FreezeCgroup, or the one found) once the image is written:
	// the caller had it frozen and thaws it itself. containerd pauses a
	// container around its checkpoint and copies the container's rw layer
	// before resuming it: tasks running in between would make the files
	// newer than the memory image. Memory is then read from the stopped
	// tasks, not from copy-on-write copies: they would be in the frozen
	// cgroup too, where they cannot be reaped.
	LeaveFrozen bool
	// NoFreeze: without FreezeCgroup, do not look for a cgroup that holds
	// the tree and nothing else to freeze while seizing.
	NoFreeze bool
	// NoCgroups: save no cgroup of the tasks (runc's and CRIU's
	// --manage-cgroups-mode ignore); otherwise a process tree's cgroups
	// are saved (cgroup.go).
	NoCgroups bool
	// Allow: state leading outside the tree that is saved rather than
	// refused (file locks, unix sockets whose peer is outside, the user's
	// terminal, established TCP connections in repair mode: files_tcp.go).
	allow.Allow
	// Container, when set, says the tree is a whole OCI container, which
	// the runtime rebuilds from its bundle at restore: the record is
	// written after the header, the first task must be its pid
	// namespace's init, and of its mount namespace only the content of
	// the tmpfs mounts on ContainerTmpfs is saved (container.go).
	Container      *image.Container
	ContainerTmpfs []string
	// SharedPidns, with Container: the container shares its pid
	// namespace (a pod's, whose init is the pause process outside the
	// container): its tasks are the subtree under its first task, their
	// pids recorded as that namespace sees them. The first task is then
	// no init (TASK without TaskFlagPidnsInit); processes of the namespace
	// outside the subtree are outsiders like any other, the leak checks
	// refuse what the tasks share with them.
	SharedPidns bool
	// Commit, when set, is called once the image is complete and before
	// the tasks are killed (image.NewFile.Commit: fsync and rename into
	// place). If it fails, the tasks are left running: a process is never
	// killed for an image that is not durably at its path.
	Commit func() error
	// PreDump (with LeaveRunning implied) leaves each process tracking
	// the pages it writes (precopy.go), for a later checkpoint whose
	// ParentPath is this one's image.
	PreDump bool
	// ParentPath, when set, is the image of an earlier checkpoint of the
	// same processes with PreDump: pages not written since are not saved
	// but named in PARENT_PAGES records. ParentRecorded is the path the
	// PARENT record carries for restore to find it (ParentPath if empty).
	ParentPath     string
	ParentRecorded string
}

// Result describes a finished checkpoint.
type Result struct {
	Pid     int
	Tasks   int
	Threads int
	Records uint64
	Bytes   int64
	Pages   uint64
	// FreezeWindow is how long the tasks were stopped.
	FreezeWindow time.Duration
}

// Dump checkpoints the process pid into w. On failure the process is
// resumed untouched and, if anything was written, the image ends with an
// ERROR record instead of a TAIL. If ckpt dies meanwhile, a guardian
// (internal/guard) undoes what the steps journalled: the tasks carry on.
// Progress goes to the context's logger (internal/logctx); a cancelled
// context stops the checkpoint before its next step, undoing the rest.
func Dump(ctx context.Context, pid int, w io.Writer, opts Options) (*Result, error) {
	log := logctx.G(ctx).With("component", "checkpoint", "pid", pid)
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("checkpoint of %d: %w", pid, err)
	}

	lk, err := lockTree(pid)
	if err != nil {
		return nil, err
	}
	defer lk.Release()
	j, err := guard.Start()
	if err != nil {
		return nil, err
	}
	defer j.Done()
	tr, err := ptrace.New()
	if err != nil {
		return nil, fmt.Errorf("start tracer: %w", err)
	}
	defer tr.Close()

	if opts.PreDump {
		opts.LeaveRunning = true
	}
	d := &dumper{ctx: ctx, log: log, opts: opts, tr: tr, j: j, shmems: map[uint64]*shmemObj{}, root: pid}
	if opts.ParentPath != "" {
		recorded := opts.ParentRecorded
		if recorded == "" {
			recorded = opts.ParentPath
		}
		if d.parent, err = loadParent(opts.ParentPath, recorded); err != nil {
			return nil, err
		}
	}
	defer func() { d.mnt.close() }()
	defer d.ux.close()
	// The whole checkpoint runs on the tracer's thread: every ptrace call
	// is then a direct one, not a hand-off to that thread and back (two
	// futex wake-ups each, tens of thousands for a tree of 100 tasks).
	var res *Result
	err = tr.Do(func() error {
		var err error
		res, err = d.dump(pid, w)
		return err
	})
	return res, err
}

// dumpRun is what the steps of one checkpoint hand on to each other.
type dumpRun struct {
	pid     int
	w       io.Writer
	start   time.Time
	stopped time.Time // the first task stops (or the cgroup freezes) right after start
	t       *tree
	live    []*process
	res     *Result
	snaps   map[*process]*snapshot
	// undos put back what the steps done so far did, newest last: run
	// in reverse on failure; a step that settles one for good (the tasks
	// released or killed) marks it done. Those left at the end of a
	// successful run are clean-ups (the snapshot copies).
	undos []*undo
}

// undo is one way back: name says what it undoes, for the log.
type undo struct {
	name string
	fn   func()
	done bool
}

func (r *dumpRun) push(name string, fn func()) { r.undos = append(r.undos, &undo{name: name, fn: fn}) }

// settle marks the undo named name as no longer to be run.
func (r *dumpRun) settle(name string) {
	for _, u := range r.undos {
		if u.name == name {
			u.done = true
		}
	}
}

// unwind runs the undos not settled, newest first.
func (r *dumpRun) unwind() {
	for i := len(r.undos) - 1; i >= 0; i-- {
		if u := r.undos[i]; !u.done {
			u.done = true
			u.fn()
		}
	}
}

// step is one step of a checkpoint. Its name is its phase: in the error
// when it fails ("checkpoint: step collect: ..."), in the log, and for
// the fault-injection switch (guard.Fault). when, if set, says whether
// the step runs at all.
type step struct {
	name string
	when func() bool
	run  func(r *dumpRun) error
}

// steps is a checkpoint, in order. A step that must be undone if a later
// one fails pushes its undo on the run; what must be undone if ckpt dies
// is journalled to the guardian by the code that does it.
func (d *dumper) steps() []step {
	each := func(fn func(*tree) error) func(r *dumpRun) error {
		return func(r *dumpRun) error { return fn(r.t) }
	}
	// With LeaveFrozen the tasks are let go into their frozen cgroup once
	// the image is written (the "release" undo): no copies, no early
	// release.
	snapshotted := func() bool { return d.opts.LeaveRunning && !d.leaveFrozen() }
	return []step{
		{name: "seize", run: d.stepSeize},
		{name: "shared pid namespace", when: func() bool { return d.opts.SharedPidns }, run: func(r *dumpRun) error { return d.checkSharedPidns(r.t, d.fz) }},
		{name: "leak check", run: each(d.checkTaskLeaks)},
		{name: "shares", run: each(d.findShares)},
		{name: "semops", run: func(r *dumpRun) error { return d.restartSemops(r.live) }},
		{name: "collect", run: d.stepCollect},
		{name: "tree ids", run: each(d.treeIds)},
		{name: "proc files", run: each(d.checkProcFiles)},
		{name: "pidfds", run: each(d.resolvePidfds)},
		{name: "ttys", run: each(d.resolveTtys)},
		{name: "pipes", run: each(d.resolvePipes)},
		{name: "unix sockets", run: each(d.resolveUnix)},
		{name: "file owners", run: each(d.resolveOwners)},
		{name: "fifos", run: each(d.resolveFifos)},
		{name: "file leak check", run: each(d.checkFileLeaks)},
		{name: "mount namespace", run: each(d.collectMntns)},
		{name: "uts namespace", run: each(d.collectUtsns)},
		{name: "ipc namespace", run: each(d.collectIpcns)},
		{name: "network namespace", run: each(d.collectNetns)},
		{name: "cgroups", run: each(d.collectCgroups)},
		{name: "dirty tracking", run: d.stepTracking},
		{name: "snapshot", when: snapshotted, run: d.stepSnapshot},
		{name: "release", when: snapshotted, run: d.stepRelease},
		{name: "write", run: d.stepWrite},
		{name: "commit", when: func() bool { return d.opts.Commit != nil }, run: d.stepCommit},
		{name: "kill", when: func() bool { return !d.opts.LeaveRunning }, run: d.stepKill},
	}
}

// FaultPhases names the phases of a checkpoint at which CKPT_FAULT may
// kill ckpt (guard.Fault): "checkpoint/STEP" before each step, and the
// points inside steps ("checkpoint/seize:frozen": the cgroup frozen;
// "checkpoint/collect:tcp-repair": a connection locked and in repair mode).
func FaultPhases() []string {
	var out []string
	for _, s := range (&dumper{}).steps() {
		out = append(out, "checkpoint/"+s.name)
		switch s.name {
		case "seize":
			out = append(out, faultFrozen)
		case "collect":
			out = append(out, faultTcpRepair, faultInjected)
		}
	}
	return out
}

const (
	faultFrozen    = "checkpoint/seize:frozen"
	faultTcpRepair = "checkpoint/collect:tcp-repair"
	// faultInjected: a task's leader stopped after an injected syscall,
	// with our registers (injected.go: its trampoline takes it back).
	faultInjected = "checkpoint/collect:injected"
)

// dump is Dump's work, on the tracer thread: the steps in order; on
// failure what was done is undone and the tasks carry on as they were.
func (d *dumper) dump(pid int, w io.Writer) (res *Result, err error) {
	r := &dumpRun{pid: pid, w: w, start: time.Now(), snaps: map[*process]*snapshot{}}
	defer r.unwind()
	for _, s := range d.steps() {
		if s.when != nil && !s.when() {
			continue
		}
		if err := d.ctx.Err(); err != nil {
			return nil, fmt.Errorf("checkpoint: before step %s: %w", s.name, err)
		}
		guard.Fault("checkpoint/" + s.name)
		t0 := time.Now()
		if err := s.run(r); err != nil {
			return nil, fmt.Errorf("checkpoint: step %s: %w", s.name, err)
		}
		d.log.Debug("step done", "step", s.name, "took", time.Since(t0))
	}
	r.settle("dirty tracking") // the image has it: the tasks keep it
	res = r.res
	inj, waited := ptrace.Stats()
	d.log.Debug("tracer work", "injected syscalls", inj, "ptrace stops waited for", waited)
	d.log.Info("checkpoint done", "tasks", res.Tasks, "threads", res.Threads, "bytes", res.Bytes,
		"pages", res.Pages, "freeze", res.FreezeWindow, "total", time.Since(r.start))
	return res, nil
}

// stepSeize stops every task of the tree, with the cgroup freezer when
// there is one to freeze. Undo: release them (TCP repair mode is left
// before that).
func (d *dumper) stepSeize(r *dumpRun) error {
	var fz *freezer
	var err error
	if d.opts.FreezeCgroup != "" {
		if fz, err = newFreezer(d.opts.FreezeCgroup); err != nil {
			return err
		}
	} else if !d.opts.NoFreeze {
		var why string
		if fz, why = findFreezer(r.pid); fz != nil {
			d.log.Info("freezing the tree's own cgroup", "cgroup", fz.dir)
		} else {
			d.log.Debug("no cgroup to freeze", "why", why)
		}
	}
	if fz != nil {
		// seizeFrozen thaws the cgroup before it returns, whatever
		// happens; if ckpt dies first, the guardian does.
		thaw, jerr := d.j.Add("thaw", fz.dir)
		if jerr != nil {
			return jerr
		}
		r.t, err = d.seizeFrozen(r.pid, fz)
		thaw.Drop()
	} else {
		r.t, err = d.seizeTree(r.pid)
	}
	if err != nil {
		return err
	}
	d.fz = fz
	r.stopped = r.start
	r.live = r.t.live()
	r.push("release", func() { d.releaseMaybeFrozen(r.t) })
	r.push("tcp repair", func() { d.endTcpRepair(false) })
	return nil
}

func (d *dumper) stepCollect(r *dumpRun) error {
	for _, p := range r.live {
		if err := d.collect(p); err != nil {
			return fmt.Errorf("task %d: %w", p.pid, err)
		}
	}
	if len(d.tcpRepair) > 0 {
		guard.Fault(faultTcpRepair)
	}
	r.res = &Result{Pid: r.pid, Tasks: len(r.t.procs)}
	for _, p := range r.live {
		r.res.Threads += len(p.threads)
	}
	return nil
}

// stepSnapshot (--leave-running) forks a copy-on-write copy of each
// address space, to dump memory from while the tasks run on. The copies
// are dropped at the end, whatever happens.
func (d *dumper) stepSnapshot(r *dumpRun) error {
	r.push("snapshots", func() {
		for p, s := range r.snaps {
			d.drop(p, s)
		}
	})
	snapStart := time.Now()
	for _, p := range r.live {
		if p.shares&image.ShareVM != 0 {
			continue // its memory is its parent's
		}
		snap, err := d.takeSnapshot(p)
		if err != nil {
			return fmt.Errorf("task %d: %w", p.pid, err)
		}
		r.snaps[p] = snap
	}
	d.log.Debug("snapshots taken", "took", time.Since(snapStart))
	return nil
}

// leaveFrozen: the tasks go back into their frozen cgroup, not running
// (Options.LeaveFrozen, with a cgroup to freeze).
func (d *dumper) leaveFrozen() bool { return d.opts.LeaveRunning && d.opts.LeaveFrozen && d.fz != nil }

// releaseMaybeFrozen lets the tasks go; with LeaveFrozen into their
// cgroup frozen again, which the caller thaws.
func (d *dumper) releaseMaybeFrozen(t *tree) {
	if d.opts.LeaveFrozen && d.fz != nil {
		if err := d.fz.freezeAround(func() { d.releaseTree(t) }); err != nil {
			d.log.Warn("freeze the cgroup again for the caller", "err", err)
		}
		return
	}
	d.releaseTree(t)
}

// stepRelease (--leave-running) lets the tasks go once their copies exist.
func (d *dumper) stepRelease(r *dumpRun) error {
	d.endTcpRepair(false)
	d.releaseTree(r.t)
	d.released = true
	r.settle("tcp repair")
	r.settle("release")
	r.res.FreezeWindow = time.Since(r.stopped)
	return nil
}

func (d *dumper) stepWrite(r *dumpRun) error {
	iw := image.NewWriter(r.w)
	if err := d.write(iw, r.t, r.snaps); err != nil {
		_ = iw.Abort(err.Error())
		return err
	}
	freeze := r.res.FreezeWindow
	if !d.opts.LeaveRunning || d.leaveFrozen() {
		freeze = time.Since(r.stopped) // they stay stopped until killed
	}
	stats := &image.Stats{FreezeNs: uint64(freeze), TotalNs: uint64(time.Since(r.start)),
		Tasks: uint32(r.res.Tasks), Threads: uint32(r.res.Threads), Pages: d.pages}
	if err := iw.Write(stats); err != nil {
		return fmt.Errorf("stats: %w", err)
	}
	if err := iw.Close(); err != nil {
		return fmt.Errorf("tail: %w", err)
	}
	r.res.Records, r.res.Bytes, r.res.Pages = iw.Records(), iw.Offset(), d.pages
	if d.forkPages > 0 {
		d.log.Debug("pages shared with a parent task saved once", "pages", d.forkPages)
	}
	return nil
}

// stepCommit makes the image the caller's for good (Options.Commit): only
// then may the tasks be killed.
func (d *dumper) stepCommit(r *dumpRun) error {
	return d.opts.Commit()
}

// stepKill ends the tasks once their image is complete. From here on the
// image is the process: its connections stay locked for the restore.
func (d *dumper) stepKill(r *dumpRun) error {
	d.settleTcpLocks()
	d.kill(r.live)
	r.settle("release")
	r.settle("tcp repair")
	d.endTcpRepair(true)
	r.res.FreezeWindow = time.Since(r.stopped)
	return nil
}

// dumper holds the state of one checkpoint run.
type dumper struct {
	ctx    context.Context
	log    *slog.Logger
	opts   Options
	tr     *ptrace.Tracer
	j      *guard.Journal // the guardian's: what to undo if ckpt dies
	fz     *freezer       // the cgroup frozen while seizing, if any
	objref uint32
	pages  uint64
	// forkParent, forkRecord, forkSaved, forkPages: pages shared
	// copy-on-write with the parent task (mm_fork.go).
	forkParent map[*process]*process
	forkRecord map[*process]bool
	forkSaved  map[*process][]pfnAt
	forkPages  uint64
	// parent is the parent image of a pre-copy chain; made the processes
	// whose tracking this checkpoint set up (precopy.go); released: the
	// tasks were let go (--leave-running).
	parent   *parentImage
	made     []*process
	released bool
	files    []*fileObj            // every open file description collected, for sharing
	byInode  map[devIno][]*fileObj // files by inode, each list in kcmp(2) order (sharedFile)
	shmems   map[uint64]*shmemObj  // shared memory objects by inode
	// root is the tree's root task, whose stdio is its caller's.
	root int
	// inPidns: the tree is a pid namespace (its root is the init).
	inPidns bool
	uts     *image.Uts // the tree's private UTS namespace, if any
	// outsiders are the processes outside the tree, for the leak checks.
	outsiders []outsider
	// seccompFilters: every seccomp filter written, to share chains.
	seccompFilters map[seccompKey]uint32
	mnt            *mntns    // the tree's private mount namespace, if any
	ipc            *ipcState // the tree's private IPC namespace, if any
	netns          *image.Netns
	cgroups        *cgroupState                    // the tree's cgroups (cgroup.go), if saved
	procFiles      []procFile                      // files of /proc/PID/ (files_procpid.go)
	pingRange      *image.PingRange                // the private network namespace's, when not a new one's
	pidfds         []pidfdRef                      // pidfds collected, resolved by resolvePidfds
	fileExtra      map[image.Record][]image.Record // records following a file's (INOTIFY_WATCH)
	locks          map[*process][]image.Record     // FILE_LOCKs, written after the task's FDs
	lockSeen       map[string]bool                 // locks saved, by owner and range
	owners         map[*process][]*ownerRef        // FILE_OWNERs, written after the task's FDs
	deleted        map[devIno]*deletedObj          // deleted files saved, by inode
	deletedOf      map[*process][]*deletedObj      // by the task that writes them
	ux             unixState                       // unix sockets (files_unix.go)
	ttys           *ttys                           // terminals (files_tty.go)
	// inetExtra: the TCP_STREAM and TCP_QUEUE records of each established
	// socket; tcpRepair: ckpt's copies of those sockets, in repair mode.
	inetExtra map[*image.InetSocket][]image.Record
	tcpRepair []repairSock
	// inetShut caches the shutdown bits of inet sockets by network
	// namespace inode, family and protocol (sockState).
	inetShut map[[3]uint64]map[uint64]uint8
	// pageBufs are dumpPages' buffers, reused from task to task: only one
	// task's pages are read at a time, and none is in use once
	// dumpPages returns.
	pageBufs [][]byte
}

func (d *dumper) nextObjref() uint32 {
	d.objref++
	return d.objref
}
