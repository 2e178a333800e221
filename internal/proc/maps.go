package proc

import (
	"bytes"
	"strconv"

	"golang.org/x/sys/unix"
)

// Vma is one line of /proc/PID/maps (one header of smaps).
type Vma struct {
	Start, End uint64
	Prot       int  // unix.PROT_READ|PROT_WRITE|PROT_EXEC from the rwx letters
	Shared     bool // 's' (VM_MAYSHARE) rather than 'p'
	Offset     uint64
	Dev        uint64 // unix.Mkdev(major, minor) of the maps line
	Inode      uint64
	// Path is as the kernel printed it: a file path, "[heap]", "[stack]",
	// "[vdso]", "[anon:NAME]", "" for anonymous memory, with a trailing
	// " (deleted)" removed. The kernel escapes a newline in a file name as
	// "\012" and nothing else, so a path that matters should be taken from
	// readlink(MapFilesPath(...)) rather than from here.
	Path    string
	Deleted bool    // the path ended in " (deleted)"
	Flags   VmFlags // from smaps "VmFlags:"; zero when parsed from maps
}

const deletedSuffix = " (deleted)"

// IsSpecial reports whether v is a mapping the kernel installs and names in
// brackets ([vdso], [vvar], [vvar_vclock], [vsyscall], [uprobes], ...),
// rather than ordinary memory: [heap], [stack], [anon:NAME] and
// [anon_shmem:NAME] are ordinary memory with a name.
func (v Vma) IsSpecial() bool {
	p := v.Path
	if len(p) < 2 || p[0] != '[' || p[len(p)-1] != ']' {
		return false
	}
	switch {
	case p == "[heap]", p == "[stack]":
		return false
	case len(p) > 6 && p[:6] == "[anon:":
		return false
	case len(p) > 12 && p[:12] == "[anon_shmem:":
		return false
	}
	return true
}

// MapFilesPath returns "/proc/PID/map_files/START-END", with the addresses
// in lowercase hex without 0x or padding, exactly as the kernel names the
// entries (fs/proc/base.c, "%lx-%lx").
func MapFilesPath(pid int, start, end uint64) string {
	b := make([]byte, 0, 64)
	b = append(b, "/proc/"...)
	b = strconv.AppendInt(b, int64(pid), 10)
	b = append(b, "/map_files/"...)
	b = strconv.AppendUint(b, start, 16)
	b = append(b, '-')
	b = strconv.AppendUint(b, end, 16)
	return string(b)
}

// Maps reads /proc/PID/maps. The file is read whole (about 100 bytes a
// VMA) so that the VMAs can be counted and allocated at once.
func Maps(pid int) ([]Vma, error) {
	path := pidPath(pid, "maps")
	buf := getBuf()
	defer putBuf(buf)
	if err := readAll(path, buf); err != nil {
		return nil, readErr(path, err)
	}
	data := *buf
	vmas := make([]Vma, 0, bytes.Count(data, []byte{'\n'})+1)
	var paths pathCache
	for len(data) > 0 {
		var line []byte
		line, data = nextLine(data)
		if len(line) == 0 {
			continue
		}
		vmas = append(vmas, Vma{})
		if err := parseVmaHeader(line, &vmas[len(vmas)-1], &paths); err != nil {
			return nil, readErr(path, err)
		}
	}
	return vmas, nil
}

// parseVmaHeader parses one maps line,
//
//	start-end perms offset major:minor inode [padding path]
//
// (fs/proc/task_mmu.c:show_map_vma) into v, which must be zero.
func parseVmaHeader(line []byte, v *Vma, paths *pathCache) error {
	f, rest := nextField(line)
	lo, hi, ok := cutByte(f, '-')
	if !ok {
		return syntaxErr("address range", line)
	}
	if v.Start, ok = parseHex(lo); !ok {
		return syntaxErr("start address", line)
	}
	if v.End, ok = parseHex(hi); !ok {
		return syntaxErr("end address", line)
	}
	f, rest = nextField(rest)
	if len(f) != 4 {
		return syntaxErr("permissions", line)
	}
	if f[0] == 'r' {
		v.Prot |= unix.PROT_READ
	}
	if f[1] == 'w' {
		v.Prot |= unix.PROT_WRITE
	}
	if f[2] == 'x' {
		v.Prot |= unix.PROT_EXEC
	}
	v.Shared = f[3] == 's'
	f, rest = nextField(rest)
	if v.Offset, ok = parseHex(f); !ok {
		return syntaxErr("offset", line)
	}
	f, rest = nextField(rest)
	maj, min, ok := cutByte(f, ':')
	if !ok {
		return syntaxErr("device", line)
	}
	ma, ok1 := parseHex(maj)
	mi, ok2 := parseHex(min)
	if !ok1 || !ok2 || ma > 0xfff || mi > 0xfffff {
		return syntaxErr("device", line)
	}
	v.Dev = unix.Mkdev(uint32(ma), uint32(mi))
	f, rest = nextField(rest)
	if v.Inode, ok = parseDec(f); !ok {
		return syntaxErr("inode", line)
	}
	// The path is everything after the padding, spaces included.
	for len(rest) > 0 && rest[0] == ' ' {
		rest = rest[1:]
	}
	if bytes.HasSuffix(rest, []byte(deletedSuffix)) {
		v.Deleted = true
		rest = rest[:len(rest)-len(deletedSuffix)]
	}
	if len(rest) > 0 {
		v.Path = paths.get(rest)
	}
	return nil
}

// pathCache lets consecutive VMAs of one file (a library maps four or five)
// share one path string instead of allocating each.
type pathCache struct{ s string }

func (c *pathCache) get(b []byte) string {
	if c.s == "" || string(b) != c.s {
		c.s = string(b)
	}
	return c.s
}
