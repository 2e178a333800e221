package restore

import (
	"errors"
	"testing"

	"github.com/ckpt/ckpt/image"
)

// cgRestorer is a restorer that has read a PSTREE of tasks 1 (live) and
// 2 (a zombie).
func cgRestorer() *restorer {
	rs := &restorer{tree: true, byPid: map[int32]*taskPlan{}}
	for _, tk := range []image.Task{{Pid: 1}, {Pid: 2, State: image.TaskZombie}} {
		t := newPlan(tk)
		rs.plans = append(rs.plans, t)
		rs.byPid[tk.Pid] = t
	}
	return rs
}

// TestCgroupRecords: the CGROUP_* records are taken only in their place
// and shape; anything else is a bad image, before any cgroup is touched.
func TestCgroupRecords(t *testing.T) {
	dir := func(id uint32, ctl, path string) image.Record {
		return &image.CgroupDir{ID: id, Controllers: ctl, Path: path}
	}
	ok := []image.Record{dir(1, "pids", ""), dir(2, "pids", "a"), &image.CgroupProp{Dir: 2, Name: "pids.max", Value: "5"},
		dir(3, "", ""), &image.CgroupMember{Tid: 1, Dirs: []uint32{2, 3}}, &image.CgroupMember{Tid: 7, Flags: image.CgroupMemberThread, Dirs: []uint32{1}}}
	take := func(rs *restorer, rec image.Record) error {
		switch x := rec.(type) {
		case *image.CgroupDir:
			return rs.addCgroupDir(x)
		case *image.CgroupProp:
			return rs.addCgroupProp(x)
		case *image.CgroupMember:
			return rs.addCgroupMember(x)
		}
		return nil
	}
	rs := cgRestorer()
	for _, rec := range ok {
		if err := take(rs, rec); err != nil {
			t.Fatalf("%v: %v", rec, err)
		}
	}
	for _, c := range []struct {
		name string
		recs []image.Record
	}{
		{"id 0", []image.Record{dir(0, "pids", "")}},
		{"id twice", []image.Record{dir(1, "pids", ""), dir(1, "memory", "")}},
		{"same cgroup twice", []image.Record{dir(1, "pids", "a"), dir(2, "pids", "a")}},
		{"unknown flags", []image.Record{&image.CgroupDir{ID: 1, Flags: 8}}},
		{"threaded v1", []image.Record{&image.CgroupDir{ID: 1, Flags: image.CgroupDirThreaded, Controllers: "pids"}}},
		{"prop of the first task's cgroup", []image.Record{dir(1, "pids", ""), &image.CgroupProp{Dir: 1, Name: "pids.max", Value: "1"}}},
		{"prop of another dir", []image.Record{dir(1, "pids", "a"), dir(2, "pids", "b"), &image.CgroupProp{Dir: 1, Name: "pids.max"}}},
		{"unknown control file", []image.Record{dir(1, "pids", "a"), &image.CgroupProp{Dir: 1, Name: "release_agent", Value: "/x"}}},
		{"notify_on_release", []image.Record{dir(1, "pids", "a"), &image.CgroupProp{Dir: 1, Name: "notify_on_release", Value: "1"}}},
		{"prop twice", []image.Record{dir(1, "pids", "a"), &image.CgroupProp{Dir: 1, Name: "pids.max"}, &image.CgroupProp{Dir: 1, Name: "pids.max"}}},
		{"member before dirs", []image.Record{&image.CgroupMember{Tid: 1}}},
		{"member not in the tree", []image.Record{dir(1, "pids", ""), &image.CgroupMember{Tid: 9, Dirs: []uint32{1}}}},
		{"member a zombie", []image.Record{dir(1, "pids", ""), &image.CgroupMember{Tid: 2, Dirs: []uint32{1}}}},
		{"member twice", []image.Record{dir(1, "pids", ""), &image.CgroupMember{Tid: 1, Dirs: []uint32{1}}, &image.CgroupMember{Tid: 1, Dirs: []uint32{1}}}},
		{"member unknown dir", []image.Record{dir(1, "pids", ""), &image.CgroupMember{Tid: 1, Dirs: []uint32{4}}}},
		{"member two of a hierarchy", []image.Record{dir(1, "pids", ""), dir(2, "pids", "a"), &image.CgroupMember{Tid: 1, Dirs: []uint32{1, 2}}}},
		{"member unknown flags", []image.Record{dir(1, "pids", ""), &image.CgroupMember{Tid: 1, Flags: 4, Dirs: []uint32{1}}}},
		{"dir after members", []image.Record{dir(1, "pids", ""), &image.CgroupMember{Tid: 1, Dirs: []uint32{1}}, dir(2, "memory", "")}},
	} {
		rs := cgRestorer()
		var err error
		for _, rec := range c.recs {
			if err = take(rs, rec); err != nil {
				break
			}
		}
		if !errors.Is(err, ErrBadImage) {
			t.Errorf("%s: %v, want a bad image", c.name, err)
		}
	}
	// A thread member must name a thread of the image.
	rs.plans[0].threads = []image.Thread{{Tid: 1}}
	if err := rs.checkCgroupThreads(); !errors.Is(err, ErrBadImage) {
		t.Errorf("thread 7 of no task: %v", err)
	}
	rs.plans[0].threads = append(rs.plans[0].threads, image.Thread{Tid: 7})
	if err := rs.checkCgroupThreads(); err != nil {
		t.Error(err)
	}
	// A CGROUP_DIR in a container's image is refused.
	rs = cgRestorer()
	rs.opts.Adopt = &Adopt{}
	if err := rs.addCgroupDir(&image.CgroupDir{ID: 1}); !errors.Is(err, ErrBadImage) {
		t.Errorf("container image: %v", err)
	}
}

// TestStrictCheck: strict mode refuses a cgroup with a controller whose
// limits are not in the image.
func TestStrictCheck(t *testing.T) {
	for _, c := range []struct {
		d  cgDir
		ok bool
	}{
		{cgDir{rec: &image.CgroupDir{Controllers: "pids"}}, true},
		{cgDir{rec: &image.CgroupDir{Controllers: "cpu,cpuacct"}}, true},
		{cgDir{rec: &image.CgroupDir{Controllers: "name=systemd"}}, true},
		{cgDir{rec: &image.CgroupDir{Controllers: "blkio"}}, false},
		{cgDir{rec: &image.CgroupDir{Controllers: "net_cls,net_prio"}}, false},
		{cgDir{rec: &image.CgroupDir{}, props: []*image.CgroupProp{{Name: "cgroup.controllers", Value: "cpu memory pids"}}}, true},
		{cgDir{rec: &image.CgroupDir{}, props: []*image.CgroupProp{{Name: "cgroup.controllers", Value: "memory io"}}}, false},
	} {
		if err := strictCheck(&c.d); (err == nil) != c.ok {
			t.Errorf("%q %v: %v, want ok %v", c.d.rec.Controllers, c.d.props, err, c.ok)
		}
	}
	if m, err := ParseCgroupMode(""); err != nil || m != CgroupSoft {
		t.Errorf("default mode %q %v", m, err)
	}
	if _, err := ParseCgroupMode("props"); err == nil {
		t.Error("mode props accepted")
	}
}
