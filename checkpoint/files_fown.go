package checkpoint

import (
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
	"github.com/ckpt/ckpt/internal/kernel"
)

// ownerRef is a FILE_OWNER whose owner is known by its pid in our pid
// namespace until resolveOwners maps it into the image.
type ownerRef struct {
	rec     *image.FileOwner
	hostPid int // F_GETOWN_EX's pid, as we see it; 0 for none
	task    int // the task holding the description
	obj     string
}

// collectOwner reads the signal-driven I/O state of a description seen for
// the first time: the O_ASYNC flag, the owner the kernel signals and the
// signal it sends. Every description with O_ASYNC is asked, and every
// socket (its owner gets SIGURG even without O_ASYNC); nothing is recorded
// for one with no such state. The description is read through a copy of
// the fd in ckpt, so the owner's pid is the one of our pid namespace.
func (d *dumper) collectOwner(p *process, of *openFd) error {
	async := of.info.Flags&unix.O_ASYNC != 0
	if !async && of.st.Mode&unix.S_IFMT != unix.S_IFSOCK {
		return nil
	}
	obj := fmt.Sprintf("fd %d (%s)", of.fd, of.link)
	sfd, err := kernel.TakeFd(p.pid, of.fd)
	if err != nil {
		return fmt.Errorf("task %d %s: owner: %w", p.pid, obj, err)
	}
	defer unix.Close(sfd)
	own, err := kernel.GetOwnerEx(sfd)
	if err != nil {
		return fmt.Errorf("task %d %s: fcntl(F_GETOWN_EX): %w", p.pid, obj, err)
	}
	sig, err := unix.FcntlInt(uintptr(sfd), unix.F_GETSIG, 0)
	if err != nil {
		return fmt.Errorf("task %d %s: fcntl(F_GETSIG): %w", p.pid, obj, err)
	}
	if !async && own.Pid == 0 && sig == 0 {
		return nil
	}
	r := &image.FileOwner{Fd: int32(of.fd), OwnerType: uint32(own.Type), Signal: uint32(sig)}
	if async {
		r.Flags |= image.FileOwnerAsync
	}
	if d.owners == nil {
		d.owners = map[*process][]*ownerRef{}
	}
	d.owners[p] = append(d.owners[p], &ownerRef{rec: r, hostPid: int(own.Pid), task: p.pid, obj: obj})
	return nil
}

// resolveOwners maps the owners into the image, once every task is
// collected: an owner must be a live task of the tree (for a process group,
// its leader; for a thread, a main thread), else the checkpoint is refused.
func (d *dumper) resolveOwners(t *tree) error {
	for _, refs := range d.owners {
		for _, o := range refs {
			if o.hostPid == 0 {
				continue
			}
			kind := map[uint32]string{kernel.F_OWNER_TID: "thread", kernel.F_OWNER_PID: "process", kernel.F_OWNER_PGRP: "process group"}[o.rec.OwnerType]
			if kind == "" {
				return unsupported(o.task, o.obj, "signal-driven I/O owner of unknown type %d", o.rec.OwnerType)
			}
			q := t.byPid[o.hostPid]
			if q == nil || q.zombie {
				why := "outside the checkpointed tree"
				switch {
				case q != nil:
					why = "a zombie: not supported"
				case o.rec.OwnerType == kernel.F_OWNER_TID:
					why = "not the main thread of a live task of the tree: other thread owners are not supported yet"
				case o.rec.OwnerType == kernel.F_OWNER_PGRP:
					why = "not led by a live task of the tree (a group outside it, or one whose leader is gone: not supported yet)"
				}
				return unsupported(o.task, o.obj, "its SIGIO/SIGURG owner, %s %d, is %s", kind, o.hostPid, why)
			}
			o.rec.Pid = q.task.Pid
		}
	}
	return nil
}

// fileOwners are the task's FILE_OWNER records, written after its FDs.
func (d *dumper) fileOwners(p *process) []image.Record {
	var recs []image.Record
	for _, o := range d.owners[p] {
		recs = append(recs, o.rec)
	}
	return recs
}
