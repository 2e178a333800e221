package checkpoint

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/internal/fsroot"
)

// Paths a task's file system gives (an fd's link, a mapping, a socket's
// bound name, a mount point) are looked up as the task sees them: inside
// its root, from /proc/PID/root, with RESOLVE_IN_ROOT (internal/fsroot);
// the paths the kernel prints for a chrooted task hold its root's path and
// are looked up from the directory its chroot is in (fsroot.OpenTaskNs).
// Never as a string joined to /proc/PID/root: an absolute symlink the task
// planted would resolve against our root, the host's.

// taskPaths resolves paths inside one task's root, each path once: a
// library is mapped four or five times, and each mapping's check
// resolved the same path again, opening the root each time (a quarter of
// a 100-task checkpoint's CPU, bench/notes.md). The task is stopped
// while it is collected; the answers are kept for that collection only.
type taskPaths struct {
	pid  int
	root *fsroot.Root
	err  error // opening the root
	seen map[string]statResult
}

type statResult struct {
	st  unix.Stat_t
	err error
}

func newTaskPaths(pid int) *taskPaths {
	return &taskPaths{pid: pid, seen: map[string]statResult{}}
}

// stat is statInTask, answered once per path.
func (tp *taskPaths) stat(path string) (unix.Stat_t, error) {
	if r, ok := tp.seen[path]; ok {
		return r.st, r.err
	}
	if tp.root == nil && tp.err == nil {
		tp.root, tp.err = fsroot.OpenTaskNs(tp.pid)
	}
	if tp.err != nil {
		return unix.Stat_t{}, tp.err
	}
	st, err := tp.root.Stat(path)
	tp.seen[path] = statResult{st, err}
	return st, err
}

func (tp *taskPaths) close() {
	if tp.root != nil {
		tp.root.Close()
		tp.root = nil
	}
}

// statInTask is stat(2) of path inside task pid's root.
func statInTask(pid int, path string) (unix.Stat_t, error) {
	root, err := fsroot.OpenTaskNs(pid)
	if err != nil {
		return unix.Stat_t{}, err
	}
	defer root.Close()
	return root.Stat(path)
}

// statfsInTask is statfs(2) of path inside task pid's root.
func statfsInTask(pid int, path string) (unix.Statfs_t, error) {
	var fs unix.Statfs_t
	root, err := fsroot.OpenTaskNs(pid)
	if err != nil {
		return fs, err
	}
	defer root.Close()
	h, err := root.Lookup(path)
	if err != nil {
		return fs, err
	}
	defer h.Close()
	if err := unix.Fstatfs(int(h.Fd()), &fs); err != nil {
		return fs, fmt.Errorf("statfs %q in %v: %w", path, root, err)
	}
	return fs, nil
}

// readlinkInTask reads the symlink path (its last name not followed)
// inside task pid's root.
func readlinkInTask(pid int, path string) (string, error) {
	root, err := fsroot.OpenTaskNs(pid)
	if err != nil {
		return "", err
	}
	defer root.Close()
	d, err := root.Parent(path)
	if err != nil {
		return "", err
	}
	defer d.Close()
	buf := make([]byte, unix.PathMax)
	n, err := unix.Readlinkat(d.Fd(), d.Name, buf)
	if err != nil {
		return "", fmt.Errorf("readlink %v: %w", d, err)
	}
	return string(buf[:n]), nil
}

// openInRoot opens path as the task sees it, resolved inside its root
// (symlinks included); O_PATH gives the handle itself, other flags open
// the file it names.
func openInRoot(pid int, path string, flags int) (int, error) {
	root, err := fsroot.OpenTaskNs(pid)
	if err != nil {
		return -1, err
	}
	defer root.Close()
	var f *os.File
	if flags&unix.O_PATH != 0 {
		f, err = root.Lookup(path)
	} else {
		f, err = root.OpenFile(path, 0, flags)
	}
	if err != nil {
		return -1, err
	}
	defer f.Close()
	return unix.FcntlInt(f.Fd(), unix.F_DUPFD_CLOEXEC, 0)
}
