package bench

import (
	"encoding/json"
	"fmt"
	"os"
	"time"
)

// Results is everything one run of the benchmark measured; it is written
// as JSON to bench/results and read back to render the report.
type Results struct {
	Started   time.Time `json:"started"`
	ElapsedNs int64     `json:"elapsed_ns"`
	Host      string    `json:"host"`
	Machine   Machine   `json:"machine"`
	Runs      int       `json:"runs"`
	Sizes     []int     `json:"sizes_mib"`
	Quick     bool      `json:"quick"`
	// Scale is the set of scaling points measured (scale.go).
	Scale Scale `json:"scale"`
	// ImageFS describes where images, the floor's file and workload data
	// files were (one directory, one file system).
	ImageFS     string           `json:"image_fs"`
	Tools       []ToolInfo       `json:"tools"`
	CRIUMissing string           `json:"criu_missing,omitempty"`
	Floors      []FloorResult    `json:"floors"`
	Workloads   []WorkloadResult `json:"workloads"`
	// Servers are the real programs (servers.go), measured like workloads
	// but answering requests instead of SIGUSR1.
	Servers []WorkloadResult `json:"servers,omitempty"`
}

// ToolInfo names a tool as run.
type ToolInfo struct {
	Name     string   `json:"name"`
	Version  string   `json:"version"`
	Commands []string `json:"commands"`
}

// FloorResult holds the floor measurements for one size.
type FloorResult struct {
	MiB     int          `json:"mib"`
	Runs    []Floor      `json:"runs"`
	Summary FloorSummary `json:"summary"`
}

// Floor is one run of workloads/floor.c. The warm figures repeat the one
// before at once, on the memory it has just freed; they are the floor
// proper (see floor.c on this machine's balloon).
type Floor struct {
	WriteNs         int64  `json:"write_ns"`
	WriteWarmNs     int64  `json:"write_warm_ns"`
	ReadNs          int64  `json:"read_ns"`
	ReadFreshNs     int64  `json:"read_fresh_ns"`
	ReadFreshWarmNs int64  `json:"read_fresh_warm_ns"`
	MemcpyNs        int64  `json:"memcpy_ns"`
	Err             string `json:"error,omitempty"`
}

// FloorSummary summarizes the successful floor runs of one size, in ns.
type FloorSummary struct {
	Write, WriteWarm, Read, ReadFresh, ReadFreshWarm, Memcpy Summary
}

// WorkloadResult is one workload and every tool's runs on it.
type WorkloadResult struct {
	Workload
	Tools []ToolResult `json:"tools"`
}

// ToolResult holds one tool's runs on one workload.
type ToolResult struct {
	Tool string `json:"tool"`
	// Skipped, when set, says why the tool was not run on the workload.
	Skipped string       `json:"skipped,omitempty"`
	Runs    []Round      `json:"runs,omitempty"`
	Summary *ToolSummary `json:"summary,omitempty"`
}

// Round is one round of a tool on a fresh copy of a workload. An operation
// that failed has its Err set and its figures are left out of summaries.
type Round struct {
	Index            int `json:"index"`
	DumpLeaveRunning *Op `json:"dump_leave_running"`
	Dump             *Op `json:"dump"`
	Restore          *Op `json:"restore"`
	// PreCopy is the final checkpoint after a --pre-dump, for workloads
	// of kind dirty and tools that do pre-copy (precopy.go).
	PreCopy *Op `json:"pre_copy,omitempty"`
	// RestoreLazy restores the same image again with --lazy (tools that
	// can, LazyRestorer), after the plain restore's process was killed.
	RestoreLazy *Op `json:"restore_lazy,omitempty"`
	// RestoreLazyRemote is the lazy restore again with the pages from
	// `ckpt page-server` on a loopback TCP socket (servers ending -lazy).
	RestoreLazyRemote *Op `json:"restore_lazy_remote,omitempty"`
}

// ToolSummary holds the summaries of a tool's three operations.
type ToolSummary struct {
	DumpLeaveRunning OpSummary `json:"dump_leave_running"`
	Dump             OpSummary `json:"dump"`
	Restore          OpSummary `json:"restore"`
	PreCopy          OpSummary `json:"pre_copy"`
	RestoreLazy      OpSummary `json:"restore_lazy"`
	// RestoreLazyRemote: see Round.
	RestoreLazyRemote OpSummary `json:"restore_lazy_remote"`
}

// OpSummary summarizes the successful runs of one operation. OK counts
// them and Failed the others; Errors holds each distinct error once.
type OpSummary struct {
	OK         int      `json:"ok"`
	Failed     int      `json:"failed"`
	Errors     []string `json:"errors,omitempty"`
	Wall       Summary  `json:"wall_ns"`
	CPU        Summary  `json:"cpu_ns"`
	TargetCPU  Summary  `json:"target_cpu_ns"`
	MaxRSS     Summary  `json:"maxrss_kib"`
	MinFlt     Summary  `json:"minflt"`
	Freeze     Summary  `json:"freeze_ns"`
	Image      Summary  `json:"image_bytes"`
	ImageAlloc Summary  `json:"image_alloc_bytes"`
	Verify     Summary  `json:"verify_ns"`
	Check      Summary  `json:"check_ns"`
}

// SummarizeOps summarizes ops, leaving out the failed ones.
func SummarizeOps(ops []*Op) OpSummary {
	var s OpSummary
	var wall, cpu, tcpu, rss, minflt, freeze, img, alloc, verify, check []float64
	seen := map[string]bool{}
	for _, op := range ops {
		if op == nil {
			continue
		}
		if op.Err != "" {
			s.Failed++
			if !seen[op.Err] {
				seen[op.Err] = true
				s.Errors = append(s.Errors, op.Err)
			}
			continue
		}
		s.OK++
		wall = append(wall, float64(op.WallNs))
		cpu = append(cpu, float64(op.CPUNs))
		tcpu = append(tcpu, float64(op.TargetCPUNs))
		rss = append(rss, float64(op.MaxRSSKiB))
		minflt = append(minflt, float64(op.MinFlt))
		freeze = append(freeze, float64(op.FreezeNs))
		img = append(img, float64(op.ImageBytes))
		alloc = append(alloc, float64(op.ImageAllocBytes))
		verify = append(verify, float64(op.VerifyNs))
		check = append(check, float64(op.CheckNs))
	}
	s.Wall, s.CPU, s.TargetCPU = Summarize(wall), Summarize(cpu), Summarize(tcpu)
	s.MaxRSS, s.MinFlt, s.Freeze = Summarize(rss), Summarize(minflt), Summarize(freeze)
	s.Image, s.ImageAlloc = Summarize(img), Summarize(alloc)
	s.Verify, s.Check = Summarize(verify), Summarize(check)
	return s
}

// Summarize fills in the summaries of every tool and floor.
func (r *Results) Summarize() {
	for i := range r.Floors {
		f := &r.Floors[i]
		var w, ww, rd, rf, rfw, mc []float64
		for _, x := range f.Runs {
			if x.Err != "" {
				continue
			}
			w = append(w, float64(x.WriteNs))
			ww = append(ww, float64(x.WriteWarmNs))
			rd = append(rd, float64(x.ReadNs))
			rf = append(rf, float64(x.ReadFreshNs))
			rfw = append(rfw, float64(x.ReadFreshWarmNs))
			mc = append(mc, float64(x.MemcpyNs))
		}
		f.Summary = FloorSummary{Write: Summarize(w), WriteWarm: Summarize(ww), Read: Summarize(rd),
			ReadFresh: Summarize(rf), ReadFreshWarm: Summarize(rfw), Memcpy: Summarize(mc)}
	}
	for i := range r.Workloads {
		summarizeTools(r.Workloads[i].Tools)
	}
	for i := range r.Servers {
		summarizeTools(r.Servers[i].Tools)
	}
}

// summarizeTools fills in each tool's summaries from its runs.
func summarizeTools(tools []ToolResult) {
	for j := range tools {
		t := &tools[j]
		if t.Skipped != "" {
			t.Summary = nil
			continue
		}
		var lr, d, rs, pc, lz, lzr []*Op
		for _, run := range t.Runs {
			lr = append(lr, run.DumpLeaveRunning)
			d = append(d, run.Dump)
			rs = append(rs, run.Restore)
			if run.PreCopy != nil {
				pc = append(pc, run.PreCopy)
			}
			if run.RestoreLazy != nil {
				lz = append(lz, run.RestoreLazy)
			}
			if run.RestoreLazyRemote != nil {
				lzr = append(lzr, run.RestoreLazyRemote)
			}
		}
		t.Summary = &ToolSummary{DumpLeaveRunning: SummarizeOps(lr), Dump: SummarizeOps(d), Restore: SummarizeOps(rs),
			PreCopy: SummarizeOps(pc), RestoreLazy: SummarizeOps(lz), RestoreLazyRemote: SummarizeOps(lzr)}
	}
}

// Floor returns the floor summary for a size, if measured.
func (r *Results) Floor(mib int) (FloorSummary, bool) {
	for _, f := range r.Floors {
		if f.MiB == mib {
			return f.Summary, true
		}
	}
	return FloorSummary{}, false
}

// WriteJSON writes r to path.
func (r *Results) WriteJSON(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("encode results: %w", err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write results: %w", err)
	}
	return nil
}

// ReadResults reads results written by WriteJSON.
func ReadResults(path string) (*Results, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read results: %w", err)
	}
	var r Results
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("decode results %s: %w", path, err)
	}
	return &r, nil
}
