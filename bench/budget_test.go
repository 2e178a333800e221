package bench

import (
	"strings"
	"testing"
	"time"
)

func TestExtrapolate(t *testing.T) {
	s := time.Second
	for _, c := range []struct {
		name  string
		pts   []scalePoint
		units int
		want  time.Duration
	}{
		{"nothing before", nil, 100, 0},
		{"one point: linear", []scalePoint{{10, 2 * s}}, 100, 20 * s},
		{"quadratic", []scalePoint{{1, s / 100}, {1000, s}, {10000, 100 * s}}, 100000, 10000 * s},
		{"linear", []scalePoint{{100, s}, {1000, 10 * s}}, 10000, 100 * s},
		{"flat: k is 0", []scalePoint{{100, 3 * s}, {1000, 3 * s}}, 10000, 3 * s},
		{"shrinking: k clamped to 0", []scalePoint{{100, 5 * s}, {1000, 3 * s}}, 10000, 3 * s},
		// Points out of order and points above units are ignored.
		{"unordered", []scalePoint{{4096, 40 * s}, {64, s / 2}, {256, 2 * s}, {1024, 8 * s}}, 2048, 16 * s},
		{"only larger points", []scalePoint{{1000, s}}, 100, 0},
	} {
		got, how := extrapolate(c.pts, c.units)
		if d := got - c.want; d > time.Millisecond || d < -time.Millisecond {
			t.Errorf("%s: got %v (%s), want %v", c.name, got, how, c.want)
		}
	}
}

func TestOverBudget(t *testing.T) {
	r := &runner{cfg: Config{PointBudget: 5 * time.Minute}}
	done := func(units int, dump, restore time.Duration) {
		op := func(d time.Duration) *Op { o := newOp(toolRun{Wall: d}); return o }
		r.recordPoint(&Workload{Axis: "fds", Units: units}, ToolResult{Tool: "ckpt",
			Runs: []Round{{Dump: op(dump), Restore: op(restore)}}})
	}
	done(1000, 800*time.Millisecond, 900*time.Millisecond)
	done(10000, 80*time.Second, 90*time.Second)
	w := &Workload{Axis: "fds", Units: 100000}
	if got := r.overBudget(w, "ckpt"); !strings.Contains(got, "not run") || !strings.Contains(got, "units^2.0") {
		t.Errorf("ckpt at 100000 fds: %q, want skipped with the quadratic growth named", got)
	}
	if got := r.overBudget(w, "criu"); got != "" {
		t.Errorf("criu with no points: %q", got)
	}
	if got := r.overBudget(&Workload{Units: 100000}, "ckpt"); got != "" {
		t.Errorf("a workload off the axes: %q", got)
	}
	// A failed point is not kept: the next is tried.
	r.recordPoint(&Workload{Axis: "threads", Units: 10}, ToolResult{Tool: "ckpt",
		Runs: []Round{{Dump: failedOp(errString("x")), Restore: failedOp(errString("y"))}}})
	if len(r.points["threads/ckpt"]) != 0 {
		t.Error("a failed point was kept")
	}
	r.cfg.PointBudget = 0
	if got := r.overBudget(w, "ckpt"); got != "" {
		t.Errorf("no budget: %q", got)
	}
}
