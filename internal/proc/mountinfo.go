package proc

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// MountInfo is one line of /proc/PID/mountinfo (proc(5)): a mount of the
// task's mount namespace, seen from the task's root.
type MountInfo struct {
	ID, Parent   int
	Major, Minor uint32
	Root         string   // the path inside the filesystem that is mounted here
	MountPoint   string   // relative to the task's root
	Opts         string   // per-mount options ("rw,nosuid,relatime")
	Optional     []string // propagation tags: shared:N, master:N, propagate_from:N, unbindable
	FsType       string
	Source       string
	SuperOpts    string // per-superblock options ("rw,size=1024k")
}

// Private reports whether the mount takes part in no propagation at all.
func (m *MountInfo) Private() bool { return len(m.Optional) == 0 }

// MountInfos reads /proc/PID/mountinfo, in the kernel's order.
func MountInfos(pid int) ([]MountInfo, error) {
	path := "/proc/" + strconv.Itoa(pid) + "/mountinfo"
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	ms, err := ParseMountInfo(string(b))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return ms, nil
}

// ParseMountInfo parses the text of a mountinfo file.
func ParseMountInfo(s string) ([]MountInfo, error) {
	var ms []MountInfo
	for n, line := range strings.Split(s, "\n") {
		if line == "" {
			continue
		}
		pre, post, ok := strings.Cut(line, " - ")
		f, g := strings.Fields(pre), strings.Fields(post)
		if !ok || len(f) < 6 || len(g) < 3 {
			return nil, fmt.Errorf("line %d: malformed: %q", n+1, line)
		}
		var m MountInfo
		var err1, err2 error
		m.ID, err1 = strconv.Atoi(f[0])
		m.Parent, err2 = strconv.Atoi(f[1])
		maj, min, ok := strings.Cut(f[2], ":")
		a, err3 := strconv.ParseUint(maj, 10, 32)
		b, err4 := strconv.ParseUint(min, 10, 32)
		if err1 != nil || err2 != nil || err3 != nil || err4 != nil || !ok {
			return nil, fmt.Errorf("line %d: malformed numbers: %q", n+1, line)
		}
		m.Major, m.Minor = uint32(a), uint32(b)
		m.Root, m.MountPoint, m.Opts = unescapeMount(f[3]), unescapeMount(f[4]), f[5]
		m.Optional = f[6:]
		m.FsType, m.Source, m.SuperOpts = unescapeMount(g[0]), unescapeMount(g[1]), g[2]
		ms = append(ms, m)
	}
	return ms, nil
}

// unescapeMount undoes the kernel's octal escapes (\040 for a space, \011,
// \012, \134) in mountinfo fields.
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

var mountOptFlags = map[string]uint32{ // MS_* values fit in 32 bits
	"ro": unix.MS_RDONLY, "rw": 0, "nosuid": unix.MS_NOSUID, "nodev": unix.MS_NODEV, "noexec": unix.MS_NOEXEC,
	"nosymfollow": unix.MS_NOSYMFOLLOW, "noatime": unix.MS_NOATIME, "nodiratime": unix.MS_NODIRATIME, "relatime": unix.MS_RELATIME,
}

// MountFlags turns the per-mount options of a mountinfo line into the
// MS_* flags that make them with mount(2). No atime option means
// strictatime, which mount(2) wants said (MS_STRICTATIME). An option it
// does not know ("idmapped", say) is an error: its state would be lost.
func MountFlags(opts string) (uint32, error) {
	var f uint32
	for _, o := range strings.Split(opts, ",") {
		v, ok := mountOptFlags[o]
		if !ok {
			return 0, fmt.Errorf("mount option %q is not supported", o)
		}
		f |= v
	}
	if f&(unix.MS_NOATIME|unix.MS_RELATIME) == 0 {
		f |= unix.MS_STRICTATIME
	}
	return f, nil
}
