package proc

import (
	"os"
	"runtime"
	"slices"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

func TestStatCommWithParens(t *testing.T) {
	// 15 bytes, the most comm holds: spaces and parentheses on both sides.
	const comm = "a) b (c) ) x( )"
	h := startHelper(t, "comm", comm, nil)
	st, err := ReadStat(h.pid)
	if err != nil {
		t.Fatal(err)
	}
	if st.Comm != comm || st.Pid != h.pid || st.PPid != os.Getpid() {
		t.Errorf("stat: comm %q pid %d ppid %d", st.Comm, st.Pid, st.PPid)
	}
	status, err := ReadStatus(h.pid)
	if err != nil {
		t.Fatal(err)
	}
	if status.Name != comm || status.Threads < 2 {
		t.Errorf("status: name %q threads %d", status.Name, status.Threads)
	}
	// The leader's comm changed; the other threads kept theirs.
	tids, err := Tasks(h.pid)
	if err != nil {
		t.Fatal(err)
	}
	if tids[0] != h.pid || len(tids) < 2 {
		t.Fatalf("tasks %v", tids)
	}
	ts, err := ReadTaskStat(h.pid, tids[1])
	if err != nil {
		t.Fatal(err)
	}
	if ts.Pid != tids[1] || ts.Comm == comm {
		t.Errorf("thread stat: pid %d comm %q", ts.Pid, ts.Comm)
	}
}

func TestStatSelf(t *testing.T) {
	pid := os.Getpid()
	st, err := ReadStat(pid)
	if err != nil {
		t.Fatal(err)
	}
	sid, _ := unix.Getsid(0)
	if st.Pid != pid || st.PPid != os.Getppid() || st.Pgrp != unix.Getpgrp() || st.Session != sid {
		t.Errorf("ids: %+v", st)
	}
	// The thread reading its own stat is running.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	ts, err := ReadTaskStat(pid, unix.Gettid())
	if err != nil {
		t.Fatal(err)
	}
	if ts.State != 'R' || ts.Pid != unix.Gettid() || ts.Processor < 0 || ts.Processor >= runtime.NumCPU() {
		t.Errorf("own thread: state %c pid %d cpu %d", ts.State, ts.Pid, ts.Processor)
	}
	// The argument and environment areas are exactly what cmdline and
	// environ read back, and the entry point lies in the code segment.
	cmdline, err := os.ReadFile("/proc/self/cmdline")
	if err != nil {
		t.Fatal(err)
	}
	environ, err := os.ReadFile("/proc/self/environ")
	if err != nil {
		t.Fatal(err)
	}
	if st.ArgEnd-st.ArgStart != uint64(len(cmdline)) || st.EnvEnd-st.EnvStart != uint64(len(environ)) || st.EnvStart < st.ArgEnd {
		t.Errorf("arg %#x-%#x (cmdline %d bytes), env %#x-%#x (environ %d bytes)",
			st.ArgStart, st.ArgEnd, len(cmdline), st.EnvStart, st.EnvEnd, len(environ))
	}
	auxv, err := Auxv(pid)
	if err != nil {
		t.Fatal(err)
	}
	entry := auxval(auxv, atEntry)
	if entry < st.StartCode || entry >= st.EndCode {
		t.Errorf("AT_ENTRY %#x outside code %#x-%#x", entry, st.StartCode, st.EndCode)
	}
	if st.ExitSignal != int(unix.SIGCHLD) || st.NumThreads < 2 || st.Vsize == 0 || st.Rss <= 0 {
		t.Errorf("exit signal %d, threads %d, vsize %d, rss %d", st.ExitSignal, st.NumThreads, st.Vsize, st.Rss)
	}
}

func TestStatusCredsAndCaps(t *testing.T) {
	s, err := ReadStatus(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if s.Pid != os.Getpid() || s.Tgid != os.Getpid() || s.PPid != os.Getppid() || s.TracerPid != 0 {
		t.Errorf("ids: %+v", s)
	}
	r, e, sv := unix.Getresuid()
	rg, eg, sg := unix.Getresgid()
	// setfsuid(-1) changes nothing and returns the current fsuid.
	fsu, _ := unix.SetfsuidRetUid(-1)
	fsg, _ := unix.SetfsgidRetGid(-1)
	wantUid := [4]uint32{uint32(r), uint32(e), uint32(sv), uint32(fsu)}
	wantGid := [4]uint32{uint32(rg), uint32(eg), uint32(sg), uint32(fsg)}
	if s.Uid != wantUid || s.Gid != wantGid {
		t.Errorf("uid %v gid %v, want %v %v", s.Uid, s.Gid, wantUid, wantGid)
	}
	groups, err := unix.Getgroups()
	if err != nil {
		t.Fatal(err)
	}
	var want []uint32
	for _, g := range groups {
		want = append(want, uint32(g))
	}
	if !slices.Equal(s.Groups, want) {
		t.Errorf("groups %v, want %v", s.Groups, want)
	}
	if !slices.Equal(s.NStgid, []int{os.Getpid()}) || !slices.Equal(s.NSpid, []int{os.Getpid()}) ||
		!slices.Equal(s.NSpgid, []int{unix.Getpgrp()}) {
		t.Errorf("ns ids %v %v %v", s.NStgid, s.NSpid, s.NSpgid)
	}
	// capget(2) is the kernel's own answer for this thread.
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		t.Fatal(err)
	}
	join := func(lo, hi uint32) uint64 { return uint64(lo) | uint64(hi)<<32 }
	if s.CapEff != join(data[0].Effective, data[1].Effective) || s.CapPrm != join(data[0].Permitted, data[1].Permitted) ||
		s.CapInh != join(data[0].Inheritable, data[1].Inheritable) {
		t.Errorf("caps eff %#x prm %#x inh %#x, capget %+v", s.CapEff, s.CapPrm, s.CapInh, data)
	}
	var bnd, amb uint64
	for c := range 64 {
		if ok, err := unix.PrctlRetInt(unix.PR_CAPBSET_READ, uintptr(c), 0, 0, 0); err == nil && ok == 1 {
			bnd |= 1 << c
		}
		if ok, err := unix.PrctlRetInt(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_IS_SET, uintptr(c), 0, 0); err == nil && ok == 1 {
			amb |= 1 << c
		}
	}
	if s.CapBnd != bnd || s.CapAmb != amb {
		t.Errorf("bounding %#x ambient %#x, prctl says %#x %#x", s.CapBnd, s.CapAmb, bnd, amb)
	}
	if s.CpusAllowedList == "" {
		t.Error("no Cpus_allowed_list")
	}
}

func TestStatusSignalMask(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	tid := unix.Gettid()
	var set, old unix.Sigset_t
	set.Val[0] = 1<<(unix.SIGUSR1-1) | 1<<(unix.SIGWINCH-1)
	if err := unix.PthreadSigmask(unix.SIG_BLOCK, &set, &old); err != nil {
		t.Fatal(err)
	}
	defer unix.PthreadSigmask(unix.SIG_SETMASK, &old, nil)
	// A blocked signal sent to this thread stays pending on it.
	if err := unix.Tgkill(os.Getpid(), tid, unix.SIGWINCH); err != nil {
		t.Fatal(err)
	}
	s, err := ReadTaskStatus(os.Getpid(), tid)
	if err != nil {
		t.Fatal(err)
	}
	if s.Pid != tid || s.Tgid != os.Getpid() {
		t.Errorf("pid %d tgid %d, want %d %d", s.Pid, s.Tgid, tid, os.Getpid())
	}
	if want := old.Val[0] | set.Val[0]; s.SigBlk != want {
		t.Errorf("SigBlk %#x, want %#x", s.SigBlk, want)
	}
	// Go's preemption signal, SIGURG, may be on its way to this thread too.
	if s.SigPnd&^(1<<(unix.SIGURG-1)) != 1<<(unix.SIGWINCH-1) {
		t.Errorf("SigPnd %#x, want SIGWINCH", s.SigPnd)
	}
	st, err := ReadTaskStat(os.Getpid(), tid)
	if err != nil {
		t.Fatal(err)
	}
	if st.Blocked != s.SigBlk&0x7fffffff || st.Pid != tid {
		t.Errorf("stat blocked %#x pid %d, status %#x", st.Blocked, st.Pid, s.SigBlk)
	}
	// Consume the pending signal before unblocking.
	set.Val[0] = 1 << (unix.SIGWINCH - 1)
	if _, err := sigtimedwait(&set); err != nil {
		t.Fatal(err)
	}
}

func TestStatusSecureChild(t *testing.T) {
	h := startHelper(t, "secure", "", nil)
	s, err := ReadStatus(h.pid)
	if err != nil {
		t.Fatal(err)
	}
	if s.NoNewPrivs != 1 || s.Seccomp != 2 || s.SeccompFilters != 1 || s.Umask != 0o027 {
		t.Errorf("nnp %d seccomp %d filters %d umask %#o", s.NoNewPrivs, s.Seccomp, s.SeccompFilters, s.Umask)
	}
	if s.SigIgn&(1<<(unix.SIGUSR2-1)) == 0 {
		t.Errorf("SigIgn %#x lacks SIGUSR2", s.SigIgn)
	}
	if s.SigCgt&(1<<(unix.SIGUSR2-1)) != 0 || s.SigCgt&(1<<(unix.SIGURG-1)) == 0 {
		t.Errorf("SigCgt %#x: want SIGURG (Go's preemption signal) caught, SIGUSR2 not", s.SigCgt)
	}
	st, err := ReadStat(h.pid)
	if err != nil {
		t.Fatal(err)
	}
	// stat shows only signals 1-31 (fs/proc/array.c:do_task_stat()).
	if st.SigIgnore != s.SigIgn&0x7fffffff || st.SigCatch != s.SigCgt&0x7fffffff {
		t.Errorf("stat sigignore %#x sigcatch %#x, status %#x %#x", st.SigIgnore, st.SigCatch, s.SigIgn, s.SigCgt)
	}
}

func TestStatusPidNamespace(t *testing.T) {
	h := startHelper(t, "idle", "", &syscall.SysProcAttr{Cloneflags: unix.CLONE_NEWPID})
	s, err := ReadStatus(h.pid)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(s.NSpid, []int{h.pid, 1}) || !slices.Equal(s.NStgid, []int{h.pid, 1}) ||
		!slices.Equal(s.NSsid, []int{s.NSsid[0], 0}) || s.Pid != h.pid {
		t.Errorf("NSpid %v NStgid %v NSsid %v pid %d, want the outer pid then 1", s.NSpid, s.NStgid, s.NSsid, s.Pid)
	}
}
