package bench

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Target is one goal ckpt is measured against. The bench reports them; it
// does not enforce them.
type Target struct {
	Goal   string
	Figure string
	Met    string // "yes", "no", or "not measured"
}

// targetWorkload is the workload the headline targets are read from.
const targetWorkload = "anon-1024M"

// Targets evaluates the goals of issue 12 ("Performance, round 2") on r.
func Targets(r *Results) []Target {
	var ts []Target
	add := func(goal string, ratio float64, ok func(float64) bool, figure string) {
		t := Target{Goal: goal, Figure: figure, Met: "not measured"}
		if !math.IsNaN(ratio) {
			t.Met = yesNo(ok(ratio))
		} else {
			t.Figure = "—"
		}
		ts = append(ts, t)
	}
	ck, _ := r.pair(targetWorkload)
	floor, haveFloor := r.Floor(1024)
	ratio := math.NaN()
	if ck != nil && haveFloor {
		ratio = Ratio(ck.Dump.Wall, floor.WriteWarm)
	}
	add("1 GiB checkpoint ≤ 1.3× the page-cache write floor", ratio, func(x float64) bool { return x <= 1.3 },
		fmt.Sprintf("%s vs floor %s = %s", fmtMsOrNA(ck, func(s *ToolSummary) Summary { return s.Dump.Wall }),
			fmtMs(floor.WriteWarm), fmtRatio(ratio)))

	faster := func(goal, workload string, want float64, fig func(*ToolSummary) Summary) {
		ck, cr := r.pair(workload)
		ratio := math.NaN()
		if ck != nil && cr != nil {
			ratio = Ratio(fig(cr), fig(ck))
		}
		add(goal, ratio, func(x float64) bool { return x >= want },
			fmt.Sprintf("ckpt %s, CRIU %s: CRIU/ckpt = %s", fmtMsOrNA(ck, fig), fmtMsOrNA(cr, fig), fmtRatio(ratio)))
	}
	dump := func(s *ToolSummary) Summary { return s.Dump.Wall }
	restore := func(s *ToolSummary) Summary { return s.Restore.Wall }
	faster("1 GiB checkpoint ≥ 1.5× faster than CRIU", targetWorkload, 1.5, dump)
	faster("1 GiB restore ≥ 2× faster than CRIU", targetWorkload, 2, restore)
	faster("4 GiB restore ≥ 2× faster than CRIU", "anon-4096M", 2, restore)
	faster("100-process tree restore ≥ 2× faster than CRIU", "tree-100", 2, restore)
	faster("64-thread restore ≥ 2× faster than CRIU", "threads-64", 2, restore)
	faster("100-process tree checkpoint ≥ 1.3× faster than CRIU", "tree-100", 1.3, dump)
	faster("64-thread checkpoint ≥ 1.3× faster than CRIU", "threads-64", 1.3, dump)

	freeze := func(goal, workload string, limitMs float64) {
		ck, _ := r.pair(workload)
		ratio := math.NaN()
		if ck != nil && ck.DumpLeaveRunning.Freeze.N > 0 {
			ratio = ck.DumpLeaveRunning.Freeze.Median / 1e6
		}
		add(goal, ratio, func(x float64) bool { return x < limitMs },
			fmtMsOrNA(ck, func(s *ToolSummary) Summary { return s.DumpLeaveRunning.Freeze }))
	}
	freeze("freeze window with --leave-running < 20 ms at 1 GiB", targetWorkload, 20)
	freeze("freeze window with --leave-running < 30 ms at 4 GiB", "anon-4096M", 30)

	ratio = math.NaN()
	if ck != nil && ck.RestoreLazy.OK > 0 && ck.Restore.OK > 0 {
		ratio = Ratio(ck.RestoreLazy.Wall, ck.Restore.Wall)
	}
	add("1 GiB restore --lazy --detach returns in ≤ 1/5 of a full restore", ratio, func(x float64) bool { return x <= 0.2 },
		fmt.Sprintf("%s vs %s = %s", fmtMsOrNA(ck, func(s *ToolSummary) Summary { return s.RestoreLazy.Wall }),
			fmtMsOrNA(ck, func(s *ToolSummary) Summary { return s.Restore.Wall }), fmtRatio(ratio)))
	ts = append(ts, lazyServerTarget(r), preCopyTarget(r), imageTarget(r), rssTarget(r), reportedTarget(r))
	return ts
}

// pair returns ckpt's and CRIU's summaries on a workload (nil if absent).
func (r *Results) pair(workload string) (ck, cr *ToolSummary) {
	w := r.workload(workload)
	return w.summary("ckpt"), w.summary("criu")
}

// lazyServerTarget: time to the first correct reply of the largest
// "-lazy" server, ckpt restore --lazy against CRIU's lazy-pages. The issue
// asks for the figure, not a ratio; met says whether ckpt answers first.
func lazyServerTarget(r *Results) Target {
	t := Target{Goal: "time to first served request, 4 GiB redis-like, lazy: ckpt vs CRIU --lazy-pages",
		Figure: "—", Met: "not measured"}
	best := -1
	for i := range r.Servers {
		w := &r.Servers[i]
		if !strings.HasSuffix(w.Name, "-lazy") || w.MiB <= best {
			continue
		}
		ck, cr := w.summary("ckpt"), w.summary("criu")
		if ck == nil {
			continue
		}
		best = w.MiB
		crText := "not run"
		if cr != nil {
			crText = opText(cr.RestoreLazy, fmtMs(cr.RestoreLazy.Verify))
			switch {
			case cr.RestoreLazy.N() == 0 && cr.Dump.OK == 0 && cr.Dump.Failed > 0:
				crText = "its checkpoint FAILED: " + shorten(cr.Dump.Errors[0], 160)
			case cr.RestoreLazy.OK == 0 && cr.RestoreLazy.Failed > 0:
				crText = "FAILED: " + shorten(cr.RestoreLazy.Errors[0], 160)
			}
		}
		t.Figure = fmt.Sprintf("%s: ckpt %s, CRIU %s", w.Name, opText(ck.RestoreLazy, fmtMs(ck.RestoreLazy.Verify)), crText)
		switch {
		case w.MiB < 4096:
			t.Met = "not measured at 4 GiB"
		case ck.RestoreLazy.OK == 0:
			t.Met = "no"
		case cr == nil || cr.RestoreLazy.OK == 0:
			t.Met = "yes (CRIU did not answer)"
		default:
			t.Met = yesNo(ck.RestoreLazy.Verify.Median <= cr.RestoreLazy.Verify.Median)
		}
	}
	return t
}

// imageTarget: every workload both tools completed.
func imageTarget(r *Results) Target {
	var larger []string
	compared := 0
	for i := range r.Workloads {
		w := &r.Workloads[i]
		ck, cr := w.summary("ckpt"), w.summary("criu")
		if ck == nil || cr == nil || ck.Dump.Image.N == 0 || cr.Dump.Image.N == 0 {
			continue
		}
		compared++
		if ck.Dump.Image.Median > cr.Dump.Image.Median {
			larger = append(larger, fmt.Sprintf("%s (%+.0f KiB)", w.Name,
				(ck.Dump.Image.Median-cr.Dump.Image.Median)/1024))
		}
	}
	t := Target{Goal: "image no larger than CRIU's", Met: "not measured", Figure: "—"}
	if compared > 0 {
		t.Met = yesNo(len(larger) == 0)
		t.Figure = fmt.Sprintf("larger on %d of %d workloads", len(larger), compared)
		if len(larger) > 0 {
			t.Figure += ": " + strings.Join(larger, ", ")
		}
	}
	return t
}

// rssTarget: ckpt's peak RSS against 1.5× CRIU's, checkpoint and restore,
// on every workload both tools completed.
func rssTarget(r *Results) Target {
	var over []string
	compared := 0
	for i := range r.Workloads {
		w := &r.Workloads[i]
		ck, cr := w.summary("ckpt"), w.summary("criu")
		if ck == nil || cr == nil {
			continue
		}
		for _, op := range []struct {
			name   string
			ck, cr Summary
		}{{"checkpoint", ck.Dump.MaxRSS, cr.Dump.MaxRSS}, {"restore", ck.Restore.MaxRSS, cr.Restore.MaxRSS}} {
			x := Ratio(op.ck, op.cr)
			if math.IsNaN(x) {
				continue
			}
			compared++
			if x > 1.5 {
				over = append(over, fmt.Sprintf("%s %s %s", w.Name, op.name, fmtRatio(x)))
			}
		}
	}
	t := Target{Goal: "tool's peak RSS ≤ 1.5× CRIU's", Met: "not measured", Figure: "—"}
	if compared > 0 {
		t.Met = yesNo(len(over) == 0)
		t.Figure = fmt.Sprintf("above on %d of %d operations", len(over), compared)
		if len(over) > 0 {
			t.Figure += ": " + strings.Join(over, ", ")
		}
	}
	return t
}

// reportedTarget: the scaling tables and the real programs are figures to
// report, not thresholds; the row says whether this run has them.
func reportedTarget(r *Results) Target {
	var have, missing []string
	for _, a := range axes {
		if n := len(r.axisPoints(a.Name)); n > 0 {
			have = append(have, fmt.Sprintf("%s (%d points)", a.Name, n))
		} else {
			missing = append(missing, a.Name)
		}
	}
	if len(r.Servers) > 0 {
		have = append(have, fmt.Sprintf("real programs (%d)", len(r.Servers)))
	} else {
		missing = append(missing, "real programs")
	}
	t := Target{Goal: "scaling tables (memory, processes, threads, fds) and real programs, ckpt beside CRIU",
		Figure: "reported: " + strings.Join(have, ", "), Met: "yes"}
	if len(have) == 0 {
		return Target{Goal: t.Goal, Figure: "—", Met: "not measured"}
	}
	if len(missing) > 0 {
		t.Figure += "; missing: " + strings.Join(missing, ", ")
		t.Met = "no"
	}
	return t
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func fmtMsOrNA(s *ToolSummary, f func(*ToolSummary) Summary) string {
	if s == nil {
		return "—"
	}
	return fmtMs(f(s))
}

// TargetTable renders Targets.
func TargetTable(r *Results) Table {
	t := Table{Header: []string{"target", "measured", "met"}}
	for _, x := range Targets(r) {
		t.Rows = append(t.Rows, []string{x.Goal, x.Figure, x.Met})
	}
	return t
}

// Lag is one figure where ckpt did worse than CRIU on a workload.
type Lag struct {
	Workload, Figure string
	Ckpt, CRIU       string
	Ratio            float64
	// Clear is set when even ckpt's best run is worse than CRIU's worst:
	// the ranges do not overlap, so the noise of this machine cannot
	// explain it.
	Clear bool
}

// Behind lists, from the figures alone, every place ckpt failed (as text)
// and every median where ckpt is above CRIU's by more than 10% (smaller
// differences are within this machine's run-to-run noise).
func Behind(r *Results) (failures []string, lags []Lag) {
	for i := range r.Workloads {
		w := &r.Workloads[i]
		ckr := w.find("ckpt")
		if ckr == nil {
			continue
		}
		if ckr.Skipped != "" {
			failures = append(failures, fmt.Sprintf("%s: ckpt %s", w.Name, ckr.Skipped))
			continue
		}
		ck := ckr.Summary
		for _, f := range []struct {
			name string
			op   OpSummary
		}{{"checkpoint --leave-running", ck.DumpLeaveRunning}, {"checkpoint", ck.Dump}, {"restore", ck.Restore}} {
			if f.op.Failed > 0 {
				failures = append(failures, fmt.Sprintf("%s: ckpt %s failed %d of %d runs: %s", w.Name, f.name,
					f.op.Failed, f.op.OK+f.op.Failed, strings.Join(f.op.Errors, "; ")))
			}
		}
		cr := w.summary("criu")
		if cr == nil {
			continue
		}
		cmp := func(what string, a, b Summary, format func(Summary) string) {
			if x := Ratio(a, b); !math.IsNaN(x) && x > 1.1 {
				lags = append(lags, Lag{Workload: w.Name, Figure: what, Ckpt: format(a), CRIU: format(b),
					Ratio: x, Clear: a.N > 1 && b.N > 1 && a.Min > b.Max})
			}
		}
		mibB := func(s Summary) string { return fmtMiB(s, 1) }
		mibK := func(s Summary) string { return fmtMiB(s, 1024) }
		count := func(s Summary) string {
			return withRange(strconv.FormatFloat(s.Median, 'f', 0, 64), strconv.FormatFloat(s.Min, 'f', 0, 64),
				strconv.FormatFloat(s.Max, 'f', 0, 64), "")
		}
		cmp("checkpoint", ck.Dump.Wall, cr.Dump.Wall, fmtMs)
		cmp("checkpoint --leave-running", ck.DumpLeaveRunning.Wall, cr.DumpLeaveRunning.Wall, fmtMs)
		cmp("freeze window", ck.Dump.Freeze, cr.Dump.Freeze, fmtMs)
		cmp("freeze window --leave-running", ck.DumpLeaveRunning.Freeze, cr.DumpLeaveRunning.Freeze, fmtMs)
		cmp("checkpoint CPU, tool + target", cpuTotal(ck.DumpLeaveRunning), cpuTotal(cr.DumpLeaveRunning), fmtMs)
		cmp("checkpoint peak RSS", ck.Dump.MaxRSS, cr.Dump.MaxRSS, mibK)
		cmp("checkpoint minor faults of the tool", ck.Dump.MinFlt, cr.Dump.MinFlt, count)
		cmp("image", ck.Dump.Image, cr.Dump.Image, mibB)
		cmp("restore", ck.Restore.Wall, cr.Restore.Wall, fmtMs)
		cmp("restore CPU, tool + target", cpuTotal(ck.Restore), cpuTotal(cr.Restore), fmtMs)
		cmp("restore peak RSS", ck.Restore.MaxRSS, cr.Restore.MaxRSS, mibK)
		cmp("first OK reply after restore", ck.Restore.Verify, cr.Restore.Verify, fmtMs)
	}
	return failures, lags
}

// LagTable renders the lags of Behind.
func LagTable(lags []Lag) Table {
	t := Table{Header: []string{"workload", "figure", "ckpt", "CRIU", "ckpt/CRIU", "beyond noise"}}
	for _, l := range lags {
		clear := "no: ranges overlap"
		if l.Clear {
			clear = "yes"
		}
		t.Rows = append(t.Rows, []string{l.Workload, l.Figure, l.Ckpt, l.CRIU, fmtRatio(l.Ratio), clear})
	}
	return t
}

// cpuTotal is the tool's CPU plus the CPU it made the target spend, by
// medians (runs are not paired figure by figure).
func cpuTotal(s OpSummary) Summary {
	if s.CPU.N == 0 || s.TargetCPU.N == 0 {
		return Summary{}
	}
	m := s.CPU.Median + s.TargetCPU.Median
	return Summary{N: 1, Median: m, Min: m, Max: m}
}

func (r *Results) workload(name string) *WorkloadResult {
	for i := range r.Workloads {
		if r.Workloads[i].Name == name {
			return &r.Workloads[i]
		}
	}
	return nil
}

// summary returns the named tool's summary on w, or nil if w is nil or the
// tool did not run.
func (w *WorkloadResult) summary(tool string) *ToolSummary {
	if w == nil {
		return nil
	}
	if t := w.find(tool); t != nil {
		return t.Summary
	}
	return nil
}

// preCopyTarget: the final freeze window of the largest dirty workload
// measured, checkpointed after a --pre-dump, against 100 ms (the goal is
// stated for 4 GiB written at 50 MiB/s) and against its plain
// checkpoint's freeze.
func preCopyTarget(r *Results) Target {
	t := Target{Goal: fmt.Sprintf("pre-copy: final freeze of a 4 GiB process writing %d MiB/s < 100 ms", DirtyRate),
		Figure: "—", Met: "not measured"}
	best := -1
	for i := range r.Workloads {
		w := &r.Workloads[i]
		if s := w.summary("ckpt"); w.Kind == "dirty" && s != nil && s.PreCopy.Freeze.N > 0 && w.MiB > best {
			best = w.MiB
			t.Figure = fmt.Sprintf("%s: %s after a pre-dump (plain checkpoint: %s)", w.Name, fmtMs(s.PreCopy.Freeze), fmtMs(s.Dump.Freeze))
			if w.MiB >= 4096 {
				t.Met = yesNo(s.PreCopy.Freeze.Median < 100e6)
			} else {
				t.Met = "not measured at 4 GiB"
			}
		}
	}
	return t
}
