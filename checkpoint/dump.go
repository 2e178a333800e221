package checkpoint

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/ckpt/ckpt/checkpoint/image"
	"github.com/ckpt/ckpt/internal/allow"
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
	// NoFreeze: without FreezeCgroup, do not look for a cgroup that holds
	// the tree and nothing else to freeze while seizing.
	NoFreeze bool
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
	// Commit, when set, is called once the image is complete and before
	// the tasks are killed (image.NewFile.Commit: fsync and rename into
	// place). If it fails, the tasks are left running: a process is never
	// killed for an image that is not durably at its path.
	Commit func() error
	// Logger receives progress; nil means slog.Default().
	Logger *slog.Logger
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
// ERROR record instead of a TAIL.
func Dump(ctx context.Context, pid int, w io.Writer, opts Options) (*Result, error) {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	log = log.With("component", "checkpoint", "pid", pid)

	lk, err := lockTree(pid)
	if err != nil {
		return nil, err
	}
	defer lk.Release()
	tr, err := ptrace.New()
	if err != nil {
		return nil, fmt.Errorf("start tracer: %w", err)
	}
	defer tr.Close()

	d := &dumper{ctx: ctx, log: log, opts: opts, tr: tr, shmems: map[uint64]*shmemObj{}}
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

// dump is Dump's work, on the tracer thread.
func (d *dumper) dump(pid int, w io.Writer) (*Result, error) {
	log, opts := d.log, d.opts
	var err error
	start := time.Now()
	var t *tree
	var fz *freezer
	if opts.FreezeCgroup != "" {
		if fz, err = newFreezer(opts.FreezeCgroup); err != nil {
			return nil, err
		}
	} else if !opts.NoFreeze {
		var why string
		if fz, why = findFreezer(pid); fz != nil {
			log.Info("freezing the tree's own cgroup", "cgroup", fz.dir)
		} else {
			log.Debug("no cgroup to freeze", "why", why)
		}
	}
	if fz != nil {
		t, err = d.seizeFrozen(pid, fz)
		if err != nil {
			return nil, fmt.Errorf("seize: %w", err)
		}
	} else if t, err = d.seizeTree(pid); err != nil {
		return nil, fmt.Errorf("seize: %w", err)
	}
	stopped := start // the first task stops (or the cgroup freezes) right after
	released := false
	defer func() {
		if !released {
			d.releaseTree(t)
		}
	}()
	killed := false
	defer func() { d.endTcpRepair(killed) }() // before the release above

	if err := d.checkTaskLeaks(t); err != nil {
		return nil, fmt.Errorf("leak check: %w", err)
	}
	if err := d.findShares(t); err != nil {
		return nil, fmt.Errorf("collect: %w", err)
	}
	live := t.live()
	if err := d.restartSemops(live); err != nil {
		return nil, fmt.Errorf("seize: %w", err)
	}
	for _, p := range live {
		if err := d.collect(p); err != nil {
			return nil, fmt.Errorf("collect task %d: %w", p.pid, err)
		}
	}
	if err := d.treeIds(t); err != nil {
		return nil, fmt.Errorf("collect: %w", err)
	}
	if err := d.resolvePidfds(t); err != nil {
		return nil, fmt.Errorf("collect: %w", err)
	}
	if err := d.resolveTtys(t); err != nil {
		return nil, fmt.Errorf("collect: %w", err)
	}
	if err := d.resolvePipes(t); err != nil {
		return nil, fmt.Errorf("collect: %w", err)
	}
	if err := d.resolveUnix(t); err != nil {
		return nil, fmt.Errorf("collect: %w", err)
	}
	if err := d.resolveOwners(t); err != nil {
		return nil, fmt.Errorf("collect: %w", err)
	}
	if err := d.resolveFifos(t); err != nil {
		return nil, fmt.Errorf("collect: %w", err)
	}
	if err := d.checkFileLeaks(t); err != nil {
		return nil, fmt.Errorf("leak check: %w", err)
	}
	if err := d.collectMntns(t); err != nil {
		return nil, fmt.Errorf("collect: %w", err)
	}
	if err := d.collectUtsns(t); err != nil {
		return nil, fmt.Errorf("collect: %w", err)
	}
	if err := d.collectIpcns(t); err != nil {
		return nil, fmt.Errorf("collect: %w", err)
	}
	if err := d.collectNetns(t); err != nil {
		return nil, fmt.Errorf("collect: %w", err)
	}
	res := &Result{Pid: pid, Tasks: len(t.procs)}
	for _, p := range live {
		res.Threads += len(p.threads)
	}
	snaps := map[*process]*snapshot{}
	if opts.LeaveRunning {
		// Dump memory from copy-on-write copies and let the tasks go now.
		snapStart := time.Now()
		for _, p := range live {
			if p.shares&image.ShareVM != 0 {
				continue // its memory is its parent's
			}
			snap, err := d.takeSnapshot(p)
			if err != nil {
				for q, s := range snaps {
					d.drop(q, s)
				}
				return nil, fmt.Errorf("snapshot of task %d: %w", p.pid, err)
			}
			snaps[p] = snap
		}
		log.Debug("snapshots taken", "took", time.Since(snapStart))
		d.endTcpRepair(false)
		d.releaseTree(t)
		released = true
		res.FreezeWindow = time.Since(stopped)
		defer func() {
			for p, s := range snaps {
				d.drop(p, s)
			}
		}()
	}
	iw := image.NewWriter(w)
	if err := d.write(iw, t, snaps); err != nil {
		_ = iw.Abort(err.Error())
		return nil, fmt.Errorf("write: %w", err)
	}
	freeze := res.FreezeWindow
	if !released {
		freeze = time.Since(stopped) // they stay stopped until killed
	}
	stats := &image.Stats{FreezeNs: uint64(freeze), TotalNs: uint64(time.Since(start)),
		Tasks: uint32(res.Tasks), Threads: uint32(res.Threads), Pages: d.pages}
	if err := iw.Write(stats); err != nil {
		return nil, fmt.Errorf("write stats: %w", err)
	}
	if err := iw.Close(); err != nil {
		return nil, fmt.Errorf("write tail: %w", err)
	}
	res.Records, res.Bytes, res.Pages = iw.Records(), iw.Offset(), d.pages
	if opts.Commit != nil {
		if err := opts.Commit(); err != nil {
			return nil, fmt.Errorf("commit image: %w", err)
		}
	}
	if !opts.LeaveRunning {
		d.kill(live)
		released, killed = true, true
		res.FreezeWindow = time.Since(stopped)
	}
	log.Info("checkpoint done", "tasks", res.Tasks, "threads", res.Threads, "bytes", res.Bytes,
		"pages", res.Pages, "freeze", res.FreezeWindow, "total", time.Since(start))
	return res, nil
}

// dumper holds the state of one checkpoint run.
type dumper struct {
	ctx    context.Context
	log    *slog.Logger
	opts   Options
	tr     *ptrace.Tracer
	objref uint32
	pages  uint64
	files  []*fileObj           // every open file description collected, for sharing
	shmems map[uint64]*shmemObj // shared memory objects by inode
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
}

func (d *dumper) nextObjref() uint32 {
	d.objref++
	return d.objref
}
