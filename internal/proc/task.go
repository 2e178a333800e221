package proc

import (
	"os"
	"slices"

	"golang.org/x/sys/unix"
)

// Tasks returns the thread ids in /proc/PID/task, sorted, with the thread
// group leader (tid == pid) first.
func Tasks(pid int) ([]int, error) {
	path := pidPath(pid, "task")
	tids, err := readIntDir(path)
	if err != nil {
		return nil, readErr(path, err)
	}
	return leaderFirst(tids, pid), nil
}

// leaderFirst moves pid to the front of the sorted tids: tids wrap around
// pid_max, so the leader need not be the lowest.
func leaderFirst(tids []int, pid int) []int {
	if i, found := slices.BinarySearch(tids, pid); found && i > 0 {
		copy(tids[1:i+1], tids[:i])
		tids[0] = pid
	}
	return tids
}

// Children returns the pids in /proc/PID/task/TID/children: the children
// that thread TID forked, oldest first (CONFIG_PROC_CHILDREN). A process's
// children are the union over its threads.
func Children(pid, tid int) ([]int, error) {
	path := taskPath(pid, tid, "children")
	buf := getBuf()
	defer putBuf(buf)
	if err := readAll(path, buf); err != nil {
		return nil, readErr(path, err)
	}
	var kids []int
	rest := *buf
	for {
		var f []byte
		f, rest = nextField(rest)
		if len(f) == 0 {
			return kids, nil
		}
		v, ok := parseDec(f)
		if !ok {
			return nil, readErr(path, syntaxErr("pid", *buf))
		}
		kids = append(kids, int(v))
	}
}

// Exe returns the target of /proc/PID/exe, with " (deleted)" if the
// executable was unlinked.
func Exe(pid int) (string, error) { return readLink(pidPath(pid, "exe")) }

// Cwd returns the target of /proc/PID/cwd.
func Cwd(pid int) (string, error) { return readLink(pidPath(pid, "cwd")) }

// Root returns the target of /proc/PID/root.
func Root(pid int) (string, error) { return readLink(pidPath(pid, "root")) }

func readLink(path string) (string, error) {
	s, err := os.Readlink(path)
	if err != nil {
		// os.Readlink's *PathError already names the path.
		return "", markGone(err)
	}
	return s, nil
}

// readIntDir returns the numeric entry names of a /proc directory, sorted.
// It reads dirents itself because Readdirnames would allocate a string per
// entry, and a task can have tens of thousands of fds.
func readIntDir(path string) ([]int, error) {
	fd, err := openFile(path, unix.O_RDONLY|unix.O_DIRECTORY)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	buf := getBuf()
	defer putBuf(buf)
	b := (*buf)[:cap(*buf)]
	var out []int
	for {
		n, err := unix.Getdents(fd, b)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, err
		}
		if n == 0 {
			break
		}
		out = appendDirentInts(out, b[:n])
	}
	slices.Sort(out)
	return out, nil
}

// appendDirentInts appends the numeric names in a getdents64 buffer of
// struct linux_dirent64 {u64 d_ino; s64 d_off; u16 d_reclen; u8 d_type;
// char d_name[];} (include/linux/dirent.h).
func appendDirentInts(out []int, b []byte) []int {
	const nameOff = 19
	for len(b) >= nameOff {
		reclen := int(b[16]) | int(b[17])<<8
		if reclen < nameOff || reclen > len(b) {
			break
		}
		name := b[nameOff:reclen]
		for i, c := range name {
			if c == 0 {
				name = name[:i]
				break
			}
		}
		if v, ok := parseDec(name); ok {
			out = append(out, int(v))
		}
		b = b[reclen:]
	}
	return out
}
