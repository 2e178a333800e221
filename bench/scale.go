package bench

import (
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strconv"
)

// Scale says which points of the scaling tables a run measures: how the
// cost of a checkpoint and a restore grows with memory, processes, threads
// and open fds (BENCH_SCALE, cli.go).
type Scale struct {
	Name    string `json:"name"` // full, quick or none
	Memory  []int  `json:"memory_mib,omitempty"`
	Procs   []int  `json:"procs,omitempty"`
	Threads []int  `json:"threads,omitempty"`
	FDs     []int  `json:"fds,omitempty"`
}

// Scales are the named sets. full is what `make bench` measures; quick
// keeps every axis but stops at small counts (a smoke test of the tables).
var Scales = map[string]Scale{
	"full": {Name: "full", Memory: []int{64, 256, 1024, 4096, 8192}, Procs: []int{1, 10, 100, 1000},
		Threads: []int{1, 10, 100, 1000, 10000}, FDs: []int{10, 100, 1000, 10000, 100000}},
	"quick": {Name: "quick", Memory: []int{64, 256}, Procs: []int{1, 10, 100},
		Threads: []int{1, 10, 100}, FDs: []int{10, 100, 1000}},
	"none": {Name: "none"},
}

const (
	// criuMaxThreads: the issue asks for 10,000 threads of ckpt alone.
	criuMaxThreads = 1000
	// fdsPerProc bounds the fds one process of the fds workload holds:
	// RLIMIT_NOFILE's hard limit here is 20000 and cannot be raised.
	fdsPerProc = 10000
	// scaleThreadMiB and scaleProcKiB are the memory of the thread and
	// process axes, constant along each so the slope is the unit's own.
	scaleThreadMiB = 64
	scaleProcKiB   = 64
)

// ScaleWorkloads returns the scaling points that the main list (have) does
// not already hold; the anon workloads of the main sizes are the memory
// axis's points at those sizes.
func ScaleWorkloads(sc Scale, have []Workload, scratch string) []Workload {
	names := map[string]bool{}
	for _, w := range have {
		names[w.Name] = true
	}
	var ws []Workload
	add := func(w Workload) {
		if !names[w.Name] {
			names[w.Name] = true
			ws = append(ws, w)
		}
	}
	for _, n := range sc.Memory {
		add(anonWorkload(n, true))
	}
	for _, n := range sc.Procs {
		f, g := treeShape(n)
		s := strconv.Itoa(n)
		add(Workload{Name: "procs-" + s, Kind: "tree", MiB: n * scaleProcKiB / 1024, Procs: 1 + f + f*g, Threads: 1,
			Replies: 1 + f + f*g, Axis: "procs", Units: 1 + f + f*g, ScaleOnly: true,
			args: []string{"tree", strconv.Itoa(f), strconv.Itoa(g), strconv.Itoa(scaleProcKiB)}, imageMiB: 1 + n/16})
	}
	for _, n := range sc.Threads {
		s := strconv.Itoa(n)
		w := Workload{Name: "threads-" + s, Kind: "threads", MiB: scaleThreadMiB, Procs: 1, Threads: n + 1, Replies: 1,
			Axis: "threads", Units: n, ScaleOnly: true,
			args: []string{"threads", s, strconv.Itoa(scaleThreadMiB)}, imageMiB: scaleThreadMiB}
		if n > criuMaxThreads {
			w.CRIUNote = fmt.Sprintf("ckpt alone above %d threads", criuMaxThreads)
		}
		add(w)
	}
	for _, n := range sc.FDs {
		s := strconv.Itoa(n)
		procs := (n + fdsPerProc - 1) / fdsPerProc
		// The files are made by the first copy of the workload and kept
		// for the next (creating 100,000 takes most of a minute here).
		add(Workload{Name: "fds-" + s, Kind: "fds", Procs: procs, Threads: 1, Replies: procs,
			Axis: "fds", Units: n, ScaleOnly: true,
			args: []string{"fds", "files", s, strconv.Itoa(procs), filepath.Join(scratch, "fds-"+s)}, imageMiB: 1})
	}
	return ws
}

// treeShape picks tree.c's fan-outs for about n processes: a root, f
// children and f*g grandchildren. Exact for n ≤ 10 and for n = 10 + 9k
// (100 and 1000 among them); otherwise the nearest count below.
func treeShape(n int) (f, g int) {
	switch {
	case n <= 1:
		return 0, 0
	case n <= 10:
		return n - 1, 0
	}
	return 9, (n - 10) / 9
}

// Fit is a least-squares line through (units, figure) points.
type Fit struct {
	N         int
	Slope     float64 // figure per unit
	Intercept float64
	R2        float64 // NaN with fewer than three points or no spread
}

// FitLine fits y = a + b·x. Fewer than two points, or all at one x, give
// N = 0.
func FitLine(xs, ys []float64) Fit {
	n := float64(len(xs))
	if len(xs) < 2 || len(xs) != len(ys) {
		return Fit{}
	}
	var sx, sy, sxx, sxy, syy float64
	for i := range xs {
		sx += xs[i]
		sy += ys[i]
		sxx += xs[i] * xs[i]
		sxy += xs[i] * ys[i]
		syy += ys[i] * ys[i]
	}
	den := n*sxx - sx*sx
	if den == 0 {
		return Fit{}
	}
	b := (n*sxy - sx*sy) / den
	a := (sy - b*sx) / n
	r2 := math.NaN()
	if len(xs) >= 3 {
		if vy := n*syy - sy*sy; vy > 0 {
			r := (n*sxy - sx*sy) / math.Sqrt(den*vy)
			r2 = r * r
		}
	}
	return Fit{N: len(xs), Slope: b, Intercept: a, R2: r2}
}

// axisInfo says how an axis's units and slopes read.
type axisInfo struct {
	Title string
	Unit  string  // "MiB", "process", ...
	Per   float64 // slopes are shown per this many units ...
	PerIs string  // ... named so: "GiB", "1000 threads"
}

var axes = []struct {
	Name string
	axisInfo
}{
	{"memory", axisInfo{"Memory (one process, anonymous memory full of random data)", "MiB", 1024, "GiB"}},
	{"procs", axisInfo{"Processes (a tree: root, 9 children, their children; 64 KiB of memory each)", "processes", 1000, "1000 processes"}},
	{"threads", axisInfo{"Threads (one process, 64 MiB shared by its threads, each checking its slice)", "threads", 1000, "1000 threads"}},
	{"fds", axisInfo{"Open file descriptors (each a file of its own, at its own offset; at most 10,000 per process)", "fds", 10000, "10,000 fds"}},
}

// axisPoints returns the workloads of an axis, by units.
func (r *Results) axisPoints(axis string) []*WorkloadResult {
	var ws []*WorkloadResult
	for i := range r.Workloads {
		if r.Workloads[i].Axis == axis {
			ws = append(ws, &r.Workloads[i])
		}
	}
	slices.SortFunc(ws, func(a, b *WorkloadResult) int { return a.Units - b.Units })
	return ws
}

// ScaleTable has one row per point of an axis: both tools' checkpoint,
// restore and image, and the ratio of the restores.
func ScaleTable(r *Results, axis string) Table {
	unit := "units"
	for _, a := range axes {
		if a.Name == axis {
			unit = a.Unit
		}
	}
	t := Table{Header: []string{unit, "ckpt checkpoint", "CRIU checkpoint", "ckpt restore", "CRIU restore",
		"ckpt image", "CRIU image", "checkpoint ckpt/CRIU", "restore ckpt/CRIU", "first OK reply ckpt / CRIU"}}
	for _, w := range r.axisPoints(axis) {
		row := []string{strconv.Itoa(w.Units)}
		ck, cr := w.find("ckpt"), w.find("criu")
		cell := func(tr *ToolResult, f func(*ToolSummary) string) string {
			switch {
			case tr == nil:
				return "not run"
			case tr.Skipped != "":
				return tr.Skipped
			case tr.Summary == nil:
				return "—"
			}
			return f(tr.Summary)
		}
		for _, f := range []func(*ToolSummary) string{
			func(s *ToolSummary) string { return opCell(s.Dump, fmtMs(s.Dump.Wall)) },
			func(s *ToolSummary) string { return opCell(s.Restore, fmtMs(s.Restore.Wall)) },
			func(s *ToolSummary) string { return opCell(s.Dump, fmtMiB(s.Dump.Image, 1)) },
		} {
			row = append(row, cell(ck, f), cell(cr, f))
		}
		dumpRatio, restoreRatio := math.NaN(), math.NaN()
		if ck != nil && cr != nil && ck.Summary != nil && cr.Summary != nil {
			dumpRatio = Ratio(ck.Summary.Dump.Wall, cr.Summary.Dump.Wall)
			restoreRatio = Ratio(ck.Summary.Restore.Wall, cr.Summary.Restore.Wall)
		}
		verify := func(s *ToolSummary) string { return fmtMs(s.Restore.Verify) }
		row = append(row, fmtRatio(dumpRatio), fmtRatio(restoreRatio), cell(ck, verify)+" / "+cell(cr, verify))
		t.Rows = append(t.Rows, row)
	}
	return t
}

// opCell is text, or FAILED with the first error when no run succeeded.
func opCell(o OpSummary, text string) string {
	if o.OK == 0 && o.Failed > 0 {
		return "FAILED: " + shorten(o.Errors[0], 120)
	}
	return text
}

func shorten(s string, n int) string {
	if len([]rune(s)) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

// FitTable fits each tool's checkpoint time, restore time and image size
// against the axis's units: the slope is the cost of one more unit (shown
// per info.Per units), the intercept what the tool pays for the rest, and
// "per unit at the largest point" the plain quotient there.
func FitTable(r *Results, axis string, info axisInfo) Table {
	t := Table{Header: []string{"tool", "figure", "slope per " + info.PerIs, "intercept", "r²", "points",
		"per " + info.PerIs + " at the largest point"}}
	figures := []struct {
		name string
		get  func(*ToolSummary) (Summary, bool)
		unit string
		div  float64
	}{
		{"checkpoint", func(s *ToolSummary) (Summary, bool) { return s.Dump.Wall, s.Dump.OK > 0 }, "ms", 1e6},
		{"restore", func(s *ToolSummary) (Summary, bool) { return s.Restore.Wall, s.Restore.OK > 0 }, "ms", 1e6},
		{"image", func(s *ToolSummary) (Summary, bool) { return s.Dump.Image, s.Dump.OK > 0 }, "MiB", 1 << 20},
	}
	for _, tool := range []string{"ckpt", "criu"} {
		for _, fig := range figures {
			var xs, ys []float64
			for _, w := range r.axisPoints(axis) {
				tr := w.find(tool)
				if tr == nil || tr.Summary == nil {
					continue
				}
				if s, ok := fig.get(tr.Summary); ok && s.N > 0 {
					xs = append(xs, float64(w.Units))
					ys = append(ys, s.Median/fig.div)
				}
			}
			if len(xs) == 0 {
				continue
			}
			f := FitLine(xs, ys)
			last := "—"
			if x := xs[len(xs)-1]; x > 0 {
				last = num(ys[len(ys)-1]/x*info.Per) + " " + fig.unit
			}
			slope, icpt, r2 := "—", "—", "—"
			if f.N > 0 {
				slope, icpt = num(f.Slope*info.Per)+" "+fig.unit, num(f.Intercept)+" "+fig.unit
				if !math.IsNaN(f.R2) {
					r2 = strconv.FormatFloat(f.R2, 'f', 3, 64)
				}
			}
			t.Rows = append(t.Rows, []string{tool, fig.name, slope, icpt, r2, strconv.Itoa(len(xs)), last})
		}
	}
	return t
}
