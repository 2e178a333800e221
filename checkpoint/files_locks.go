package checkpoint

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/ckpt/ckpt/image"
)

// collectLocks reads the locks fdinfo lists for one fd: those taken
// through its description (flock, OFD) or by its task through it (POSIX).
// A line reads
//
//	lock:	1: POSIX  ADVISORY  WRITE 6054 fe:00:9978959 10 14
//
// (kind, mode, type, owner pid or -1, dev:ino, first byte, last byte or
// EOF). A lock shows on every fd of its description, so it is saved once:
// with the first fd found for flock and OFD locks (the description is
// shared by every task that has it), with the first fd of its task for
// POSIX ones. Without --file-locks any lock refuses the checkpoint.
func (d *dumper) collectLocks(p *process, of *openFd, obj *fileObj) error {
	lines := of.info.Extra["lock"]
	if lines == "" {
		return nil
	}
	what := fmt.Sprintf("fd %d (%s)", of.fd, of.link)
	for _, line := range strings.Split(lines, "\n") {
		f := strings.Fields(line)
		if len(f) != 8 {
			return unsupported(p.pid, what, "unreadable lock %q", line)
		}
		var kind uint32
		switch f[1] {
		case "FLOCK":
			kind = image.LockFlock
		case "POSIX":
			kind = image.LockPosix
		case "OFDLCK":
			kind = image.LockOFD
		default:
			return unsupported(p.pid, what, "%s lock (%s): leases and delegations are not supported", f[1], line)
		}
		if !d.opts.FileLocks {
			return unsupported(p.pid, what, "it holds a %s lock (%s %s): checkpoint with --file-locks to save it", f[1], f[3], rangeText(f[6], f[7]))
		}
		if f[2] != "ADVISORY" {
			return unsupported(p.pid, what, "%s %s lock: only advisory locks are supported", f[2], f[1])
		}
		lk := &image.FileLock{Fd: int32(of.fd), Kind: kind}
		switch f[3] {
		case "WRITE":
			lk.Write = 1
		case "READ":
		default:
			return unsupported(p.pid, what, "lock of type %s (%s)", f[3], line)
		}
		start, err := strconv.ParseInt(f[6], 10, 64)
		if err != nil {
			return unsupported(p.pid, what, "unreadable lock %q", line)
		}
		lk.Start = start
		if f[7] != "EOF" {
			end, err := strconv.ParseInt(f[7], 10, 64)
			if err != nil || end < start {
				return unsupported(p.pid, what, "unreadable lock %q", line)
			}
			lk.Len = end - start + 1
		}
		owner := fmt.Sprintf("file %d", obj.objref)
		if kind == image.LockPosix {
			owner = fmt.Sprintf("task %d %d:%d", p.pid, of.st.Dev, of.st.Ino)
		}
		key := fmt.Sprintf("%s %d %s %d %d", owner, kind, f[3], lk.Start, lk.Len)
		if d.lockSeen == nil {
			d.lockSeen = map[string]bool{}
			d.locks = map[*process][]image.Record{}
		}
		if d.lockSeen[key] {
			continue
		}
		d.lockSeen[key] = true
		d.locks[p] = append(d.locks[p], lk)
	}
	return nil
}

func rangeText(start, end string) string {
	if start == "0" && end == "EOF" {
		return "of the whole file"
	}
	return "of bytes " + start + "-" + end
}
