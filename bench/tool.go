package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// Tool is a checkpoint/restore implementation under measurement.
type Tool interface {
	Name() string
	Version() string
	// Commands are the command lines the tool is run with, for the report.
	Commands() []string
	// Checkpoint writes an image of pid into imgDir, which exists and is
	// empty. Logs and anything else go to files named from logPrefix.
	Checkpoint(ctx context.Context, pid int, imgDir, logPrefix string, leaveRunning bool) (*Op, error)
	// Restore restores the image in imgDir, detached, and returns the
	// restored root's pid once it runs.
	Restore(ctx context.Context, imgDir, logPrefix string) (int, *Op, error)
}

// LazyRestorer is a Tool that can also restore lazily (ckpt restore
// --lazy): RestoreLazy is Restore with the memory left to arrive later.
type LazyRestorer interface {
	RestoreLazy(ctx context.Context, imgDir, logPrefix string) (int, *Op, error)
}

// Op is one measured checkpoint or restore. Figures that are not known
// are -1.
type Op struct {
	WallNs int64 `json:"wall_ns"`
	// CPUNs is the tool's user+system time (and its waited-for children's).
	CPUNs int64 `json:"cpu_ns"`
	// TargetCPUNs is the CPU time the workload's own tasks consumed during
	// the operation: work a tool injects or runs inside them. For a restore
	// it is everything the restored tasks had consumed when the tool
	// returned.
	TargetCPUNs int64 `json:"target_cpu_ns"`
	MaxRSSKiB   int64 `json:"maxrss_kib"`
	// MinFlt counts the tool's minor page faults: memory it touched fresh.
	MinFlt int64 `json:"minflt"`
	// FreezeNs is the freeze window as the tool itself reports it, from
	// the moment every task is stopped until they are resumed or killed.
	FreezeNs        int64 `json:"freeze_ns"`
	ImageBytes      int64 `json:"image_bytes"`
	ImageAllocBytes int64 `json:"image_alloc_bytes"`
	// VerifyNs is how long the workload took to answer SIGUSR1 with OK
	// after the operation, and CheckNs the longest checksum time one of its
	// processes reported; a lazily restored memory would show there.
	VerifyNs int64 `json:"verify_ns"`
	CheckNs  int64 `json:"check_ns"`
	// Internal holds the tool's own figures: phase times in ns, counts.
	Internal map[string]int64 `json:"internal,omitempty"`
	Err      string           `json:"error,omitempty"`
}

func newOp(r toolRun) *Op {
	return &Op{
		WallNs: r.Wall.Nanoseconds(), CPUNs: r.CPU.Nanoseconds(), MaxRSSKiB: r.MaxRSSKiB, MinFlt: r.MinFlt,
		TargetCPUNs: -1, FreezeNs: -1, ImageBytes: -1, ImageAllocBytes: -1,
		VerifyNs: -1, CheckNs: -1, Internal: map[string]int64{},
	}
}

// failedOp records an operation that did not complete.
func failedOp(err error) *Op {
	op := newOp(toolRun{})
	op.WallNs, op.CPUNs, op.MaxRSSKiB, op.MinFlt = -1, -1, -1, -1
	op.Err = err.Error()
	return op
}

// dirSize is the apparent size of the regular files under dir and the
// space they take on disk.
func dirSize(dir string) (size, alloc int64, err error) {
	err = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		size += fi.Size()
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			alloc += st.Blocks * 512
		}
		return nil
	})
	if err != nil {
		return 0, 0, fmt.Errorf("size of image %s: %w", dir, err)
	}
	return size, alloc, nil
}

func readPidFile(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("pid file: %w", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 0, fmt.Errorf("pid file %s: %w", path, err)
	}
	return pid, nil
}
