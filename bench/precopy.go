package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// Pre-copy: the dirty workloads are checkpointed with --pre-dump, left
// writing for preCopyGap, and checkpointed again on that image. The final
// checkpoint's freeze window is the figure: it holds only the pages
// written in between, against the whole memory of a plain checkpoint.
// CRIU's pre-dump needs soft-dirty tracking, which this kernel lacks
// (no CONFIG_MEM_SOFT_DIRTY), so only ckpt is measured.

// DirtyRate is how many MiB a second the dirty workloads write.
const DirtyRate = 50

// preCopyGap is how long the workload writes between the pre-dump and
// the final checkpoint.
const preCopyGap = time.Second

// preCopier is a Tool that does pre-copy checkpoints.
type preCopier interface {
	Tool
	// PreDump checkpoints pid into imgDir and leaves it running, tracking
	// what it writes.
	PreDump(ctx context.Context, pid int, imgDir, logPrefix string) (*Op, error)
	// CheckpointOnParent checkpoints pid into imgDir, saving only what
	// changed since the image in parentDir; the process is killed.
	CheckpointOnParent(ctx context.Context, pid int, imgDir, parentDir, logPrefix string) (*Op, error)
}

// preCopy runs one pre-copy round of w on a fresh copy: pre-dump, a
// pause while it writes, the final checkpoint on the pre-dump's image.
// The final checkpoint's Op is returned; Internal holds the pre-dump's
// wall time and freeze window and the pre-dump image's size.
func (r *runner) preCopy(ctx context.Context, w *Workload, t preCopier, prefix string) (*Op, error) {
	in, err := startWorkload(w, r.binDir, r.scratch)
	if err != nil {
		return nil, err
	}
	defer func() {
		if pids, err := sessionPids(in.pid); err == nil && len(pids) > 0 {
			_ = killAndReap(pids, reapGuard)
		}
		_ = os.RemoveAll(r.imgDir)
	}()
	if err := r.freshImageDir(); err != nil {
		return failedOp(err), nil
	}
	pre, final := filepath.Join(r.imgDir, "pre"), filepath.Join(r.imgDir, "final")
	for _, d := range []string{pre, final} {
		if err := os.Mkdir(d, 0o755); err != nil {
			return failedOp(err), nil
		}
	}
	if err := r.warmPageCache(w.imageMiB); err != nil {
		return nil, err
	}
	pop, err := t.PreDump(ctx, in.pid, pre, prefix+"-pre")
	if err != nil {
		return failedOp(err), nil
	}
	if _, _, err := in.poke(); err != nil {
		return failedOp(fmt.Errorf("workload after --pre-dump: %w", err)), nil
	}
	time.Sleep(preCopyGap)
	op, err := t.CheckpointOnParent(ctx, in.pid, final, pre, prefix+"-final")
	if err != nil {
		return failedOp(err), nil
	}
	op.Internal["pre_dump_wall_ns"] = pop.WallNs
	op.Internal["pre_dump_freeze_ns"] = pop.FreezeNs
	if op.ImageBytes, op.ImageAllocBytes, err = dirSize(final); err != nil {
		op.Err = err.Error()
	}
	if b, _, err := dirSize(pre); err == nil {
		op.Internal["pre_dump_image_bytes"] = b
	}
	return op, nil
}

// PreDump implements preCopier.
func (c *Ckpt) PreDump(ctx context.Context, pid int, imgDir, logPrefix string) (*Op, error) {
	return c.checkpointWith(ctx, pid, logPrefix, []string{"--image", filepath.Join(imgDir, "image.ckpt"), "--pre-dump"})
}

// CheckpointOnParent implements preCopier.
func (c *Ckpt) CheckpointOnParent(ctx context.Context, pid int, imgDir, parentDir, logPrefix string) (*Op, error) {
	return c.checkpointWith(ctx, pid, logPrefix, []string{"--image", filepath.Join(imgDir, "image.ckpt"), "--parent-path", parentDir})
}

// checkpointWith runs ckpt checkpoint with args and reads its figures.
func (c *Ckpt) checkpointWith(ctx context.Context, pid int, logPrefix string, args []string) (*Op, error) {
	argv := append([]string{c.copy, "-v", "checkpoint", "--pid", strconv.Itoa(pid)}, args...)
	r, err := c.run(ctx, logPrefix, c.Guard, argv)
	if err != nil {
		return nil, fmt.Errorf("ckpt checkpoint of pid %d: %w", pid, err)
	}
	op := newOp(r)
	f, err := LogFields(r.Stderr, "checkpoint done")
	if err != nil {
		return nil, fmt.Errorf("ckpt checkpoint of pid %d: %w", pid, err)
	}
	freeze, err := DurationField(f, "freeze")
	if err != nil {
		return nil, fmt.Errorf("ckpt checkpoint of pid %d: %w", pid, err)
	}
	op.FreezeNs = freeze.Nanoseconds()
	if pages, err := strconv.ParseInt(f["pages"], 10, 64); err == nil {
		op.Internal["pages"] = pages
	}
	return op, nil
}
