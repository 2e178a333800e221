package ptrace

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// helperPath is testdata/helper.c, compiled once by TestMain.
var helperPath string

func TestMain(m *testing.M) {
	// Orphans of our tracees (the clone3 test's grandchild) come to us, and
	// we reap them, instead of lingering under a slow pid 1.
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		fmt.Fprintln(os.Stderr, "PR_SET_CHILD_SUBREAPER:", err)
		os.Exit(1)
	}
	dir, err := os.MkdirTemp("", "ptrace-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	helperPath = filepath.Join(dir, "helper")
	out, err := exec.Command("gcc", "-O1", "-Wall", "-Werror", "-pthread", "-o", helperPath, "testdata/helper.c").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build test helper: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// child is a started tracee. Nothing waits for it in the background: the
// kernel lets any thread of the tracer's process that waits for its own
// child collect that child's ptrace stops (kernel/exit.c:
// wait_consider_task(), "traced by its real parent's group"), so a
// concurrent cmd.Wait would steal them from the Tracer.
type child struct {
	cmd    *exec.Cmd
	pid    int
	waited bool
}

// start runs name with args and waits until it prints "ready" (helper) or,
// with wantSyscall >= 0, until it is blocked in that syscall.
func start(t *testing.T, wantSyscall int, name string, args ...string) *child {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Stderr = os.Stderr
	var stdout *bufio.Reader
	if name == helperPath {
		p, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		stdout = bufio.NewReader(p)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, pid: cmd.Process.Pid}
	t.Cleanup(func() {
		if !c.waited {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	if stdout != nil {
		line, err := stdout.ReadString('\n')
		if err != nil || line != "ready\n" {
			t.Fatalf("helper %v: read %q, %v", args, line, err)
		}
	}
	if wantSyscall >= 0 {
		waitSyscall(t, c.pid, wantSyscall)
	}
	return c
}

// exitStatus waits for the child to end. The watchdog only keeps a broken
// test from hanging; it measures nothing.
func (c *child) exitStatus(t *testing.T) (unix.WaitStatus, error) {
	t.Helper()
	watchdog := time.AfterFunc(60*time.Second, func() { _ = c.cmd.Process.Kill() })
	defer watchdog.Stop()
	err := c.cmd.Wait()
	c.waited = true
	if c.cmd.ProcessState == nil {
		return 0, err
	}
	ws, ok := c.cmd.ProcessState.Sys().(syscall.WaitStatus)
	if !ok {
		return 0, fmt.Errorf("no wait status: %w", err)
	}
	return unix.WaitStatus(ws), nil
}

// procSyscall returns the syscall number in /proc/PID/syscall, -1 if the
// task is running in user space, and the task state letter.
func procSyscall(pid int) (int, byte, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/syscall")
	if err != nil {
		return 0, 0, err
	}
	f := strings.Fields(string(b))
	nr := -1
	if len(f) > 0 && f[0] != "running" {
		if nr, err = strconv.Atoi(f[0]); err != nil {
			return 0, 0, err
		}
	}
	return nr, procState(pid), nil
}

func procState(pid int) byte {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	i := strings.LastIndexByte(string(b), ')')
	return b[i+2]
}

// waitSyscall polls until pid sleeps in syscall nr (one of nrs).
func waitSyscall(t *testing.T, pid int, nrs ...int) {
	t.Helper()
	for i := 0; i < 6000; i++ {
		nr, state, err := procSyscall(pid)
		if err != nil {
			t.Fatalf("task %d: %v", pid, err)
		}
		for _, want := range nrs {
			if nr == want && state == 'S' {
				return
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	nr, state, _ := procSyscall(pid)
	t.Fatalf("task %d never slept in syscall %v (now %d, state %c)", pid, nrs, nr, state)
}

// waitState polls until pid is in state (a /proc/PID/stat letter).
func waitState(t *testing.T, pid int, state byte) {
	t.Helper()
	for i := 0; i < 6000; i++ {
		if procState(pid) == state {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("task %d never reached state %c (now %c)", pid, state, procState(pid))
}

// vdsoStart returns the start of pid's [vdso] mapping.
func vdsoStart(t *testing.T, pid int) uint64 {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/maps")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasSuffix(line, " [vdso]") {
			lo, _, _ := strings.Cut(line, "-")
			v, err := strconv.ParseUint(lo, 16, 64)
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
	}
	t.Fatalf("task %d has no [vdso]", pid)
	return 0
}

// syscallInsn returns the address of a syscall instruction in pid's vdso.
func syscallInsn(t *testing.T, pid int) uint64 {
	t.Helper()
	off, err := VdsoSyscallOffset()
	if err != nil {
		t.Fatal(err)
	}
	return vdsoStart(t, pid) + off
}

// statusField returns a field of /proc/PID/status.
func statusField(t *testing.T, pid int, name string) string {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, name+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	t.Fatalf("no %s in /proc/%d/status", name, pid)
	return ""
}

func mapsContain(t *testing.T, pid int, addr uint64) bool {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/maps")
	if err != nil {
		t.Fatal(err)
	}
	return strings.Contains(string(b), fmt.Sprintf("%x-", addr))
}

func newTracer(t *testing.T) *Tracer {
	t.Helper()
	tr, err := New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tr.Close)
	return tr
}

// closeDetach ends an injection session and lets the task go.
func closeDetach(t *testing.T, tr *Tracer, s *Session, pid int) {
	t.Helper()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := tr.Detach(pid, 0); err != nil {
		t.Fatal(err)
	}
}

// wantExit waits for the child and requires it to exit with code; what
// names it and why is what the error says was wanted.
func (c *child) wantExit(t *testing.T, code int, what, why string) {
	t.Helper()
	ws, err := c.exitStatus(t)
	if err != nil {
		t.Fatal(err)
	}
	if !ws.Exited() || ws.ExitStatus() != code {
		t.Errorf("%s ended with %#x, want %s", what, uint32(ws), why)
	}
}
