package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// mode is how the suite drives each program.
type mode struct {
	name     string
	nocr     bool // no checkpoint at all: proves the programs
	norst    bool // checkpoint --leave-running, no restore
	lr       bool // checkpoint --leave-running, then kill the original and restore
	iters    int  // checkpoint/restore cycles
	sabotage bool // nocr, with the program breaking its own state: must FAIL
	predump  bool // checkpoint --pre-dump first, then the checkpoint on it (--parent-path)
	lazy     bool // restore --lazy (touch: --lazy-on-touch-only too)
	touch    bool
}

func parseMode(s string) (mode, error) {
	switch {
	case s == "" || s == "cr":
		return mode{name: "cr", iters: 1}, nil
	case s == "nocr":
		return mode{name: s, nocr: true}, nil
	case s == "norst":
		return mode{name: s, norst: true, iters: 1}, nil
	case s == "lr":
		return mode{name: s, lr: true, iters: 1}, nil
	case s == "predump":
		return mode{name: s, predump: true, iters: 1}, nil
	case s == "sabotage":
		return mode{name: s, nocr: true, sabotage: true}, nil
	case s == "lazy":
		return mode{name: s, iters: 1, lazy: true}, nil
	case s == "lazy-touch":
		return mode{name: s, iters: 1, lazy: true, touch: true}, nil
	case strings.HasPrefix(s, "iters="):
		n, err := strconv.Atoi(strings.TrimPrefix(s, "iters="))
		if err != nil || n < 1 {
			return mode{}, fmt.Errorf("ZDTM_MODE=%s: want iters=N with N >= 1", s)
		}
		return mode{name: s, iters: n}, nil
	}
	return mode{}, fmt.Errorf("ZDTM_MODE=%s: want cr, nocr, norst, lr, iters=N, predump, sabotage, lazy or lazy-touch", s)
}

// extraSubset is what the default run also drives in norst and iters=2
// mode: one program per area, dynamic builds, plus one static one.
var extraSubset = []string{
	"static/env00", "static/maps00", "static/maps00-static", "static/fd00", "static/sigmask00",
	"static/avx00", "transition/counter",
}

// TestZdtm runs every program of test/zdtm in the mode ZDTM_MODE names
// (cr by default).
func TestZdtm(t *testing.T) {
	requireRoot(t)
	m, err := parseMode(os.Getenv("ZDTM_MODE"))
	if err != nil {
		t.Fatal(err)
	}
	runSuite(t, m, nil)
}

// lazySubset is what TestZdtmLazy restores with --lazy: memory of every
// shape (maps00, madvise00, lazy00, cow00's pages saved with the parent),
// threads, a tree, a static build.
var lazySubset = []string{
	"static/lazy00", "static/lazy00-static", "static/maps00", "static/madvise00", "static/pthread00",
	"static/pstree00", "static/rseq00", "static/env00", "transition/counter", "static/cow00",
}

// TestZdtmLazy restores a subset with --lazy (pages through userfaultfd
// from a page server, restore/lazy.go), and lazy00, whose fork, madvise,
// mremap and munmap the server must follow, with no page streamed in the
// background: every page it reads comes through a fault after them.
func TestZdtmLazy(t *testing.T) {
	requireRoot(t)
	if os.Getenv("ZDTM_MODE") != "" {
		t.Skip("ZDTM_MODE is set: only TestZdtm runs, in that mode")
	}
	t.Run("lazy", func(t *testing.T) { runSuite(t, mode{name: "lazy", iters: 1, lazy: true}, lazySubset) })
	t.Run("touch", func(t *testing.T) {
		runSuite(t, mode{name: "lazy-touch", iters: 1, lazy: true, touch: true}, []string{"static/lazy00", "static/lazy00-static", "static/maps00"})
	})
}

// TestZdtmNorst and TestZdtmIters add the default run's other modes on a
// subset; they stand aside when ZDTM_MODE picks one mode explicitly.
func TestZdtmNorst(t *testing.T) {
	requireRoot(t)
	if os.Getenv("ZDTM_MODE") != "" {
		t.Skip("ZDTM_MODE is set: only TestZdtm runs, in that mode")
	}
	runSuite(t, mode{name: "norst", norst: true, iters: 1}, extraSubset)
}

// TestZdtmLeaveRunning restores every program from an image taken with
// --leave-running (its memory comes from a copy-on-write copy of the
// process, see checkpoint/snapshot.go), after killing the original.
func TestZdtmLeaveRunning(t *testing.T) {
	requireRoot(t)
	if os.Getenv("ZDTM_MODE") != "" {
		t.Skip("ZDTM_MODE is set: only TestZdtm runs, in that mode")
	}
	runSuite(t, mode{name: "lr", lr: true, iters: 1}, nil)
}

// TestZdtmPreDump checkpoints a subset with --pre-dump first and then on
// that image (--parent-path): the final image holds only the pages
// written in between, and the restore reads the others from the first.
func TestZdtmPreDump(t *testing.T) {
	requireRoot(t)
	if os.Getenv("ZDTM_MODE") != "" {
		t.Skip("ZDTM_MODE is set: only TestZdtm runs, in that mode")
	}
	runSuite(t, mode{name: "predump", predump: true, iters: 1}, extraSubset)
}

func TestZdtmIters(t *testing.T) {
	requireRoot(t)
	if os.Getenv("ZDTM_MODE") != "" {
		t.Skip("ZDTM_MODE is set: only TestZdtm runs, in that mode")
	}
	runSuite(t, mode{name: "iters=2", iters: 2}, extraSubset)
}

// TestZdtmSabotage proves every program's checks can fail: each one is
// asked to break its own state after test_daemon and must report FAIL.
func TestZdtmSabotage(t *testing.T) {
	requireRoot(t)
	if os.Getenv("ZDTM_MODE") != "" {
		t.Skip("ZDTM_MODE is set: only TestZdtm runs, in that mode")
	}
	runSuite(t, mode{name: "sabotage", nocr: true, sabotage: true}, nil)
}

func runSuite(t *testing.T, m mode, only []string) {
	groups := map[string][]*program{}
	var order []string
	for _, p := range builds.progs {
		if only != nil && !slices.Contains(only, p.id()) {
			continue
		}
		if _, ok := groups[p.group]; !ok {
			order = append(order, p.group)
		}
		groups[p.group] = append(groups[p.group], p)
	}
	for _, g := range order {
		t.Run(g, func(t *testing.T) {
			for _, p := range groups[g] {
				t.Run(p.leaf(), func(t *testing.T) { runOne(t, p, m) })
			}
		})
	}
}

func runOne(t *testing.T, p *program, m mode) {
	if p.desc.has("noauto") && os.Getenv("ZDTM_NOAUTO") != "1" {
		t.Skip("noauto in .desc: set ZDTM_NOAUTO=1 to run it")
	}
	if m.lr && p.desc.has("nolr") {
		// An image taken with --leave-running, restored after the
		// original was killed: a TCP peer outside saw that kill (a
		// reset), so the restored connection has no peer any more.
		t.Skip("lr: nolr in .desc (the original's death reaches a peer outside)")
	}
	if m.lr && p.desc.Progress != "" {
		// The original runs on after the checkpoint and goes on writing
		// its progress file; the restored copy then rightly disagrees with
		// the file. Such programs are covered by the other modes.
		t.Skip("lr: the program writes a progress file the running original keeps changing")
	}
	if !m.nocr {
		needCkpt(t)
	}
	tp := startProgram(t, p, m.sabotage)
	if !m.nocr {
		for i := 0; i < m.iters; i++ {
			if !crOnce(t, tp, m, i) {
				break
			}
		}
	}
	finish(t, tp, !m.sabotage)
}

// crOnce checkpoints the program and, unless norst, restores it, checking
// the outside view on the way. It returns false when there is nothing more
// to drive (a refused checkpoint of a crfail program).
func crOnce(t *testing.T, tp *testProc, m mode, iter int) bool {
	t.Helper()
	skip := tp.prog.desc.skips
	before, err := takeView(tp)
	if err != nil {
		t.Fatalf("snapshot %d before checkpoint: %v", tp.pid, err)
	}
	img := filepath.Join(tp.dir, fmt.Sprintf("img-%d", iter))
	progress := 0
	if f := tp.prog.desc.Progress; f != "" {
		progress = waitGrowth(t, filepath.Join(tp.testDir, f), 0)
	}

	opts := tp.prog.desc.CkptOpts
	if m.predump && !tp.prog.desc.has("crfail") {
		pre := img + "-pre"
		if _, stderr, err := tryCheckpoint(tp.pid, pre, false, append([]string{"--pre-dump"}, opts...)...); err != nil {
			t.Fatalf("ckpt checkpoint --pre-dump --pid %d: %v\n%s", tp.pid, err, stderr)
		}
		if !alive(tp.pid) {
			t.Fatalf("pid %d is gone after checkpoint --pre-dump", tp.pid)
		}
		opts = append([]string{"--parent-path", pre}, opts...)
	}
	_, stderr, err := tryCheckpoint(tp.pid, img, m.norst || m.lr, opts...)
	if tp.prog.desc.has("crfail") {
		if err == nil {
			t.Fatalf("checkpoint of %d succeeded, but %s.desc says crfail (it must be refused)", tp.pid, tp.prog.name)
		}
		t.Logf("refused as expected: %s", strings.TrimSpace(stderr))
		checkRefusal(t, tp, stderr)
		if !alive(tp.pid) {
			t.Fatalf("pid %d is gone after a refused checkpoint", tp.pid)
		}
		after, err := takeView(tp)
		if err != nil {
			t.Fatalf("snapshot %d after the refusal: %v", tp.pid, err)
		}
		if d := before.changes(after, skip); len(d) > 0 {
			t.Errorf("a refused checkpoint changed pid %d:\n%s", tp.pid, strings.Join(d, "\n"))
		}
		return false
	}
	if err != nil {
		t.Fatalf("ckpt checkpoint --pid %d: %v\n%s", tp.pid, err, stderr)
	}

	if m.lr {
		// The image was taken with the process running on: end it the
		// way a checkpoint without --leave-running would have.
		if !alive(tp.pid) {
			t.Fatalf("pid %d is gone after checkpoint --leave-running", tp.pid)
		}
		unix.Kill(tp.pid, unix.SIGKILL)
	}
	if !m.norst {
		// Without --leave-running the task must be gone: reap it, or
		// the zombie keeps its pid taken and restore cannot have it.
		ws, known, err := reap(tp.pid, exitTimeout)
		if err != nil {
			t.Fatalf("after checkpoint: %v", err)
		}
		if known && !ws.Signaled() {
			t.Errorf("after checkpoint pid %d exited by itself (%v), want killed by ckpt", tp.pid, ws)
		}
		ropts := tp.prog.desc.CkptOpts
		if m.lazy {
			ropts = append(slices.Clone(ropts), "--lazy", "--lazy-log", filepath.Join(tp.dir, fmt.Sprintf("lazy-pages-%d.log", iter)))
			if m.touch {
				ropts = append(ropts, "--lazy-on-touch-only")
			}
		}
		pid := restoreDetached(t, img, filepath.Join(tp.dir, fmt.Sprintf("restored-%d.pid", iter)), ropts...)
		if tp.prog.ns() {
			checkRestoredInit(t, pid)
			tp.pid = pid
		} else if pid != tp.pid {
			t.Fatalf("restored as pid %d, want the original pid %d", pid, tp.pid)
		}
		if !alive(pid) {
			t.Fatalf("restored pid %d is not running (state %q)", pid, procState(pid))
		}
	}

	after, err := takeView(tp)
	if err != nil {
		t.Fatalf("snapshot %d after %s: %v", tp.pid, m.name, err)
	}
	if d := before.changes(after, skip); len(d) > 0 {
		t.Errorf("outside view of %d changed across %s:\n%s", tp.pid, m.name, strings.Join(d, "\n"))
	}
	if f := tp.prog.desc.Progress; f != "" {
		waitGrowth(t, filepath.Join(tp.testDir, f), progress)
	}
	if s := procState(tp.pid); s == "t" || s == "T" {
		t.Fatalf("pid %d is stopped (state %s) after %s", tp.pid, s, m.name)
	}
	if tracer := statusField(tp.pid, "TracerPid"); tracer != "0" {
		t.Fatalf("pid %d is still traced by %s after %s", tp.pid, tracer, m.name)
	}
	// An outside difference is an error, but the program's own verdict
	// is still worth having: go on to SIGTERM.
	return true
}
