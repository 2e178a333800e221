package checkpoint

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
	"github.com/ckpt/ckpt/internal/kernel"
	"github.com/ckpt/ckpt/internal/proc"
	"github.com/ckpt/ckpt/internal/remote"
)

// collectTaskProc fills the TASK_PROC record: what /proc shows of the OOM
// adjustment and the audit login uid, and what only the task can ask: its
// child-subreaper flag and its membarrier registrations. The job-control
// stop is the state /proc/PID/stat showed before the task was seized (a
// traced task shows 't' whatever it was doing); a SIGCONT between that
// look and the seizure goes unseen.
func (d *dumper) collectTaskProc(p *process, rt *remote.Task) error {
	defer rt.Reset()
	if err := d.refuseNamespaces(p); err != nil {
		return err
	}
	tp := &p.taskProc
	oom, err := proc.ReadInt(p.pid, "oom_score_adj")
	if err != nil {
		return err
	}
	tp.OomScoreAdj = int32(oom)
	// Without CONFIG_AUDIT there is no loginuid: it is then the unset
	// value, which is what a restored task has too.
	tp.LoginUid = ^uint32(0)
	if uid, err := proc.ReadInt(p.pid, "loginuid"); err == nil {
		tp.LoginUid = uint32(uid)
	} else if !errors.Is(err, unix.ENOENT) {
		return err
	}
	slack, err := proc.ReadInt(p.pid, "timerslack_ns")
	if err != nil {
		return err
	}
	tp.TimerSlackNs = uint64(slack)
	if tp.IoPrio, err = kernel.IoprioGet(p.pid); err != nil {
		return err
	}
	if p.stopped {
		tp.Flags |= image.TaskProcStopped
	}
	buf, err := rt.Alloc(8)
	if err != nil {
		return err
	}
	if _, err := rt.Syscall(unix.SYS_PRCTL, unix.PR_GET_CHILD_SUBREAPER, uintptr(buf)); err != nil {
		return fmt.Errorf("prctl(PR_GET_CHILD_SUBREAPER): %w", err)
	}
	var v [4]byte
	if err := rt.Read(buf, v[:]); err != nil {
		return err
	}
	if binary.LittleEndian.Uint32(v[:]) != 0 {
		tp.Flags |= image.TaskProcSubreaper
	}
	if p.shares&image.ShareVM != 0 {
		return nil // the mm's settings are the parent's
	}
	if tp.Membarrier, err = membarrierRegistrations(p.pid, rt); err != nil {
		return err
	}
	filter, err := proc.ReadHex(p.pid, "coredump_filter")
	if err != nil {
		return err
	}
	tp.CoredumpFilter = uint32(filter)
	thp, err := rt.Syscall(unix.SYS_PRCTL, unix.PR_GET_THP_DISABLE)
	if err != nil {
		return fmt.Errorf("prctl(PR_GET_THP_DISABLE): %w", err)
	}
	switch thp {
	case 0:
	case 1:
		tp.Flags |= image.TaskProcThpDisable
	default:
		return unsupported(p.pid, "transparent huge pages", "PR_GET_THP_DISABLE mode %#x (not plain disabled)", thp)
	}
	// Without CONFIG_KSM the prctl fails: nothing to save.
	if merge, err := rt.Syscall(unix.SYS_PRCTL, unix.PR_GET_MEMORY_MERGE); err == nil && merge != 0 {
		tp.Flags |= image.TaskProcMemoryMerge
	}
	return nil
}

// membarrierRegistrations asks the task which membarrier(2) registrations
// its mm holds. MEMBARRIER_CMD_GET_REGISTRATIONS (Linux 6.3) tells them
// all. Before it, the private expedited ones are told by running their
// command, which fails with EPERM unless registered (a barrier costs the
// task nothing); a global expedited registration cannot be seen there
// (docs/state.md says so).
func membarrierRegistrations(pid int, rt *remote.Task) (uint32, error) {
	regs, err := rt.Syscall(unix.SYS_MEMBARRIER, kernel.MEMBARRIER_CMD_GET_REGISTRATIONS, 0, 0)
	if err == nil {
		if uint32(regs)&^image.MembarrierAll != 0 {
			return 0, unsupported(pid, "membarrier", "registrations %#x include ones this version does not know", regs)
		}
		return uint32(regs), nil
	}
	if !errors.Is(err, unix.EINVAL) {
		return 0, fmt.Errorf("membarrier(MEMBARRIER_CMD_GET_REGISTRATIONS): %w", err)
	}
	var out uint32
	for _, c := range []struct {
		cmd uintptr
		bit uint32
	}{
		{kernel.MEMBARRIER_CMD_PRIVATE_EXPEDITED, image.MembarrierPrivateExpedited},
		{kernel.MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE, image.MembarrierPrivateExpeditedSyncCore},
		{kernel.MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ, image.MembarrierPrivateExpeditedRseq},
	} {
		_, err := rt.Syscall(unix.SYS_MEMBARRIER, c.cmd, 0, 0)
		switch {
		case err == nil:
			out |= c.bit
		case errors.Is(err, unix.EPERM), errors.Is(err, unix.EINVAL):
			// Not registered, or not supported by this kernel.
		default:
			return 0, fmt.Errorf("membarrier(%#x): %w", c.cmd, err)
		}
	}
	return out, nil
}

// refuseNamespaces refuses a task in a user or time namespace other than
// the checkpointer's: restore makes neither, so the task would come back
// with other credentials mapped, or other clocks, in silence. A container
// is rebuilt from its bundle, which makes its namespaces: not refused.
func (d *dumper) refuseNamespaces(p *process) error {
	if d.opts.Container != nil {
		return nil
	}
	for _, ns := range []struct{ kind, why string }{
		{"user", "its uid and gid mappings would be the restorer's"},
		{"time", "its clock offsets would be lost"},
	} {
		if l := nsLink(p.pid, ns.kind); l != "" && l != nsLink(os.Getpid(), ns.kind) {
			return unsupported(p.pid, ns.kind+" namespace "+l, "a %s namespace other than the checkpointer's is not supported yet: %s", ns.kind, ns.why)
		}
	}
	return nil
}

// exitSignalsRecord lists the tasks whose exit signal is not SIGCHLD (nil
// if none): restore gives each its own at birth.
func exitSignalsRecord(t *tree) *image.ExitSignals {
	var es image.ExitSignals
	for i, p := range t.procs {
		if i > 0 && p.stat.ExitSignal != int(unix.SIGCHLD) {
			es.Tasks = append(es.Tasks, image.TaskExitSignal{Pid: p.task.Pid, Signal: uint32(p.stat.ExitSignal)})
		}
	}
	if len(es.Tasks) == 0 {
		return nil
	}
	return &es
}
