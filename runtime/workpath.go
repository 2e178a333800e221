package runtime

import (
	"encoding/binary"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/checkpoint-restore/go-criu/v8/stats"
	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/checkpoint"
	"github.com/ckpt/ckpt/restore"
)

// The work path (runc's --work-path) is where runc leaves CRIU's log and
// statistics of a checkpoint or restore, and where its callers look for
// them: containerd's runc shim copies <work>/dump.log next to the bundle
// when a checkpoint fails and names it in the error; the CRI plugin
// archives dump.log and stats-dump with a checkpoint, for checkpointctl.
// ckpt writes the same files: the engine's log of the operation, at debug
// level, ending with the error if it failed, and the statistics in CRIU's
// stats file format (go-criu's stats package reads them).
const (
	DumpLog    = "dump.log"
	RestoreLog = "restore.log"
)

// WorkOp is the operation a work path is for.
type WorkOp int

const (
	WorkDump WorkOp = iota
	WorkRestore
)

// WithWorkPath returns a runtime that also logs to dir's dump.log or
// restore.log and writes its statistics (stats-dump, stats-restore) there
// once the operation succeeds. done closes the log, writing err (the
// operation's result) to it first, and returns err.
func (r *Runtime) WithWorkPath(dir string, op WorkOp) (w *Runtime, done func(error) error, err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, nil, fmt.Errorf("work path: %w", err)
	}
	name := DumpLog
	if op == WorkRestore {
		name = RestoreLog
	}
	f, err := os.OpenFile(filepath.Join(dir, name), os.O_WRONLY|os.O_CREATE|os.O_TRUNC|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("work path: %w", err)
	}
	file := slog.NewTextHandler(f, &slog.HandlerOptions{Level: slog.LevelDebug})
	cp := *r
	cp.Log = slog.New(slog.NewMultiHandler(r.log().Handler(), file))
	cp.workPath = dir
	log := slog.New(file)
	return &cp, func(err error) error {
		if err != nil {
			log.Error("failed", "err", err)
		} else {
			log.Info("done")
		}
		if cerr := f.Close(); cerr != nil && err == nil {
			err = cerr
		}
		return err
	}, nil
}

// noteStats writes a checkpoint's or restore's statistics into the work
// path, if there is one. Times are in microseconds, as CRIU's. A failure
// to write them is logged: the checkpoint or restore itself succeeded.
func (r *Runtime) noteStats(res any) {
	if r.workPath == "" {
		return
	}
	var st stats.StatsEntry
	name := stats.StatsDump
	switch x := res.(type) {
	case *checkpoint.Result:
		frozen := micros(x.FreezeWindow)
		st.Dump = &stats.DumpStatsEntry{FrozenTime: &frozen, PagesScanned: &x.Pages, PagesWritten: &x.Pages,
			MemdumpTime: new(uint32), MemwriteTime: new(uint32), FreezingTime: new(uint32),
			PagesSkippedParent: new(uint64), PagesLazy: new(uint64)}
	case *restore.Result:
		name = stats.StatsRestore
		el := micros(x.Elapsed)
		st.Restore = &stats.RestoreStatsEntry{RestoreTime: &el, PagesRestored: &x.Pages,
			PagesCompared: new(uint64), PagesSkippedCow: new(uint64), ForkingTime: new(uint32)}
	default:
		return
	}
	if err := writeStats(filepath.Join(r.workPath, name), &st); err != nil {
		r.log().Warn("work path: statistics not written", "err", err)
	}
}

func micros(d time.Duration) uint32 {
	us := d.Microseconds()
	if us > int64(^uint32(0)) {
		return ^uint32(0)
	}
	return uint32(us)
}

// writeStats writes a CRIU stats image: the two magics, the payload's
// size, the StatsEntry protobuf.
func writeStats(path string, st *stats.StatsEntry) error {
	payload, err := st.MarshalVT()
	if err != nil {
		return err
	}
	buf := make([]byte, stats.PayloadOffset, stats.PayloadOffset+len(payload))
	binary.LittleEndian.PutUint32(buf[stats.PrimaryMagicOffset:], stats.ImgServiceMagic)
	binary.LittleEndian.PutUint32(buf[stats.SecondaryMagicOffset:], stats.StatsMagic)
	binary.LittleEndian.PutUint32(buf[stats.SizeOffset:], uint32(len(payload)))
	buf = append(buf, payload...)
	return os.WriteFile(path, buf, 0o600)
}
