package ptrace

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/internal/kernel"
)

const pageSize = 4096

// seized starts name, stops it with SeizeStop and opens a session on it.
func seized(t *testing.T, tr *Tracer, opts int, wantSyscall int, name string, args ...string) (*child, *Session) {
	t.Helper()
	c := start(t, wantSyscall, name, args...)
	if err := tr.SeizeStop(c.pid, opts); err != nil {
		t.Fatal(err)
	}
	s, err := tr.NewSession(c.pid, syscallInsn(t, c.pid))
	if err != nil {
		t.Fatal(err)
	}
	return c, s
}

func TestInjectGetpid(t *testing.T) {
	tr := newTracer(t)
	c, s := seized(t, tr, seizeOpts, unix.SYS_CLOCK_NANOSLEEP, "/bin/sleep", "1000")
	before, err := tr.GetRegs(c.pid)
	if err != nil {
		t.Fatal(err)
	}
	if s.Saved() != before {
		t.Errorf("Saved() differs from the registers at the stop")
	}
	mask, err := tr.GetSigmask(c.pid)
	if err != nil || mask != ^uint64(0)&^(1<<(unix.SIGKILL-1)|1<<(unix.SIGSTOP-1)) {
		t.Errorf("mask during the session %#x, %v; want all but SIGKILL and SIGSTOP", mask, err)
	}
	for _, c := range []struct {
		nr   uintptr
		want int
	}{{unix.SYS_GETPID, c.pid}, {unix.SYS_GETTID, c.pid}, {unix.SYS_GETPPID, os.Getpid()}} {
		got, err := s.Syscall(c.nr)
		if err != nil || int(got) != c.want {
			t.Errorf("syscall %d = %d, %v; want %d", c.nr, got, err, c.want)
		}
	}
	_, err = s.Syscall(unix.SYS_CLOSE, ^uintptr(0))
	var se *SyscallError
	if !errors.As(err, &se) || se.Nr != unix.SYS_CLOSE || se.Tid != c.pid || !errors.Is(err, unix.EBADF) {
		t.Errorf("close(-1) = %v, want a SyscallError with EBADF", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	after, err := tr.GetRegs(c.pid)
	if err != nil {
		t.Fatal(err)
	}
	if after != before {
		t.Errorf("registers after Close:\n%+v\nwant\n%+v", after, before)
	}
	if mask, err := tr.GetSigmask(c.pid); err != nil || mask != 0 {
		t.Errorf("mask after Close %#x, %v; want 0", mask, err)
	}
	if _, err := s.Syscall(unix.SYS_GETPID); err == nil {
		t.Error("Syscall after Close succeeded")
	}
	if err := tr.Kill(c.pid); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat("/proc/" + strconv.Itoa(c.pid)); !os.IsNotExist(err) {
		t.Errorf("task %d still exists after Kill: %v", c.pid, err)
	}
}

// injectSome runs a few syscalls, enough to clobber every register the
// kernel's restart logic looks at.
func injectSome(t *testing.T, s *Session, pid int) {
	t.Helper()
	addr, err := s.Syscall(unix.SYS_MMAP, 0, pageSize, unix.PROT_READ|unix.PROT_WRITE,
		unix.MAP_PRIVATE|unix.MAP_ANONYMOUS, ^uintptr(0), 0)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.Syscall(unix.SYS_GETPID); err != nil || int(got) != pid {
		t.Errorf("getpid = %d, %v", got, err)
	}
	if _, err := s.Syscall(unix.SYS_MUNMAP, addr, pageSize); err != nil {
		t.Fatal(err)
	}
}

// A thread interrupted in clock_nanosleep (-ERESTART_RESTARTBLOCK) goes back
// to sleeping after injection, and the sleep still ends normally.
func TestInjectNanosleep(t *testing.T) {
	tr := newTracer(t)
	c, s := seized(t, tr, seizeOpts, unix.SYS_CLOCK_NANOSLEEP, "/bin/sleep", "2")
	injectSome(t, s, c.pid)
	closeDetach(t, tr, s, c.pid)
	// If the restart were lost, clock_nanosleep would return -516 to
	// sleep(1), which fails with "Unknown error 516".
	c.wantExit(t, 0, "sleep 2", "exit 0")

	c, s = seized(t, tr, seizeOpts, unix.SYS_CLOCK_NANOSLEEP, "/bin/sleep", "1000")
	injectSome(t, s, c.pid)
	closeDetach(t, tr, s, c.pid)
	waitSyscall(t, c.pid, unix.SYS_CLOCK_NANOSLEEP, unix.SYS_RESTART_SYSCALL)
	if err := unix.Kill(c.pid, unix.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if ws, err := c.exitStatus(t); err != nil || !ws.Signaled() || ws.Signal() != unix.SIGTERM {
		t.Errorf("sleep 1000 ended with %#x, %v; want killed by our SIGTERM", uint32(ws), err)
	}
}

// A thread interrupted in pause (-ERESTARTNOHAND) goes back into pause
// (the helper exits 99 if pause returns to it) and its handler still runs.
func TestInjectPause(t *testing.T) {
	tr := newTracer(t)
	c, s := seized(t, tr, seizeOpts, unix.SYS_PAUSE, helperPath, "pause")
	injectSome(t, s, c.pid)
	closeDetach(t, tr, s, c.pid)
	waitSyscall(t, c.pid, unix.SYS_PAUSE)
	sigqueue(t, c.pid, 0, unix.SIGUSR1, 7)
	c.wantExit(t, 7, "helper", "exit 7 from its SIGUSR1 handler")
}

func TestInjectMmapMem(t *testing.T) {
	tr := newTracer(t)
	c, s := seized(t, tr, seizeOpts, unix.SYS_CLOCK_NANOSLEEP, "/bin/sleep", "1000")
	ret, err := s.Syscall(unix.SYS_MMAP, 0, 2*pageSize, unix.PROT_READ|unix.PROT_WRITE,
		unix.MAP_PRIVATE|unix.MAP_ANONYMOUS, ^uintptr(0), 0)
	if err != nil {
		t.Fatal(err)
	}
	addr := uint64(ret)
	if !mapsContain(t, c.pid, addr) {
		t.Fatalf("no mapping at %#x in /proc/%d/maps", addr, c.pid)
	}
	want := bytes.Repeat([]byte("ckpt-ptrace!"), 2*pageSize/12)
	if err := WriteMem(c.pid, addr, want); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(want))
	if err := ReadMem(c.pid, addr, got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("read back differs from what was written")
	}
	// Read-only and inaccessible pages: /proc/PID/mem forces its way.
	if _, err := s.Syscall(unix.SYS_MPROTECT, uintptr(addr), pageSize, unix.PROT_READ); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Syscall(unix.SYS_MPROTECT, uintptr(addr+pageSize), pageSize, unix.PROT_NONE); err != nil {
		t.Fatal(err)
	}
	if err := WriteMem(c.pid, addr+10, []byte("RO")); err != nil {
		t.Fatalf("write to a read-only page: %v", err)
	}
	copy(want[10:], "RO")
	clear(got)
	if err := ReadMem(c.pid, addr, got); err != nil {
		t.Fatalf("read across a PROT_NONE page: %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("read back after mprotect differs")
	}
	// The tracee itself sees the bytes: write(2) them to a pipe from there.
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(p[0])
	defer unix.Close(p[1])
	pidfd, err := unix.PidfdOpen(c.pid, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(pidfd)
	// Give the tracee our pipe's write end: pidfd_getfd runs in us, so
	// instead install it there with an injected pidfd_open + pidfd_getfd.
	tfd, err := s.Syscall(unix.SYS_PIDFD_OPEN, uintptr(os.Getpid()), 0)
	if err != nil {
		t.Fatal(err)
	}
	wfd, err := s.Syscall(unix.SYS_PIDFD_GETFD, tfd, uintptr(p[1]), 0)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := s.Syscall(unix.SYS_WRITE, wfd, uintptr(addr), 12); err != nil || n != 12 {
		t.Fatalf("write from the tracee = %d, %v", n, err)
	}
	buf := make([]byte, 12)
	if _, err := unix.Read(p[0], buf); err != nil || !bytes.Equal(buf, want[:12]) {
		t.Errorf("tracee wrote %q, %v; want %q", buf, err, want[:12])
	}
	for _, fd := range []uintptr{wfd, tfd} {
		if _, err := s.Syscall(unix.SYS_CLOSE, fd); err != nil {
			t.Error(err)
		}
	}
	if _, err := s.Syscall(unix.SYS_MUNMAP, uintptr(addr), 2*pageSize); err != nil {
		t.Fatal(err)
	}
	if mapsContain(t, c.pid, addr) {
		t.Errorf("mapping at %#x still there after munmap", addr)
	}
	closeDetach(t, tr, s, c.pid)
	waitSyscall(t, c.pid, unix.SYS_CLOCK_NANOSLEEP, unix.SYS_RESTART_SYSCALL)
}

// The syscall instruction may live in a page the injected syscall unmaps:
// the thread stops at syscall exit and never executes there again.
func TestInjectMunmapInsnPage(t *testing.T) {
	tr := newTracer(t)
	c, s := seized(t, tr, seizeOpts, unix.SYS_CLOCK_NANOSLEEP, "/bin/sleep", "1000")
	vdsoInsn := syscallInsn(t, c.pid)
	ret, err := s.Syscall(unix.SYS_MMAP, 0, pageSize, unix.PROT_READ|unix.PROT_WRITE|unix.PROT_EXEC,
		unix.MAP_PRIVATE|unix.MAP_ANONYMOUS, ^uintptr(0), 0)
	if err != nil {
		t.Fatal(err)
	}
	page := uint64(ret)
	if err := WriteMem(c.pid, page+100, []byte{0x0f, 0x05}); err != nil {
		t.Fatal(err)
	}
	s.SetInsn(page + 100)
	if got, err := s.Syscall(unix.SYS_GETPID); err != nil || int(got) != c.pid {
		t.Fatalf("getpid from our page = %d, %v", got, err)
	}
	if r, err := tr.GetRegs(c.pid); err != nil || r.PC() != page+102 {
		t.Fatalf("after the syscall rip = %#x, %v; want %#x", r.PC(), err, page+102)
	}
	if _, err := s.Syscall(unix.SYS_MUNMAP, uintptr(page), pageSize); err != nil {
		t.Fatalf("munmap of the page holding the syscall insn: %v", err)
	}
	if mapsContain(t, c.pid, page) {
		t.Fatalf("page %#x still mapped", page)
	}
	// Running from the unmapped page would now fault with SIGSEGV; from the
	// vDSO the session carries on.
	s.SetInsn(vdsoInsn)
	if got, err := s.Syscall(unix.SYS_GETTID); err != nil || int(got) != c.pid {
		t.Errorf("gettid after the munmap = %d, %v", got, err)
	}
	closeDetach(t, tr, s, c.pid)
	waitSyscall(t, c.pid, unix.SYS_CLOCK_NANOSLEEP, unix.SYS_RESTART_SYSCALL)
}

// freePid picks a pid nobody uses now, below pid_max (32768 here).
func freePid(t *testing.T) int {
	t.Helper()
	for range 1000 {
		p := 2000 + rand.IntN(30000)
		if _, err := os.Stat("/proc/" + strconv.Itoa(p)); os.IsNotExist(err) {
			return p
		}
	}
	t.Fatal("no free pid found")
	return 0
}

func cloneArgsBytes(t *testing.T, a *kernel.CloneArgs) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := binary.Write(&b, binary.NativeEndian, a); err != nil {
		t.Fatal(err)
	}
	if b.Len() != unix.CLONE_ARGS_SIZE_VER2 {
		t.Fatalf("encoded clone_args is %d bytes, want %d", b.Len(), unix.CLONE_ARGS_SIZE_VER2)
	}
	return b.Bytes()
}

// clone3 with set_tid, injected into a tracee with PTRACE_O_TRACEFORK:
// the new process has the pid we asked for and is attached to us.
func TestInjectClone3SetTid(t *testing.T) {
	tr := newTracer(t)
	opts := seizeOpts | unix.PTRACE_O_TRACECLONE | unix.PTRACE_O_TRACEFORK
	c, s := seized(t, tr, opts, unix.SYS_CLOCK_NANOSLEEP, "/bin/sleep", "1000")
	ret, err := s.Syscall(unix.SYS_MMAP, 0, pageSize, unix.PROT_READ|unix.PROT_WRITE,
		unix.MAP_PRIVATE|unix.MAP_ANONYMOUS, ^uintptr(0), 0)
	if err != nil {
		t.Fatal(err)
	}
	scratch := uint64(ret)
	var newPid int
	for attempt := 0; ; attempt++ {
		want := freePid(t)
		if err := WriteMem(c.pid, scratch+256, binary.NativeEndian.AppendUint32(nil, uint32(want))); err != nil {
			t.Fatal(err)
		}
		args := cloneArgsBytes(t, &kernel.CloneArgs{ExitSignal: uint64(unix.SIGCHLD), SetTid: scratch + 256, SetTidSize: 1})
		if err := WriteMem(c.pid, scratch, args); err != nil {
			t.Fatal(err)
		}
		got, err := s.Syscall(unix.SYS_CLONE3, uintptr(scratch), uintptr(len(args)))
		if errors.Is(err, unix.EEXIST) && attempt < 5 {
			continue // someone took it meanwhile
		}
		if err != nil {
			t.Fatal(err)
		}
		if int(got) != want || s.LastChild() != want {
			t.Fatalf("clone3 returned %d, LastChild %d; want pid %d", got, s.LastChild(), want)
		}
		newPid = want
		break
	}
	t.Cleanup(func() { _ = tr.Kill(newPid); reap(newPid) })

	// Attached for us: SeizeStop only collects its first stop.
	if err := tr.SeizeStop(newPid, opts); err != nil {
		t.Fatal(err)
	}
	if got := statusField(t, newPid, "TracerPid"); got != strconv.Itoa(tr.thread) {
		t.Errorf("new process TracerPid = %s, want %d", got, tr.thread)
	}
	if got := statusField(t, newPid, "PPid"); got != strconv.Itoa(c.pid) {
		t.Errorf("new process PPid = %s, want %d", got, c.pid)
	}
	r, err := tr.GetRegs(newPid)
	if err != nil {
		t.Fatal(err)
	}
	if r.SyscallNo() != unix.SYS_CLONE3 || r.Ret() != 0 {
		t.Errorf("new process orig_rax=%d rax=%d, want clone3 returning 0", r.SyscallNo(), r.Ret())
	}
	// The parent is still ours to inject into.
	if got, err := s.Syscall(unix.SYS_GETPID); err != nil || int(got) != c.pid {
		t.Errorf("getpid in the parent = %d, %v", got, err)
	}
	if s.LastChild() != 0 {
		t.Errorf("LastChild after getpid = %d, want 0", s.LastChild())
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := tr.Kill(newPid); err != nil {
		t.Fatal(err)
	}
	if err := tr.Kill(c.pid); err != nil {
		t.Fatal(err)
	}
	// The new process's zombie came to us, the subreaper, with its parent's death.
	reap(newPid)
	if _, err := os.Stat("/proc/" + strconv.Itoa(newPid)); !os.IsNotExist(err) {
		t.Errorf("pid %d still exists: %v", newPid, err)
	}
}

// reap collects pid if it is (or becomes) our child.
func reap(pid int) {
	var ws unix.WaitStatus
	for {
		_, err := unix.Wait4(pid, &ws, unix.WALL, nil)
		if err != unix.EINTR {
			return
		}
	}
}

// Resumed with Cont instead of Detach, the thread still completes its
// interrupted sleep: Finish leaves it where the kernel's restart logic runs.
func TestInjectThenCont(t *testing.T) {
	tr := newTracer(t)
	c, s := seized(t, tr, seizeOpts, unix.SYS_CLOCK_NANOSLEEP, "/bin/sleep", "1")
	injectSome(t, s, c.pid)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := tr.Cont(c.pid, 0); err != nil {
		t.Fatal(err)
	}
	// Still traced: the Tracer collects (and, as its parent's group, reaps) it.
	ws, err := tr.Wait(c.pid)
	c.waited = true
	if err != nil {
		t.Fatal(err)
	}
	if !ws.Exited() || ws.ExitStatus() != 0 {
		t.Errorf("sleep 1 ended with %#x, want exit 0", uint32(ws))
	}
}
