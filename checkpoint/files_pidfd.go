package checkpoint

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
)

func init() {
	registerFileKind(fileKind{name: "pidfd", is: anonKind("anon_inode:[pidfd]"), dump: (*dumper).dumpPidFd})
}

// pidfdRef is a pidfd waiting for resolvePidfds: the process it refers to,
// by pid as ckpt sees it, and where it was found, for messages.
type pidfdRef struct {
	rec     *image.PidFd
	hostPid int
	owner   int
	obj     string
}

// dumpPidFd reads the pid a pidfd refers to from fdinfo ("Pid: N", in the
// pid namespace of ckpt's /proc; -1 once the process is reaped). Whether it
// is a process of the tree is only known once the whole tree is collected:
// resolvePidfds then puts its pid as the image names it in the record.
func (d *dumper) dumpPidFd(p *process, of *openFd, obj string) (image.Record, error) {
	pid, err := strconv.Atoi(strings.TrimSpace(of.info.Extra["Pid"]))
	if err != nil {
		return nil, unsupported(p.pid, obj, "unreadable pidfd Pid %q", of.info.Extra["Pid"])
	}
	if pid <= 0 {
		return nil, unsupported(p.pid, obj, "pidfd of a process that has exited and was reaped")
	}
	rec := &image.PidFd{Flags: of.info.Flags & openFlagsMask}
	d.pidfds = append(d.pidfds, pidfdRef{rec: rec, hostPid: pid, owner: p.pid, obj: obj})
	return rec, nil
}

// resolvePidfds names the process of every pidfd by its pid in the image.
// A pidfd can only be restored as one of a restored process: one of a
// process outside the tree, of a zombie or of a thread is refused.
func (d *dumper) resolvePidfds(t *tree) error {
	for _, r := range d.pidfds {
		target, ok := t.byPid[r.hostPid]
		switch {
		case !ok:
			if tgid, err := threadGroup(r.hostPid); err == nil && tgid != r.hostPid {
				if _, in := t.byPid[tgid]; in {
					return unsupported(r.owner, r.obj, "pidfd of thread %d of task %d: pidfds of threads are not supported yet", r.hostPid, tgid)
				}
			}
			return unsupported(r.owner, r.obj, "pidfd of process %d, which is outside the checkpointed tree", r.hostPid)
		case target.zombie:
			return unsupported(r.owner, r.obj, "pidfd of task %d, a zombie: not supported yet", r.hostPid)
		case r.rec.Flags&unix.O_EXCL != 0:
			// PIDFD_THREAD shares its value with O_EXCL.
			return unsupported(r.owner, r.obj, "pidfd of task %d opened with PIDFD_THREAD: not supported yet", r.hostPid)
		}
		r.rec.Pid = target.task.Pid
	}
	return nil
}

// threadGroup returns the thread group id of a task.
func threadGroup(tid int) (int, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", tid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "Tgid:"); ok {
			return strconv.Atoi(strings.TrimSpace(v))
		}
	}
	return 0, fmt.Errorf("no Tgid in /proc/%d/status", tid)
}
