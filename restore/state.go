package restore

import (
	"encoding/binary"
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
	"github.com/ckpt/ckpt/internal/remote"
)

func le64(words ...uint64) []byte {
	var b []byte
	for _, w := range words {
		b = binary.LittleEndian.AppendUint64(b, w)
	}
	return b
}

// restoreSighand installs every signal disposition that is not the default.
func (rs *restorer) restoreSighand(t *taskPlan) error {
	sh, ok := rs.objs[t.taskObjs.Sighand].(*image.Sighand)
	if !ok {
		return badImage("TASK_OBJS names sighand object %d, which is not a SIGHAND record", t.taskObjs.Sighand)
	}
	lt := t.leader
	defer lt.Reset()
	buf, err := lt.Alloc(32)
	if err != nil {
		return err
	}
	for i, a := range sh.Actions {
		sig := i + 1
		if sig == int(unix.SIGKILL) || sig == int(unix.SIGSTOP) || a == (image.Sigaction{}) {
			continue
		}
		if err := writeAt(lt, buf, le64(a.Handler, a.Flags, a.Restorer, a.Mask)); err != nil {
			return err
		}
		if _, err := lt.Syscall(unix.SYS_RT_SIGACTION, uintptr(sig), uintptr(buf), 0, 8); err != nil {
			return fmt.Errorf("rt_sigaction(%d): %w", sig, err)
		}
	}
	return nil
}

// secbitKeepCaps is SECBIT_KEEP_CAPS from include/uapi/linux/securebits.h.
const secbitKeepCaps = 1 << 4

func writeAt(lt *remote.Task, addr uint64, b []byte) error {
	return writeTaskMem(lt.Tid, addr, b)
}

// restoreMisc restores per-process odds and ends: personality, umask and
// interval timers. (Sessions and groups are made with the tree.)
func (rs *restorer) restoreMisc(t *taskPlan) error {
	lt := t.leader
	defer lt.Reset()
	m := t.misc
	if m == nil {
		return badImage("task %d has no TASK_MISC record", t.rec.Pid)
	}
	if _, err := lt.Syscall(unix.SYS_PERSONALITY, uintptr(m.Personality)); err != nil {
		return fmt.Errorf("personality(%#x): %w", m.Personality, err)
	}
	if _, err := lt.Syscall(unix.SYS_UMASK, uintptr(m.Umask)); err != nil {
		return fmt.Errorf("umask: %w", err)
	}
	buf, err := lt.Alloc(32)
	if err != nil {
		return err
	}
	for which, it := range m.Itimers {
		if it == (image.Itimer{}) {
			continue
		}
		if err := setItimer(lt, buf, which, it); err != nil {
			return err
		}
	}
	return nil
}

// restoreLate restores what a change of credentials resets in the kernel
// (commit_creds clears the parent-death signal and, for a new uid, the
// dumpable flag), so it runs after every thread has its credentials.
func (rs *restorer) restoreLate(t *taskPlan) error {
	lt := t.leader
	m := t.misc
	if _, err := lt.Syscall(unix.SYS_PRCTL, unix.PR_SET_DUMPABLE, uintptr(m.Dumpable)); err != nil {
		return fmt.Errorf("prctl(PR_SET_DUMPABLE, %d): %w", m.Dumpable, err)
	}
	if m.PdeathSig != 0 {
		if _, err := lt.Syscall(unix.SYS_PRCTL, unix.PR_SET_PDEATHSIG, uintptr(m.PdeathSig)); err != nil {
			return fmt.Errorf("prctl(PR_SET_PDEATHSIG): %w", err)
		}
		if rs.opts.Detached {
			rs.log.Warn("the process has a parent-death signal and its parent is the restorer: it fires when the restorer exits", "pid", t.pid, "signal", m.PdeathSig)
		}
	}
	return nil
}

// restoreRlimits sets resource limits from outside with prlimit(2).
func (rs *restorer) restoreRlimits(t *taskPlan) error {
	if t.rlimits == nil {
		return badImage("task %d has no RLIMITS record", t.rec.Pid)
	}
	for res, l := range t.rlimits.Limits {
		lim := unix.Rlimit{Cur: l.Cur, Max: l.Max}
		if err := unix.Prlimit(t.pid, res, &lim, nil); err != nil {
			return fmt.Errorf("rlimit %d to %d/%d: %w", res, l.Cur, l.Max, err)
		}
	}
	return nil
}

// restoreCreds gives a thread its credentials: the image's, checked
// against the grant before anything was created, with no_new_privs forced
// on when the grant says so. Capabilities go last: until then the thread
// needs ours to set the rest. A thread that already has them (the stub's
// are the image's) keeps them as they are. Every step's result is checked;
// verifyThread then reads the outcome back.
func restoreCreds(rt *remote.Task, pid int, c *image.Creds, g *Grant) error {
	defer rt.Reset()
	if c == nil {
		return badImage("no CREDS record")
	}
	c = wantCreds(c, g)
	if cur, _, err := statusCreds(pid, rt.Tid); err == nil && credsEqual(cur, c) {
		return nil
	}
	call := func(what string, nr uintptr, args ...uintptr) error {
		if _, err := rt.Syscall(nr, args...); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		return nil
	}
	var groups []byte
	for _, g := range c.Groups {
		groups = binary.LittleEndian.AppendUint32(groups, g)
	}
	gaddr := uint64(0)
	if len(groups) > 0 {
		var err error
		if gaddr, err = rt.Put(groups); err != nil {
			return err
		}
	}
	// Order matters: the bounding set and securebits need CAP_SETPCAP,
	// which setresuid to a non-root uid takes out of the effective set;
	// keep-caps keeps the permitted set across it so capset can finish.
	last, err := lastCap()
	if err != nil {
		return err
	}
	for c2 := 0; c2 <= last; c2++ {
		if c.CapBnd&(1<<c2) == 0 {
			if err := call(fmt.Sprintf("prctl(PR_CAPBSET_DROP, %d)", c2), unix.SYS_PRCTL, unix.PR_CAPBSET_DROP, uintptr(c2)); err != nil {
				return err
			}
		}
	}
	steps := []func() error{
		func() error { return call("setgroups", unix.SYS_SETGROUPS, uintptr(len(c.Groups)), uintptr(gaddr)) },
		func() error {
			return call("PR_SET_SECUREBITS", unix.SYS_PRCTL, unix.PR_SET_SECUREBITS, uintptr(c.Securebits))
		},
		func() error { return call("PR_SET_KEEPCAPS", unix.SYS_PRCTL, unix.PR_SET_KEEPCAPS, 1) },
		func() error {
			return call("setresgid", unix.SYS_SETRESGID, uintptr(c.Gid), uintptr(c.Egid), uintptr(c.Sgid))
		},
		func() error { return call("setfsgid", unix.SYS_SETFSGID, uintptr(c.Fsgid)) },
		func() error {
			return call("setresuid", unix.SYS_SETRESUID, uintptr(c.Uid), uintptr(c.Euid), uintptr(c.Suid))
		},
		func() error { return call("setfsuid", unix.SYS_SETFSUID, uintptr(c.Fsuid)) },
	}
	for _, s := range steps {
		if err := s(); err != nil {
			return err
		}
	}
	// struct __user_cap_header_struct {version, pid} then two
	// __user_cap_data_struct {effective, permitted, inheritable}.
	hdr := binary.LittleEndian.AppendUint32(nil, unix.LINUX_CAPABILITY_VERSION_3)
	hdr = binary.LittleEndian.AppendUint32(hdr, 0)
	var data []byte
	for _, shift := range []uint{0, 32} {
		for _, v := range []uint64{c.CapEff, c.CapPrm, c.CapInh} {
			data = binary.LittleEndian.AppendUint32(data, uint32(v>>shift))
		}
	}
	haddr, err := rt.Put(hdr)
	if err != nil {
		return err
	}
	daddr, err := rt.Put(data)
	if err != nil {
		return err
	}
	if err := call("capset", unix.SYS_CAPSET, uintptr(haddr), uintptr(daddr)); err != nil {
		return err
	}
	if c.Securebits&secbitKeepCaps == 0 {
		if err := call("PR_SET_KEEPCAPS", unix.SYS_PRCTL, unix.PR_SET_KEEPCAPS, 0); err != nil {
			return err
		}
	}
	// The stub's own ambient set (the restorer's) is not the image's.
	if err := call("PR_CAP_AMBIENT_CLEAR_ALL", unix.SYS_PRCTL, unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0); err != nil {
		return err
	}
	for c2 := 0; c2 <= last; c2++ {
		if c.CapAmb&(1<<c2) != 0 {
			if err := call(fmt.Sprintf("raise ambient capability %d", c2), unix.SYS_PRCTL, unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_RAISE, uintptr(c2), 0, 0); err != nil {
				return err
			}
		}
	}
	if c.NoNewPrivs != 0 {
		return call("PR_SET_NO_NEW_PRIVS", unix.SYS_PRCTL, unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
	}
	return nil
}

// setItimer arms interval timer which. The kernel rounds CPU-time timers
// (ITIMER_VIRTUAL, ITIMER_PROF) up by a scheduler tick when they are set,
// so the value is read back and set once more, less what was added, so
// that the timer has exactly the time it had left.
func setItimer(lt *remote.Task, buf uint64, which int, it image.Itimer) error {
	want := [2]int64{it.IntervalSec*1e6 + it.IntervalUsec, it.ValueSec*1e6 + it.ValueUsec}
	set := want
	for try := 0; try < 2; try++ {
		v := le64(uint64(set[0]/1e6), uint64(set[0]%1e6), uint64(set[1]/1e6), uint64(set[1]%1e6))
		if err := writeAt(lt, buf, v); err != nil {
			return err
		}
		if _, err := lt.Syscall(unix.SYS_SETITIMER, uintptr(which), uintptr(buf), 0); err != nil {
			return fmt.Errorf("setitimer(%d): %w", which, err)
		}
		if which == unix.ITIMER_REAL {
			return nil
		}
		if _, err := lt.Syscall(unix.SYS_GETITIMER, uintptr(which), uintptr(buf)); err != nil {
			return fmt.Errorf("getitimer(%d): %w", which, err)
		}
		w, err := lt.ReadU64s(buf, 4)
		if err != nil {
			return err
		}
		got := [2]int64{int64(w[0])*1e6 + int64(w[1]), int64(w[2])*1e6 + int64(w[3])}
		done := true
		for i := range set {
			if extra := got[i] - want[i]; extra > 0 && set[i] > extra {
				set[i] -= extra
				done = false
			}
		}
		if done {
			return nil
		}
	}
	return nil
}
