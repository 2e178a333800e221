package checkpoint

import (
	"fmt"
	"os"
	"runtime"
	"strconv"

	"golang.org/x/sys/unix"
)

// nsLink is the /proc/PID/ns/KIND link of a task: equal links, same
// namespace. "" if it cannot be read.
func nsLink(pid int, kind string) string {
	if pid <= 0 {
		return ""
	}
	l, _ := os.Readlink("/proc/" + strconv.Itoa(pid) + "/ns/" + kind)
	return l
}

// privateNs tells whether the tree's first task has a KIND namespace of its
// own (its parent's is another one); every other task must share the
// first one's: a task in yet another namespace is refused.
func privateNs(t *tree, kind, what string) (bool, error) {
	root := t.procs[0]
	rootNs := nsLink(root.pid, kind)
	for _, p := range t.live()[1:] {
		if nsLink(p.pid, kind) != rootNs {
			return false, unsupported(p.pid, what, "it differs from the one of task %d: nested %ss are not supported yet", root.pid, what)
		}
	}
	// /proc/PID/ns shows the thread-group leader's namespace, and a
	// parent may have forked from another of its threads, in another one
	// (a Go program's thread that entered a network namespace): ours
	// being the same one also makes it the outside's.
	parent := nsLink(root.stat.PPid, kind)
	return parent != "" && parent != rootNs && nsLink(os.Getpid(), kind) != rootNs, nil
}

// inNamespace runs fn on an OS thread of our own that has entered pid's
// KIND namespace. The thread is never given back to the Go scheduler: it
// exits with the goroutine, namespace and all. (setns into an IPC, network
// or UTS namespace only changes the calling thread.)
func inNamespace(pid int, kind string, nstype int, fn func() error) error {
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/ns/" + kind)
		if err != nil {
			done <- err
			return
		}
		defer f.Close()
		if err := unix.Setns(int(f.Fd()), nstype); err != nil {
			done <- fmt.Errorf("setns into the %s namespace of task %d: %w", kind, pid, err)
			return
		}
		done <- fn()
	}()
	return <-done
}
