package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/ckpt/ckpt/image"
	"github.com/ckpt/ckpt/image/imagetest"
	"github.com/ckpt/ckpt/internal/cgroup"
	"github.com/ckpt/ckpt/internal/proc"
)

// cgTree is static/cgroup00 running: its tasks (host pids) and the
// cgroups below the test's own that it made, by hierarchy, deepest first.
type cgTree struct {
	tp     *testProc
	kids   []int
	thread int // the test's thread alone in the pids hierarchy's "a"
	base   map[string]string
	made   map[string][]string // relative to base, deepest first
	mounts []proc.MountInfo
}

var cgHiers = []string{"memory", "pids", ""}

// startCgroupTree starts static/cgroup00 and finds what it made. The
// cgroups are removed when the test ends (once its tasks are dead: this
// cleanup is registered first, so it runs last).
func startCgroupTree(t *testing.T) *cgTree {
	t.Helper()
	requireRoot(t)
	needCkpt(t)
	p := builds.find("static/cgroup00")
	if p == nil {
		t.Fatal("no static/cgroup00 program")
	}
	mounts, err := proc.MountInfos(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	ct := &cgTree{base: map[string]string{}, made: map[string][]string{}, mounts: mounts}
	t.Cleanup(func() { ct.removeAll(t) })
	ct.tp = startProgram(t, p, false)
	root := ct.tp.pid
	ct.findTasks(t)
	for _, h := range cgHiers {
		ct.base[h] = ct.path(t, root, root, h)
		for _, kid := range ct.kids {
			rel, ok := cgroup.Rel(ct.base[h], ct.path(t, kid, kid, h))
			if !ok || rel == "" {
				t.Fatalf("child %d of hierarchy %q is in %s, not below %s", kid, h, rel, ct.base[h])
			}
			for d := rel; d != "."; d = filepath.Dir(d) {
				ct.made[h] = append(ct.made[h], d)
			}
		}
		slices.SortFunc(ct.made[h], func(a, b string) int { return strings.Count(b, "/") - strings.Count(a, "/") })
	}
	return ct
}

// findTasks finds the init's children and its second thread (host pids:
// they change with every restore, in a new pid namespace).
func (ct *cgTree) findTasks(t *testing.T) {
	t.Helper()
	root := ct.tp.pid
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", root, root))
	if err != nil {
		t.Fatal(err)
	}
	ct.kids = nil
	for _, f := range strings.Fields(string(b)) {
		pid, _ := strconv.Atoi(f)
		ct.kids = append(ct.kids, pid)
	}
	if len(ct.kids) != 2 {
		t.Fatalf("cgroup00 has children %v, want 2", ct.kids)
	}
	tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", root))
	for _, e := range tasks {
		if tid, _ := strconv.Atoi(e.Name()); tid != root {
			ct.thread = tid
		}
	}
}

// path is the cgroup of thread tid of pid in hierarchy h.
func (ct *cgTree) path(t *testing.T, pid, tid int, h string) string {
	t.Helper()
	ms, err := cgroup.Read(pid, tid)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.Controllers == h {
			return m.Path
		}
	}
	t.Fatalf("task %d has no cgroup of hierarchy %q", tid, h)
	return ""
}

// dir is the host directory of cgroup rel below the test's in h.
func (ct *cgTree) dir(t *testing.T, h, rel string) string {
	t.Helper()
	m, ok := cgroup.Find(ct.mounts, h)
	if !ok {
		t.Fatalf("hierarchy %q is not mounted", h)
	}
	d, err := m.Dir(ct.base[h])
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(d, rel)
}

// removeAll removes the cgroups the program made, if still there.
func (ct *cgTree) removeAll(t *testing.T) {
	for _, h := range cgHiers {
		for _, rel := range ct.made[h] {
			if err := os.Remove(ct.dir(t, h, rel)); err != nil && !os.IsNotExist(err) {
				t.Errorf("cleanup: %v", err)
			}
		}
	}
}

// checkpointDead checkpoints the tree (it is killed) and waits until its
// init is reaped (in its own pid namespace, its tasks die with it).
func (ct *cgTree) checkpointDead(t *testing.T, extra ...string) string {
	t.Helper()
	img := filepath.Join(ct.tp.dir, "img")
	if _, stderr, err := tryCheckpoint(ct.tp.pid, img, false, extra...); err != nil {
		t.Fatalf("checkpoint: %v\n%s", err, stderr)
	}
	if _, _, err := reap(ct.tp.pid, exitTimeout); err != nil {
		t.Fatal(err)
	}
	return img
}

// relA is the cgroup "...-a" the program made in hierarchy h.
func (ct *cgTree) relA(t *testing.T, h string) string {
	t.Helper()
	for _, rel := range ct.made[h] {
		if strings.HasSuffix(rel, "-a") {
			return rel
		}
	}
	t.Fatalf("no cgroup -a in hierarchy %q: %v", h, ct.made[h])
	return ""
}

// setPidsMax changes pids.max of "...-a" (the program wants 40).
func (ct *cgTree) setPidsMax(t *testing.T, v string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(ct.dir(t, "pids", ct.relA(t, "pids")), "pids.max"), []byte(v), 0); err != nil {
		t.Fatal(err)
	}
}

func (ct *cgTree) pidsMax(t *testing.T, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(ct.dir(t, "pids", rel), "pids.max"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// restoreInto restores the tree and takes over its init's pid.
func (ct *cgTree) restoreInto(t *testing.T, img string, extra ...string) {
	t.Helper()
	ct.tp.pid = restoreDetached(t, img, filepath.Join(ct.tp.dir, "restored.pid"), extra...)
	ct.tp.done = false
	ct.findTasks(t)
}

// TestCgroupModes: a tree whose tasks and a thread sit in child cgroups of
// v1 hierarchies and of v2 (static/cgroup00, which checks its cgroups
// and their limits itself) is checkpointed, its cgroups changed or
// removed, and restored in each --manage-cgroups-mode.
func TestCgroupModes(t *testing.T) {
	t.Run("soft-made", func(t *testing.T) {
		// Removed cgroups are made again, with their limits.
		ct := startCgroupTree(t)
		img := ct.checkpointDead(t)
		ct.removeAll(t)
		ct.restoreInto(t, img)
		finish(t, ct.tp, true)
	})
	t.Run("soft-existing", func(t *testing.T) {
		// An existing cgroup keeps its own limits: the program sees
		// pids.max changed and fails.
		ct := startCgroupTree(t)
		img := ct.checkpointDead(t)
		a := ct.relA(t, "pids")
		ct.setPidsMax(t, "77")
		ct.restoreInto(t, img, "--manage-cgroups-mode", "soft")
		if got := ct.pidsMax(t, a); got != "77" {
			t.Errorf("soft: pids.max of existing %s is %s, want 77 (left as it was)", a, got)
		}
		finish(t, ct.tp, false)
	})
	t.Run("full", func(t *testing.T) {
		ct := startCgroupTree(t)
		img := ct.checkpointDead(t)
		ct.setPidsMax(t, "77")
		ct.restoreInto(t, img, "--manage-cgroups-mode", "full")
		finish(t, ct.tp, true)
	})
	t.Run("strict", func(t *testing.T) {
		ct := startCgroupTree(t)
		img := ct.checkpointDead(t)
		_, stderr, err := runCkpt("restore", "--image-path", img, "--detach", "--pid-file", filepath.Join(ct.tp.dir, "refused.pid"), "--manage-cgroups-mode", "strict")
		if err == nil || !strings.Contains(stderr, "exists already") {
			t.Fatalf("strict restore over existing cgroups: %v %s", err, stderr)
		}
		if _, stderr, err := runCkpt("restore", "--image-path", img, "--dry-run", "--manage-cgroups-mode", "strict"); err == nil || !strings.Contains(stderr, "exists already") {
			t.Fatalf("strict dry run over existing cgroups: %v %s", err, stderr)
		}
		ct.removeAll(t)
		if _, stderr, err := runCkpt("restore", "--image-path", img, "--dry-run", "--manage-cgroups-mode", "strict"); err != nil {
			t.Fatalf("strict dry run: %v %s", err, stderr)
		}
		ct.restoreInto(t, img, "--manage-cgroups-mode", "strict")
		finish(t, ct.tp, true)
	})
	t.Run("ignore", func(t *testing.T) {
		ct := startCgroupTree(t)
		img := ct.checkpointDead(t)
		ct.restoreInto(t, img, "--manage-cgroups-mode", "ignore")
		for _, h := range cgHiers {
			for _, kid := range ct.kids {
				if got, want := ct.path(t, kid, kid, h), ct.path(t, os.Getpid(), os.Getpid(), h); got != want {
					t.Errorf("ignore: child %d is in %s of hierarchy %q, want ckpt's %s", kid, got, h, want)
				}
			}
		}
		finish(t, ct.tp, false)
	})
	t.Run("checkpoint-ignore", func(t *testing.T) {
		ct := startCgroupTree(t)
		img := ct.checkpointDead(t, "--manage-cgroups-mode", "ignore")
		recs, _, err := inspect(img)
		if err != nil {
			t.Fatal(err)
		}
		if n := len(ofType(recs, "CGROUP_DIR")) + len(ofType(recs, "CGROUP_MEMBER")); n != 0 {
			t.Errorf("checkpoint --manage-cgroups-mode ignore saved %d cgroup records", n)
		}
		ct.restoreInto(t, img)
		finish(t, ct.tp, false)
	})
	t.Run("crash", func(t *testing.T) {
		// ckpt killed once it made the cgroups and the tasks: the
		// guardian kills the tasks and removes the cgroups made.
		ct := startCgroupTree(t)
		img := ct.checkpointDead(t)
		ct.removeAll(t)
		cg := testCgroup(t, "cgroup")
		faultRun(t, "restore/tasks created", cg, "restore", "--image-path", img, "--detach", "--pid-file", filepath.Join(ct.tp.dir, "crash.pid"))
		ct.tp.done = true
		pollClean(t, "restore/tasks created", func() string {
			for _, h := range []string{"memory", "pids"} {
				for _, rel := range ct.made[h] {
					if _, err := os.Stat(ct.dir(t, h, rel)); err == nil {
						return "left cgroup " + ct.dir(t, h, rel)
					}
				}
			}
			ents, _ := os.ReadDir(cg)
			for _, e := range ents {
				if e.IsDir() {
					return "left cgroup " + filepath.Join(cg, e.Name())
				}
			}
			return ""
		})
	})
	t.Run("cgroup-root", func(t *testing.T) {
		ct := startCgroupTree(t)
		img := ct.checkpointDead(t)
		// Another cgroup to restore under, in every hierarchy the
		// image names (all of /proc/self/cgroup's).
		root := fmt.Sprintf("/ckpt-cgroup-root-%d", os.Getpid())
		self, err := cgroup.Read(os.Getpid(), os.Getpid())
		if err != nil {
			t.Fatal(err)
		}
		var dirs []string
		t.Cleanup(func() {
			// Deepest first: what the restore made below each root,
			// then the root.
			for _, d := range dirs {
				var below []string
				filepath.WalkDir(d, func(p string, e os.DirEntry, err error) error {
					if err == nil && e.IsDir() {
						below = append(below, p)
					}
					return nil
				})
				slices.SortFunc(below, func(a, b string) int { return strings.Count(b, "/") - strings.Count(a, "/") })
				for _, p := range below {
					os.Remove(p)
				}
			}
		})
		for _, m := range self {
			h, ok := cgroup.Find(ct.mounts, m.Controllers)
			if !ok {
				t.Fatalf("hierarchy %q is not mounted", m.Controllers)
			}
			d, err := h.Dir(root)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.Mkdir(d, 0o755); err != nil {
				t.Fatal(err)
			}
			dirs = append(dirs, d)
			// A new v1 cpuset cgroup has no CPU and no memory node:
			// the caller gives its root what its parent has.
			for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
				if v, err := os.ReadFile(filepath.Join(filepath.Dir(d), f)); err == nil && m.Controllers != "" {
					if err := os.WriteFile(filepath.Join(d, f), v, 0); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
		ct.restoreInto(t, img, "--cgroup-root", root)
		for _, h := range cgHiers {
			a := ct.relA(t, h)
			if got := ct.path(t, ct.tp.pid, ct.tp.pid, h); got != root {
				t.Errorf("the init is in %s of hierarchy %q, want %s", got, h, root)
			}
			found := false
			for _, kid := range ct.kids {
				found = found || ct.path(t, kid, kid, h) == root+"/"+a
			}
			if !found {
				t.Errorf("no child is in %s/%s of hierarchy %q", root, a, h)
			}
		}
		if got := ct.path(t, ct.tp.pid, ct.thread, "pids"); !strings.HasPrefix(got, root+"/") {
			t.Errorf("the thread is in pids cgroup %s, want one below %s", got, root)
		}
		ct.tp.kill()
	})
}

// TestCgroupHostileImages: a cgroup path or control file name of an image
// that would climb out of the cgroup restore manages is refused when the
// image is validated, before anything is made.
func TestCgroupHostileImages(t *testing.T) {
	var cases []HostileCase
	for _, p := range []string{"../../escape", "/sys/fs/cgroup/pids", "a/../../b"} {
		cases = append(cases, HostileCase{"path-" + strings.NewReplacer("/", "_", ".", "d").Replace(p), func(t *testing.T, im *imagetest.Image) {
			for _, i := range im.Find(image.TypeCgroupDir) {
				d := *im.Items[i].Rec.(*image.CgroupDir)
				if d.Path != "" {
					d.Path = p
					if err := im.Replace(i, &d); err != nil {
						t.Fatal(err)
					}
					return
				}
			}
			t.Fatal("no CGROUP_DIR below the first task's")
		}, "CGROUP_DIR"})
	}
	cases = append(cases, HostileCase{"prop-name", func(t *testing.T, im *imagetest.Image) {
		i := mustFind(t, im, image.TypeCgroupProp)
		pr := *im.Items[i].Rec.(*image.CgroupProp)
		pr.Name = "../../release_agent"
		if err := im.Replace(i, &pr); err != nil {
			t.Fatal(err)
		}
	}, "CGROUP_PROP"})
	// The program is killed at the end, its cgroups left: removed then
	// (registered first, this runs last). rmdir refuses a cgroup that
	// still holds a task or a child cgroup, so no one else's goes.
	t.Cleanup(func() {
		mounts, err := proc.MountInfos(os.Getpid())
		if err != nil {
			return
		}
		for _, h := range cgHiers {
			m, ok := cgroup.Find(mounts, h)
			ms, err := cgroup.Read(os.Getpid(), os.Getpid())
			if !ok || err != nil {
				continue
			}
			for _, me := range ms {
				if me.Controllers != h {
					continue
				}
				d, err := m.Dir(me.Path)
				if err != nil {
					continue
				}
				for _, pat := range []string{"zdtm-cgroup00-*-b/c", "zdtm-cgroup00-*"} {
					leftovers, _ := filepath.Glob(filepath.Join(d, pat))
					for _, l := range leftovers {
						os.Remove(l)
					}
				}
			}
		}
	})
	RunHostile(t, "static/cgroup00", cases)
}
