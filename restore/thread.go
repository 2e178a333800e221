package restore

import (
	"encoding/binary"
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
	"github.com/ckpt/ckpt/internal/remote"
)

// Threads share everything a pthread shares; CLONE_SETTLS is not needed
// because fs_base comes back with the registers.
const threadFlags = unix.CLONE_VM | unix.CLONE_FS | unix.CLONE_FILES | unix.CLONE_SIGHAND |
	unix.CLONE_THREAD | unix.CLONE_SYSVSEM

// createThreads makes every thread but the leader with clone3 and set_tid.
// New threads are traced from birth (PTRACE_O_TRACECLONE) and stop before
// running a single instruction of their own; their registers are set last.
func (rs *restorer) createThreads(t *taskPlan) error {
	lt := t.leader
	if t.threads[0].Tid != t.rec.Pid {
		return badImage("the first THREAD of task %d is %d, not its leader", t.rec.Pid, t.threads[0].Tid)
	}
	t.threadRTs[int(t.threads[0].Tid)] = lt
	for _, th := range t.threads[1:] {
		tid, err := rs.cloneThread(t, th.Tid)
		if err != nil {
			return fmt.Errorf("thread %d: %w", th.Tid, err)
		}
		rt, err := remote.New(rs.tr, tid, t.scratch)
		if err != nil {
			return err
		}
		// Threads share the scratch area; each gets its own slice of it.
		rt.UseScratch(t.scratch+pageSize*(scratchPages-1), pageSize)
		t.threadRTs[int(th.Tid)] = rt
	}
	return nil
}

func (rs *restorer) cloneThread(t *taskPlan, tid int32) (int, error) {
	lt := t.leader
	defer lt.Reset()
	tidAddr, err := lt.Put(binary.LittleEndian.AppendUint32(nil, uint32(tid)))
	if err != nil {
		return 0, err
	}
	args := cloneArgs(threadFlags, 0, tidAddr)
	argsAddr, err := lt.Put(args)
	if err != nil {
		return 0, err
	}
	ret, err := lt.Syscall(unix.SYS_CLONE3, uintptr(argsAddr), uintptr(len(args)))
	if err != nil {
		return 0, fmt.Errorf("clone3(CLONE_THREAD, set_tid %d): %w", tid, err)
	}
	child := lt.Session().LastChild()
	if child <= 0 {
		child = int(ret)
	}
	if _, err := rs.tr.Wait(child); err != nil {
		return 0, fmt.Errorf("wait for new thread %d: %w", child, err)
	}
	return child, nil
}

// restoreThreadState restores what each thread has of its own besides
// registers: the clear_child_tid address, robust futex list, rseq
// registration, alternate signal stack, name, queued signals, credentials.
func (rs *restorer) restoreThreadState(t *taskPlan) error {
	for i := range t.threads {
		th := &t.threads[i]
		rt := t.threadRTs[int(th.Tid)]
		if err := rs.restoreThread(t, rt, th); err != nil {
			return fmt.Errorf("thread %d: %w", th.Tid, err)
		}
	}
	return nil
}

func (rs *restorer) restoreThread(t *taskPlan, rt *remote.Task, th *image.Thread) error {
	defer rt.Reset()
	call := func(what string, nr uintptr, args ...uintptr) error {
		if _, err := rt.Syscall(nr, args...); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		return nil
	}
	if err := call("set_tid_address", unix.SYS_SET_TID_ADDRESS, uintptr(th.TidAddress)); err != nil {
		return err
	}
	if th.RobustList != 0 {
		if err := call("set_robust_list", unix.SYS_SET_ROBUST_LIST, uintptr(th.RobustList), uintptr(th.RobustListLen)); err != nil {
			return err
		}
	}
	if th.RseqAddr != 0 {
		if err := call("rseq", unix.SYS_RSEQ, uintptr(th.RseqAddr), uintptr(th.RseqLen), 0, uintptr(th.RseqSig)); err != nil {
			return err
		}
	}
	if th.AltstackFlags&ssDisable == 0 {
		ss, err := rt.Put(le64(th.AltstackSp, uint64(th.AltstackFlags&ssAutodisarm), th.AltstackSize))
		if err != nil {
			return err
		}
		if err := call("sigaltstack", unix.SYS_SIGALTSTACK, uintptr(ss), 0); err != nil {
			return err
		}
	}
	name := th.Comm[:]
	if th.Tid == t.rec.Pid {
		name = t.rec.Comm[:]
	}
	nameAddr, err := rt.Put(append(append([]byte(nil), name...), 0))
	if err != nil {
		return err
	}
	if err := call("PR_SET_NAME", unix.SYS_PRCTL, unix.PR_SET_NAME, uintptr(nameAddr)); err != nil {
		return err
	}
	rt.Reset()
	if sc := t.sched[th.Tid]; sc != nil {
		if err := rs.restoreSched(rt.Tid, sc); err != nil {
			return err
		}
	}
	if err := rs.queueSignals(t, rt, th.Tid); err != nil {
		return err
	}
	if err := restoreCreds(rt, t.pid, t.creds, rs.opts.Grant); err != nil {
		return err
	}
	return rs.verifyThread(t, rt, th.Tid)
}

// ssAutodisarm is SS_AUTODISARM (include/uapi/linux/signal.h); SS_ONSTACK
// is a state, not a setting, and sigaltstack refuses it.
const (
	ssDisable    = 2
	ssAutodisarm = 1 << 31
)

// queueSignals queues again the signals that were pending for thread tid
// (and, for the leader, for the whole process). A task may queue any
// siginfo to itself, so they are sent from inside, exactly as they were;
// ids are the task's own, as seen from its pid namespace.
func (rs *restorer) queueSignals(t *taskPlan, rt *remote.Task, tid int32) error {
	for _, sp := range t.pending {
		shared := sp.Tid == 0
		if !(shared && tid == t.rec.Pid) && sp.Tid != tid {
			continue
		}
		for _, info := range sp.Infos {
			signo := binary.LittleEndian.Uint32(info[0:4])
			addr, err := rt.Put(info[:])
			if err != nil {
				return err
			}
			if shared {
				_, err = rt.Syscall(unix.SYS_RT_SIGQUEUEINFO, uintptr(t.rec.Pid), uintptr(signo), uintptr(addr))
			} else {
				_, err = rt.Syscall(unix.SYS_RT_TGSIGQUEUEINFO, uintptr(t.rec.Pid), uintptr(tid), uintptr(signo), uintptr(addr))
			}
			if err != nil {
				return fmt.Errorf("queue signal %d: %w", signo, err)
			}
			rt.Reset()
		}
	}
	return nil
}
