package checkpoint

import (
	"errors"
	"fmt"
	"os"
	"strconv"

	"github.com/ckpt/ckpt/image"
	"github.com/ckpt/ckpt/internal/guard"
	"github.com/ckpt/ckpt/internal/proc"
	"github.com/ckpt/ckpt/internal/ptrace"
)

// tree is the set of processes a checkpoint takes: the target and all its
// descendants, parents before children.
type tree struct {
	procs []*process // live and zombie, in creation order
	byPid map[int]*process
}

func (t *tree) live() []*process {
	var out []*process
	for _, p := range t.procs {
		if !p.zombie {
			out = append(out, p)
		}
	}
	return out
}

// walk visits root and every descendant, parents before children: stop
// is called for each live process and returns it with its threads, whose
// children are visited next. Zombies cannot be traced; they are recorded as
// they are. A process gone before stop is skipped, one gone in stop is
// looked at again: its parent is stopped, so it is a zombie by then. On
// error the tree walked so far comes back with it, for the caller to
// release.
func walk(root int, stop func(pid int) (*process, error)) (*tree, error) {
	t := &tree{byPid: map[int]*process{}}
	queue := []int{root}
	for len(queue) > 0 {
		pid := queue[0]
		queue = queue[1:]
		if _, seen := t.byPid[pid]; seen {
			continue
		}
		st, err := proc.ReadStat(pid)
		if err != nil {
			if pid != root && proc.IsGone(err) {
				continue // reaped by a parent we had not stopped yet
			}
			return t, err
		}
		var p *process
		if st.State == 'Z' || st.State == 'X' {
			if pid == root {
				return t, unsupported(pid, "process", "it is a zombie")
			}
			p = &process{pid: pid, zombie: true, stat: st}
		} else {
			p, err = stop(pid)
			if err != nil {
				if pid != root && errors.Is(err, ptrace.ErrTaskGone) {
					queue = append([]int{pid}, queue...)
					continue
				}
				return t, err
			}
			p.stat = st
			// Once seized a task shows 't' whatever it was doing: a
			// job-control stop is only seen before (taskproc.go).
			p.stopped = st.State == 'T'
			for _, th := range p.threads {
				kids, err := proc.Children(pid, th.tid)
				if err != nil {
					return t, err
				}
				queue = append(queue, kids...)
			}
		}
		t.procs = append(t.procs, p)
		t.byPid[pid] = p
	}
	return t, nil
}

// seizeFrozen stops the tree with the cgroup freezer's help: freeze the
// cgroup, so nothing forks or exits; seize and interrupt every thread of
// every task; thaw, upon which every thread stops in ptrace; wait for all.
func (d *dumper) seizeFrozen(root int, fz *freezer) (*tree, error) {
	if err := fz.freeze(); err != nil {
		return nil, err
	}
	guard.Fault(faultFrozen)
	var seized []int
	fail := func(err error) (*tree, error) {
		for _, tid := range seized {
			_ = d.tr.Detach(tid, 0)
		}
		_ = fz.thaw()
		return nil, err
	}
	t, err := walk(root, func(pid int) (*process, error) {
		tids, err := proc.Tasks(pid)
		if err != nil {
			return nil, err
		}
		p := &process{pid: pid}
		for _, tid := range tids {
			if err := d.tr.Seize(tid, seizeOpts); err != nil {
				return nil, fmt.Errorf("seize thread %d of %d: %w", tid, pid, err)
			}
			seized = append(seized, tid)
			if err := d.tr.Interrupt(tid); err != nil {
				return nil, fmt.Errorf("interrupt thread %d of %d: %w", tid, pid, err)
			}
			p.threads = append(p.threads, &thread{tid: tid})
		}
		return p, nil
	})
	if err != nil {
		return fail(err)
	}
	if err := fz.thaw(); err != nil {
		return fail(err)
	}
	for _, p := range t.live() {
		for _, th := range p.threads {
			if err := d.tr.SeizeStop(th.tid, seizeOpts); err != nil {
				return fail(fmt.Errorf("stop thread %d of %d: %w", th.tid, p.pid, err))
			}
		}
	}
	if err := d.checkPidns(t, root); err != nil {
		d.releaseTree(t)
		return nil, err
	}
	return t, nil
}

// seizeTree stops root and every descendant. A process is seized before
// its children are listed: a stopped process cannot fork, so no child
// escapes the walk.
func (d *dumper) seizeTree(root int) (*tree, error) {
	t, err := walk(root, d.seize)
	if err == nil {
		err = d.checkPidns(t, root)
	}
	if err != nil {
		d.releaseTree(t)
		return nil, err
	}
	return t, nil
}

// checkPidns refuses a pid namespace that holds a process which is not a
// descendant of its init (one that joined with setns): its parent is
// outside, so it cannot be rebuilt inside.
func (d *dumper) checkPidns(t *tree, root int) error {
	st, err := proc.ReadStatus(root)
	if err != nil {
		return err
	}
	if n := len(st.NSpid); n < 2 || st.NSpid[n-1] != 1 {
		return nil
	}
	ns, err := os.Readlink("/proc/" + strconv.Itoa(root) + "/ns/pid")
	if err != nil {
		return err
	}
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return err
	}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if other, err := os.Readlink("/proc/" + e.Name() + "/ns/pid"); err == nil && other == ns {
			if _, ok := t.byPid[pid]; !ok {
				return unsupported(pid, "pid namespace", "it is in the pid namespace of %d but not a descendant of its init (it joined with setns)", root)
			}
		}
	}
	return nil
}

func (d *dumper) releaseTree(t *tree) {
	for _, p := range t.procs {
		if !p.zombie {
			d.release(p)
		}
	}
}

// treeIds sets each task's ids as the tree sees them: in the innermost pid
// namespace, parents by their place in the tree (the root's parent is
// outside and recorded as 0).
func (d *dumper) treeIds(t *tree) error {
	for i, p := range t.procs {
		st, err := proc.ReadStatus(p.pid)
		if err != nil {
			return err
		}
		last := func(ids []int, def int) int32 {
			if len(ids) == 0 {
				return int32(def)
			}
			return int32(ids[len(ids)-1])
		}
		p.task.Pid = last(st.NSpid, p.pid)
		p.task.Pgid = last(st.NSpgid, p.stat.Pgrp)
		p.task.Sid = last(st.NSsid, p.stat.Session)
		p.task.PPid = 0
		if parent, ok := t.byPid[p.stat.PPid]; ok && i > 0 {
			p.task.PPid = parent.task.Pid
		}
		if p.zombie {
			p.task.State = image.TaskZombie
			p.task.ExitCode = int32(p.stat.ExitCode)
			copy(p.task.Comm[:], p.stat.Comm)
		}
	}
	return nil
}
