package proc

import "strconv"

// Fds returns the open fd numbers of a process, sorted.
func Fds(pid int) ([]int, error) {
	path := pidPath(pid, "fd")
	fds, err := readIntDir(path)
	if err != nil {
		return nil, readErr(path, err)
	}
	return fds, nil
}

// FdLink returns the target of /proc/PID/fd/N: a path (with " (deleted)"
// if unlinked), or "pipe:[ino]", "socket:[ino]", "anon_inode:[eventfd]"...
func FdLink(pid, fd int) (string, error) {
	return readLink(pidPath(pid, "fd/"+strconv.Itoa(fd)))
}

// FdInfo is /proc/PID/fdinfo/N (fs/proc/fd.c:seq_show() and the file's
// show_fdinfo).
type FdInfo struct {
	Pos int64
	// Flags are the O_* flags of the open file description, plus
	// O_CLOEXEC for the fd's FD_CLOEXEC. On x86_64 they include the
	// kernel's O_LARGEFILE, 0100000, which unix.O_LARGEFILE (0) is not.
	Flags uint32
	MntID int
	Ino   uint64
	// Extra holds every other line, keyed by the text before its first
	// ':' ("eventfd-count", "tfd", "inotify wd", "lock", "settime flags")
	// with the rest, leading blanks trimmed, as the value. A key that
	// repeats (one "tfd" line per epoll target, one "lock" per lock) has
	// its values joined with '\n' in file order. Nil when there are none.
	Extra map[string]string
}

// ReadFdInfo reads /proc/PID/fdinfo/N.
func ReadFdInfo(pid, fd int) (*FdInfo, error) {
	path := pidPath(pid, "fdinfo/"+strconv.Itoa(fd))
	buf := getBuf()
	defer putBuf(buf)
	if err := readAll(path, buf); err != nil {
		return nil, readErr(path, err)
	}
	fi := new(FdInfo)
	if err := fi.parse(*buf); err != nil {
		return nil, readErr(path, err)
	}
	return fi, nil
}

func (fi *FdInfo) parse(data []byte) error {
	seen := 0
	// Values build up as bytes: an epoll fd can have thousands of "tfd"
	// lines, and joining strings one at a time would be quadratic.
	var extra map[string][]byte
	for len(data) > 0 {
		var line []byte
		line, data = nextLine(data)
		if len(line) == 0 {
			continue
		}
		key, val, ok := cutByte(line, ':')
		if !ok {
			return syntaxErr("line without ':'", line)
		}
		val = trimSpace(val)
		switch string(key) {
		case "pos":
			v, ok := parseInt(val)
			if !ok {
				return syntaxErr("pos", line)
			}
			fi.Pos = v
			seen++
		case "flags":
			// Octal, "0%o" (fs/proc/fd.c:seq_show()).
			v, ok := parseUint(val, 8)
			if !ok || v > 1<<32-1 {
				return syntaxErr("flags", line)
			}
			fi.Flags = uint32(v)
			seen++
		case "mnt_id":
			v, ok := parseDec(val)
			if !ok {
				return syntaxErr("mnt_id", line)
			}
			fi.MntID = int(v)
		case "ino":
			v, ok := parseDec(val)
			if !ok {
				return syntaxErr("ino", line)
			}
			fi.Ino = v
		default:
			if extra == nil {
				extra = make(map[string][]byte)
			}
			k := string(trimSpace(key))
			if old, ok := extra[k]; ok {
				extra[k] = append(append(old, '\n'), val...)
			} else {
				extra[k] = append([]byte(nil), val...)
			}
		}
	}
	if seen < 2 {
		return syntaxErr("no pos or flags line", nil)
	}
	if extra != nil {
		fi.Extra = make(map[string]string, len(extra))
		for k, v := range extra {
			fi.Extra[k] = string(v)
		}
	}
	return nil
}
