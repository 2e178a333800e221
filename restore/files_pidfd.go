package restore

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
)

func init() {
	registerKind(kind{name: "pidfd", task: true,
		takes: []taker{object(func(_ *restorer, x *image.PidFd) error { return checkPidFd(x) })},
		opens: []opener{fileOf(func(rs *restorer, _ *taskPlan, _ image.Fd, x *image.PidFd) (*os.File, error) {
			return rs.openPidFd(x)
		})},
		// Every PIDFD names a live task of the image.
		check: func(rs *restorer) error {
			for _, obj := range rs.objs {
				pf, ok := obj.(*image.PidFd)
				if !ok {
					continue
				}
				if t := rs.byPid[pf.Pid]; t == nil || t.helper != helperNone || t.zombie {
					return badImage("PIDFD %d refers to pid %d, which is not a live task of the image", pf.Objref, pf.Pid)
				}
			}
			return nil
		}})
}

// checkPidFd checks a PIDFD as it is read. The process it names may come
// later in the image; run checks it is there (checkPidFdTargets).
func checkPidFd(pf *image.PidFd) error {
	if pf.Pid <= 0 {
		return badImage("PIDFD %d: pid %d", pf.Objref, pf.Pid)
	}
	// 0100000 is the kernel's O_LARGEFILE on x86_64 (unix.O_LARGEFILE is 0).
	if pf.Flags&^uint32(unix.O_RDWR|unix.O_NONBLOCK|0o100000) != 0 {
		return badImage("PIDFD %d: flags %#o", pf.Objref, pf.Flags)
	}
	return nil
}

// openPidFd opens a pidfd of the restored process the PIDFD names, in the
// restorer, which sees every restored task.
func (rs *restorer) openPidFd(pf *image.PidFd) (*os.File, error) {
	t := rs.byPid[pf.Pid]
	if t == nil || t.helper != helperNone || t.zombie {
		return nil, badImage("PIDFD %d refers to pid %d, which is not a live task of the image", pf.Objref, pf.Pid)
	}
	fd, err := unix.PidfdOpen(t.pid, int(pf.Flags&unix.O_NONBLOCK))
	if err != nil {
		return nil, fmt.Errorf("pidfd_open(task %d, now %d): %w", pf.Pid, t.pid, err)
	}
	return os.NewFile(uintptr(fd), fmt.Sprintf("pidfd-%d", pf.Pid)), nil
}
