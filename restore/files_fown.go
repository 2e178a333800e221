package restore

import (
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
	"github.com/ckpt/ckpt/internal/kernel"
)

// ownerKind is the restore state of file owners.
type ownerKind struct {
	owners map[*taskPlan][]*image.FileOwner // FILE_OWNER records by task
}

func init() {
	registerKind(kind{name: "file owner", task: true,
		takes: []taker{on(func(rs *restorer, x *image.FileOwner) error { return rs.addFileOwner(rs.cur, x) })}})
}

// addFileOwner takes a FILE_OWNER of the current task: it follows the
// task's FILES and FDs, names one of its fds and an owner in the image.
func (rs *restorer) addFileOwner(t *taskPlan, o *image.FileOwner) error {
	if t == nil || t.files == nil || len(t.fds) != int(t.files.NrFds) {
		return badImage("FILE_OWNER before its task's FILES and FD records")
	}
	found := false
	for _, fd := range t.fds {
		if fd.Fd == o.Fd {
			found = true
			break
		}
	}
	what := fmt.Sprintf("FILE_OWNER of task %d, fd %d", t.rec.Pid, o.Fd)
	switch {
	case !found:
		return badImage("%s: the task has no such fd", what)
	case o.Flags&^image.FileOwnerAsync != 0 || o.Reserved != 0:
		return badImage("%s: unknown Flags %#x or Reserved %#x", what, o.Flags, o.Reserved)
	case o.OwnerType != kernel.F_OWNER_TID && o.OwnerType != kernel.F_OWNER_PID && o.OwnerType != kernel.F_OWNER_PGRP:
		return badImage("%s: owner type %d", what, o.OwnerType)
	case o.Signal > 64: // _NSIG
		return badImage("%s: signal %d", what, o.Signal)
	case o.Pid < 0 || (o.Pid != 0 && rs.byPid[o.Pid] == nil):
		return badImage("%s: owner %d is not a task of the image", what, o.Pid)
	}
	if rs.owners == nil {
		rs.owners = map[*taskPlan][]*image.FileOwner{}
	}
	rs.owners[t] = append(rs.owners[t], o)
	return nil
}

// restoreOwners gives the task's descriptions their owner, signal and
// O_ASYNC again, in the task: the owner's pid is one of its pid namespace,
// and every task of the tree exists by now. It runs before the task gets
// its own credentials back, so the owner's credentials the kernel records
// (checked when it signals) are the restorer's.
func (rs *restorer) restoreOwners(t *taskPlan) error {
	lt := t.leader
	defer lt.Reset()
	for _, o := range rs.owners[t] {
		what := fmt.Sprintf("fd %d", o.Fd)
		if o.Pid != 0 {
			if p := rs.byPid[o.Pid]; p.helper != helperNone || p.zombie {
				return badImage("FILE_OWNER of task %d, fd %d: owner %d is not a live task of the image", t.rec.Pid, o.Fd, o.Pid)
			}
		}
		own := kernel.FOwnerEx{Type: int32(o.OwnerType), Pid: o.Pid}
		addr, err := lt.Put(own.Bytes())
		if err != nil {
			return err
		}
		if _, err := lt.Syscall(unix.SYS_FCNTL, uintptr(o.Fd), unix.F_SETOWN_EX, uintptr(addr)); err != nil {
			return fmt.Errorf("%s: set its owner to %d (type %d): %w", what, o.Pid, o.OwnerType, err)
		}
		if _, err := lt.Syscall(unix.SYS_FCNTL, uintptr(o.Fd), unix.F_SETSIG, uintptr(o.Signal)); err != nil {
			return fmt.Errorf("%s: F_SETSIG %d: %w", what, o.Signal, err)
		}
		if o.Flags&image.FileOwnerAsync == 0 {
			continue
		}
		fl, err := lt.Syscall(unix.SYS_FCNTL, uintptr(o.Fd), unix.F_GETFL)
		if err != nil {
			return fmt.Errorf("%s: F_GETFL: %w", what, err)
		}
		// The kernel only arms signal-driven I/O when F_SETFL turns O_ASYNC
		// on: a reopen with O_ASYNC in its flags leaves the flag set but
		// the file unarmed, so it is turned off first.
		if fl&unix.O_ASYNC != 0 {
			if _, err := lt.Syscall(unix.SYS_FCNTL, uintptr(o.Fd), unix.F_SETFL, fl&^unix.O_ASYNC); err != nil {
				return fmt.Errorf("%s: F_SETFL: %w", what, err)
			}
		}
		if _, err := lt.Syscall(unix.SYS_FCNTL, uintptr(o.Fd), unix.F_SETFL, fl|unix.O_ASYNC); err != nil {
			return fmt.Errorf("%s: turn O_ASYNC on: %w", what, err)
		}
	}
	return nil
}
