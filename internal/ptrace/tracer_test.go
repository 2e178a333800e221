package ptrace

import (
	"errors"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/internal/kernel"
)

const seizeOpts = unix.PTRACE_O_TRACESYSGOOD

func TestSeizeReadDetach(t *testing.T) {
	tr := newTracer(t)
	c := start(t, unix.SYS_CLOCK_NANOSLEEP, "/bin/sleep", "1000")
	if err := tr.Seize(c.pid, seizeOpts); err != nil {
		t.Fatal(err)
	}
	if err := tr.Interrupt(c.pid); err != nil {
		t.Fatal(err)
	}
	ws, err := tr.Wait(c.pid)
	if err != nil {
		t.Fatal(err)
	}
	if !ws.Stopped() || event(ws) != unix.PTRACE_EVENT_STOP {
		t.Fatalf("wait status %#x, want a PTRACE_EVENT_STOP", uint32(ws))
	}
	// The tracer is a thread, and /proc shows its tid.
	if got := statusField(t, c.pid, "TracerPid"); got != strconv.Itoa(tr.thread) {
		t.Errorf("TracerPid = %s, want the tracer thread %d", got, tr.thread)
	}

	regs, err := tr.GetRegs(c.pid)
	if err != nil {
		t.Fatal(err)
	}
	// Interrupted in clock_nanosleep: the kernel left the restart code in rax.
	if regs.SyscallNo() != unix.SYS_CLOCK_NANOSLEEP || regs.Ret() != -kernel.ERESTART_RESTARTBLOCK {
		t.Errorf("orig_rax=%d rax=%d, want %d and -ERESTART_RESTARTBLOCK", regs.SyscallNo(), regs.Ret(), unix.SYS_CLOCK_NANOSLEEP)
	}
	if regs.PC() == 0 || regs.SP() == 0 {
		t.Errorf("rip=%#x rsp=%#x", regs.PC(), regs.SP())
	}

	xs, err := tr.GetXState(c.pid)
	if err != nil {
		t.Fatal(err)
	}
	if len(xs) != kernel.XStateSize() {
		t.Errorf("xstate is %d bytes, XStateSize() = %d", len(xs), kernel.XStateSize())
	}
	if f, ok := kernel.XStateFeatures(xs); !ok || f != kernel.XFeatures() {
		t.Errorf("XCR0 in the regset = %#x, XFeatures() = %#x", f, kernel.XFeatures())
	}
	if err := tr.SetXState(c.pid, xs); err != nil {
		t.Errorf("write back xstate: %v", err)
	}

	mask, err := tr.GetSigmask(c.pid)
	if err != nil {
		t.Fatal(err)
	}
	if want := sigBlkMask(t, c.pid); mask != want {
		t.Errorf("sigmask %#x, /proc says SigBlk %#x", mask, want)
	}

	rseq, err := tr.RseqConfig(c.pid)
	if err != nil {
		t.Fatal(err)
	}
	// glibc >= 2.35 registers rseq for every thread with this signature.
	if rseq.RseqAbiPointer == 0 || rseq.RseqAbiSize < 32 || rseq.Signature != 0x53053053 {
		t.Errorf("rseq config %+v", rseq)
	}

	if err := tr.Detach(c.pid, 0); err != nil {
		t.Fatal(err)
	}
	// Back in its sleep, restarted through restart_syscall(2).
	waitSyscall(t, c.pid, unix.SYS_CLOCK_NANOSLEEP, unix.SYS_RESTART_SYSCALL)
	if got := statusField(t, c.pid, "TracerPid"); got != "0" {
		t.Errorf("TracerPid = %s after detach", got)
	}
	if err := unix.Kill(c.pid, unix.SIGTERM); err != nil {
		t.Fatal(err)
	}
	ws, err = c.exitStatus(t)
	if err != nil {
		t.Fatal(err)
	}
	if !ws.Signaled() || ws.Signal() != unix.SIGTERM {
		t.Errorf("sleep ended with %#x, want killed by our SIGTERM", uint32(ws))
	}
}

func sigBlkMask(t *testing.T, pid int) uint64 {
	v, err := strconv.ParseUint(statusField(t, pid, "SigBlk"), 16, 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// A signal arriving as we seize is swallowed on the way to the stop and
// delivered again by Detach, siginfo included: the handler exits with the
// sigqueue value.
func TestSeizeStopPendingSignal(t *testing.T) {
	tr := newTracer(t)
	c := start(t, unix.SYS_PAUSE, helperPath, "pause")
	// Seized but not stopped: the signal makes the first stop a
	// signal-delivery-stop, which SeizeStop meets before its interrupt's.
	if err := tr.Seize(c.pid, seizeOpts); err != nil {
		t.Fatal(err)
	}
	sigqueue(t, c.pid, 0, unix.SIGUSR1, 42)
	waitState(t, c.pid, 't') // in the signal-delivery-stop, not yet reported
	if err := tr.SeizeStop(c.pid, seizeOpts); err != nil {
		t.Fatal(err)
	}
	if got := tr.PendingStopSig(c.pid); got != int(unix.SIGUSR1) {
		t.Fatalf("PendingStopSig = %d, want SIGUSR1", got)
	}
	// The signal is not queued any more: only the Tracer has it.
	if q, err := tr.PeekSiginfo(c.pid, true); err != nil || len(q) != 0 {
		t.Errorf("shared queue %v, %v; want empty", q, err)
	}
	s, err := tr.NewSession(c.pid, syscallInsn(t, c.pid))
	if err != nil {
		t.Fatal(err)
	}
	if pid, err := s.Syscall(unix.SYS_GETPID); err != nil || int(pid) != c.pid {
		t.Errorf("getpid = %d, %v", pid, err)
	}
	closeDetach(t, tr, s, c.pid)
	c.wantExit(t, 42, "helper", "exit 42 from the SIGUSR1 handler")
}

// A task in group-stop is a stop to work in; detached, it stays stopped.
func TestSeizeStopGroupStop(t *testing.T) {
	tr := newTracer(t)
	c := start(t, unix.SYS_CLOCK_NANOSLEEP, "/bin/sleep", "1000")
	if err := unix.Kill(c.pid, unix.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	waitState(t, c.pid, 'T')
	if err := tr.SeizeStop(c.pid, seizeOpts); err != nil {
		t.Fatal(err)
	}
	if got := tr.PendingStopSig(c.pid); got != 0 {
		t.Errorf("PendingStopSig = %d, want 0", got)
	}
	s, err := tr.NewSession(c.pid, syscallInsn(t, c.pid))
	if err != nil {
		t.Fatal(err)
	}
	if pid, err := s.Syscall(unix.SYS_GETPID); err != nil || int(pid) != c.pid {
		t.Errorf("getpid = %d, %v", pid, err)
	}
	closeDetach(t, tr, s, c.pid)
	waitState(t, c.pid, 'T')
	if err := unix.Kill(c.pid, unix.SIGCONT); err != nil {
		t.Fatal(err)
	}
	waitSyscall(t, c.pid, unix.SYS_CLOCK_NANOSLEEP, unix.SYS_RESTART_SYSCALL)
}

func TestSeizeStopZombie(t *testing.T) {
	tr := newTracer(t)
	cmd := exec.Command("/bin/true")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	waitState(t, pid, 'Z')
	err := tr.SeizeStop(pid, seizeOpts)
	if !errors.Is(err, ErrTaskGone) {
		t.Errorf("SeizeStop(zombie) = %v, want ErrTaskGone", err)
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("true: %v", err)
	}
	if err := tr.SeizeStop(pid, seizeOpts); !errors.Is(err, ErrTaskGone) {
		t.Errorf("SeizeStop(reaped) = %v, want ErrTaskGone", err)
	}
}

func TestPeekSiginfo(t *testing.T) {
	tr := newTracer(t)
	c := start(t, unix.SYS_PAUSE, helperPath, "block")
	sigqueue(t, c.pid, 0, unix.SIGUSR1, 0x1234)     // process-wide queue
	sigqueue(t, c.pid, c.pid, unix.SIGUSR2, 0x5678) // the thread's own queue
	if err := tr.SeizeStop(c.pid, seizeOpts); err != nil {
		t.Fatal(err)
	}
	check := func(shared bool, sig unix.Signal, value uint64) {
		t.Helper()
		q, err := tr.PeekSiginfo(c.pid, shared)
		if err != nil {
			t.Fatal(err)
		}
		if len(q) != 1 {
			t.Fatalf("shared=%v: %d queued signals, want 1", shared, len(q))
		}
		si := q[0]
		if si.Signo() != int32(sig) || si.Code() != siQueue || si.Value() != value || int(si.Pid()) != unix.Getpid() {
			t.Errorf("shared=%v: signo=%d code=%d value=%#x pid=%d, want %d SI_QUEUE %#x us",
				shared, si.Signo(), si.Code(), si.Value(), si.Pid(), sig, value)
		}
	}
	check(true, unix.SIGUSR1, 0x1234)
	check(false, unix.SIGUSR2, 0x5678)
	if err := tr.Detach(c.pid, 0); err != nil {
		t.Fatal(err)
	}
	// Peeking took nothing off the queues.
	if got := statusField(t, c.pid, "ShdPnd"); got != "0000000000000200" {
		t.Errorf("ShdPnd = %s, want SIGUSR1 (0x200)", got)
	}
	if got := statusField(t, c.pid, "SigPnd"); got != "0000000000000800" {
		t.Errorf("SigPnd = %s, want SIGUSR2 (0x800)", got)
	}
}

func TestDo(t *testing.T) {
	tr, err := New()
	if err != nil {
		t.Fatal(err)
	}
	var outer, inner int
	err = tr.Do(func() error {
		outer = unix.Gettid()
		// Nested requests run in place instead of deadlocking.
		return tr.Do(func() error { inner = unix.Gettid(); return nil })
	})
	if err != nil || outer != inner || outer == unix.Gettid() {
		t.Errorf("Do ran on %d then %d (caller %d), err %v", outer, inner, unix.Gettid(), err)
	}
	tr.Close()
	tr.Close()
	if err := tr.Do(func() error { return nil }); !errors.Is(err, ErrClosed) {
		t.Errorf("Do after Close = %v, want ErrClosed", err)
	}
	// The locked thread ends with the tracer (the runtime exits it soon after).
	for i := 0; unix.Tgkill(unix.Getpid(), outer, 0) != unix.ESRCH; i++ {
		if i == 6000 {
			t.Fatalf("tracer thread %d still alive after Close", outer)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// State about a tracee that died behind the Tracer's back is not trusted.
func TestSeizeStopStale(t *testing.T) {
	tr := newTracer(t)
	c := start(t, unix.SYS_CLOCK_NANOSLEEP, "/bin/sleep", "1000")
	if err := tr.SeizeStop(c.pid, seizeOpts); err != nil {
		t.Fatal(err)
	}
	if err := tr.SeizeStop(c.pid, seizeOpts); err != nil {
		t.Fatalf("SeizeStop of a task already stopped: %v", err)
	}
	_ = c.cmd.Process.Kill()
	_, _ = c.exitStatus(t)
	if err := tr.SeizeStop(c.pid, seizeOpts); !errors.Is(err, ErrTaskGone) {
		t.Errorf("SeizeStop after the task was killed and reaped = %v, want ErrTaskGone", err)
	}
}

// Each thread is its own tracee; injection runs in the thread it is given.
func TestThreads(t *testing.T) {
	tr := newTracer(t)
	c := start(t, -1, helperPath, "thread")
	tids, err := os.ReadDir("/proc/" + strconv.Itoa(c.pid) + "/task")
	if err != nil {
		t.Fatal(err)
	}
	if len(tids) != 2 {
		t.Fatalf("%d threads, want 2", len(tids))
	}
	var thread int
	for _, e := range tids {
		tid, _ := strconv.Atoi(e.Name())
		if tid != c.pid {
			thread = tid
		}
		if err := tr.SeizeStop(tid, seizeOpts); err != nil {
			t.Fatal(err)
		}
	}
	// Queued while the thread is stopped, it stays queued for us to see.
	sigqueue(t, c.pid, thread, unix.SIGUSR2, 9)
	q, err := tr.PeekSiginfo(thread, false)
	if err != nil || len(q) != 1 || q[0].Value() != 9 {
		t.Errorf("thread queue %v, %v; want the SIGUSR2", q, err)
	}
	if q, err := tr.PeekSiginfo(c.pid, false); err != nil || len(q) != 0 {
		t.Errorf("leader queue %v, %v; want empty", q, err)
	}
	s, err := tr.NewSession(thread, syscallInsn(t, c.pid))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.Syscall(unix.SYS_GETTID); err != nil || int(got) != thread {
		t.Errorf("gettid = %d, %v; want %d", got, err, thread)
	}
	if got, err := s.Syscall(unix.SYS_GETPID); err != nil || int(got) != c.pid {
		t.Errorf("getpid = %d, %v; want %d", got, err, c.pid)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// Killing through a thread takes the whole process.
	if err := tr.Kill(thread); err != nil {
		t.Fatal(err)
	}
	if err := tr.Kill(c.pid); err != nil {
		t.Fatal(err)
	}
	c.waited = true
	if _, err := os.Stat("/proc/" + strconv.Itoa(c.pid)); !os.IsNotExist(err) {
		t.Errorf("process %d still exists: %v", c.pid, err)
	}
}
