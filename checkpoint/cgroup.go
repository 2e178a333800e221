package checkpoint

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/ckpt/ckpt/image"
	"github.com/ckpt/ckpt/internal/cgroup"
	"github.com/ckpt/ckpt/internal/proc"
)

// cgroupState is what collectCgroups found: the cgroups the tree's tasks
// and threads are in, each relative to the first task's in its hierarchy,
// as CGROUP_DIR, CGROUP_PROP and CGROUP_MEMBER records.
type cgroupState struct {
	recs []image.Record
	ids  map[[2]string]uint32 // by controllers and relative path
}

// collectCgroups reads the cgroups of every task and thread of a process
// tree (a container's are its bundle's: none saved) from
// /proc/PID/task/TID/cgroup, relative to the first task's: a restore puts
// them back below the cgroup it manages, so a task in a cgroup that is not
// the first task's or below it cannot be put back and is refused. The
// limits of the cgroups below the first task's are saved
// (internal/cgroup.PropFiles); the first task's own cgroup is the caller's,
// at checkpoint and at restore.
func (d *dumper) collectCgroups(t *tree) error {
	if d.opts.Container != nil || d.opts.NoCgroups {
		return nil
	}
	live := t.live()
	root := live[0]
	if l := nsLink(root.pid, "cgroup"); l != nsLink(os.Getpid(), "cgroup") {
		return unsupported(root.pid, "cgroup namespace "+l, "a cgroup namespace other than the checkpointer's is not supported yet (checkpoint with --manage-cgroups-mode ignore to leave cgroups out)")
	}
	base, err := cgroup.Read(root.pid, root.pid)
	if err != nil {
		return err
	}
	mounts, err := proc.MountInfos(os.Getpid())
	if err != nil {
		return err
	}
	cs := &cgroupState{ids: map[[2]string]uint32{}}
	for _, p := range live {
		var leader []uint32
		for i, th := range p.threads {
			ids, err := cs.member(p.pid, th.tid, base, mounts)
			if err != nil {
				return err
			}
			switch {
			case i == 0:
				leader = ids
				cs.recs = append(cs.recs, &image.CgroupMember{Tid: p.task.Pid, Dirs: ids})
			case !slices.Equal(ids, leader):
				cs.recs = append(cs.recs, &image.CgroupMember{Tid: th.rec.Tid, Flags: image.CgroupMemberThread, Dirs: ids})
			}
		}
	}
	// The directories first (they were appended as found, each before
	// its props), then the members.
	slices.SortStableFunc(cs.recs, func(a, b image.Record) int {
		_, am := a.(*image.CgroupMember)
		_, bm := b.(*image.CgroupMember)
		switch {
		case am == bm:
			return 0
		case am:
			return 1
		}
		return -1
	})
	d.cgroups = cs
	return nil
}

// member gives the ids of the cgroups thread tid of process pid is in,
// one per hierarchy, saving those not seen yet.
func (cs *cgroupState) member(pid, tid int, base []cgroup.Membership, mounts []proc.MountInfo) ([]uint32, error) {
	ms, err := cgroup.Read(pid, tid)
	if err != nil {
		return nil, fmt.Errorf("task %d thread %d: %w", pid, tid, err)
	}
	var ids []uint32
	for _, m := range ms {
		i := slices.IndexFunc(base, func(b cgroup.Membership) bool { return b.Controllers == m.Controllers })
		if i < 0 {
			return nil, unsupported(pid, "cgroups", "thread %d is in hierarchy %q, which the first task is not in", tid, m.Controllers)
		}
		rel, ok := cgroup.Rel(base[i].Path, m.Path)
		if !ok {
			return nil, unsupported(pid, "cgroup "+m.Path, "thread %d is in cgroup %s of hierarchy %q, not the first task's (%s) or below it: restore puts tasks only below the cgroup it manages (checkpoint with --manage-cgroups-mode ignore to leave cgroups out)",
				tid, m.Path, m.Controllers, base[i].Path)
		}
		id, err := cs.dir(pid, m, rel, mounts)
		if err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// dir gives the id of the CGROUP_DIR of cgroup m (rel below the first
// task's), writing it with its properties the first time.
func (cs *cgroupState) dir(pid int, m cgroup.Membership, rel string, mounts []proc.MountInfo) (uint32, error) {
	key := [2]string{m.Controllers, rel}
	if id, ok := cs.ids[key]; ok {
		return id, nil
	}
	id := uint32(len(cs.ids) + 1)
	cs.ids[key] = id
	rec := &image.CgroupDir{ID: id, Controllers: m.Controllers, Path: rel}
	cs.recs = append(cs.recs, rec)
	if rel == "" {
		return id, nil // the caller's cgroup: no property saved
	}
	obj := fmt.Sprintf("cgroup %s of hierarchy %q", m.Path, m.Controllers)
	h, ok := cgroup.Find(mounts, m.Controllers)
	if !ok {
		return 0, unsupported(pid, obj, "the hierarchy is not mounted where ckpt runs: its limits cannot be read")
	}
	dir, err := h.Dir(m.Path)
	if err != nil {
		return 0, unsupported(pid, obj, "%v", err)
	}
	b, err := cgroup.OpenBase(dir)
	if err != nil {
		return 0, err
	}
	defer b.Close()
	c, _, err := b.Open("", false)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	props, err := cgroupProps(c, m.Controllers, rec)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", obj, err)
	}
	for _, p := range props {
		cs.recs = append(cs.recs, p)
	}
	return id, nil
}

// cgroupProps reads the limits of cgroup c: for v2, also its type, the
// controllers it enables for its children and those it has.
func cgroupProps(c *cgroup.Cgroup, controllers string, rec *image.CgroupDir) ([]*image.CgroupProp, error) {
	var out []*image.CgroupProp
	add := func(name string) error {
		v, ok, err := c.ReadFile(name)
		if ok && err == nil {
			out = append(out, &image.CgroupProp{Dir: rec.ID, Name: name, Value: v})
		}
		return err
	}
	enabled := strings.Split(controllers, ",")
	if controllers == "" {
		typ, _, err := c.ReadFile("cgroup.type")
		if err != nil {
			return nil, err
		}
		switch typ {
		case "domain":
		case "threaded":
			rec.Flags |= image.CgroupDirThreaded
		default:
			// "domain threaded" is a root of threaded subtrees, made by
			// its children; "domain invalid" cannot hold tasks.
			if typ != "domain threaded" {
				return nil, fmt.Errorf("cgroup.type %q is not supported", typ)
			}
		}
		have, _, err := c.ReadFile(cgroup.Controllers)
		if err != nil {
			return nil, err
		}
		enabled = strings.Fields(have)
		out = append(out, &image.CgroupProp{Dir: rec.ID, Name: cgroup.Controllers, Value: have})
		if sub, _, err := c.ReadFile(cgroup.SubtreeControl); err != nil {
			return nil, err
		} else if sub != "" {
			out = append(out, &image.CgroupProp{Dir: rec.ID, Name: cgroup.SubtreeControl, Value: sub})
		}
	}
	for _, f := range cgroup.PropFiles(enabled) {
		if err := add(f); err != nil {
			return nil, err
		}
	}
	return out, nil
}
