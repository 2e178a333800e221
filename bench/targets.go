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

// Targets evaluates the project's performance goals on r.
func Targets(r *Results) []Target {
	var ts []Target
	w := r.workload(targetWorkload)
	ck, cr := w.summary("ckpt"), w.summary("criu")
	floor, haveFloor := r.Floor(1024)

	add := func(goal string, ratio float64, ok func(float64) bool, figure string) {
		t := Target{Goal: goal, Figure: figure, Met: "not measured"}
		if !math.IsNaN(ratio) {
			t.Met = yesNo(ok(ratio))
		} else {
			t.Figure = "—"
		}
		ts = append(ts, t)
	}
	ratio := math.NaN()
	if ck != nil && haveFloor {
		ratio = Ratio(ck.Dump.Wall, floor.WriteWarm)
	}
	add("1 GiB checkpoint ≤ 1.3× the page-cache write floor", ratio, func(x float64) bool { return x <= 1.3 },
		fmt.Sprintf("%s vs floor %s = %s", fmtMsOrNA(ck, func(s *ToolSummary) Summary { return s.Dump.Wall }),
			fmtMs(floor.WriteWarm), fmtRatio(ratio)))

	ratio = math.NaN()
	if ck != nil && cr != nil {
		ratio = Ratio(cr.Dump.Wall, ck.Dump.Wall)
	}
	add("1 GiB checkpoint ≥ 3× faster than CRIU", ratio, func(x float64) bool { return x >= 3 },
		fmt.Sprintf("CRIU/ckpt = %s", fmtRatio(ratio)))

	ratio = math.NaN()
	if ck != nil && cr != nil {
		ratio = Ratio(cr.Restore.Wall, ck.Restore.Wall)
	}
	add("1 GiB restore ≥ 3× faster than CRIU", ratio, func(x float64) bool { return x >= 3 },
		fmt.Sprintf("CRIU/ckpt = %s", fmtRatio(ratio)))

	ratio = math.NaN()
	if ck != nil && ck.RestoreLazy.OK > 0 && ck.Restore.OK > 0 {
		ratio = Ratio(ck.RestoreLazy.Wall, ck.Restore.Wall)
	}
	add("1 GiB restore --lazy --detach returns in ≤ 1/5 of a full restore", ratio, func(x float64) bool { return x <= 0.2 },
		fmt.Sprintf("%s vs %s = %s", fmtMsOrNA(ck, func(s *ToolSummary) Summary { return s.RestoreLazy.Wall }),
			fmtMsOrNA(ck, func(s *ToolSummary) Summary { return s.Restore.Wall }), fmtRatio(ratio)))

	ratio = math.NaN()
	if ck != nil && ck.DumpLeaveRunning.Freeze.N > 0 {
		ratio = ck.DumpLeaveRunning.Freeze.Median / 1e6
	}
	add("freeze window with --leave-running < 20 ms at 1 GiB", ratio, func(x float64) bool { return x < 20 },
		fmtMsOrNA(ck, func(s *ToolSummary) Summary { return s.DumpLeaveRunning.Freeze }))

	// Image size: every workload both tools completed.
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
	return append(ts, t)
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
