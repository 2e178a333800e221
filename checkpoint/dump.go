package checkpoint

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/ckpt/ckpt/checkpoint/image"
	"github.com/ckpt/ckpt/internal/ptrace"
)

// Options control a checkpoint.
type Options struct {
	// LeaveRunning lets the process carry on after the image is written;
	// otherwise it is killed once the image is complete.
	LeaveRunning bool
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

	tr, err := ptrace.New()
	if err != nil {
		return nil, fmt.Errorf("start tracer: %w", err)
	}
	defer tr.Close()

	d := &dumper{ctx: ctx, log: log, opts: opts, tr: tr}
	start := time.Now()
	p, err := d.seize(pid)
	if err != nil {
		return nil, fmt.Errorf("seize: %w", err)
	}
	stopped := time.Now()
	killed := false
	defer func() {
		if !killed {
			d.release(p)
		}
	}()

	if err := d.collect(p); err != nil {
		return nil, fmt.Errorf("collect: %w", err)
	}
	res := &Result{Pid: pid, Tasks: 1, Threads: len(p.threads)}
	var snap *snapshot
	if opts.LeaveRunning {
		// Dump memory from a copy-on-write copy and let the process go now.
		snapStart := time.Now()
		if snap, err = d.takeSnapshot(p); err != nil {
			return nil, fmt.Errorf("snapshot: %w", err)
		}
		log.Debug("snapshot taken", "copy", snap.pid, "took", time.Since(snapStart))
		d.release(p)
		killed = true // released: nothing left to undo
		res.FreezeWindow = time.Since(stopped)
		defer d.drop(p, snap)
	}
	iw := image.NewWriter(w)
	if err := d.write(iw, p, snap); err != nil {
		_ = iw.Abort(err.Error())
		return nil, fmt.Errorf("write: %w", err)
	}
	if err := iw.Close(); err != nil {
		return nil, fmt.Errorf("write tail: %w", err)
	}
	res.Records, res.Bytes, res.Pages = iw.Records(), iw.Offset(), d.pages
	if !opts.LeaveRunning {
		d.kill(p)
		killed = true
		res.FreezeWindow = time.Since(stopped)
	}
	log.Info("checkpoint done", "threads", res.Threads, "bytes", res.Bytes,
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
}

func (d *dumper) nextObjref() uint32 {
	d.objref++
	return d.objref
}
