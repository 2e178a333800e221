package integration

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// testEnvValue is what the runner puts in ZDTM_TEST_ENV for every test
// (env00 checks it survives).
const testEnvValue = "zdtm env value: survives C/R"

// Liveness guards. They bound how long a broken run can hang; they are not
// performance thresholds.
const (
	startTimeout = 60 * time.Second
	exitTimeout  = 60 * time.Second
	ckptTimeout  = 120 * time.Second
)

// testProc is one running test program and its work directory:
// pidfile, outfile, the test's own directory and the images.
type testProc struct {
	prog    *program
	dir     string
	pidfile string
	outfile string
	testDir string
	pid     int
	done    bool // exited and reaped (or gone)
	outside int  // a leak test's helper outside the namespace (ns flavor)
}

// startProgram starts p the zdtm way and returns once it called
// test_daemon. The work directory is removed when the test passes and kept
// (with its path and the outfile printed) when it fails.
func startProgram(t *testing.T, p *program, sabotage bool, extra ...string) *testProc {
	t.Helper()
	argv, err := builds.command(p)
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp(workRoot, strings.ReplaceAll(p.id(), "/", "_")+"-")
	if err != nil {
		t.Fatal(err)
	}
	tp := &testProc{prog: p, dir: dir, pidfile: filepath.Join(dir, "pid"), outfile: filepath.Join(dir, "out"),
		testDir: filepath.Join(dir, "test.dir")}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("kept %s (outfile %s, images in img-*)\n--- outfile:\n%s", dir, tp.outfile, tp.output())
			return
		}
		if os.Getenv("ZDTM_KEEP") != "1" {
			os.RemoveAll(dir)
		}
	})
	if err := os.Mkdir(tp.testDir, 0o755); err != nil {
		t.Fatal(err)
	}
	args := append(argv[1:], "--pidfile="+tp.pidfile, "--outfile="+tp.outfile, "--dirname="+tp.testDir)
	args = append(append(args, p.desc.Opts...), extra...)
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "ZDTM_TEST_ENV="+testEnvValue)
	if sabotage {
		cmd.Env = append(cmd.Env, "ZDTM_SABOTAGE=1")
	}
	if p.ns() {
		cmd.Env = append(cmd.Env, "ZDTM_NEWNS=1")
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("start %s: %v\n%s", p.id(), err, out)
	}
	b, err := os.ReadFile(tp.pidfile)
	if err != nil {
		t.Fatalf("start %s: %v", p.id(), err)
	}
	if tp.pid, err = strconv.Atoi(strings.TrimSpace(string(b))); err != nil {
		t.Fatalf("start %s: pidfile: %v", p.id(), err)
	}
	tp.outside = tp.readOutside()
	// Registered after the removal above, so it runs first: a test that
	// failed half-way leaves no process behind.
	t.Cleanup(tp.kill)
	return tp
}

func (tp *testProc) output() string {
	b, err := os.ReadFile(tp.outfile)
	if err != nil {
		return fmt.Sprintf("(no outfile: %v)", err)
	}
	return string(b)
}

// kill ends the program if it is still around and reaps it.
func (tp *testProc) kill() {
	if tp.done {
		return
	}
	unix.Kill(tp.pid, unix.SIGKILL)
	reap(tp.pid, exitTimeout)
	tp.killOutside()
	tp.done = true
}

// reap waits for pid to exit and reaps it. It returns known=false when pid
// is not our child (it was then only waited for to disappear). Our own
// children are reaped by a blocking wait4 on their pid, so a checkpointed
// task's zombie frees its pid at once: a restore may be waiting for it.
func reap(pid int, timeout time.Duration) (ws unix.WaitStatus, known bool, err error) {
	type result struct {
		ws  unix.WaitStatus
		err error
	}
	done := make(chan result, 1)
	go func() {
		var r result
		for {
			_, r.err = unix.Wait4(pid, &r.ws, 0, nil)
			if !errors.Is(r.err, unix.EINTR) {
				break
			}
		}
		done <- r
	}()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	var r result
	select {
	case r = <-done:
	case <-timer.C:
		return ws, false, fmt.Errorf("pid %d still running after %v", pid, timeout)
	}
	if r.err == nil {
		return r.ws, true, nil
	}
	if !errors.Is(r.err, unix.ECHILD) {
		return ws, false, fmt.Errorf("wait4(%d): %w", pid, r.err)
	}
	// Not ours (a foreground restore's child, say): wait until it is gone
	// or a zombie of its own parent.
	deadline := time.Now().Add(timeout)
	for alive(pid) {
		if time.Now().After(deadline) {
			return ws, false, fmt.Errorf("pid %d still running after %v", pid, timeout)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return ws, false, nil
}

// procState returns the state letter of /proc/PID/stat ("" if no such pid).
func procState(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ""
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 >= len(b) {
		return ""
	}
	return string(b[i+2])
}

// alive is true when pid exists and is not a zombie.
func alive(pid int) bool {
	s := procState(pid)
	return s != "" && s != "Z" && s != "X"
}

// statusField returns one field of /proc/PID/status.
func statusField(pid int, key string) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return ""
	}
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && k == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// finish sends SIGTERM (after the .desc presig, if any), waits for the
// program to exit and checks its verdict: PASS, or FAIL when wantPass is
// false (a sabotaged run).
func finish(t *testing.T, tp *testProc, wantPass bool) {
	t.Helper()
	if sig := tp.prog.desc.Presig; sig != "" {
		s := unix.SignalNum(sig)
		if s == 0 {
			t.Fatalf("%s.desc: unknown presig %q", tp.prog.name, sig)
		}
		// The program must be asleep (in the call the signal is to
		// interrupt) first: a signal taken before it blocks would leave
		// it blocked for good.
		deadline := time.Now().Add(exitTimeout)
		for procState(tp.pid) != "S" {
			if time.Now().After(deadline) {
				t.Fatalf("pid %d never went to sleep (state %q) for its %s", tp.pid, procState(tp.pid), sig)
			}
			time.Sleep(time.Millisecond)
		}
		if err := unix.Kill(tp.pid, s); err != nil {
			t.Fatalf("send %s to %d: %v", sig, tp.pid, err)
		}
	}
	if err := unix.Kill(tp.pid, unix.SIGTERM); err != nil {
		t.Fatalf("send SIGTERM to %d: %v", tp.pid, err)
	}
	ws, known, err := reap(tp.pid, exitTimeout)
	if err != nil {
		t.Fatalf("%s: %v", tp.prog.id(), err)
	}
	tp.done = true
	out := tp.output()
	passed := hasLine(out, "PASS") && !strings.Contains(out, "FAIL")
	status := "unknown (not our child)"
	if known {
		if ws.Signaled() {
			status = "killed by " + ws.Signal().String()
		} else {
			status = fmt.Sprintf("exit %d", ws.ExitStatus())
		}
		passed = passed && ws.Exited() && ws.ExitStatus() == 0
	}
	switch {
	case wantPass && !passed:
		t.Errorf("%s did not pass (%s)", tp.prog.id(), status)
	case !wantPass && passed:
		t.Errorf("%s passed though its state was sabotaged: its checks cannot fail (%s)", tp.prog.id(), status)
	}
}

func hasLine(s, line string) bool {
	for _, l := range strings.Split(s, "\n") {
		if l == line {
			return true
		}
	}
	return false
}

// lines counts the lines of a file (0 if missing): how far a counter got.
func lines(path string) int {
	b, _ := os.ReadFile(path)
	return bytes.Count(b, []byte("\n"))
}

// waitGrowth waits until the file has more than n lines: the program is
// running and making progress.
func waitGrowth(t *testing.T, path string, n int) int {
	t.Helper()
	deadline := time.Now().Add(exitTimeout)
	for {
		if m := lines(path); m > n {
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not grow past %d lines within %v: the program is not running", path, n, exitTimeout)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
