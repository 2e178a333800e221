package bench

import (
	"fmt"
	"math"
	"strings"
	"testing"
)

func TestMarkdownPadsColumns(t *testing.T) {
	got := Table{
		Header: []string{"a", "bee"},
		Rows:   [][]string{{"long cell", "x"}, {"é", ""}, {"short row"}},
	}.Markdown()
	want := "" +
		"| a         | bee |\n" +
		"| --------- | --- |\n" +
		"| long cell | x   |\n" +
		"| é         |     |\n" +
		"| short row |     |\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestFormats(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{fmtMs(Summary{}), "—"},
		{fmtMs(Summary{N: 1, Median: 1.5e6, Min: 1.5e6, Max: 1.5e6}), "1.50 ms"},
		{fmtMs(Summary{N: 3, Median: 712e6, Min: 98.2e6, Max: 1234.4e6}), "712 ms (98.2–1234)"},
		// A range that rounds to one value is not shown.
		{fmtMs(Summary{N: 2, Median: 40.01e6, Min: 40.01e6, Max: 40.02e6}), "40.0 ms"},
		{fmtMiB(Summary{N: 1, Median: 1 << 30, Min: 1 << 30, Max: 1 << 30}, 1), "1024 MiB"},
		{fmtMiB(Summary{N: 2, Median: 8 * 1024, Min: 8 * 1024, Max: 9 * 1024}, 1024), "8.00 MiB (8.00–9.00)"},
		{fmtRatio(0.456), "0.46×"},
		{fmtRatio(math.NaN()), "—"},
		{fmtRatio(math.Inf(1)), "—"},
		{num(-12.34), "-12.3"},
		{okCount(OpSummary{OK: 5}), "5/5"},
		{okCount(OpSummary{OK: 5}, OpSummary{OK: 5}), "5/5"},
		{okCount(OpSummary{OK: 3, Failed: 2}, OpSummary{OK: 5}), "3/5, 5/5"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

// sample builds results for one 1 GiB workload with both tools and a
// floor, every run identical so medians are the given figures.
func sample(ckptDump, criuDump, ckptRestore, ckptLazy, criuRestore, ckptFreezeLR, ckptImage, criuImage, floorWrite int64) *Results {
	op := func(wall, freeze, img int64) *Op {
		o := newOp(toolRun{Wall: 0})
		o.WallNs, o.FreezeNs, o.ImageBytes, o.CPUNs, o.TargetCPUNs = wall, freeze, img, wall/2, 1e6
		return o
	}
	tool := func(name string, dump, restore, freezeLR, img int64) ToolResult {
		tr := ToolResult{Tool: name}
		for i := range 3 {
			tr.Runs = append(tr.Runs, Round{Index: i,
				DumpLeaveRunning: op(dump, freezeLR, img), Dump: op(dump, dump, img), Restore: op(restore, -1, -1)})
			if name == "ckpt" {
				tr.Runs[i].RestoreLazy = op(ckptLazy, -1, -1)
			}
		}
		return tr
	}
	r := &Results{Runs: 3, Sizes: []int{1024},
		Floors: []FloorResult{{MiB: 1024, Runs: []Floor{{WriteNs: 3 * floorWrite, WriteWarmNs: floorWrite,
			ReadNs: 1, ReadFreshNs: 2e8, ReadFreshWarmNs: 2e8, MemcpyNs: 1}}}},
		Workloads: []WorkloadResult{
			{Workload: Workload{Name: "anon-1024M", Kind: "anon", MiB: 1024}, Tools: []ToolResult{
				tool("ckpt", ckptDump, ckptRestore, ckptFreezeLR, ckptImage),
				tool("criu", criuDump, criuRestore, criuDump, criuImage)}},
			{Workload: Workload{Name: "tree-100", Kind: "tree", MiB: 100}, Tools: []ToolResult{
				{Tool: "ckpt", Skipped: "not supported yet"}, tool("criu", 3e8, 2e8, 3e8, 1e8)}},
		}}
	r.Summarize()
	return r
}

func TestTablesAndRatios(t *testing.T) {
	r := sample(300e6, 1200e6, 100e6, 20e6, 500e6, 10e6, 1<<30, 1<<30, 250e6)
	ck := CheckpointTable(r)
	if len(ck.Rows) != 4 {
		t.Fatalf("%d checkpoint rows, want 4 (two workloads × two tools)", len(ck.Rows))
	}
	row := ck.Rows[0]
	if row[0] != "anon-1024M" || row[1] != "ckpt" || row[3] != "300 ms" {
		t.Errorf("ckpt row = %q", row)
	}
	if row[11] != "0.25×" || row[12] != "1.20×" {
		t.Errorf("ckpt/CRIU, tool/floor = %q, %q; want 0.25×, 1.20×", row[11], row[12])
	}
	if ck.Rows[1][11] != "" {
		t.Errorf("CRIU row carries a ckpt/CRIU ratio %q", ck.Rows[1][11])
	}
	if !strings.Contains(strings.Join(ck.Rows[2], " "), "not supported yet") {
		t.Errorf("skipped tool row = %q", ck.Rows[2])
	}
	rs := RestoreTable(r)
	if rs.Rows[0][8] != "0.20×" || rs.Rows[0][9] != "0.50×" {
		t.Errorf("restore ratios = %q, %q; want 0.20×, 0.50×", rs.Rows[0][8], rs.Rows[0][9])
	}
	if lz := rs.Rows[1]; lz[1] != "ckpt --lazy" || lz[3] != "20.0 ms" {
		t.Errorf("lazy restore row = %q", lz)
	}
	if got := FloorTable(r).Rows[0][1]; got != "250 ms" {
		t.Errorf("floor write = %q, want the warm pass, 250 ms", got)
	}
}

func TestTargets(t *testing.T) {
	met := func(r *Results) []string {
		var out []string
		for _, x := range Targets(r) {
			out = append(out, x.Met)
		}
		return out
	}
	// ckpt meets every target.
	good := sample(300e6, 1200e6, 100e6, 20e6, 500e6, 10e6, 1<<30, 1<<30, 250e6)
	// In Targets' order: floor, checkpoint and restores against CRIU (1 GiB,
	// then 4 GiB, tree and threads: not in the sample), freezes, lazy,
	// the lazy server, pre-copy, image, peak RSS (not in the sample), the
	// reported tables (none in the sample).
	nm5 := strings.Repeat(",not measured", 5)
	if got := strings.Join(met(good), ","); got != "yes,yes,yes"+nm5+",yes,not measured,yes,not measured,not measured,yes,not measured,not measured" {
		t.Errorf("all targets met: got %s", got)
	}
	if f, l := Behind(good); len(f) != 1 || !strings.Contains(f[0], "tree-100") || len(l) != 0 {
		t.Errorf("Behind = %q, %+v; want only the unsupported tree", f, l)
	}
	// ckpt misses every target, each by a little.
	bad := sample(330e6, 480e6, 260e6, 53e6, 500e6, 21e6, 1<<30+4096, 1<<30, 250e6)
	if got := strings.Join(met(bad), ","); got != "no,no,no"+nm5+",no,not measured,no,not measured,not measured,no,not measured,not measured" {
		t.Errorf("no target met: got %s", got)
	}
	// Nothing measured at 1 GiB.
	none := &Results{}
	for _, m := range met(none) {
		if m != "not measured" {
			t.Errorf("empty results: target %s", m)
		}
	}
}

func TestBehindNamesFailuresAndSlowerFigures(t *testing.T) {
	r := sample(2000e6, 1000e6, 100e6, 20e6, 500e6, 10e6, 1<<30, 1<<30, 250e6)
	r.Workloads[0].Tools[0].Runs[1].Restore = failedOp(errString("restored workload: BAD"))
	r.Summarize()
	failures, lags := Behind(r)
	if len(failures) != 2 || !strings.Contains(failures[0], "restore failed 1 of 3 runs: restored workload: BAD") {
		t.Errorf("failures = %q, want the failed restore and the unsupported tree", failures)
	}
	var figures []string
	for _, l := range lags {
		figures = append(figures, l.Figure)
		if l.Figure == "checkpoint" && (l.Ckpt != "2000 ms" || l.CRIU != "1000 ms" || l.Ratio != 2 || !l.Clear) {
			t.Errorf("checkpoint lag = %+v", l)
		}
	}
	// The checkpoint and both freeze windows are slower (they are set from
	// the same figure); nothing of the faster restore may appear.
	if got := strings.Join(figures, ","); !strings.HasPrefix(got, "checkpoint,checkpoint --leave-running,freeze window") ||
		strings.Contains(got, "restore") {
		t.Errorf("lags = %s", got)
	}
}

func TestDocMentionsMissingCRIU(t *testing.T) {
	r := sample(300e6, 1200e6, 100e6, 20e6, 500e6, 10e6, 1<<30, 1<<30, 250e6)
	r.CRIUMissing = "criu-anchor not found"
	for name, out := range map[string]string{"doc": Doc(r, "x.json", "hand notes"), "report": Report(r)} {
		if !strings.Contains(out, "criu-anchor not found") {
			t.Errorf("%s does not say CRIU is missing", name)
		}
	}
	if !strings.Contains(Doc(r, "x.json", "hand notes"), "hand notes") {
		t.Error("doc leaves out the notes")
	}
}

func TestPreCopyTarget(t *testing.T) {
	dirty := func(mib int, freeze float64) WorkloadResult {
		return WorkloadResult{Workload: Workload{Name: fmt.Sprintf("dirty-%dM", mib), Kind: "dirty", MiB: mib},
			Tools: []ToolResult{{Tool: "ckpt", Summary: &ToolSummary{
				PreCopy: OpSummary{Freeze: Summary{N: 2, Median: freeze, Min: freeze, Max: freeze}},
				Dump:    OpSummary{Freeze: Summary{N: 2, Median: 9e8, Min: 9e8, Max: 9e8}}}}}}
	}
	for _, c := range []struct {
		ws   []WorkloadResult
		want string
	}{
		{nil, "not measured"},
		{[]WorkloadResult{dirty(64, 5e6)}, "not measured at 4 GiB"},
		{[]WorkloadResult{dirty(64, 5e6), dirty(4096, 80e6)}, "yes"},
		{[]WorkloadResult{dirty(4096, 120e6), dirty(64, 5e6)}, "no"},
	} {
		got := preCopyTarget(&Results{Workloads: c.ws})
		if got.Met != c.want {
			t.Errorf("%d workloads: met %q (%s), want %q", len(c.ws), got.Met, got.Figure, c.want)
		}
	}
}
