package proc

import (
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Rlimit is one resource limit; unix.RLIM_INFINITY stands for unlimited.
type Rlimit struct{ Cur, Max uint64 }

// Limits reads /proc/PID/limits: every resource limit, indexed by resource
// number (the kernel prints them in RLIMIT_* order). Unlike prlimit(2) on
// another process, it needs no CAP_SYS_RESOURCE when the uids differ.
//
// Lines look like (fs/proc/base.c, proc_pid_limits):
//
//	Limit                     Soft Limit           Hard Limit           Units
//	Max cpu time              unlimited            unlimited            seconds
func Limits(pid int) ([]Rlimit, error) {
	path := pidPath(pid, "limits")
	var b []byte
	if err := readAll(path, &b); err != nil {
		return nil, readErr(path, err)
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) < 2 {
		return nil, fmt.Errorf("%s: no limits", path)
	}
	const nameWidth = 26 // "%-25s "
	var out []Rlimit
	for _, l := range lines[1:] {
		if len(l) <= nameWidth {
			return nil, fmt.Errorf("%s: short line %q", path, l)
		}
		f := strings.Fields(l[nameWidth:])
		if len(f) < 2 {
			return nil, fmt.Errorf("%s: bad line %q", path, l)
		}
		cur, err1 := parseLimit(f[0])
		max, err2 := parseLimit(f[1])
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("%s: bad line %q", path, l)
		}
		out = append(out, Rlimit{Cur: cur, Max: max})
	}
	return out, nil
}

func parseLimit(s string) (uint64, error) {
	if s == "unlimited" {
		return unix.RLIM_INFINITY, nil
	}
	return strconv.ParseUint(s, 10, 64)
}
