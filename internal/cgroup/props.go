package cgroup

import (
	"slices"
	"strings"
)

// propFiles lists, by controller, the control files that hold a cgroup's
// limits and that checkpoint saves and restore writes back, in the order
// they are written: v1 and v2 names together (a cgroup has only the files
// of its version). memory.memsw.limit_in_bytes follows
// memory.limit_in_bytes, which it may not be below; cpu.cfs_quota_us
// follows its period.
var propFiles = map[string][]string{
	"memory": {"memory.limit_in_bytes", "memory.memsw.limit_in_bytes", "memory.soft_limit_in_bytes",
		"memory.min", "memory.low", "memory.high", "memory.max", "memory.swap.max"},
	"pids":   {"pids.max"},
	"cpu":    {"cpu.shares", "cpu.cfs_period_us", "cpu.cfs_quota_us", "cpu.weight", "cpu.max"},
	"cpuset": {"cpuset.cpus", "cpuset.mems"},
}

// Cgroup v2 files that are not a controller's: SubtreeControl is saved
// when not empty and written first (a child's controller files exist only
// once its parent enables the controller); Controllers is saved for
// restore's strict mode to know which controllers the cgroup had, and
// never written.
const (
	SubtreeControl = "cgroup.subtree_control"
	Controllers    = "cgroup.controllers"
)

// noProps are controllers whose cgroups hold no limit to restore: CPU
// accounting, and the freezer, whose state the checkpoint itself drives.
var noProps = map[string]bool{"cpuacct": true, "freezer": true}

// PropFiles lists the control files to save for a cgroup whose enabled
// controllers are given.
func PropFiles(controllers []string) []string {
	var out []string
	for _, c := range []string{"cpuset", "cpu", "memory", "pids"} {
		if slices.Contains(controllers, c) {
			out = append(out, propFiles[c]...)
		}
	}
	return out
}

// Known reports whether name is a control file restore may write.
func Known(name string) bool {
	if name == SubtreeControl {
		return true
	}
	for _, files := range propFiles {
		if slices.Contains(files, name) {
			return true
		}
	}
	return false
}

// Unsaved lists the controllers among the given ones that have limits
// checkpoint does not save (io, devices, hugetlb...): named hierarchies
// ("name=systemd") and the noProps ones have none.
func Unsaved(controllers []string) []string {
	var out []string
	for _, c := range controllers {
		if c == "" || strings.HasPrefix(c, "name=") || noProps[c] || propFiles[c] != nil {
			continue
		}
		out = append(out, c)
	}
	return out
}
