package checkpoint

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/ckpt/ckpt/internal/cgroup"
	"github.com/ckpt/ckpt/internal/proc"
)

// findFreezer looks for a cgroup to freeze when the caller named none: the
// cgroup of the root task, in the v2 hierarchy or else the v1 freezer one,
// if it holds the root's subtree and nothing else. A cgroup that also
// holds other tasks is not ours to freeze, and the root cgroup cannot be
// frozen: then the tree is seized without a freezer (nil, and the reason).
func findFreezer(root int) (*freezer, string) {
	ms, err := cgroup.Read(root, root)
	if err != nil {
		return nil, err.Error()
	}
	mounts, err := proc.MountInfos(os.Getpid())
	if err != nil {
		return nil, err.Error()
	}
	var why []string
	for _, c := range candidateCgroups(ms) {
		if c.path == "/" {
			why = append(why, c.kind+": the root task is in the root cgroup")
			continue
		}
		h, ok := cgroup.Find(mounts, c.controllers)
		if !ok {
			why = append(why, c.kind+": not mounted here")
			continue
		}
		dir, err := h.Dir(c.path)
		if err != nil {
			why = append(why, c.kind+": "+err.Error())
			continue
		}
		fz, err := newFreezer(dir)
		if err != nil {
			why = append(why, c.kind+": "+err.Error())
			continue
		}
		if other, err := foreignMember(dir, root); err != nil {
			why = append(why, c.kind+": "+err.Error())
			continue
		} else if other != 0 {
			why = append(why, fmt.Sprintf("%s: %s also holds task %d, which is not of the tree", c.kind, dir, other))
			continue
		}
		return fz, ""
	}
	return nil, strings.Join(why, "; ")
}

type cgroupCandidate struct{ kind, controllers, path string }

// candidateCgroups lists the root task's cgroups that can freeze, from
// its /proc/PID/cgroup (internal/cgroup): v2 first, then the v1 freezer's
// hierarchy.
func candidateCgroups(ms []cgroup.Membership) []cgroupCandidate {
	var v2, v1 []cgroupCandidate
	for _, m := range ms {
		switch {
		case m.Controllers == "":
			v2 = append(v2, cgroupCandidate{"cgroup v2", "", m.Path})
		case slices.Contains(strings.Split(m.Controllers, ","), "freezer"):
			v1 = append(v1, cgroupCandidate{"cgroup v1 freezer", m.Controllers, m.Path})
		}
	}
	return append(v2[:min(len(v2), 1)], v1[:min(len(v1), 1)]...)
}

// foreignMember returns a task in dir or below that is not root or one of
// its descendants, or 0 if there is none.
func foreignMember(dir string, root int) (int, error) {
	var found int
	err := filepath.WalkDir(dir, func(path string, e os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !e.IsDir() {
			return nil
		}
		b, err := os.ReadFile(filepath.Join(path, "cgroup.procs"))
		if err != nil {
			return err
		}
		for _, f := range strings.Fields(string(b)) {
			pid, err := strconv.Atoi(f)
			if err != nil {
				return fmt.Errorf("%s/cgroup.procs: %q", path, f)
			}
			if !descendsFrom(pid, root) {
				found = pid
				return filepath.SkipAll
			}
		}
		return nil
	})
	return found, err
}

// descendsFrom reports whether pid is root or below it. A task that exits
// meanwhile counts as ours: it is no reason not to freeze.
func descendsFrom(pid, root int) bool {
	for i := 0; i < 4096 && pid > 1; i++ {
		if pid == root {
			return true
		}
		st, err := proc.ReadStat(pid)
		if err != nil {
			return proc.IsGone(err)
		}
		pid = st.PPid
	}
	return pid == root
}
