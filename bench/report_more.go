package bench

import (
	"fmt"
	"regexp"
	"strings"
)

// ServerTable has one row per real program and tool.
func ServerTable(r *Results) Table {
	t := Table{Header: []string{"server", "tool", "ok", "checkpoint --leave-running", "freeze --leave-running",
		"first correct reply after it", "checkpoint", "image", "restore (until it runs)",
		"first correct reply (from restore start)", "lazy restore", "first correct reply (lazy)",
		"lazy, pages from a socket", "first correct reply (socket)", "ckpt/CRIU restore→reply"}}
	for i := range r.Servers {
		w := &r.Servers[i]
		for _, tr := range w.Tools {
			if tr.Skipped != "" || tr.Summary == nil {
				t.Rows = append(t.Rows, []string{w.Name, tr.Tool, "—", tr.Skipped})
				continue
			}
			s := tr.Summary
			lazyName := "restore --lazy"
			if tr.Tool == "criu" {
				lazyName = "restore --lazy-pages"
			}
			ratio := ""
			if c := w.find("criu"); tr.Tool == "ckpt" && c != nil && c.Summary != nil {
				ratio = fmtRatio(Ratio(s.Restore.Verify, c.Summary.Restore.Verify))
				if s.Restore.N() == 0 {
					ratio = fmtRatio(Ratio(s.RestoreLazy.Verify, c.Summary.RestoreLazy.Verify)) + " (lazy)"
				}
			}
			t.Rows = append(t.Rows, []string{w.Name, tr.Tool, okCount(nonEmpty(s.DumpLeaveRunning, s.Dump, s.Restore, s.RestoreLazy)...),
				opText(s.DumpLeaveRunning, fmtMs(s.DumpLeaveRunning.Wall)), opText(s.DumpLeaveRunning, fmtMs(s.DumpLeaveRunning.Freeze)),
				opText(s.DumpLeaveRunning, fmtMs(s.DumpLeaveRunning.Verify)),
				opText(s.Dump, fmtMs(s.Dump.Wall)), opText(s.Dump, fmtMiB(s.Dump.Image, 1)),
				opText(s.Restore, fmtMs(s.Restore.Wall)), opText(s.Restore, fmtMs(s.Restore.Verify)),
				opText(s.RestoreLazy, fmtMs(s.RestoreLazy.Wall)+" ("+lazyName+")"), opText(s.RestoreLazy, fmtMs(s.RestoreLazy.Verify)),
				opText(s.RestoreLazyRemote, fmtMs(s.RestoreLazyRemote.Wall)), opText(s.RestoreLazyRemote, fmtMs(s.RestoreLazyRemote.Verify)),
				ratio})
		}
	}
	return t
}

// N is how many runs an operation had, successful or not.
func (o OpSummary) N() int { return o.OK + o.Failed }

// nonEmpty keeps the operations that were run at all.
func nonEmpty(ops ...OpSummary) []OpSummary {
	var out []OpSummary
	for _, o := range ops {
		if o.N() > 0 {
			out = append(out, o)
		}
	}
	return out
}

// opText is text for an operation that succeeded at least once, "not run"
// for one never tried, and FAILED otherwise (the errors follow the table).
func opText(o OpSummary, text string) string {
	switch {
	case o.N() == 0:
		return "not run"
	case o.OK == 0:
		return "FAILED"
	}
	return text
}

// ServerFailures lists every distinct error of the servers' runs, which
// the table can only mark FAILED. An error is told by what the tool said
// (the end of its log or stderr, which the bench's errors quote last),
// numbers aside: one line per error, after every place it happened.
func ServerFailures(r *Results) []string {
	var keys []string
	where := map[string][]string{}
	first := map[string]string{}
	for _, w := range r.Servers {
		for _, tr := range w.Tools {
			if tr.Summary == nil {
				continue
			}
			s := tr.Summary
			for _, op := range []struct {
				name string
				o    OpSummary
			}{{"checkpoint --leave-running", s.DumpLeaveRunning}, {"checkpoint", s.Dump}, {"restore", s.Restore},
				{"lazy restore", s.RestoreLazy}, {"lazy restore, pages from a socket", s.RestoreLazyRemote}} {
				for _, e := range op.o.Errors {
					said := toolSaid(e)
					k := tr.Tool + "\x00" + digits.ReplaceAllString(said, "N")
					if _, ok := first[k]; !ok {
						keys = append(keys, k)
						first[k] = said
					}
					where[k] = append(where[k], w.Name+" "+op.name)
				}
			}
		}
	}
	var out []string
	for _, k := range keys {
		tool, _, _ := strings.Cut(k, "\x00")
		out = append(out, fmt.Sprintf("%s, %s: %s", tool, strings.Join(where[k], "; "), first[k]))
	}
	return out
}

// toolSaid is the part of a bench error that quotes the tool: from "log
// ends" (CRIU's log) or "stderr ends" on, or all of it.
func toolSaid(e string) string {
	for _, m := range []string{"log ends ", "stderr ends "} {
		if i := strings.LastIndex(e, m); i >= 0 && len(e) > i+len(m)+2 {
			return e[i:]
		}
	}
	return e
}

// digits are what differs between two runs' copies of one error.
var digits = regexp.MustCompile(`[0-9]+`)

// scaleSection writes the scaling tables: per axis the points, then the
// fits.
func scaleSection(b *strings.Builder, p printer, r *Results) {
	p("")
	p("## How cost grows")
	p("")
	p("Scaling points (`BENCH_SCALE=%s`): per axis, one checkpoint (without `--leave-running`) and one restore per run", orDash(r.Scale.Name))
	p("and tool, verified as every workload is (every process replies OK after the restore). The memory axis's")
	p("points at the main sizes are the `anon` workloads above. *slope* is the least-squares fit of the medians")
	p("against the count (the cost of more units), *intercept* what is left at zero, *per … at the largest point*")
	p("the plain quotient there. First OK reply is from SIGUSR1 to the last process's OK.")
	for _, a := range axes {
		if len(r.axisPoints(a.Name)) == 0 {
			continue
		}
		p("")
		p("### %s", a.Title)
		p("")
		b.WriteString(ScaleTable(r, a.Name).Markdown())
		p("")
		b.WriteString(FitTable(r, a.Name, a.axisInfo).Markdown())
		switch a.Name {
		case "threads":
			p("")
			p("CRIU is run up to %d threads; above, ckpt alone (the issue asks 10,000 of ckpt).", criuMaxThreads)
		case "fds":
			p("")
			p("RLIMIT_NOFILE's hard limit on this machine is 20000 and root cannot raise it (setrlimit: EPERM), so")
			p("no process holds more than %d fds: the 100,000 point is 10 processes of 10,000 (its figure also", fdsPerProc)
			p("holds 9 more processes, which the process axis prices).")
		}
	}
}

// serverSection writes the real programs' table.
func serverSection(b *strings.Builder, p printer, r *Results) {
	if len(r.Servers) == 0 {
		return
	}
	p("")
	p("## Real programs")
	p("")
	p("Debian's own binaries, each started in a session of its own on a free loopback port (no network namespace),")
	p("no client connection open across a checkpoint. A reply counts only when it is the one the server gave before")
	p("the checkpoint: redis, `GET` of the first, a middle and the last key and `DBSIZE`, byte for byte; HTTP, the")
	p("SHA-256 of a 1 MiB file's body. The bench asks in a loop (a refused connection is asked again, a wrong answer is")
	p("a failure). *first correct reply* after `--leave-running` counts from the tool's return; after a restore, from")
	p("the restore's start. The lazy restore restores the same image again after the plain restore's server was")
	p("killed: ckpt with `restore --lazy`, CRIU with its `lazy-pages` daemon serving the image and `restore")
	p("--lazy-pages` (the daemon is started first and not timed). The `-lazy` rows are checkpoint and lazy restore")
	p("only: the issue's time to first served request of a 4 GiB redis-like workload, ckpt against CRIU; there ckpt")
	p("also restores a third time with its pages from `ckpt page-server` on a loopback TCP port (`--page-server`).")
	p("")
	b.WriteString(ServerTable(r).Markdown())
	if f := ServerFailures(r); len(f) > 0 {
		p("")
		p("Failures, in full:")
		p("")
		for _, x := range f {
			p("- %s", x)
		}
	}
	p("")
	p("| server | what it is |")
	p("| --- | --- |")
	for _, w := range r.Servers {
		p("| %s | %s |", w.Name, w.About)
	}
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}
