package bench

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Main is ckpt-bench's command line. Knobs come from the environment, as
// make passes them: BENCH_RUNS (5), BENCH_SIZES (64,1024,4096, MiB),
// BENCH_QUICK=1 (64 MiB, 2 runs; the report is not rewritten), BENCH_KINDS
// (anon,halfzero,filemap,dirty,threads,tree,fds), BENCH_DIR (scratch location),
// BENCH_SCALE (full, quick or none: the scaling tables' points, scale.go;
// quick when BENCH_QUICK=1), BENCH_SERVERS (the real programs, servers.go:
// names separated by commas, or none), BENCH_POINT_BUDGET (5m: a tool whose
// next scaling point would take longer, by the growth of its last two, is
// not run there; budget.go).
func Main(args []string) int {
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	ckptPath := fs.String("ckpt", "bin/ckpt", "the ckpt binary")
	criuPath := fs.String("criu", "criu-anchor", "the CRIU 4.1.1 binary; empty to run ckpt only")
	noCRIU := fs.String("no-criu", "", "run ckpt only and give this reason in the report")
	outDir := fs.String("out", "bench/results", "directory for the JSON results")
	docPath := fs.String("doc", "docs/performance.md", "report to rewrite (not in quick mode)")
	notes := fs.String("notes", "bench/notes.md", "hand-written analysis included in the report")
	render := fs.String("render", "", "only re-render the report and table from this results JSON")
	keep := fs.Bool("keep", false, "keep the scratch directory (logs) for inspection")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	if err := mainErr(*ckptPath, *criuPath, *noCRIU, *outDir, *docPath, *notes, *render, *keep); err != nil {
		fmt.Fprintln(os.Stderr, "ckpt-bench:", err)
		return 1
	}
	return 0
}

func mainErr(ckptPath, criuPath, noCRIU, outDir, docPath, notesPath, render string, keep bool) error {
	notes, _ := os.ReadFile(notesPath)
	if render != "" {
		r, err := ReadResults(render)
		if err != nil {
			return err
		}
		fmt.Print(Report(r))
		return writeDoc(r, docPath, render, string(notes))
	}
	if os.Geteuid() != 0 {
		return errors.New("must run as root: it checkpoints and restores processes")
	}
	cfg, err := configFromEnv()
	if err != nil {
		return err
	}
	cfg.Progress = os.Stderr
	cfg.KeepScratch = keep
	abs, err := filepath.Abs(ckptPath)
	if err != nil {
		return err
	}
	cfg.Tools = []Tool{&Ckpt{Path: abs, Guard: toolGuard}}
	switch {
	case noCRIU != "":
		cfg.CRIUMissing = noCRIU
	case criuPath == "":
		cfg.CRIUMissing = "not asked for (-criu '')"
	default:
		p, err := exec.LookPath(criuPath)
		if err != nil {
			cfg.CRIUMissing = fmt.Sprintf("%s not found: %v", criuPath, err)
		} else {
			cfg.Tools = append(cfg.Tools, &CRIU{Path: p, Guard: toolGuard})
		}
	}
	if cfg.CRIUMissing != "" {
		fmt.Fprintf(os.Stderr, "ckpt-bench: CRIU FIGURES WILL BE MISSING: %s\n", cfg.CRIUMissing)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	r, runErr := Run(ctx, cfg)
	if r == nil {
		return runErr
	}
	r.Summarize()
	name := r.Started.Format("2006-01-02T150405") + "-" + r.Host
	if cfg.Quick {
		name += "-quick"
	}
	if runErr != nil {
		name += "-incomplete"
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return err
	}
	out := filepath.Join(outDir, name+".json")
	if err := r.WriteJSON(out); err != nil {
		return err
	}
	fmt.Print(Report(r))
	fmt.Printf("\nresults: %s (%s)\n", out, time.Duration(r.ElapsedNs).Round(time.Second))
	if runErr != nil {
		return fmt.Errorf("stopped early, partial results in %s: %w", out, runErr)
	}
	if cfg.Quick {
		fmt.Printf("quick run: %s not rewritten\n", docPath)
		return nil
	}
	return writeDoc(r, docPath, out, string(notes))
}

func writeDoc(r *Results, docPath, resultsPath, notes string) error {
	if docPath == "" {
		return nil
	}
	if err := os.WriteFile(docPath, []byte(Doc(r, resultsPath, notes)), 0o644); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	fmt.Printf("report: %s\n", docPath)
	return nil
}

func configFromEnv() (Config, error) {
	cfg := Config{Runs: 5, Sizes: []int{64, 1024, 4096}, Dir: os.Getenv("BENCH_DIR"),
		Scale: Scales["full"], Servers: Servers}
	if os.Getenv("BENCH_QUICK") == "1" {
		cfg.Quick, cfg.Runs, cfg.Sizes = true, 2, []int{64}
		cfg.Scale, cfg.Servers = Scales["quick"], QuickServers
	}
	cfg.PointBudget = 5 * time.Minute
	if v := os.Getenv("BENCH_POINT_BUDGET"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return cfg, fmt.Errorf("BENCH_POINT_BUDGET=%q: want a duration such as 5m, or 0 for none", v)
		}
		cfg.PointBudget = d
	}
	if v := os.Getenv("BENCH_SCALE"); v != "" {
		sc, ok := Scales[v]
		if !ok {
			return cfg, fmt.Errorf("BENCH_SCALE=%q: want full, quick or none", v)
		}
		cfg.Scale = sc
	}
	switch v := os.Getenv("BENCH_SERVERS"); v {
	case "":
	case "none":
		cfg.Servers = nil
	default:
		cfg.Servers = strings.Split(v, ",")
		for _, name := range cfg.Servers {
			if _, err := newServer(name, ""); err != nil {
				return cfg, fmt.Errorf("BENCH_SERVERS: %w", err)
			}
		}
	}
	if v := os.Getenv("BENCH_RUNS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return cfg, fmt.Errorf("BENCH_RUNS=%q: want a count of at least 1", v)
		}
		cfg.Runs = n
	}
	if v := os.Getenv("BENCH_SIZES"); v != "" {
		cfg.Sizes = nil
		for _, f := range strings.Split(v, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n < 1 {
				return cfg, fmt.Errorf("BENCH_SIZES=%q: want MiB counts separated by commas", v)
			}
			cfg.Sizes = append(cfg.Sizes, n)
		}
	}
	if v := os.Getenv("BENCH_KINDS"); v != "" {
		cfg.Kinds = strings.Split(v, ",")
	}
	if cfg.Dir == "" {
		// Not /tmp: it may be a tmpfs elsewhere, and images belong on a disk.
		cfg.Dir = "/var/tmp"
	}
	return cfg, nil
}
