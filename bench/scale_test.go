package bench

import (
	"math"
	"strconv"
	"strings"
	"testing"
)

func TestFitLine(t *testing.T) {
	for _, c := range []struct {
		name            string
		xs, ys          []float64
		n               int
		slope, icpt, r2 float64
	}{
		{"exact line", []float64{1, 10, 100, 1000}, []float64{12, 30, 210, 2010}, 4, 2, 10, 1},
		{"two points: no r²", []float64{1, 3}, []float64{5, 9}, 2, 2, 3, math.NaN()},
		{"one point", []float64{5}, []float64{1}, 0, 0, 0, 0},
		{"no spread in x", []float64{4, 4, 4}, []float64{1, 2, 3}, 0, 0, 0, 0},
		{"flat y: no r²", []float64{1, 2, 3}, []float64{7, 7, 7}, 3, 0, 7, math.NaN()},
		{"mismatched", []float64{1, 2}, []float64{1}, 0, 0, 0, 0},
	} {
		f := FitLine(c.xs, c.ys)
		near := func(a, b float64) bool {
			if math.IsNaN(b) {
				return math.IsNaN(a)
			}
			return math.Abs(a-b) < 1e-9
		}
		if f.N != c.n || (c.n > 0 && (!near(f.Slope, c.slope) || !near(f.Intercept, c.icpt) || !near(f.R2, c.r2))) {
			t.Errorf("%s: got %+v, want n=%d slope=%v intercept=%v r²=%v", c.name, f, c.n, c.slope, c.icpt, c.r2)
		}
	}
	// Noise lowers r² below 1.
	if f := FitLine([]float64{1, 2, 3, 4}, []float64{1, 3, 2, 4}); !(f.R2 > 0 && f.R2 < 1) {
		t.Errorf("noisy fit r² = %v", f.R2)
	}
}

func TestTreeShape(t *testing.T) {
	for _, n := range []int{1, 2, 10, 100, 1000} {
		f, g := treeShape(n)
		if got := 1 + f + f*g; got != n {
			t.Errorf("treeShape(%d) = %d, %d: %d processes", n, f, g, got)
		}
		if f > 1024 || g > 1024 {
			t.Errorf("treeShape(%d) = %d, %d: above tree.c's bound", n, f, g)
		}
	}
}

func TestScaleWorkloads(t *testing.T) {
	main := Workloads([]int{64, 1024}, "/s")
	ws := ScaleWorkloads(Scales["full"], main, "/s")
	byName := map[string]Workload{}
	for _, w := range append(main, ws...) {
		if _, dup := byName[w.Name]; dup {
			t.Errorf("workload %s twice", w.Name)
		}
		byName[w.Name] = w
	}
	// The main sizes' anon workloads are the memory axis there, with the
	// full round; the others are scaling points only.
	if w := byName["anon-1024M"]; w.Axis != "memory" || w.Units != 1024 || w.ScaleOnly {
		t.Errorf("anon-1024M = %+v", w)
	}
	if w := byName["anon-8192M"]; w.Axis != "memory" || !w.ScaleOnly || w.imageMiB != 8192 {
		t.Errorf("anon-8192M = %+v", w)
	}
	if w := byName["procs-1000"]; w.Procs != 1000 || w.Replies != 1000 || w.Units != 1000 || strings.Join(w.args, " ") != "tree 9 110 64" {
		t.Errorf("procs-1000 = %+v", w)
	}
	if w := byName["threads-10000"]; w.Threads != 10001 || w.CRIUNote == "" || w.CkptNote != "" {
		t.Errorf("threads-10000 = %+v: want ckpt alone", w)
	}
	if w := byName["threads-1000"]; w.CRIUNote != "" {
		t.Errorf("threads-1000 skips CRIU: %q", w.CRIUNote)
	}
	// No process of the fds workload holds more than fdsPerProc.
	for _, c := range []struct {
		name         string
		procs, units int
	}{{"fds-10", 1, 10}, {"fds-10000", 1, 10000}, {"fds-100000", 10, 100000}} {
		w := byName[c.name]
		if w.Procs != c.procs || w.Replies != c.procs || w.Units != c.units || w.args[3] != strconv.Itoa(c.procs) {
			t.Errorf("%s = %+v", c.name, w)
		}
	}
	if ws := ScaleWorkloads(Scales["none"], main, "/s"); len(ws) != 0 {
		t.Errorf("scale none adds %d workloads", len(ws))
	}
}

// axisPoint is a workload on an axis with both tools' medians.
func axisPoint(axis string, units int, ckDump, crDump, ckRestore, crRestore float64, criuFails bool) WorkloadResult {
	sum := func(x float64) Summary { return Summary{N: 1, Median: x, Min: x, Max: x} }
	ts := func(d, r float64) *ToolSummary {
		return &ToolSummary{Dump: OpSummary{OK: 1, Wall: sum(d), Image: sum(float64(units) * 1024)},
			Restore: OpSummary{OK: 1, Wall: sum(r), Verify: sum(1e6)}}
	}
	cr := ToolResult{Tool: "criu", Summary: ts(crDump, crRestore)}
	if criuFails {
		cr.Summary = &ToolSummary{Dump: OpSummary{Failed: 1, Errors: []string{"Dumping FAILED"}}}
	}
	return WorkloadResult{Workload: Workload{Name: axis + "-" + strconv.Itoa(units), Axis: axis, Units: units},
		Tools: []ToolResult{{Tool: "ckpt", Summary: ts(ckDump, ckRestore)}, cr}}
}

func TestScaleAndFitTables(t *testing.T) {
	r := &Results{Workloads: []WorkloadResult{
		// Out of order on purpose: the tables sort by units.
		axisPoint("threads", 100, 300e6, 200e6, 600e6, 200e6, false),
		axisPoint("threads", 1, 102e6, 101e6, 51e6, 100.5e6, false),
		axisPoint("threads", 10, 120e6, 110e6, 60e6, 105e6, false),
		axisPoint("threads", 1000, 2100e6, 1100e6, 5100e6, 600e6, true),
		{Workload: Workload{Name: "threads-10000", Axis: "threads", Units: 10000}, Tools: []ToolResult{
			{Tool: "ckpt", Summary: &ToolSummary{Dump: OpSummary{OK: 1, Wall: Summary{N: 1, Median: 20100e6}},
				Restore: OpSummary{OK: 1, Wall: Summary{N: 1, Median: 50100e6}}}},
			{Tool: "criu", Skipped: "ckpt alone above 1000 threads"}}},
	}}
	st := ScaleTable(r, "threads")
	if len(st.Rows) != 5 || st.Rows[0][0] != "1" || st.Rows[4][0] != "10000" {
		t.Fatalf("rows = %q", st.Rows)
	}
	if st.Header[0] != "threads" {
		t.Errorf("first column %q, want the unit", st.Header[0])
	}
	if got := st.Rows[2][7]; got != "1.50×" {
		t.Errorf("checkpoint ckpt/CRIU at 100 = %q, want 1.50×", got)
	}
	if got := st.Rows[2][8]; got != "3.00×" {
		t.Errorf("restore ckpt/CRIU at 100 = %q, want 3.00×", got)
	}
	if got := st.Rows[3][2]; !strings.HasPrefix(got, "FAILED: Dumping FAILED") {
		t.Errorf("CRIU's failed checkpoint at 1000 reads %q", got)
	}
	if got := st.Rows[4][2]; got != "ckpt alone above 1000 threads" {
		t.Errorf("skipped CRIU at 10000 reads %q", got)
	}
	ft := FitTable(r, "threads", axes[2].axisInfo)
	rows := map[string][]string{}
	for _, row := range ft.Rows {
		rows[row[0]+" "+row[1]] = row
	}
	// ckpt's checkpoint is 100 ms + 2 ms a thread: 2000 ms per 1000 threads.
	if row := rows["ckpt checkpoint"]; row[2] != "2000 ms" || row[3] != "100 ms" || row[4] != "1.000" || row[5] != "5" {
		t.Errorf("ckpt checkpoint fit = %q", row)
	}
	if row := rows["ckpt restore"]; row[6] != "5010 ms" {
		t.Errorf("ckpt restore per 1000 threads at 10000 = %q, want 5010 ms", row[6])
	}
	// CRIU's points stop where it failed: three of them.
	if row := rows["criu checkpoint"]; row[5] != "3" {
		t.Errorf("criu checkpoint fit over %s points, want 3", row[5])
	}
	if row := rows["ckpt image"]; row[2] != "0.98 MiB" {
		t.Errorf("ckpt image slope = %q, want 0.98 MiB per 1000 threads", row[2])
	}
	if ScaleTable(r, "fds").Rows != nil {
		t.Error("an axis with no points has rows")
	}
	// The report has the axis and not the empty ones.
	doc := Doc(r, "x.json", "")
	if !strings.Contains(doc, "### Threads") || strings.Contains(doc, "### Open file descriptors") {
		t.Errorf("doc scaling sections wrong:\n%s", doc)
	}
}
