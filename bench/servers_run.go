package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// lazyPagesRestorer is a tool that restores with its memory served on
// demand by a separate daemon (CRIU's lazy-pages): only the servers use it,
// for the comparison with ckpt restore --lazy.
type lazyPagesRestorer interface {
	RestoreLazyPages(ctx context.Context, imgDir, logPrefix string) (int, *Op, error)
	stopLazyPages()
}

// server measures one real program with every tool, run after run, tools
// taking turns to go first, as workloads are.
func (r *runner) server(ctx context.Context, name string) (WorkloadResult, error) {
	s, err := newServer(name, r.scratch)
	if err != nil {
		return WorkloadResult{}, err
	}
	wr := WorkloadResult{Workload: Workload{Name: name, Kind: s.kind, MiB: s.mib, Procs: 1, Threads: 1}}
	wr.About = s.about
	for _, t := range r.cfg.Tools {
		wr.Tools = append(wr.Tools, ToolResult{Tool: t.Name()})
	}
	defer os.RemoveAll(s.dir)
	for i := 0; i < r.cfg.Runs; i++ {
		for k := range wr.Tools {
			j := k
			if i%2 == 1 {
				j = len(wr.Tools) - 1 - k
			}
			if err := ctx.Err(); err != nil {
				return wr, err
			}
			run, err := r.serverOnce(ctx, s, r.cfg.Tools[j], i)
			if err != nil {
				return wr, err
			}
			wr.Tools[j].Runs = append(wr.Tools[j].Runs, run)
		}
	}
	return wr, nil
}

// serverOnce: a fresh server; checkpoint with --leave-running and ask it;
// checkpoint; restore and ask until it answers right; kill it and restore
// the same image lazily, asking again. The figure of each operation's
// VerifyNs is the time to the first correct reply: after the tool returned
// for --leave-running, from the start of the restore for the restores.
func (r *runner) serverOnce(ctx context.Context, s *server, t Tool, i int) (Round, error) {
	run := Round{Index: i}
	pid, err := s.start()
	if err != nil {
		return run, err
	}
	defer func() {
		if pids, err := sessionPids(pid); err == nil && len(pids) > 0 {
			_ = killAndReap(pids, reapGuard)
		}
		if lz, ok := t.(lazyPagesRestorer); ok {
			lz.stopLazyPages()
		}
		_ = os.RemoveAll(r.imgDir)
	}()
	prefix := filepath.Join(r.logDir, fmt.Sprintf("%s-%s-%d", s.name, t.Name(), i))
	if !s.lazyOff {
		run.DumpLeaveRunning = r.serverDump(ctx, s, pid, t, prefix+"-dump-lr", true)
		if run.DumpLeaveRunning.Err != "" {
			// The server may be dead or damaged: the checkpoint gets a
			// fresh one (same pid space, new pid).
			if err := r.discardSession(pid); err != nil {
				return run, err
			}
			if pid, err = s.start(); err != nil {
				return run, err
			}
		}
	}
	run.Dump = r.serverDump(ctx, s, pid, t, prefix+"-dump", false)
	if run.Dump.Err != "" {
		r.logf("%s run %d/%d %s: %s", s.name, i+1, r.cfg.Runs, t.Name(), describeRun(run))
		return run, nil
	}
	if !s.lazyOff {
		run.Restore = r.serverRestore(s, pid, func() (int, *Op, error) { return t.Restore(ctx, r.imgDir, prefix+"-restore") })
		if err := r.discardSession(pid); err != nil {
			return run, err
		}
	}
	switch lt := t.(type) {
	case LazyRestorer:
		run.RestoreLazy = r.serverRestore(s, pid, func() (int, *Op, error) {
			return lt.RestoreLazy(ctx, r.imgDir, prefix+"-restore-lazy")
		})
	case lazyPagesRestorer:
		run.RestoreLazy = r.serverRestore(s, pid, func() (int, *Op, error) {
			return lt.RestoreLazyPages(ctx, r.imgDir, prefix+"-restore-lazy")
		})
	}
	if rt, ok := t.(remoteLazyRestorer); ok && s.lazyOff && run.RestoreLazy != nil {
		defer rt.stopPageServer()
		if err := r.discardSession(pid); err != nil {
			return run, err
		}
		run.RestoreLazyRemote = r.serverRestore(s, pid, func() (int, *Op, error) {
			return rt.RestoreLazyRemote(ctx, r.imgDir, prefix+"-restore-lazy-remote")
		})
	}
	r.logf("%s run %d/%d %s: %s", s.name, i+1, r.cfg.Runs, t.Name(), describeRun(run))
	return run, nil
}

// remoteLazyRestorer restores lazily with the pages from a socket (ckpt
// page-server).
type remoteLazyRestorer interface {
	RestoreLazyRemote(ctx context.Context, imgDir, logPrefix string) (int, *Op, error)
	stopPageServer()
}

func (r *runner) discardSession(sid int) error {
	pids, err := sessionPids(sid)
	if err != nil {
		return err
	}
	return killAndReap(pids, reapGuard)
}

// serverDump checkpoints the server and measures the image; with
// --leave-running it then asks the server and records how long the first
// correct reply took; without, it waits for the server to be gone.
func (r *runner) serverDump(ctx context.Context, s *server, pid int, t Tool, prefix string, leaveRunning bool) *Op {
	if err := r.freshImageDir(); err != nil {
		return failedOp(err)
	}
	pids, err := sessionPids(pid)
	if err != nil {
		return failedOp(err)
	}
	s.waitQuiet(pid)
	op, err := t.Checkpoint(ctx, pid, r.imgDir, prefix, leaveRunning)
	if err != nil {
		return failedOp(err)
	}
	if op.ImageBytes, op.ImageAllocBytes, err = dirSize(r.imgDir); err != nil {
		op.Err = err.Error()
		return op
	}
	if !leaveRunning {
		if err := waitGone(pids, reapGuard); err != nil {
			op.Err = fmt.Sprintf("server after checkpoint without --leave-running: %v", err)
		}
		return op
	}
	lat, err := s.firstReply(time.Now(), pid)
	if err != nil {
		op.Err = fmt.Sprintf("server after checkpoint --leave-running: %v", err)
		return op
	}
	op.VerifyNs = lat.Nanoseconds()
	return op
}

// serverRestore runs restore and asks the restored server until it
// answers right; VerifyNs counts from the restore's start.
func (r *runner) serverRestore(s *server, pid int, restore func() (int, *Op, error)) *Op {
	s.waitPortFree()
	t0 := time.Now()
	got, op, err := restore()
	if err != nil {
		return failedOp(err)
	}
	if got != pid {
		op.Err = fmt.Sprintf("restored as pid %d, not %d", got, pid)
		_ = killAndReap([]int{got}, reapGuard)
		return op
	}
	lat, err := s.firstReply(t0, pid)
	if err != nil {
		op.Err = fmt.Sprintf("restored server: %v", err)
		return op
	}
	op.VerifyNs = lat.Nanoseconds()
	return op
}

// waitPortFree waits (at most five seconds) until no socket but TIME_WAIT
// ones is left on the port: the restored listener must bind it again.
func (s *server) waitPortFree() {
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		b, err := os.ReadFile("/proc/net/tcp")
		if err != nil || portOnly(b, s.port, "06", "07") {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}
