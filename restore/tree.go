package restore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
	"github.com/ckpt/ckpt/internal/addrspace"
	"github.com/ckpt/ckpt/internal/kernel"
	"github.com/ckpt/ckpt/internal/ptrace"
	"github.com/ckpt/ckpt/internal/remote"
)

// Options for every task we trace while restoring: syscall stops are told
// apart from signal stops, children and threads made by injected clone3
// are traced from birth, all of them die if the restorer dies, and (when
// we may) the seccomp filters restore installs do not apply to the
// syscalls it injects after them.
var traceOpts = unix.PTRACE_O_TRACESYSGOOD | unix.PTRACE_O_TRACECLONE |
	unix.PTRACE_O_TRACEFORK | unix.PTRACE_O_TRACEVFORK | unix.PTRACE_O_EXITKILL |
	ptrace.SuspendSeccomp()

// ctlPidfdFd is where the stub, and so every task, finds the pidfd of the
// restorer (the stub's first extra file).
const ctlPidfdFd = stubFirstFd

// createTree makes every task of the PSTREE as a copy of one stub, each
// with its original pid: the root with clone3 from the stub (as pid 1 of a
// new pid namespace if it was an init), every other task with clone3 from
// its parent, which is still a stub too. Sessions are made as their leaders
// are born, so that children inherit them; process groups once every task
// exists; zombies exit last, with their saved status.
func (rs *restorer) createTree() error {
	root := rs.plans[0]
	pidfd, err := unix.PidfdOpen(os.Getpid(), 0)
	if err != nil {
		return fmt.Errorf("pidfd_open(self): %w", err)
	}
	rs.ctlPidfd = os.NewFile(uintptr(pidfd), "ckpt-restore-pidfd")
	base := addrspace.FindGap(stubPages*pageSize, imageRanges(root.vmas))
	if base == 0 {
		return fmt.Errorf("no room for the stub")
	}
	var s *stub
	if rs.opts.Adopt != nil {
		s, err = rs.adoptStub(base)
	} else {
		s, err = startStub(base, []*os.File{rs.ctlPidfd})
	}
	if err != nil {
		return err
	}
	defer s.kill()
	if err := rs.tr.SeizeStop(s.pid(), traceOpts); err != nil {
		return fmt.Errorf("seize stub %d: %w", s.pid(), err)
	}
	if rs.opts.Adopt != nil {
		// The stub is the container's init: it becomes the root task.
		root.pid = s.pid()
		return rs.createRest(root, base, s)
	}
	st, err := remote.New(rs.tr, s.pid(), s.syscallAddr())
	if err != nil {
		return err
	}
	st.UseScratch(base+pageSize, pageSize)
	pidnsInit := root.rec.Flags&image.TaskFlagPidnsInit != 0
	flags, tid := uint64(unix.CLONE_PARENT), root.rec.Pid
	if root.rec.Flags&image.TaskFlagMntns != 0 {
		flags |= unix.CLONE_NEWNS
	}
	if root.rec.Flags&image.TaskFlagUtsns != 0 {
		if rs.uts == nil {
			return badImage("the first task had its own UTS namespace, but the image has no UTS record")
		}
		flags |= unix.CLONE_NEWUTS
	}
	if pidnsInit {
		flags |= unix.CLONE_NEWPID
		tid = 1
	} else if err := rs.pidFree(root.rec.Pid); err != nil {
		return err
	}
	if root.pid, err = rs.cloneTask(st, flags, tid); err != nil {
		return fmt.Errorf("task %d: %w", root.rec.Pid, err)
	}
	_ = st.Close()
	return rs.createRest(root, base, s)
}

// createRest makes every task but the root, which exists, from the root
// down, sets their groups and ends the zombies.
func (rs *restorer) createRest(root *taskPlan, base uint64, s *stub) error {
	newTask := func(t *taskPlan) error {
		var err error
		if t.leader, err = remote.New(rs.tr, t.pid, s.syscallAddr()); err != nil {
			return err
		}
		t.leader.UseScratch(base+pageSize, pageSize)
		t.ctlPidfd = ctlPidfdFd
		if t.rec.Sid == t.rec.Pid && !rs.sessionLeader(t) {
			if _, err := t.leader.Syscall(unix.SYS_SETSID); err != nil {
				return fmt.Errorf("setsid: %w", err)
			}
		}
		return nil
	}
	if err := newTask(root); err != nil {
		return fmt.Errorf("task %d: %w", root.rec.Pid, err)
	}
	if err := rs.setupMntnsOrAdopted(root); err != nil {
		return fmt.Errorf("task %d: mount namespace: %w", root.rec.Pid, err)
	}
	if err := rs.setupUtsns(root); err != nil {
		return fmt.Errorf("task %d: UTS namespace: %w", root.rec.Pid, err)
	}
	if err := rs.enterNamespaces(root); err != nil {
		return fmt.Errorf("task %d: %w", root.rec.Pid, err)
	}
	if err := rs.takeCtty(root); err != nil {
		return fmt.Errorf("task %d: controlling terminal: %w", root.rec.Pid, err)
	}
	if err := rs.planHelpers(); err != nil {
		return err
	}
	rs.planLate() // mm_fork.go
	// A task is born from its parent, or from a helper (see helpers.go),
	// which may have to be born first.
	var ensure func(t *taskPlan) error
	ensure = func(t *taskPlan) error {
		if t.pid != 0 || t.late {
			return nil // born, or to be born when its section starts (mm_fork.go)
		}
		c := rs.creator[t]
		if err := ensure(c); err != nil {
			return err
		}
		sig := uint64(unix.SIGCHLD)
		if t.hasExitSignal {
			sig = uint64(t.exitSignal)
		}
		sig |= uint64(t.shares)
		if t.helper != helperNone {
			sig = 0
		}
		var err error
		if t.pid, err = rs.cloneTask(c.leader, sig, t.rec.Pid); err != nil {
			return fmt.Errorf("task %d (born from %d): %w", t.rec.Pid, c.rec.Pid, err)
		}
		if err := newTask(t); err != nil {
			return fmt.Errorf("task %d: %w", t.rec.Pid, err)
		}
		if err := rs.takeCtty(t); err != nil {
			return fmt.Errorf("task %d: controlling terminal: %w", t.rec.Pid, err)
		}
		return nil
	}
	for _, t := range rs.plans[1:] {
		if err := ensure(t); err != nil {
			return err
		}
	}
	// A group helper no task is born from (its group's members are all
	// children of their own parents, or zombies) is still needed: it makes
	// the group that setGroups puts them in.
	for _, h := range rs.helpers {
		if err := ensure(h); err != nil {
			return err
		}
	}
	if err := rs.setGroups(); err != nil {
		return err
	}
	if err := rs.setForegrounds(); err != nil {
		return err
	}
	if err := rs.endHelpers(); err != nil {
		return err
	}
	for _, t := range rs.plans {
		if t.zombie {
			if err := rs.makeZombie(t); err != nil {
				return fmt.Errorf("zombie %d: %w", t.rec.Pid, err)
			}
		}
	}
	rs.log.Debug("tasks created", "tasks", len(rs.plans))
	return nil
}

// pidFree waits, within limits, for the pid the root needs: in a pipeline
// the checkpointer kills the original only after writing the image (which
// image.OpenReader has read whole by now).
func (rs *restorer) pidFree(pid int32) error {
	if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err != nil {
		return nil
	}
	rs.log.Info("waiting for the pid to be released", "pid", pid)
	return waitPidFree(int(pid))
}

// cloneTask injects clone3 with one set_tid into the stopped task rt and
// returns the child's pid in our namespace, once it is in its first stop.
func (rs *restorer) cloneTask(rt *remote.Task, flags uint64, tid int32) (int, error) {
	defer rt.Reset()
	tidAddr, err := rt.Put(binary.LittleEndian.AppendUint32(nil, uint32(tid)))
	if err != nil {
		return 0, err
	}
	exitSignal := uint64(0)
	if flags&unix.CLONE_PARENT == 0 && flags&unix.CLONE_THREAD == 0 {
		exitSignal, flags = flags&0xff, flags&^0xff
	}
	args := cloneArgs(flags, exitSignal, tidAddr)
	argsAddr, err := rt.Put(args)
	if err != nil {
		return 0, err
	}
	if _, err := rt.Syscall(unix.SYS_CLONE3, uintptr(argsAddr), uintptr(len(args))); err != nil {
		if errors.Is(err, unix.EEXIST) {
			return 0, fmt.Errorf("pid %d is in use: %w", tid, err)
		}
		return 0, fmt.Errorf("clone3 with pid %d: %w", tid, err)
	}
	child := rt.Session().LastChild()
	if child <= 0 {
		return 0, fmt.Errorf("clone3 made no traced child")
	}
	if _, err := rs.tr.Wait(child); err != nil {
		return 0, fmt.Errorf("wait for new task %d: %w", child, err)
	}
	return child, nil
}

// cloneArgs encodes struct clone_args with one set_tid entry at setTid.
func cloneArgs(flags, exitSignal, setTid uint64) []byte {
	b, err := binary.Append(nil, binary.LittleEndian, &kernel.CloneArgs{
		Flags: flags, ExitSignal: exitSignal, SetTid: setTid, SetTidSize: 1,
	})
	if err != nil {
		panic(err) // a fixed-size struct always encodes
	}
	return b
}

// setGroups puts every task in its process group: group leaders first,
// then members. Sessions were made at birth.
func (rs *restorer) setGroups() error {
	all := append(append([]*taskPlan(nil), rs.plans...), rs.helpers...)
	for pass := 0; pass < 2; pass++ {
		for i, t := range all {
			g := t.rec.Pgid
			leader := g == t.rec.Pid
			if (pass == 0) != leader || t.rec.Sid == t.rec.Pid || g == 0 || t.helper == helperMidwife || t.late {
				continue
			}
			if !leader && rs.byPid[g] == nil && rs.helperByPid[g] == nil {
				if i == 0 {
					continue // the root's group is outside: it stays in ours
				}
				return fmt.Errorf("task %d: its process group %d has no leader in the image", t.rec.Pid, g)
			}
			if t.leader == nil {
				// Every task and helper is born by now; a gap is a
				// bug, never a reason to crash.
				return fmt.Errorf("task %d: not created before its process group %d is set", t.rec.Pid, g)
			}
			if _, err := t.leader.Syscall(unix.SYS_SETPGID, 0, uintptr(g)); err != nil {
				return fmt.Errorf("task %d: setpgid(%d): %w", t.rec.Pid, g, err)
			}
		}
	}
	return nil
}

// makeZombie ends a task with its saved wait status, then takes back from
// its parent the SIGCHLD that the exit queued: the parent had had that one
// before the checkpoint (a still pending one is in the image).
func (rs *restorer) makeZombie(t *taskPlan) error {
	name, err := t.leader.Put(append(append([]byte(nil), t.rec.Comm[:]...), 0))
	if err != nil {
		return err
	}
	if _, err := t.leader.Syscall(unix.SYS_PRCTL, unix.PR_SET_NAME, uintptr(name)); err != nil {
		return fmt.Errorf("PR_SET_NAME: %w", err)
	}
	t.leader.Reset()
	ws := unix.WaitStatus(t.rec.ExitCode)
	switch {
	case ws.Exited():
		_, err := t.leader.Syscall(unix.SYS_EXIT_GROUP, uintptr(ws.ExitStatus()))
		if err != nil && !errors.Is(err, ptrace.ErrTaskGone) {
			return fmt.Errorf("exit_group(%d): %w", ws.ExitStatus(), err)
		}
	case ws.Signaled():
		if err := rs.killWith(t, ws.Signal()); err != nil {
			return err
		}
	default:
		return fmt.Errorf("wait status %#x is neither an exit nor a signal", t.rec.ExitCode)
	}
	_, _ = rs.tr.Wait(t.pid)
	t.leader = nil
	parent := rs.byPid[t.rec.PPid]
	if parent == nil {
		parent = rs.plans[0]
	}
	pt := parent.leader
	defer pt.Reset()
	set, err := pt.Put(le64(1 << (unix.SIGCHLD - 1)))
	if err != nil {
		return err
	}
	ts, err := pt.Put(le64(0, 0))
	if err != nil {
		return err
	}
	_, err = pt.Syscall(unix.SYS_RT_SIGTIMEDWAIT, uintptr(set), 0, uintptr(ts), 8)
	if err != nil && !errors.Is(err, unix.EAGAIN) {
		return fmt.Errorf("take back SIGCHLD in %d: %w", parent.rec.Pid, err)
	}
	return nil
}

// killWith makes the task die of sig, as it did: unblock everything, queue
// the signal, and let it be delivered with its default action. (A core
// dump is not made again: the core flag of the status is lost.)
func (rs *restorer) killWith(t *taskPlan, sig unix.Signal) error {
	if err := t.leader.Close(); err != nil {
		return err
	}
	if err := rs.tr.SetSigmask(t.pid, 0); err != nil {
		return err
	}
	if err := unix.Tgkill(t.pid, t.pid, sig); err != nil {
		return err
	}
	// SIGKILL is not stopped for the tracer: the task may be gone already.
	if err := rs.tr.Cont(t.pid, 0); err != nil && !errors.Is(err, unix.ESRCH) {
		return err
	}
	for i := 0; i < 10; i++ {
		ws, err := rs.tr.Wait(t.pid)
		if err != nil || ws.Exited() || ws.Signaled() {
			return nil
		}
		if ws.Stopped() {
			if err := rs.tr.Cont(t.pid, int(ws.StopSignal())); err != nil && !errors.Is(err, unix.ESRCH) {
				return err
			}
		}
	}
	return fmt.Errorf("task did not die of signal %d", sig)
}
