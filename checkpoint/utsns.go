package checkpoint

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
)

// collectUtsns records the tree's private UTS namespace, if its first task
// has one (its parent's is another): its names, read by entering it on a
// thread of our own. A task in yet another UTS namespace is refused.
func (d *dumper) collectUtsns(t *tree) error {
	root := t.procs[0]
	private, err := privateNs(t, "uts", "UTS namespace")
	if err != nil {
		return err
	}
	if d.opts.Container != nil {
		// A container's init may have been reparented anywhere: compare
		// with ours, which is the host's.
		ours := nsLink(os.Getpid(), "uts")
		private = ours != "" && ours != nsLink(root.pid, "uts")
	}
	if !private {
		return nil
	}
	u, err := utsNames(root.pid)
	if err != nil {
		return fmt.Errorf("UTS namespace of task %d: %w", root.pid, err)
	}
	root.task.Flags |= image.TaskFlagUtsns
	d.uts = u
	return nil
}

// utsNames reads the names of pid's UTS namespace.
func utsNames(pid int) (*image.Uts, error) {
	var u unix.Utsname
	if err := inNamespace(pid, "uts", unix.CLONE_NEWUTS, func() error { return unix.Uname(&u) }); err != nil {
		return nil, err
	}
	return &image.Uts{
		Hostname:   unix.ByteSliceToString(u.Nodename[:]),
		Domainname: unix.ByteSliceToString(u.Domainname[:]),
	}, nil
}
