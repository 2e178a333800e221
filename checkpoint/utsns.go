package checkpoint

import (
	"fmt"
	"os"
	"runtime"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/checkpoint/image"
)

// collectUtsns records the tree's private UTS namespace, if its first task
// has one (its parent's is another): its names, read by entering it on a
// thread of our own. A task in yet another UTS namespace is refused.
func (d *dumper) collectUtsns(t *tree) error {
	root := t.procs[0]
	ns := func(pid int) string {
		l, _ := os.Readlink("/proc/" + strconv.Itoa(pid) + "/ns/uts")
		return l
	}
	rootNs := ns(root.pid)
	for _, p := range t.live()[1:] {
		if ns(p.pid) != rootNs {
			return unsupported(p.pid, "UTS namespace", "it differs from the one of task %d: nested UTS namespaces are not supported yet", root.pid)
		}
	}
	parent := ns(int(root.stat.PPid))
	if d.opts.Container != nil {
		// A container's init may have been reparented anywhere: compare
		// with ours, which is the host's.
		parent = ns(os.Getpid())
	}
	if parent == "" || parent == rootNs || ns(os.Getpid()) == rootNs {
		return nil // the outside's (see privateNs)
	}
	u, err := utsNames(root.pid)
	if err != nil {
		return fmt.Errorf("UTS namespace of task %d: %w", root.pid, err)
	}
	root.task.Flags |= image.TaskFlagUtsns
	d.uts = u
	return nil
}

// utsNames reads the names of pid's UTS namespace. The goroutine's thread
// enters the namespace and is never given back to the Go scheduler: it
// exits with the goroutine, namespace and all.
func utsNames(pid int) (*image.Uts, error) {
	type result struct {
		u   *image.Uts
		err error
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/ns/uts")
		if err != nil {
			done <- result{err: err}
			return
		}
		defer f.Close()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWUTS); err != nil {
			done <- result{err: fmt.Errorf("setns: %w", err)}
			return
		}
		var u unix.Utsname
		if err := unix.Uname(&u); err != nil {
			done <- result{err: err}
			return
		}
		done <- result{u: &image.Uts{
			Hostname:   unix.ByteSliceToString(u.Nodename[:]),
			Domainname: unix.ByteSliceToString(u.Domainname[:]),
		}}
	}()
	r := <-done
	return r.u, r.err
}
