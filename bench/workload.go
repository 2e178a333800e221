package bench

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Workload is one kind of process the tools are measured on.
type Workload struct {
	Name    string `json:"name"`
	Kind    string `json:"kind"`    // anon, halfzero, filemap, dirty, threads, tree
	MiB     int    `json:"mib"`     // memory it holds, all touched
	Procs   int    `json:"procs"`   // processes
	Threads int    `json:"threads"` // threads per process (of the root)
	// Replies is how many reply lines a poke brings: one per process.
	Replies int `json:"-"`
	// CkptNote, when set, is why ckpt is not run on this workload, and
	// CRIUNote why CRIU is not.
	CkptNote string `json:"ckpt_note,omitempty"`
	CRIUNote string `json:"criu_note,omitempty"`
	// Axis names the scaling table the workload is a point of (memory,
	// procs, threads, fds; scale.go), and Units its position on it.
	Axis  string `json:"axis,omitempty"`
	Units int    `json:"units,omitempty"`
	// ScaleOnly workloads are only scaling points: one checkpoint and one
	// restore per round, no --leave-running and no lazy restore.
	ScaleOnly bool `json:"scale_only,omitempty"`
	// About describes a server (servers.go) for the report.
	About string `json:"about,omitempty"`
	// imageMiB is about how much memory an image of it holds.
	imageMiB int
	// args are the workload binary's command line; file is the data file
	// a filemap workload maps, created before its first run.
	args []string
	file string
}

// Workloads returns the list for the given sizes, smallest first: the three
// memory shapes per size, then the thread and tree workloads.
func Workloads(sizes []int, scratch string) []Workload {
	var ws []Workload
	for _, n := range sizes {
		s := strconv.Itoa(n)
		file := filepath.Join(scratch, "filemap-"+s+"M.data")
		ws = append(ws,
			anonWorkload(n, false),
			Workload{Name: "halfzero-" + s + "M", Kind: "halfzero", MiB: n, Procs: 1, Threads: 1, Replies: 1,
				args: []string{"mem", "halfzero", s}, imageMiB: n},
			Workload{Name: "filemap-" + s + "M", Kind: "filemap", MiB: n, Procs: 1, Threads: 1, Replies: 1,
				args: []string{"mem", "filemap", s, file}, file: file, imageMiB: 1},
			// Written at DirtyRate MiB/s: the pre-copy workload (precopy.go).
			Workload{Name: "dirty-" + s + "M", Kind: "dirty", MiB: n, Procs: 1, Threads: 2, Replies: 1,
				args: []string{"mem", "dirty", s, strconv.Itoa(DirtyRate)}, imageMiB: n},
		)
	}
	ws = append(ws,
		Workload{Name: "threads-64", Kind: "threads", MiB: 64, Procs: 1, Threads: 65, Replies: 1,
			args: []string{"threads", "64", "64"}, imageMiB: 64},
		// 1 root + 9 children + 90 grandchildren, 1 MiB each.
		Workload{Name: "tree-100", Kind: "tree", MiB: 100, Procs: 100, Threads: 1, Replies: 100,
			args: []string{"tree", "9", "10", "1024"}, imageMiB: 100},
	)
	return ws
}

// anonWorkload is the anon shape of n MiB, also the memory scaling axis.
func anonWorkload(n int, scaleOnly bool) Workload {
	s := strconv.Itoa(n)
	return Workload{Name: "anon-" + s + "M", Kind: "anon", MiB: n, Procs: 1, Threads: 1, Replies: 1,
		Axis: "memory", Units: n, ScaleOnly: scaleOnly, args: []string{"mem", "anon", s}, imageMiB: n}
}

// instance is one running (or restored) copy of a workload.
type instance struct {
	w   *Workload
	pid int    // the root; also its session and process group id
	out string // its stdout and stderr, opened O_APPEND
	// seen is how many complete lines of out have been consumed.
	seen int
	// guard bounds each wait for replies (a hang guard, not a figure).
	guard time.Duration
}

// startWorkload starts w from binDir in its own session with stdin on
// /dev/null and stdout/stderr appended to a file, so that neither tool sees a
// terminal or a pipe to the bench (no --shell-job, no external files), and
// waits for its READY line. It forks directly rather than through os/exec so
// the bench alone decides when the process is reaped.
func startWorkload(w *Workload, binDir, runDir string) (*instance, error) {
	out := filepath.Join(runDir, w.Name+".out")
	if err := os.Remove(out); err != nil && !os.IsNotExist(err) {
		return nil, fmt.Errorf("workload %s: %w", w.Name, err)
	}
	o, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("workload %s: %w", w.Name, err)
	}
	defer o.Close()
	null, err := os.Open(os.DevNull)
	if err != nil {
		return nil, fmt.Errorf("workload %s: %w", w.Name, err)
	}
	defer null.Close()
	argv := append([]string{filepath.Join(binDir, w.args[0])}, w.args[1:]...)
	pid, err := syscall.ForkExec(argv[0], argv, &syscall.ProcAttr{
		Dir:   runDir,
		Env:   []string{"PATH=/usr/bin:/bin"},
		Files: []uintptr{null.Fd(), o.Fd(), o.Fd()},
		Sys:   &syscall.SysProcAttr{Setsid: true},
	})
	if err != nil {
		return nil, fmt.Errorf("start workload %s: %w", w.Name, err)
	}
	in := &instance{w: w, pid: pid, out: out, guard: readyGuard(w)}
	lines, err := in.await(1)
	if err != nil {
		_ = killAndReap([]int{pid}, time.Minute)
		return nil, fmt.Errorf("workload %s (pid %d) not ready: %w", w.Name, pid, err)
	}
	if !strings.HasPrefix(lines[0], "READY ") {
		_ = killAndReap([]int{pid}, time.Minute)
		return nil, fmt.Errorf("workload %s (pid %d) not ready: %q", w.Name, pid, lines[0])
	}
	return in, nil
}

// readyGuard is a hang guard for filling memory, generous for this VM,
// where first touches of memory the host has taken back are slow.
func readyGuard(w *Workload) time.Duration {
	return 2*time.Minute + time.Duration(w.MiB)*30*time.Millisecond
}

// poke sends SIGUSR1 and waits for one reply per process. It returns how
// long the replies took to arrive and the longest checksum time a process
// reported, or an error naming the first reply that was not OK.
func (in *instance) poke() (latency, check time.Duration, err error) {
	start := time.Now()
	if err := unix.Kill(in.pid, unix.SIGUSR1); err != nil {
		return 0, 0, fmt.Errorf("poke workload %s (pid %d): %w", in.w.Name, in.pid, err)
	}
	lines, err := in.await(in.w.Replies)
	latency = time.Since(start)
	if err != nil {
		return latency, 0, fmt.Errorf("workload %s (pid %d) after SIGUSR1: %w", in.w.Name, in.pid, err)
	}
	for _, l := range lines {
		f := strings.Fields(l)
		if len(f) != 3 || f[0] != "OK" {
			return latency, 0, fmt.Errorf("workload %s (pid %d) after SIGUSR1 replied %q", in.w.Name, in.pid, l)
		}
		ns, err := strconv.ParseInt(f[2], 10, 64)
		if err != nil {
			return latency, 0, fmt.Errorf("workload %s (pid %d) reply %q: %w", in.w.Name, in.pid, l, err)
		}
		check = max(check, time.Duration(ns))
	}
	return latency, check, nil
}

// await polls the output file until n more complete lines are there and
// returns them. It gives up when the root dies or after in.guard.
func (in *instance) await(n int) ([]string, error) {
	deadline := time.Now().Add(in.guard)
	for {
		b, err := os.ReadFile(in.out)
		if err != nil {
			return nil, err
		}
		all := strings.Split(string(b[:bytes.LastIndexByte(b, '\n')+1]), "\n")
		all = all[:len(all)-1] // after the last newline
		if len(all) >= in.seen+n {
			got := all[in.seen : in.seen+n]
			in.seen += n
			return got, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%d of %d lines after %v; output ends %q",
				len(all)-in.seen, n, in.guard, tail(b, 200))
		}
		if st, err := readStat(in.pid); err != nil || st.state == 'Z' {
			return nil, fmt.Errorf("pid %d died with %d of %d lines; output ends %q",
				in.pid, len(all)-in.seen, n, tail(b, 200))
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}
