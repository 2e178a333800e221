package image

import (
	"fmt"
	"strings"
)

// Record types of format version 3.1: the cgroups of a process tree.
const (
	TypeCgroupDir    Type = 150
	TypeCgroupProp   Type = 151
	TypeCgroupMember Type = 152
)

var (
	_ = registerType(typeInfo{typ: TypeCgroupDir, name: "CGROUP_DIR", new: func() Record { return new(CgroupDir) }})
	_ = registerType(typeInfo{typ: TypeCgroupProp, name: "CGROUP_PROP", new: func() Record { return new(CgroupProp) }})
	_ = registerType(typeInfo{typ: TypeCgroupMember, name: "CGROUP_MEMBER", new: func() Record { return new(CgroupMember) }})
)

// CgroupDir (CGROUP_DIR, type 150) is one cgroup that tasks of the tree
// were in, in one hierarchy (a cgroup v1 hierarchy, named by its
// controllers, or the v2 one), named relative to the cgroup the tree's
// first task was in in that hierarchy: a restore puts it below the
// restorer's cgroup (or the one it is given), never elsewhere. CGROUP_DIRs
// follow the PSTREE (and SHARES, EXIT_SIGNALS), before the first TASK;
// each is followed by its CGROUP_PROPs. Only an image of a process tree has
// them (a container's cgroup is its bundle's).
type CgroupDir struct {
	ID    uint32 // from 1, unique in the image
	Flags uint32 // CgroupDir* bits
	// Controllers names the hierarchy as /proc/PID/cgroup does: the v1
	// controllers, comma-separated ("cpu,cpuacct", "name=systemd"), or
	// empty for the v2 hierarchy.
	Controllers string
	// Path is relative to the first task's cgroup: empty for that cgroup
	// itself, else "a" or "a/b" (no empty, "." or ".." component, no
	// leading "/").
	Path string
}

// CgroupDir.Flags bits.
const (
	// CgroupDirThreaded: a v2 cgroup whose cgroup.type is "threaded".
	CgroupDirThreaded uint32 = 1
	// CgroupDirAll is every bit defined.
	CgroupDirAll = CgroupDirThreaded
)

func (*CgroupDir) Type() Type { return TypeCgroupDir }

// CgroupProp (CGROUP_PROP, type 151) is one property (a control file and
// its value) of the CGROUP_DIR before it, which is Dir. Only cgroups below
// the first task's have properties.
type CgroupProp struct {
	Dir   uint32 // the CGROUP_DIR's ID
	Name  string // the control file ("memory.limit_in_bytes", "pids.max", ...)
	Value string // what it read, without the trailing newline
}

func (*CgroupProp) Type() Type { return TypeCgroupProp }

// CgroupMember (CGROUP_MEMBER, type 152) puts a task, or a thread whose
// cgroups differ from its process's, in one cgroup of each hierarchy. It
// follows every CGROUP_DIR, before the first TASK.
type CgroupMember struct {
	Tid   int32  // a pid of the PSTREE, or (Flags 1) a tid of a THREAD
	Flags uint32 // CgroupMember* bits
	Dirs  []uint32
}

// CgroupMember.Flags bits.
const (
	// CgroupMemberThread: Tid is a thread of a process, not a process.
	CgroupMemberThread uint32 = 1
	CgroupMemberAll           = CgroupMemberThread
)

func (*CgroupMember) Type() Type { return TypeCgroupMember }

// CheckCgroupPath checks a CGROUP_DIR's path: relative, each component a
// plain name, shorter than PATH_MAX. The restorer joins it to the cgroup it
// may manage: a ".." or a leading "/" would climb out of it.
func CheckCgroupPath(p string) error {
	if p == "" {
		return nil
	}
	if len(p) >= pathMax {
		return fmt.Errorf("path of %d bytes, PATH_MAX is %d", len(p), pathMax)
	}
	for _, c := range strings.Split(p, "/") {
		if c == "" || c == "." || c == ".." || strings.IndexByte(c, 0) >= 0 {
			return fmt.Errorf("path %q is not relative and plain (an empty, \".\" or \"..\" component, a leading \"/\" or a NUL)", p)
		}
	}
	return nil
}

// CheckCgroupFileName checks a CGROUP_PROP's name: one plain file name.
func CheckCgroupFileName(n string) error {
	if n == "" || n == "." || n == ".." || len(n) > 255 || strings.ContainsAny(n, "/\x00") {
		return fmt.Errorf("cgroup file name %q is not one plain name", n)
	}
	return nil
}
