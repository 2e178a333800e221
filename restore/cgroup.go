package restore

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"slices"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
	"github.com/ckpt/ckpt/internal/cgroup"
	"github.com/ckpt/ckpt/internal/guard"
	"github.com/ckpt/ckpt/internal/proc"
)

// CgroupMode says what restore does with the cgroups of a process tree's
// image (CGROUP_DIR, CGROUP_PROP, CGROUP_MEMBER), as runc's and CRIU's
// --manage-cgroups-mode name it. Every mode but ignore puts each task and
// thread back in its cgroup, below the cgroup restore manages (its own in
// each hierarchy, or Options.CgroupRoot), making the cgroups that are
// missing; they differ in the limits (CGROUP_PROP) they write.
type CgroupMode string

const (
	// CgroupSoft (the default) writes the limits of the cgroups it makes
	// only: existing ones keep theirs.
	CgroupSoft CgroupMode = "soft"
	// CgroupFull writes the limits of every cgroup below the managed one.
	CgroupFull CgroupMode = "full"
	// CgroupStrict is full, and refuses a cgroup below the managed one
	// that exists already, or one with controllers whose limits are not
	// in the image (io, devices, hugetlb...).
	CgroupStrict CgroupMode = "strict"
	// CgroupIgnore leaves every task in the restorer's cgroups.
	CgroupIgnore CgroupMode = "ignore"
)

// ParseCgroupMode parses a --manage-cgroups-mode value ("" is soft).
func ParseCgroupMode(s string) (CgroupMode, error) {
	switch m := CgroupMode(s); m {
	case "":
		return CgroupSoft, nil
	case CgroupSoft, CgroupFull, CgroupStrict, CgroupIgnore:
		return m, nil
	}
	return "", fmt.Errorf("--manage-cgroups-mode %q: want soft, full, strict or ignore", s)
}

// cgroupRestore is the image's cgroups and what restore made of them.
type cgroupRestore struct {
	dirs    map[uint32]*cgDir
	order   []*cgDir
	members []*image.CgroupMember
	bases   map[string]*cgroup.Base // by hierarchy
	made    []madeCgroup            // in the order made (parents first)
}

type cgDir struct {
	rec   *image.CgroupDir
	props []*image.CgroupProp
	cg    *cgroup.Cgroup // once prepared
}

type madeCgroup struct {
	base *cgroup.Base
	rel  string
	undo guard.Undo
}

// addCgroupDir takes a CGROUP_DIR: after the PSTREE, before the first
// TASK and the first CGROUP_MEMBER.
func (rs *restorer) addCgroupDir(x *image.CgroupDir) error {
	cg := &rs.cg
	switch {
	case rs.opts.Adopt != nil:
		return badImage("CGROUP_DIR in a container's image: its cgroup is its bundle's")
	case !rs.tree || rs.cur != nil || rs.made || len(cg.members) > 0:
		return badImage("CGROUP_DIR %d out of place: after the PSTREE, before the first CGROUP_MEMBER and TASK", x.ID)
	case x.ID == 0 || cg.dirs[x.ID] != nil:
		return badImage("CGROUP_DIR id %d is 0 or taken", x.ID)
	case x.Flags&^image.CgroupDirAll != 0:
		return badImage("CGROUP_DIR %d: unknown flags %#x", x.ID, x.Flags)
	case x.Flags&image.CgroupDirThreaded != 0 && x.Controllers != "":
		return badImage("CGROUP_DIR %d: threaded, but of v1 hierarchy %q", x.ID, x.Controllers)
	}
	for _, d := range cg.order {
		if d.rec.Controllers == x.Controllers && d.rec.Path == x.Path {
			return badImage("CGROUP_DIR %d repeats cgroup %q of hierarchy %q", x.ID, x.Path, x.Controllers)
		}
	}
	if cg.dirs == nil {
		cg.dirs = map[uint32]*cgDir{}
	}
	d := &cgDir{rec: x}
	cg.dirs[x.ID] = d
	cg.order = append(cg.order, d)
	return nil
}

// addCgroupProp takes a CGROUP_PROP of the CGROUP_DIR before it. Only
// control files restore knows may be named: an image must not make it
// write any file of a cgroup.
func (rs *restorer) addCgroupProp(x *image.CgroupProp) error {
	cg := &rs.cg
	if len(cg.order) == 0 || len(cg.members) > 0 || cg.order[len(cg.order)-1].rec.ID != x.Dir {
		return badImage("CGROUP_PROP %s does not follow its CGROUP_DIR %d", x.Name, x.Dir)
	}
	d := cg.order[len(cg.order)-1]
	switch {
	case d.rec.Path == "":
		return badImage("CGROUP_PROP %s of the first task's own cgroup (%q): its limits are the caller's", x.Name, d.rec.Controllers)
	case !cgroup.Known(x.Name) && x.Name != cgroup.Controllers:
		return badImage("CGROUP_PROP %q of cgroup %q: not a control file this restorer writes", x.Name, d.rec.Path)
	case slices.ContainsFunc(d.props, func(p *image.CgroupProp) bool { return p.Name == x.Name }):
		return badImage("CGROUP_PROP %q of cgroup %q twice", x.Name, d.rec.Path)
	}
	d.props = append(d.props, x)
	return nil
}

// addCgroupMember takes a CGROUP_MEMBER: after the CGROUP_DIRs, before the
// first TASK. A thread's is checked when its process's threads are known.
func (rs *restorer) addCgroupMember(x *image.CgroupMember) error {
	cg := &rs.cg
	if len(cg.order) == 0 || rs.cur != nil || rs.made {
		return badImage("CGROUP_MEMBER %d out of place: after the CGROUP_DIRs, before the first TASK", x.Tid)
	}
	if x.Flags&^image.CgroupMemberAll != 0 {
		return badImage("CGROUP_MEMBER %d: unknown flags %#x", x.Tid, x.Flags)
	}
	if x.Flags&image.CgroupMemberThread == 0 {
		if t := rs.byPid[x.Tid]; t == nil || t.zombie {
			return badImage("CGROUP_MEMBER %d is not a live task of the PSTREE", x.Tid)
		}
	}
	for _, m := range cg.members {
		if m.Tid == x.Tid && m.Flags == x.Flags {
			return badImage("CGROUP_MEMBER %d twice", x.Tid)
		}
	}
	seen := map[string]bool{}
	for _, id := range x.Dirs {
		d := cg.dirs[id]
		if d == nil {
			return badImage("CGROUP_MEMBER %d names CGROUP_DIR %d, which is not in the image", x.Tid, id)
		}
		if seen[d.rec.Controllers] {
			return badImage("CGROUP_MEMBER %d is in two cgroups of hierarchy %q", x.Tid, d.rec.Controllers)
		}
		seen[d.rec.Controllers] = true
	}
	cg.members = append(cg.members, x)
	return nil
}

// prepareCgroups makes the image's cgroups below the managed ones and
// writes their limits, as the mode says, before any task exists (a
// cgroup made is journalled: if ckpt dies, the guardian removes it once
// the tasks it kills are gone).
func (rs *restorer) prepareCgroups() error {
	cg := &rs.cg
	if len(cg.order) == 0 || rs.opts.CgroupMode == CgroupIgnore {
		return nil
	}
	for _, t := range rs.plans {
		if !t.zombie && !slices.ContainsFunc(cg.members, func(m *image.CgroupMember) bool {
			return m.Flags&image.CgroupMemberThread == 0 && m.Tid == t.rec.Pid
		}) {
			return badImage("task %d has no CGROUP_MEMBER", t.rec.Pid)
		}
	}
	if err := rs.openCgroupBases(); err != nil {
		return err
	}
	// Parents before their children: a child's controller files exist
	// once its parent enables them (v2), and a v1 cpuset child needs its
	// parent's CPUs.
	dirs := slices.Clone(cg.order)
	slices.SortStableFunc(dirs, func(a, b *cgDir) int {
		return strings.Count(a.rec.Path, "/") - strings.Count(b.rec.Path, "/") + boolInt(a.rec.Path != "") - boolInt(b.rec.Path != "")
	})
	for _, d := range dirs {
		if err := rs.prepareCgroup(d); err != nil {
			return fmt.Errorf("cgroup %q of hierarchy %q: %w", d.rec.Path, d.rec.Controllers, err)
		}
	}
	return nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// openCgroupBases opens, for every hierarchy of the image, the cgroup
// restore manages: Options.CgroupRoot or the restorer's own, as
// /proc/self/cgroup names it. A hierarchy this host does not have (or
// does not mount here) is refused.
func (rs *restorer) openCgroupBases() error {
	cg := &rs.cg
	self, err := cgroup.Read(os.Getpid(), unix.Gettid())
	if err != nil {
		return err
	}
	mounts, err := proc.MountInfos(os.Getpid())
	if err != nil {
		return err
	}
	if r := rs.opts.CgroupRoot; r != "" && (!path.IsAbs(r) || path.Clean(r) != r) {
		return fmt.Errorf("--cgroup-root %q: want a clean absolute cgroup path, as /proc/PID/cgroup shows them", r)
	}
	cg.bases = map[string]*cgroup.Base{}
	for _, d := range cg.order {
		h := d.rec.Controllers
		if cg.bases[h] != nil {
			continue
		}
		i := slices.IndexFunc(self, func(m cgroup.Membership) bool { return m.Controllers == h })
		mnt, ok := cgroup.Find(mounts, h)
		if i < 0 || !ok {
			return fmt.Errorf("the image's tasks were in cgroup hierarchy %q, which this host does not have mounted: restore with --manage-cgroups-mode ignore to leave them in ckpt's cgroups", h)
		}
		p := self[i].Path
		if rs.opts.CgroupRoot != "" {
			p = rs.opts.CgroupRoot
		}
		dir, err := mnt.Dir(p)
		if err != nil {
			return err
		}
		b, err := cgroup.OpenBase(dir)
		if err != nil {
			return err
		}
		cg.bases[h] = b
	}
	return nil
}

// prepareCgroup opens (making it if missing) one cgroup and writes its
// limits as the mode says.
func (rs *restorer) prepareCgroup(d *cgDir) error {
	mode := rs.opts.CgroupMode
	base := rs.cg.bases[d.rec.Controllers]
	c, made, err := base.Open(d.rec.Path, mode != CgroupStrict || d.rec.Path == "")
	if err == nil && mode == CgroupStrict && d.rec.Path != "" {
		c.Close()
		return fmt.Errorf("--manage-cgroups-mode strict: %s exists already", c.Name)
	}
	if errors.Is(err, unix.ENOENT) && mode == CgroupStrict {
		c, made, err = base.Open(d.rec.Path, true)
	}
	for _, rel := range made {
		u, jerr := rs.opts.Journal.Add("cgroup-rmdir", base.Name, rel)
		if jerr != nil {
			err = errors.Join(err, jerr)
		}
		rs.cg.made = append(rs.cg.made, madeCgroup{base: base, rel: rel, undo: u})
	}
	if err != nil {
		return err
	}
	d.cg = c
	if d.rec.Path == "" {
		return nil
	}
	created := len(made) > 0 && made[len(made)-1] == d.rec.Path
	if mode == CgroupStrict {
		if err := strictCheck(d); err != nil {
			return err
		}
	}
	if created && d.rec.Flags&image.CgroupDirThreaded != 0 {
		if err := c.WriteFile("cgroup.type", "threaded"); err != nil {
			return err
		}
	}
	if mode == CgroupSoft && !created {
		rs.log.Debug("cgroup exists: its limits are left as they are (soft)", "cgroup", c.Name)
		return nil
	}
	return writeCgroupProps(c, d.props)
}

// strictCheck refuses, in strict mode, a cgroup with controllers whose
// limits the image does not hold.
func strictCheck(d *cgDir) error {
	have := strings.Split(d.rec.Controllers, ",")
	if d.rec.Controllers == "" {
		have = nil
		for _, p := range d.props {
			if p.Name == cgroup.Controllers {
				have = strings.Fields(p.Value)
			}
		}
	}
	if un := cgroup.Unsaved(have); len(un) > 0 {
		return fmt.Errorf("--manage-cgroups-mode strict: the limits of its controllers %s are not saved in the image", strings.Join(un, ", "))
	}
	return nil
}

// writeCgroupProps writes the limits of a cgroup in the image's order
// (cgroup.subtree_control first, as "+memory +pids").
func writeCgroupProps(c *cgroup.Cgroup, props []*image.CgroupProp) error {
	for _, p := range props {
		switch p.Name {
		case cgroup.Controllers:
			continue
		case cgroup.SubtreeControl:
			var on []string
			for _, ctl := range strings.Fields(p.Value) {
				on = append(on, "+"+ctl)
			}
			if err := c.WriteFile(p.Name, strings.Join(on, " ")); err != nil {
				return err
			}
			continue
		}
		if err := c.WriteFile(p.Name, p.Value); err != nil {
			return err
		}
	}
	return nil
}

// placeTasks puts every process in its cgroups, once the tree exists and
// before its memory is filled (pages are charged to the cgroup a task is
// in when they are touched).
func (rs *restorer) placeTasks() error {
	cg := &rs.cg
	if len(cg.order) == 0 || rs.opts.CgroupMode == CgroupIgnore {
		return nil
	}
	for _, t := range rs.plans {
		if t.pid == 0 {
			continue // born late, from its parent (bornLate places it)
		}
		if err := rs.placeTask(t); err != nil {
			return err
		}
	}
	return nil
}

// placeTask puts the process t in its cgroups. Its pid is never 0 here:
// writing 0 to cgroup.procs would move ckpt itself.
func (rs *restorer) placeTask(t *taskPlan) error {
	cg := &rs.cg
	if len(cg.order) == 0 || rs.opts.CgroupMode == CgroupIgnore {
		return nil
	}
	if t.pid <= 0 {
		return fmt.Errorf("task %d: placed in its cgroups before it exists", t.rec.Pid)
	}
	for _, m := range cg.members {
		if m.Flags&image.CgroupMemberThread != 0 || m.Tid != t.rec.Pid {
			continue
		}
		for _, id := range m.Dirs {
			d := cg.dirs[id]
			if err := d.cg.MoveProcess(t.pid); err != nil {
				return fmt.Errorf("task %d: cgroup %q of hierarchy %q: %w", m.Tid, d.rec.Path, d.rec.Controllers, err)
			}
		}
	}
	return nil
}

// placeThreads puts the threads of t whose cgroups differ from its
// process's in theirs, once they exist: a v1 hierarchy's "tasks", or the
// v2 "cgroup.threads" of a threaded cgroup.
func (rs *restorer) placeThreads(t *taskPlan) error {
	cg := &rs.cg
	if len(cg.order) == 0 {
		return nil
	}
	for _, m := range cg.members {
		if m.Flags&image.CgroupMemberThread == 0 {
			continue
		}
		rt := t.threadRTs[int(m.Tid)]
		if rt == nil || m.Tid == t.rec.Pid {
			continue // another process's thread, or a leader named as a thread
		}
		if rs.opts.CgroupMode == CgroupIgnore {
			continue
		}
		var own []uint32 // the process's cgroups, where the thread is already
		for _, pm := range cg.members {
			if pm.Flags&image.CgroupMemberThread == 0 && pm.Tid == t.rec.Pid {
				own = pm.Dirs
			}
		}
		for _, id := range m.Dirs {
			d := cg.dirs[id]
			if slices.Contains(own, id) {
				continue
			}
			if err := d.cg.MoveThread(rt.Tid, d.rec.Controllers == ""); err != nil {
				return fmt.Errorf("thread %d: cgroup %q of hierarchy %q: %w", m.Tid, d.rec.Path, d.rec.Controllers, err)
			}
		}
	}
	return nil
}

// checkCgroupThreads refuses a thread CGROUP_MEMBER that names no thread
// of the image (called once every task's threads are known).
func (rs *restorer) checkCgroupThreads() error {
	for _, m := range rs.cg.members {
		if m.Flags&image.CgroupMemberThread == 0 {
			continue
		}
		found := false
		for _, t := range rs.plans {
			for _, th := range t.threads {
				found = found || (th.Tid == m.Tid && th.Tid != t.rec.Pid)
			}
		}
		if !found {
			return badImage("CGROUP_MEMBER names thread %d, which is no thread of the image", m.Tid)
		}
	}
	return nil
}

// closeCgroups closes the cgroups; after a failure (failed) it also
// removes those restore made, children first, once the tasks killed
// have left them.
func (rs *restorer) closeCgroups(failed bool) {
	cg := &rs.cg
	for _, d := range cg.order {
		if d.cg != nil {
			d.cg.Close()
			d.cg = nil
		}
	}
	if failed {
		for i := len(cg.made) - 1; i >= 0; i-- {
			m := cg.made[i]
			if err := removeCgroup(m.base, m.rel); err != nil {
				rs.log.Warn("cgroup made by the failed restore left behind", "cgroup", m.base.Name+"/"+m.rel, "err", err)
				continue
			}
			m.undo.Drop()
		}
	}
	for _, b := range cg.bases {
		b.Close()
	}
	cg.bases = nil
}

// removeCgroup removes a cgroup restore made. Tasks killed a moment ago
// may still be leaving it (EBUSY) until their exit is done: a bounded
// number of tries.
func removeCgroup(b *cgroup.Base, rel string) error {
	var err error
	for range 200 {
		if err = b.Remove(rel); !errors.Is(err, unix.EBUSY) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if errors.Is(err, unix.ENOENT) {
		return nil
	}
	return err
}

func init() {
	// The guardian's undo of a cgroup made by a restore that died.
	guard.Register("cgroup-rmdir", func(args []string) error {
		if len(args) != 2 {
			return fmt.Errorf("cgroup-rmdir: want a base and a path, got %q", args)
		}
		if image.CheckCgroupPath(args[1]) != nil || args[1] == "" {
			return fmt.Errorf("cgroup-rmdir: path %q", args[1])
		}
		b, err := cgroup.OpenBase(args[0])
		if err != nil {
			return err
		}
		defer b.Close()
		return removeCgroup(b, args[1])
	})
}

// checkCgroupsDry is the dry run's look at the image's cgroups (none made):
// every hierarchy must be here, and in strict mode no cgroup below the
// managed one may exist.
func checkCgroupsDry(r io.ReadSeeker, opts Options) (err error) {
	mode, err := ParseCgroupMode(string(opts.CgroupMode))
	if err != nil || mode == CgroupIgnore {
		return err
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return err
	}
	defer func() {
		if _, serr := r.Seek(0, io.SeekStart); err == nil {
			err = serr
		}
	}()
	rs := &restorer{opts: opts}
	rd := image.NewReader(r, image.Options{NoDigest: true})
	for {
		rec, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if d, ok := rec.(*image.CgroupDir); ok {
			rs.cg.order = append(rs.cg.order, &cgDir{rec: d})
		}
	}
	if len(rs.cg.order) == 0 {
		return nil
	}
	defer rs.closeCgroups(false)
	if err := rs.openCgroupBases(); err != nil {
		return err
	}
	for _, d := range rs.cg.order {
		if mode != CgroupStrict || d.rec.Path == "" {
			continue
		}
		if c, _, err := rs.cg.bases[d.rec.Controllers].Open(d.rec.Path, false); err == nil {
			c.Close()
			return fmt.Errorf("--manage-cgroups-mode strict: %s exists already", c.Name)
		}
	}
	return nil
}
