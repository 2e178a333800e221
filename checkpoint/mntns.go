package checkpoint

import (
	"bufio"
	"os"
	"strconv"
	"strings"

	"github.com/ckpt/ckpt/checkpoint/image"
)

// collectMntns looks at the mount namespaces of the tree. Its first task
// may have one of its own (a container's); restore then gives it a new
// one, and a fresh /proc if it had a proc mount there, so that /proc shows
// the restored pid namespace. The mounts themselves are not saved yet: the
// new namespace starts as a copy of the restorer's. A task whose mount
// namespace differs from the first task's is refused.
func (d *dumper) collectMntns(t *tree) error {
	root := t.procs[0]
	ns := func(pid int) string {
		l, _ := os.Readlink("/proc/" + strconv.Itoa(pid) + "/ns/mnt")
		return l
	}
	rootNs := ns(root.pid)
	if parent := ns(root.stat.PPid); parent != "" && parent != rootNs {
		root.task.Flags |= image.TaskFlagMntns
		if hasProcMount(root.pid) {
			root.task.Flags |= image.TaskFlagProcMount
		}
	}
	for _, p := range t.live()[1:] {
		if ns(p.pid) != rootNs {
			return unsupported(p.pid, "mount namespace", "it differs from the one of task %d: nested mount namespaces are not supported yet", root.pid)
		}
	}
	return nil
}

// hasProcMount reports whether /proc is a proc mount in pid's namespace
// (/proc/PID/mountinfo: mount point is field 5, the fs type follows " - ").
func hasProcMount(pid int) bool {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/mountinfo")
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		f := strings.Fields(pre)
		if ok && len(f) >= 5 && f[4] == "/proc" && strings.HasPrefix(post, "proc ") {
			return true
		}
	}
	return false
}
