package restore

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
	"github.com/ckpt/ckpt/internal/kernel"
	"github.com/ckpt/ckpt/internal/proc"
)

// addTaskProc takes the TASK_PROC record of the current task.
func (rs *restorer) addTaskProc(t *taskPlan, x *image.TaskProc) error {
	switch {
	case t.taskProc != nil:
		return badImage("a second TASK_PROC for task %d", t.rec.Pid)
	case x.OomScoreAdj < -1000 || x.OomScoreAdj > 1000:
		return badImage("TASK_PROC of task %d: oom_score_adj %d is out of range", t.rec.Pid, x.OomScoreAdj)
	case x.Flags&^image.TaskProcAll != 0:
		return badImage("TASK_PROC of task %d: unknown flags %#x", t.rec.Pid, x.Flags&^image.TaskProcAll)
	case x.Membarrier&^image.MembarrierAll != 0:
		return badImage("TASK_PROC of task %d: unknown membarrier registrations %#x", t.rec.Pid, x.Membarrier&^image.MembarrierAll)
	}
	t.taskProc = x
	return nil
}

// addExitSignals takes the EXIT_SIGNALS record: after the PSTREE, before
// the first TASK and before any task is born.
func (rs *restorer) addExitSignals(es *image.ExitSignals) error {
	if !rs.tree || rs.cur != nil || rs.made {
		return badImage("EXIT_SIGNALS out of place: it follows the PSTREE, once, before the first TASK")
	}
	for _, e := range es.Tasks {
		t := rs.byPid[e.Pid]
		switch {
		case t == nil:
			return badImage("EXIT_SIGNALS names task %d, which is not in the PSTREE", e.Pid)
		case t == rs.plans[0]:
			return badImage("EXIT_SIGNALS names the first task %d: its parent is outside", e.Pid)
		case t.hasExitSignal:
			return badImage("EXIT_SIGNALS names task %d twice", e.Pid)
		case e.Signal > 64:
			return badImage("EXIT_SIGNALS: task %d has exit signal %d", e.Pid, e.Signal)
		}
		t.exitSignal, t.hasExitSignal = e.Signal, true
	}
	return nil
}

// membarrierOrder registers the global expedited kind first; the order of
// the private ones does not matter.
var membarrierOrder = []struct {
	bit uint32
	cmd uintptr
}{
	{image.MembarrierGlobalExpedited, kernel.MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED},
	{image.MembarrierPrivateExpedited, kernel.MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED},
	{image.MembarrierPrivateExpeditedSyncCore, kernel.MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE},
	{image.MembarrierPrivateExpeditedRseq, kernel.MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ},
}

// restoreTaskProc restores the settings of its TASK_PROC: the OOM score
// adjustment; while the task still has the restorer's credentials, the
// audit login uid (CAP_AUDIT_CONTROL), before its threads exist, which
// inherit it; the child-subreaper flag; the membarrier registrations,
// THP and KSM settings of its mm. Images without TASK_PROC leave the
// task as it was born.
func (rs *restorer) restoreTaskProc(t *taskPlan) error {
	tp := t.taskProc
	if tp == nil {
		return nil
	}
	lt := t.leader
	defer lt.Reset()
	if err := restoreOomScoreAdj(t.pid, tp.OomScoreAdj); err != nil {
		return fmt.Errorf("oom_score_adj %d: %w", tp.OomScoreAdj, err)
	}
	if err := restoreLeaderSettings(t.pid, tp); err != nil {
		return err
	}
	if err := rs.restoreLoginUid(t, tp.LoginUid); err != nil {
		return fmt.Errorf("audit login uid %d: %w", tp.LoginUid, err)
	}
	if tp.Flags&image.TaskProcSubreaper != 0 {
		if _, err := lt.Syscall(unix.SYS_PRCTL, unix.PR_SET_CHILD_SUBREAPER, 1); err != nil {
			return fmt.Errorf("prctl(PR_SET_CHILD_SUBREAPER): %w", err)
		}
	}
	// The rest belongs to the mm: the task that owns it sets it.
	if t.shares&image.ShareVM != 0 {
		return nil
	}
	for _, m := range membarrierOrder {
		if tp.Membarrier&m.bit == 0 {
			continue
		}
		if _, err := lt.Syscall(unix.SYS_MEMBARRIER, m.cmd, 0, 0); err != nil {
			return fmt.Errorf("membarrier(register %#x): %w", m.cmd, err)
		}
	}
	if err := writeProcIfDiffers(t.pid, "coredump_filter", fmt.Sprintf("%#x", tp.CoredumpFilter), func(cur string) bool {
		v, err := strconv.ParseUint(cur, 16, 32)
		return err == nil && uint32(v) == tp.CoredumpFilter
	}); err != nil {
		return err
	}
	if tp.Flags&image.TaskProcThpDisable != 0 {
		if _, err := lt.Syscall(unix.SYS_PRCTL, unix.PR_SET_THP_DISABLE, 1, 0, 0, 0); err != nil {
			return fmt.Errorf("prctl(PR_SET_THP_DISABLE): %w", err)
		}
	}
	if tp.Flags&image.TaskProcMemoryMerge != 0 {
		if _, err := lt.Syscall(unix.SYS_PRCTL, unix.PR_SET_MEMORY_MERGE, 1, 0, 0, 0); err != nil {
			return fmt.Errorf("prctl(PR_SET_MEMORY_MERGE): %w", err)
		}
	}
	return nil
}

// restoreLoginUid sets the task's audit login uid unless it already has
// it (inherited from the restorer). Only the task itself may write its
// loginuid (fs/proc/base.c: proc_loginuid_write() wants current to be the
// file's task), so the task opens /proc/self/loginuid in its own mount
// namespace and writes it; its threads, made later, inherit it.
func (rs *restorer) restoreLoginUid(t *taskPlan, uid uint32) error {
	cur, err := proc.ReadInt(t.pid, "loginuid")
	if errors.Is(err, os.ErrNotExist) {
		if uid == ^uint32(0) {
			return nil
		}
		return fmt.Errorf("this kernel has no audit login uid (CONFIG_AUDIT)")
	}
	if err != nil {
		return err
	}
	if uint32(cur) == uid {
		return nil
	}
	lt := t.leader
	defer lt.Reset()
	const path = "/proc/self/loginuid"
	name, err := lt.Put(append([]byte(path), 0))
	if err != nil {
		return err
	}
	fd, err := lt.Syscall(unix.SYS_OPENAT, atFdcwd, uintptr(name), unix.O_WRONLY|unix.O_CLOEXEC)
	if err != nil {
		return fmt.Errorf("open %s in the task (its mount namespace needs a /proc of its pid namespace): %w", path, err)
	}
	defer func() { _, _ = lt.Syscall(unix.SYS_CLOSE, fd) }()
	s := strconv.FormatUint(uint64(uid), 10)
	buf, err := lt.Put([]byte(s))
	if err != nil {
		return err
	}
	if _, err := lt.Syscall(unix.SYS_WRITE, fd, uintptr(buf), uintptr(len(s))); err != nil {
		return fmt.Errorf("write %s to %s: %w", s, path, err)
	}
	return nil
}

// restoreOomScoreAdj writes /proc/PID/oom_score_adj from the restorer. A
// writer with CAP_SYS_RESOURCE also sets the floor an unprivileged task
// may later lower its score back to (oom_score_adj_min, which /proc does
// not show), so the first write is made from a thread of ours without
// that capability: it succeeds unless the value is below the floor the
// task inherited, which only a privileged writer could have set; then it
// is written with the capability, as it was.
func restoreOomScoreAdj(pid int, v int32) error {
	cur, err := proc.ReadInt(pid, "oom_score_adj")
	if err != nil {
		return err
	}
	if int32(cur) == v {
		return nil
	}
	path := fmt.Sprintf("/proc/%d/oom_score_adj", pid)
	s := []byte(strconv.Itoa(int(v)))
	err = withoutCap(unix.CAP_SYS_RESOURCE, func() error { return os.WriteFile(path, s, 0) })
	if errors.Is(err, unix.EACCES) {
		err = os.WriteFile(path, s, 0)
	}
	return err
}

// withoutCap runs fn on a thread of its own whose effective capabilities
// lack c. Credentials are per thread; the thread is locked and never
// unlocked, so the Go runtime ends it instead of reusing it.
func withoutCap(c int, fn func() error) error {
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
		var data [2]unix.CapUserData
		if err := unix.Capget(&hdr, &data[0]); err != nil {
			done <- fmt.Errorf("capget: %w", err)
			return
		}
		data[c/32].Effective &^= 1 << (c % 32)
		if err := unix.Capset(&hdr, &data[0]); err != nil {
			done <- fmt.Errorf("capset: %w", err)
			return
		}
		done <- fn()
	}()
	return <-done
}

// restoreLeaderSettings sets the leader's timer slack and I/O priority
// from the restorer, before its threads are made: a new thread starts
// with its creator's (only the leader's are in the image).
func restoreLeaderSettings(pid int, tp *image.TaskProc) error {
	slack := strconv.FormatUint(tp.TimerSlackNs, 10)
	if err := writeProcIfDiffers(pid, "timerslack_ns", slack, func(cur string) bool { return cur == slack }); err != nil {
		return err
	}
	cur, err := kernel.IoprioGet(pid)
	if err != nil {
		return err
	}
	if cur != tp.IoPrio {
		if err := kernel.IoprioSet(pid, tp.IoPrio); err != nil {
			return fmt.Errorf("I/O priority %#x: %w", tp.IoPrio, err)
		}
	}
	return nil
}

// writeProcIfDiffers writes s to /proc/PID/name from the restorer unless
// same says the file already holds it.
func writeProcIfDiffers(pid int, name, s string, same func(cur string) bool) error {
	path := fmt.Sprintf("/proc/%d/%s", pid, name)
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if same(strings.TrimSpace(string(b))) {
		return nil
	}
	if err := os.WriteFile(path, []byte(s), 0); err != nil {
		return fmt.Errorf("%s %s: %w", name, s, err)
	}
	return nil
}

// detachSignal is the signal thread i of t is let go with: SIGSTOP for
// the leader of a task that was in a job-control stop. The tracer
// delivers it from a signal-delivery stop, before the thread runs any
// instruction of its own, so the task enters its group stop there (and
// its other threads with it); its parent is told (SIGCHLD with
// CLD_STOPPED, a WUNTRACED wait) as it was when it first stopped.
func detachSignal(t *taskPlan, i int) int {
	if i == 0 && t.taskProc != nil && t.taskProc.Flags&image.TaskProcStopped != 0 {
		return int(unix.SIGSTOP)
	}
	return 0
}

// waitStopped waits, briefly, until every task let go with SIGSTOP shows
// its stop, so that whoever looks once restore returns sees it stopped.
func (rs *restorer) waitStopped() {
	var pids []int
	for _, t := range rs.plans {
		if !t.zombie && detachSignal(t, 0) != 0 {
			pids = append(pids, t.pid)
		}
	}
	if len(pids) > 0 && !proc.WaitState(pids, 'T', stopWait) {
		rs.log.Warn("a task restored stopped has not stopped yet", "pids", pids)
	}
}

// stopWait bounds waitStopped: a task takes a pending SIGSTOP as soon as
// it is scheduled.
const stopWait = 2 * time.Second
