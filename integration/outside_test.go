package integration

import (
	"fmt"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// outside is what can be seen of a process from outside, compared before
// checkpoint and after restore the way zdtm does.
type outside struct {
	fds    map[int]string
	maps   []string // merged, one "start-end perms offset path" per entry
	cwd    string
	status map[string]string
}

// statusKeys are the /proc/PID/status fields that must survive C/R.
var statusKeys = []string{"Uid", "Gid", "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "SigBlk", "SigIgn", "SigCgt"}

// anonInode matches the inode number in "pipe:[123]" or "socket:[123]",
// which a restore cannot keep.
var anonInode = regexp.MustCompile(`^(pipe|socket):\[\d+\]$`)

// tmpfileName matches the name the kernel gives a file made with
// O_TMPFILE, "#" and its inode number (d_tmpfile()), which a restore
// cannot keep either: the file is made anew, with an inode of its own.
var tmpfileName = regexp.MustCompile(`/#\d+ \(deleted\)$`)

func snapshot(pid int) (*outside, error) {
	o := &outside{fds: map[int]string{}, status: map[string]string{}}
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return nil, err
	}
	for _, e := range ents {
		fd, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		link, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%d", pid, fd))
		if err != nil {
			return nil, err
		}
		o.fds[fd] = tmpfileName.ReplaceAllString(anonInode.ReplaceAllString(link, "$1:"), "/#INO (deleted)")
	}
	raw, err := readMaps(pid)
	if err != nil {
		return nil, err
	}
	o.maps = mergeMaps(raw)
	if o.cwd, err = os.Readlink(fmt.Sprintf("/proc/%d/cwd", pid)); err != nil {
		return nil, err
	}
	for _, k := range statusKeys {
		o.status[k] = statusField(pid, k)
	}
	return o, nil
}

// mapping is one line of /proc/PID/maps.
type mapping struct {
	start, end uint64
	perms      string
	offset     uint64
	dev        string
	inode      uint64
	path       string
}

func readMaps(pid int) ([]mapping, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/maps", pid))
	if err != nil {
		return nil, err
	}
	var ms []mapping
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.Fields(l)
		if len(f) < 5 {
			return nil, fmt.Errorf("/proc/%d/maps: bad line %q", pid, l)
		}
		var m mapping
		se := strings.SplitN(f[0], "-", 2)
		m.start, _ = strconv.ParseUint(se[0], 16, 64)
		m.end, _ = strconv.ParseUint(se[1], 16, 64)
		m.perms = f[1]
		m.offset, _ = strconv.ParseUint(f[2], 16, 64)
		m.dev = f[3]
		m.inode, _ = strconv.ParseUint(f[4], 10, 64)
		if len(f) > 5 {
			m.path = tmpfileName.ReplaceAllString(strings.Join(f[5:], " "), "/#INO (deleted)")
		}
		ms = append(ms, m)
	}
	return ms, nil
}

// mergeMaps joins neighbours the kernel may or may not keep apart (two
// anonymous VMAs with the same protection, file VMAs with contiguous
// offsets): a restore that recreates the same memory may split or merge
// them differently, and that is not a difference a program can see.
func mergeMaps(ms []mapping) []string {
	var out []mapping
	for _, m := range ms {
		if n := len(out); n > 0 {
			p := &out[n-1]
			if p.end == m.start && p.perms == m.perms && p.path == m.path && p.inode == m.inode &&
				(m.inode == 0 || m.offset == p.offset+(p.end-p.start)) {
				p.end = m.end
				continue
			}
		}
		out = append(out, m)
	}
	s := make([]string, len(out))
	for i, m := range out {
		s[i] = fmt.Sprintf("%x-%x %s %08x %s", m.start, m.end, m.perms, m.offset, m.path)
	}
	return s
}

// diff lists how after differs from o; skip names checks to leave out.
func (o *outside) diff(after *outside, skip func(string) bool) []string {
	var d []string
	if !skip("fds") {
		fds := map[int]bool{}
		for fd := range o.fds {
			fds[fd] = true
		}
		for fd := range after.fds {
			fds[fd] = true
		}
		var keys []int
		for fd := range fds {
			keys = append(keys, fd)
		}
		sort.Ints(keys)
		for _, fd := range keys {
			if o.fds[fd] != after.fds[fd] {
				d = append(d, fmt.Sprintf("fd %d: %q before, %q after", fd, o.fds[fd], after.fds[fd]))
			}
		}
	}
	if !skip("maps") {
		lost, appeared := setDiff(o.maps, after.maps), setDiff(after.maps, o.maps)
		if len(lost) > 0 {
			d = append(d, "maps lost:\n\t"+strings.Join(lost, "\n\t"))
		}
		if len(appeared) > 0 {
			d = append(d, "maps appeared:\n\t"+strings.Join(appeared, "\n\t"))
		}
	}
	if !skip("cwd") && o.cwd != after.cwd {
		d = append(d, fmt.Sprintf("cwd: %q before, %q after", o.cwd, after.cwd))
	}
	if !skip("status") {
		for _, k := range statusKeys {
			if o.status[k] != after.status[k] {
				d = append(d, fmt.Sprintf("status %s: %q before, %q after", k, o.status[k], after.status[k]))
			}
		}
	}
	return d
}

func setDiff(a, b []string) []string {
	in := map[string]bool{}
	for _, s := range b {
		in[s] = true
	}
	var out []string
	for _, s := range a {
		if !in[s] {
			out = append(out, s)
		}
	}
	return out
}
