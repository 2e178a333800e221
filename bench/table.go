package bench

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Table is a header and rows of cells, rendered as a Markdown table (which
// also reads well on a terminal since the columns are padded).
type Table struct {
	Header []string
	Rows   [][]string
}

// Markdown renders t with every column padded to its widest cell.
func (t Table) Markdown() string {
	width := make([]int, len(t.Header))
	for i, h := range t.Header {
		width[i] = len([]rune(h))
	}
	for _, r := range t.Rows {
		for i, c := range r {
			if i < len(width) {
				width[i] = max(width[i], len([]rune(c)))
			}
		}
	}
	var b strings.Builder
	line := func(cells []string) {
		b.WriteString("|")
		for i := range width {
			c := ""
			if i < len(cells) {
				c = cells[i]
			}
			b.WriteString(" " + c + strings.Repeat(" ", width[i]-len([]rune(c))) + " |")
		}
		b.WriteString("\n")
	}
	line(t.Header)
	sep := make([]string, len(width))
	for i := range sep {
		sep[i] = strings.Repeat("-", width[i])
	}
	line(sep)
	for _, r := range t.Rows {
		line(r)
	}
	return b.String()
}

// fmtMs formats a summary of nanoseconds as "median (min–max)" in ms.
func fmtMs(s Summary) string {
	if s.N == 0 {
		return "—"
	}
	m := func(ns float64) string { return num(ns / 1e6) }
	return withRange(m(s.Median), m(s.Min), m(s.Max), " ms")
}

// fmtMiB formats a summary of bytes (or KiB with unit 1024) in MiB, with
// the range only when the runs differ.
func fmtMiB(s Summary, unit float64) string {
	if s.N == 0 {
		return "—"
	}
	m := func(x float64) string { return num(x * unit / (1 << 20)) }
	return withRange(m(s.Median), m(s.Min), m(s.Max), " MiB")
}

// withRange appends the range to a median unless it would read "(x–x)".
func withRange(med, lo, hi, unit string) string {
	if lo == hi {
		return med + unit
	}
	return fmt.Sprintf("%s%s (%s–%s)", med, unit, lo, hi)
}

// num prints three significant digits, no exponent.
func num(x float64) string {
	switch a := math.Abs(x); {
	case a >= 100:
		return strconv.FormatFloat(x, 'f', 0, 64)
	case a >= 10:
		return strconv.FormatFloat(x, 'f', 1, 64)
	default:
		return strconv.FormatFloat(x, 'f', 2, 64)
	}
}

// fmtRatio formats a ratio as "0.45×", or "—" when it is unknown.
func fmtRatio(x float64) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return "—"
	}
	return num(x) + "×"
}

// okCount says how many runs of an operation succeeded, "5/5".
func okCount(ops ...OpSummary) string {
	var parts []string
	for _, o := range ops {
		parts = append(parts, fmt.Sprintf("%d/%d", o.OK, o.OK+o.Failed))
	}
	if len(parts) > 1 && allSame(parts) {
		return parts[0]
	}
	return strings.Join(parts, ", ")
}

func allSame(s []string) bool {
	for _, x := range s[1:] {
		if x != s[0] {
			return false
		}
	}
	return true
}

// find returns the tool result named tool, or nil.
func (w *WorkloadResult) find(tool string) *ToolResult {
	for i := range w.Tools {
		if w.Tools[i].Tool == tool {
			return &w.Tools[i]
		}
	}
	return nil
}

// CheckpointTable has one row per workload and tool: checkpoint figures.
func CheckpointTable(r *Results) Table {
	t := Table{Header: []string{"workload", "tool", "ok", "checkpoint", "checkpoint --leave-running",
		"freeze", "freeze --leave-running", "CPU tool", "CPU in target", "peak RSS", "image",
		"ckpt/CRIU", "tool/floor"}}
	// The CPU figures are those of the --leave-running checkpoint: without
	// it the target's CPU would include its own exit, freeing its memory.
	for i := range r.Workloads {
		w := &r.Workloads[i]
		if w.ScaleOnly {
			continue // in the scaling tables
		}
		for _, tr := range w.Tools {
			if tr.Skipped != "" {
				t.Rows = append(t.Rows, []string{w.Name, tr.Tool, "—", tr.Skipped})
				continue
			}
			s := tr.Summary
			vsCRIU := ""
			if c := w.find("criu"); tr.Tool == "ckpt" && c != nil && c.Summary != nil {
				vsCRIU = fmtRatio(Ratio(s.Dump.Wall, c.Summary.Dump.Wall))
			}
			vsFloor := "—"
			if f, ok := r.Floor(w.MiB); ok {
				vsFloor = fmtRatio(Ratio(s.Dump.Wall, f.WriteWarm))
			}
			t.Rows = append(t.Rows, []string{w.Name, tr.Tool, okCount(s.Dump, s.DumpLeaveRunning),
				fmtMs(s.Dump.Wall), fmtMs(s.DumpLeaveRunning.Wall),
				fmtMs(s.Dump.Freeze), fmtMs(s.DumpLeaveRunning.Freeze),
				fmtMs(s.DumpLeaveRunning.CPU), fmtMs(s.DumpLeaveRunning.TargetCPU), fmtMiB(s.Dump.MaxRSS, 1024),
				fmtMiB(s.Dump.Image, 1), vsCRIU, vsFloor})
		}
	}
	return t
}

// RestoreTable has one row per workload and tool: restore figures.
func RestoreTable(r *Results) Table {
	t := Table{Header: []string{"workload", "tool", "ok", "restore (until it runs)", "CPU tool",
		"CPU in target", "peak RSS", "first OK reply", "ckpt/CRIU", "tool/floor"}}
	for i := range r.Workloads {
		w := &r.Workloads[i]
		if w.ScaleOnly {
			continue // in the scaling tables
		}
		for _, tr := range w.Tools {
			if tr.Skipped != "" {
				t.Rows = append(t.Rows, []string{w.Name, tr.Tool, "—", tr.Skipped})
				continue
			}
			s := tr.Summary.Restore
			vsCRIU := ""
			if c := w.find("criu"); tr.Tool == "ckpt" && c != nil && c.Summary != nil {
				vsCRIU = fmtRatio(Ratio(s.Wall, c.Summary.Restore.Wall))
			}
			vsFloor := "—"
			if f, ok := r.Floor(w.MiB); ok {
				vsFloor = fmtRatio(Ratio(s.Wall, f.ReadFreshWarm))
			}
			t.Rows = append(t.Rows, []string{w.Name, tr.Tool, okCount(s), fmtMs(s.Wall), fmtMs(s.CPU),
				fmtMs(s.TargetCPU), fmtMiB(s.MaxRSS, 1024), fmtMs(s.Verify), vsCRIU, vsFloor})
			if lz := tr.Summary.RestoreLazy; lz.OK+lz.Failed > 0 {
				// Against the tool's own plain restore, not CRIU's.
				t.Rows = append(t.Rows, []string{w.Name, tr.Tool + " --lazy", okCount(lz), fmtMs(lz.Wall), fmtMs(lz.CPU),
					fmtMs(lz.TargetCPU), fmtMiB(lz.MaxRSS, 1024), fmtMs(lz.Verify), "", "—"})
			}
		}
	}
	return t
}

// FloorTable has one row per size.
func FloorTable(r *Results) Table {
	t := Table{Header: []string{"size", "write to page cache (floor)", "write, first pass", "read back",
		"read into fresh memory (floor)", "read into fresh memory, first pass", "memcpy"}}
	for _, f := range r.Floors {
		s := f.Summary
		t.Rows = append(t.Rows, []string{strconv.Itoa(f.MiB) + " MiB", fmtMs(s.WriteWarm), fmtMs(s.Write),
			fmtMs(s.Read), fmtMs(s.ReadFreshWarm), fmtMs(s.ReadFresh), fmtMs(s.Memcpy)})
	}
	return t
}
