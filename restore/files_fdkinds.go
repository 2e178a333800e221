package restore

import (
	"os"

	"github.com/ckpt/ckpt/checkpoint/image"
)

// handleFdKind takes the records of timerfds, signalfds, inotify, pidfds,
// deleted files, file locks and file owners as restore reads them; ok is
// false for any other record. An INOTIFY's watches must come right after it,
// so any other record first checks none is missing.
func (rs *restorer) handleFdKind(rec image.Record) (ok bool, err error) {
	if _, w := rec.(*image.InotifyWatch); !w {
		if err := rs.inotifyComplete(); err != nil {
			return true, err
		}
	}
	switch x := rec.(type) {
	case *image.TimerFd:
		if err := checkTimerFd(x); err != nil {
			return true, err
		}
		rs.objs[x.Objref] = x
	case *image.SignalFd:
		rs.objs[x.Objref] = x
	case *image.PidFd:
		if err := checkPidFd(x); err != nil {
			return true, err
		}
		rs.objs[x.Objref] = x
	case *image.Inotify:
		if err := rs.addInotify(x); err != nil {
			return true, err
		}
		rs.objs[x.Objref] = x
	case *image.InotifyWatch:
		return true, rs.addInotifyWatch(x)
	case *image.DeletedFile:
		return true, rs.addDeletedFile(x)
	case *image.DeletedData:
		return true, rs.addDeletedData(x)
	case *image.DeletedOpen:
		if err := rs.checkDeletedOpen(x); err != nil {
			return true, err
		}
		rs.objs[x.Objref] = x
	case *image.FileLock:
		return true, rs.addFileLock(rs.cur, x)
	case *image.FileOwner:
		return true, rs.addFileOwner(rs.cur, x)
	default:
		return false, nil
	}
	return true, nil
}

// fdKindFile makes, in the restorer, a file of one of the kinds above
// (which the tasks then take with pidfd_getfd); nil for any other kind.
func (rs *restorer) fdKindFile(t *taskPlan, obj image.Record) (*os.File, error) {
	switch f := obj.(type) {
	case *image.TimerFd:
		return openTimerFd(f)
	case *image.SignalFd:
		return openSignalFd(f)
	case *image.PidFd:
		return rs.openPidFd(f)
	case *image.Inotify:
		return rs.openInotify(t, f)
	case *image.DeletedOpen:
		return rs.openDeleted(f)
	}
	return nil, nil
}

// checkFdKinds checks, once the whole image is read, what these records
// refer to: the last INOTIFY has all its watches, and every PIDFD names a
// live task of the image.
func (rs *restorer) checkFdKinds() error {
	if err := rs.inotifyComplete(); err != nil {
		return err
	}
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
}
