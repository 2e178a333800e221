package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

// Config says what to measure.
type Config struct {
	Tools []Tool // ckpt first; CRIU when available
	// CRIUMissing says why CRIU is not among Tools, for the report.
	CRIUMissing string
	Runs        int
	Sizes       []int // MiB
	Quick       bool
	// Kinds, when set, limits the workloads to these kinds.
	Kinds []string
	// Scale is the set of scaling points (scale.go); Servers the real
	// programs (servers.go), by name.
	Scale   Scale
	Servers []string
	// PointBudget bounds what one tool may be expected to spend on one
	// scaling point (budget.go); zero means no bound.
	PointBudget time.Duration
	// Dir is where the scratch directory goes: images, the floor's file
	// and the data files all live on its file system.
	Dir string
	// KeepScratch leaves the scratch directory (logs, sources) in place.
	KeepScratch bool
	Progress    io.Writer
}

// runner holds the state of one benchmark run.
type runner struct {
	cfg     Config
	scratch string
	binDir  string
	imgDir  string
	logDir  string
	// points holds, per axis and tool, what each scaling point cost
	// (budget.go).
	points map[string][]scalePoint
}

// hang guards: they bound a broken tool or workload and are far above any
// figure the bench expects; nothing is asserted about time.
const (
	toolGuard = 15 * time.Minute
	reapGuard = 2 * time.Minute
)

// Run measures every workload with every tool, R times each, tools taking
// turns to go first, and returns the results with summaries filled in.
// Preconditions:
//   - runs as root on the machine being measured;
//   - no other workload of the bench is alive (one at a time keeps memory
//     and page cache for one workload plus its image).
func Run(ctx context.Context, cfg Config) (*Results, error) {
	start := time.Now()
	if err := becomeSubreaper(); err != nil {
		return nil, err
	}
	// A descriptor the bench inherited without O_CLOEXEC would otherwise
	// reach every workload and tool, and be one more file to checkpoint.
	if err := unix.CloseRange(3, math.MaxUint32, unix.CLOSE_RANGE_CLOEXEC); err != nil {
		return nil, os.NewSyscallError("close_range(CLOSE_RANGE_CLOEXEC)", err)
	}
	scratch, err := os.MkdirTemp(cfg.Dir, "ckpt-bench-")
	if err != nil {
		return nil, fmt.Errorf("scratch directory: %w", err)
	}
	if !cfg.KeepScratch {
		defer os.RemoveAll(scratch)
	}
	r := &runner{cfg: cfg, scratch: scratch, imgDir: filepath.Join(scratch, "img"), logDir: filepath.Join(scratch, "logs")}
	if err := os.MkdirAll(r.logDir, 0o755); err != nil {
		return nil, fmt.Errorf("scratch directory: %w", err)
	}
	if r.binDir, err = buildWorkloads(scratch); err != nil {
		return nil, err
	}
	for _, t := range cfg.Tools {
		if p, ok := t.(interface{ prepare(string) error }); ok {
			if err := p.prepare(r.binDir); err != nil {
				return nil, err
			}
		}
	}
	host, _ := os.Hostname()
	res := &Results{
		Started: start.UTC(), Host: host, Machine: DescribeMachine(), Runs: cfg.Runs,
		Sizes: cfg.Sizes, Quick: cfg.Quick, Scale: cfg.Scale, ImageFS: fsDescription(scratch), CRIUMissing: cfg.CRIUMissing,
	}
	for _, t := range cfg.Tools {
		res.Tools = append(res.Tools, ToolInfo{Name: t.Name(), Version: t.Version(), Commands: t.Commands()})
	}
	ws := Workloads(cfg.Sizes, scratch)
	ws = append(ws, ScaleWorkloads(cfg.Scale, ws, scratch)...)
	for _, w := range ws {
		if len(cfg.Kinds) > 0 && !slices.Contains(cfg.Kinds, w.Kind) {
			continue
		}
		wr, floor, err := r.workload(ctx, &w)
		if err != nil {
			return res, fmt.Errorf("workload %s: %w", w.Name, err)
		}
		res.Workloads = append(res.Workloads, wr)
		if floor != nil {
			res.Floors = append(res.Floors, *floor)
		}
	}
	for _, name := range cfg.Servers {
		sr, err := r.server(ctx, name)
		if err != nil {
			return res, fmt.Errorf("server %s: %w", name, err)
		}
		res.Servers = append(res.Servers, sr)
	}
	res.ElapsedNs = time.Since(start).Nanoseconds()
	res.Summarize()
	return res, nil
}

// workload runs every tool R times on w. The floor for w's size is measured
// with the anonymous-memory workload, once per run, before the tools.
func (r *runner) workload(ctx context.Context, w *Workload) (WorkloadResult, *FloorResult, error) {
	wr := WorkloadResult{Workload: *w}
	var floor *FloorResult
	if w.Kind == "anon" {
		floor = &FloorResult{MiB: w.MiB}
	}
	if w.file != "" {
		if err := writeDataFile(w.file, w.MiB); err != nil {
			return wr, nil, err
		}
		defer os.Remove(w.file)
	}
	for _, t := range r.cfg.Tools {
		tr := ToolResult{Tool: t.Name()}
		if t.Name() == "ckpt" && w.CkptNote != "" {
			tr.Skipped = w.CkptNote
		}
		if t.Name() == "criu" && w.CRIUNote != "" {
			tr.Skipped = w.CRIUNote
		}
		if tr.Skipped == "" {
			tr.Skipped = r.overBudget(w, t.Name())
		}
		wr.Tools = append(wr.Tools, tr)
	}
	for i := 0; i < r.cfg.Runs; i++ {
		if floor != nil {
			f := measureFloor(r.binDir, r.scratch, w.MiB)
			floor.Runs = append(floor.Runs, f)
			r.logf("%s run %d/%d floor: write %s (first pass %s), read %s, read fresh %s (first pass %s), memcpy %s %s",
				w.Name, i+1, r.cfg.Runs, ms(f.WriteWarmNs), ms(f.WriteNs), ms(f.ReadNs),
				ms(f.ReadFreshWarmNs), ms(f.ReadFreshNs), ms(f.MemcpyNs), f.Err)
		}
		// Tools take turns to go first, so neither always meets the page
		// cache and the host's memory in the state the other left them.
		for k := range wr.Tools {
			j := k
			if i%2 == 1 {
				j = len(wr.Tools) - 1 - k
			}
			tr := &wr.Tools[j]
			if tr.Skipped != "" {
				continue
			}
			run, err := r.once(ctx, w, r.cfg.Tools[j], i)
			if err != nil {
				return wr, floor, err
			}
			tr.Runs = append(tr.Runs, run)
		}
	}
	for _, tr := range wr.Tools {
		r.recordPoint(w, tr)
	}
	return wr, floor, nil
}

// once is one round of one tool on a fresh copy of w: checkpoint with
// --leave-running and verify the workload, checkpoint without it, restore
// and verify the restored workload. A tool's failure is recorded in the
// run; an error return means the bench itself cannot go on.
func (r *runner) once(ctx context.Context, w *Workload, t Tool, i int) (Round, error) {
	run := Round{Index: i}
	in, err := startWorkload(w, r.binDir, r.scratch)
	if err != nil {
		return run, err
	}
	pid := in.pid
	defer func() {
		// Whatever happened, nothing of this round outlives it.
		if pids, err := sessionPids(pid); err == nil && len(pids) > 0 {
			_ = killAndReap(pids, reapGuard)
		}
		_ = os.RemoveAll(r.imgDir)
	}()
	prefix := filepath.Join(r.logDir, fmt.Sprintf("%s-%s-%d", w.Name, t.Name(), i))

	if err := r.warmPageCache(w.imageMiB); err != nil {
		return run, err
	}
	if !w.ScaleOnly {
		run.DumpLeaveRunning = r.dumpLeaveRunning(ctx, in, t, prefix+"-dump-lr")
	}
	if run.DumpLeaveRunning != nil && run.DumpLeaveRunning.Err != "" {
		// The workload may be dead or damaged; a restore of it would fail
		// for the wrong reason. The next step gets a fresh one.
		if err := r.discard(in); err != nil {
			return run, err
		}
		if in, err = startWorkload(w, r.binDir, r.scratch); err != nil {
			return run, err
		}
		pid = in.pid
	}

	run.Dump = r.dump(ctx, in, t, prefix+"-dump")
	if run.Dump.Err != "" {
		run.Restore = failedOp(errors.New("no image: the checkpoint failed"))
	} else {
		run.Restore = r.restore(ctx, in, t, prefix+"-restore")
		if lt, ok := t.(LazyRestorer); ok && run.Restore.Err == "" && !w.ScaleOnly {
			run.RestoreLazy = r.restoreLazy(ctx, in, lt, prefix+"-restore-lazy")
		}
	}
	if pc, ok := t.(preCopier); ok && w.Kind == "dirty" {
		if run.PreCopy, err = r.preCopy(ctx, w, pc, prefix+"-precopy"); err != nil {
			return run, err
		}
	}
	r.logf("%s run %d/%d %s: %s", w.Name, i+1, r.cfg.Runs, t.Name(), describeRun(run))
	return run, nil
}

func (r *runner) freshImageDir() error {
	if err := os.RemoveAll(r.imgDir); err != nil {
		return fmt.Errorf("image directory: %w", err)
	}
	return os.Mkdir(r.imgDir, 0o755)
}

// dumpLeaveRunning checkpoints in with --leave-running, measures the image,
// deletes it and checks the workload still answers OK.
func (r *runner) dumpLeaveRunning(ctx context.Context, in *instance, t Tool, prefix string) *Op {
	if err := r.freshImageDir(); err != nil {
		return failedOp(err)
	}
	cpu0, err := sessionCPU(in.pid)
	if err != nil {
		return failedOp(fmt.Errorf("workload CPU before checkpoint: %w", err))
	}
	op, err := t.Checkpoint(ctx, in.pid, r.imgDir, prefix, true)
	if err != nil {
		return failedOp(err)
	}
	if cpu1, err := sessionCPU(in.pid); err == nil {
		op.TargetCPUNs = (cpu1 - cpu0).Nanoseconds()
	}
	if op.ImageBytes, op.ImageAllocBytes, err = dirSize(r.imgDir); err != nil {
		op.Err = err.Error()
	}
	_ = os.RemoveAll(r.imgDir)
	lat, check, err := in.poke()
	if err != nil {
		op.Err = fmt.Sprintf("workload after checkpoint --leave-running: %v", err)
		return op
	}
	op.VerifyNs, op.CheckNs = lat.Nanoseconds(), check.Nanoseconds()
	return op
}

// warmPageCache writes and deletes a file of mib MiB on the image file
// system. This machine's balloon hands memory that stays free back to the
// host, and touching it again costs host faults: the first image written
// in a round met them and the second, written into the memory the first
// one's deletion had just freed, did not. After this, every checkpoint
// writes into just-freed memory, as the floor's warm pass does.
func (r *runner) warmPageCache(mib int) error {
	path := filepath.Join(r.scratch, "warm.data")
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("warm the page cache: %w", err)
	}
	defer os.Remove(path)
	buf := make([]byte, 1<<20)
	for range mib {
		if _, err := f.Write(buf); err != nil {
			f.Close()
			return fmt.Errorf("warm the page cache: %w", err)
		}
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("warm the page cache: %w", err)
	}
	return os.Remove(path)
}

// discard kills and reaps whatever is left of a workload. It goes by
// session rather than by the root's pid: once reaped, that pid may belong
// to anyone.
func (r *runner) discard(in *instance) error {
	pids, err := sessionPids(in.pid)
	if err != nil {
		return err
	}
	return killAndReap(pids, reapGuard)
}

// dump checkpoints in without --leave-running; the tool must kill it. The
// image stays for the restore.
func (r *runner) dump(ctx context.Context, in *instance, t Tool, prefix string) *Op {
	if err := r.freshImageDir(); err != nil {
		return failedOp(err)
	}
	pids, err := sessionPids(in.pid)
	if err != nil {
		return failedOp(err)
	}
	// The target's CPU is not measured here: it would include its exit,
	// which frees all its memory. The --leave-running run measures it.
	op, err := t.Checkpoint(ctx, in.pid, r.imgDir, prefix, false)
	if err != nil {
		return failedOp(err)
	}
	// Both tools promise the process is gone when they return; give the
	// kernel the time to finish the SIGKILL, then reap it ourselves.
	if err := waitGone(pids, reapGuard); err != nil {
		op.Err = fmt.Sprintf("workload after checkpoint without --leave-running: %v", err)
		return op
	}
	if op.ImageBytes, op.ImageAllocBytes, err = dirSize(r.imgDir); err != nil {
		op.Err = err.Error()
	}
	return op
}

// restore restores the image of the last dump and checks the restored
// root has the original pid and answers OK. The image stays for a lazy
// restore; the round deletes it.
func (r *runner) restore(ctx context.Context, in *instance, t Tool, prefix string) *Op {
	return r.restoreWith(ctx, in, t.Restore, prefix)
}

// restoreLazy kills what the plain restore made, waits for its pids to be
// free, and restores the same image again lazily: the wall time is until
// the process runs, the first OK reply comes once it has read every page.
func (r *runner) restoreLazy(ctx context.Context, in *instance, t LazyRestorer, prefix string) *Op {
	if err := r.discard(in); err != nil {
		return failedOp(fmt.Errorf("before the lazy restore: %w", err))
	}
	return r.restoreWith(ctx, in, t.RestoreLazy, prefix)
}

func (r *runner) restoreWith(ctx context.Context, in *instance,
	restore func(context.Context, string, string) (int, *Op, error), prefix string) *Op {
	pid, op, err := restore(ctx, r.imgDir, prefix)
	if err != nil {
		return failedOp(err)
	}
	if pid != in.pid {
		op.Err = fmt.Sprintf("restored as pid %d, not %d", pid, in.pid)
		_ = killAndReap([]int{pid}, reapGuard)
		return op
	}
	if cpu, err := sessionCPU(pid); err == nil {
		op.TargetCPUNs = cpu.Nanoseconds()
	}
	lat, check, err := in.poke()
	if err != nil {
		op.Err = fmt.Sprintf("restored workload: %v", err)
		return op
	}
	op.VerifyNs, op.CheckNs = lat.Nanoseconds(), check.Nanoseconds()
	return op
}

func (r *runner) logf(format string, args ...any) {
	if r.cfg.Progress != nil {
		fmt.Fprintf(r.cfg.Progress, format+"\n", args...)
	}
}

func describeRun(run Round) string {
	d := func(name string, op *Op) string {
		if op == nil {
			return name + " -"
		}
		if op.Err != "" {
			return name + " FAILED: " + op.Err
		}
		s := name + " " + ms(op.WallNs)
		if op.FreezeNs >= 0 {
			s += " (freeze " + ms(op.FreezeNs) + ")"
		}
		if op.ImageBytes >= 0 {
			s += " " + mib(op.ImageBytes)
		}
		return s
	}
	s := d("dump-lr", run.DumpLeaveRunning) + "; " + d("dump", run.Dump) + "; " + d("restore", run.Restore)
	if run.RestoreLazy != nil {
		s += "; " + d("restore --lazy", run.RestoreLazy)
	}
	if run.RestoreLazyRemote != nil {
		s += "; " + d("restore --lazy --page-server", run.RestoreLazyRemote)
	}
	return s
}

func ms(ns int64) string {
	if ns < 0 {
		return "-"
	}
	return strconv.FormatFloat(float64(ns)/1e6, 'f', 1, 64) + "ms"
}

func mib(b int64) string {
	return strconv.FormatFloat(float64(b)/(1<<20), 'f', 1, 64) + "MiB"
}

// fsDescription names the file system dir is on, from /proc/self/mountinfo
// semantics approximated by statfs: its type and the device's free space.
func fsDescription(dir string) string {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return dir
	}
	kind := "0x" + strconv.FormatInt(int64(st.Type), 16)
	switch st.Type {
	case unix.EXT4_SUPER_MAGIC:
		kind = "ext4"
	case unix.TMPFS_MAGIC:
		kind = "tmpfs"
	case unix.XFS_SUPER_MAGIC:
		kind = "xfs"
	case unix.BTRFS_SUPER_MAGIC:
		kind = "btrfs"
	case unix.OVERLAYFS_SUPER_MAGIC:
		kind = "overlay"
	}
	return fmt.Sprintf("%s (%s)", filepath.Dir(dir), kind)
}
