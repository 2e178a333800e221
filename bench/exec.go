package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// toolRun is what running a tool once measured.
type toolRun struct {
	Wall      time.Duration
	CPU       time.Duration // user + system, of the tool and the children it waited for
	MaxRSSKiB int64
	MinFlt    int64 // minor page faults
	Stdout    []byte
	Stderr    []byte
}

// launcher runs tools through workloads/runwait.c, which measures them
// (see there for why the bench cannot take the rusage itself).
type launcher struct {
	runwait string
}

// prepare is called once the helpers are built into binDir.
func (l *launcher) prepare(binDir string) error {
	l.runwait = filepath.Join(binDir, "runwait")
	return nil
}

// run runs argv to completion, bounded by guard, and measures it. Its
// stdout and stderr go to files (logPrefix.out, logPrefix.err), not pipes: a
// restored process may inherit them, and a pipe would keep os/exec waiting
// for the restored process to exit.
func (l *launcher) run(ctx context.Context, logPrefix string, guard time.Duration, argv []string) (toolRun, error) {
	var r toolRun
	if l.runwait == "" {
		return r, errors.New("tool run before the bench built its helpers")
	}
	stdout, err := os.Create(logPrefix + ".out")
	if err != nil {
		return r, fmt.Errorf("run %s: %w", argv[0], err)
	}
	defer stdout.Close()
	stderr, err := os.Create(logPrefix + ".err")
	if err != nil {
		return r, fmt.Errorf("run %s: %w", argv[0], err)
	}
	defer stderr.Close()
	report := logPrefix + ".rusage"
	_ = os.Remove(report)

	ctx, cancel := context.WithTimeout(ctx, guard)
	defer cancel()
	cmd := exec.CommandContext(ctx, l.runwait, append([]string{report}, argv...)...)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	runErr := cmd.Run()
	r.Stdout, _ = os.ReadFile(logPrefix + ".out")
	r.Stderr, _ = os.ReadFile(logPrefix + ".err")
	// runwait writes its report once the tool is reaped; killed by the
	// hang guard, it leaves the report empty.
	if b, err := os.ReadFile(report); err == nil && len(b) > 0 {
		var ru struct {
			WallNs    int64 `json:"wall_ns"`
			UtimeNs   int64 `json:"utime_ns"`
			StimeNs   int64 `json:"stime_ns"`
			MaxRSSKiB int64 `json:"maxrss_kib"`
			MinFlt    int64 `json:"minflt"`
		}
		if err := json.Unmarshal(b, &ru); err != nil {
			return r, fmt.Errorf("%s: runwait report %q: %w", argv[0], b, err)
		}
		r.Wall = time.Duration(ru.WallNs)
		r.CPU = time.Duration(ru.UtimeNs + ru.StimeNs)
		r.MaxRSSKiB, r.MinFlt = ru.MaxRSSKiB, ru.MinFlt
	} else if runErr == nil {
		return r, fmt.Errorf("%s: no runwait report (%w)", argv[0], err)
	}
	if runErr != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			runErr = fmt.Errorf("killed after %v (hang guard): %w", guard, runErr)
		}
		return r, fmt.Errorf("%s: %w; stderr ends %q", strings.Join(argv, " "), runErr, tail(r.Stderr, 600))
	}
	return r, nil
}
