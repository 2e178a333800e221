package checkpoint

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/ckpt/ckpt/internal/proc"
)

// findFreezer looks for a cgroup to freeze when the caller named none: the
// cgroup of the root task, in the v2 hierarchy or else the v1 freezer one,
// if it holds the root's subtree and nothing else. A cgroup that also
// holds other tasks is not ours to freeze, and the root cgroup cannot be
// frozen: then the tree is seized without a freezer (nil, and the reason).
func findFreezer(root int) (*freezer, string) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", root))
	if err != nil {
		return nil, err.Error()
	}
	mounts, err := proc.MountInfos(os.Getpid())
	if err != nil {
		return nil, err.Error()
	}
	var why []string
	for _, c := range candidateCgroups(b, mounts) {
		if c.path == "/" {
			why = append(why, c.kind+": the root task is in the root cgroup")
			continue
		}
		dir := filepath.Join(c.mount, c.path)
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

type cgroupCandidate struct{ kind, mount, path string }

// candidateCgroups lists the root task's cgroups that can freeze, from
// /proc/PID/cgroup: v2 first, then the v1 freezer.
func candidateCgroups(cgroupFile []byte, mounts []proc.MountInfo) []cgroupCandidate {
	var v2, v1 []cgroupCandidate
	sc := bufio.NewScanner(bytes.NewReader(cgroupFile))
	for sc.Scan() {
		// hierarchy-ID:controller-list:cgroup-path
		f := strings.SplitN(sc.Text(), ":", 3)
		if len(f) != 3 {
			continue
		}
		for _, m := range mounts {
			switch {
			case f[0] == "0" && f[1] == "" && m.FsType == "cgroup2":
				v2 = append(v2, cgroupCandidate{"cgroup v2", m.MountPoint, f[2]})
			case f[1] != "" && m.FsType == "cgroup" && hasOpt(f[1], "freezer") && hasOpt(m.SuperOpts, "freezer"):
				v1 = append(v1, cgroupCandidate{"cgroup v1 freezer", m.MountPoint, f[2]})
			}
		}
	}
	return append(v2[:min(len(v2), 1)], v1[:min(len(v1), 1)]...)
}

func hasOpt(list, opt string) bool {
	for _, o := range strings.Split(list, ",") {
		if o == opt {
			return true
		}
	}
	return false
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
