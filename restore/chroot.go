package restore

import (
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
	"github.com/ckpt/ckpt/internal/fsroot"
)

// restoreChroot makes a chrooted task's root what it was. The FS record's
// Root is a path the kernel printed (from the root of the task's mount
// namespace, like every path of the task): it is resolved inside the
// tasks' root (taskRoot: the first task's, in the restored mount
// namespace if there is one; internal/fsroot, RESOLVE_IN_ROOT: a symlink
// planted on the way cannot
// lead elsewhere); the task opens it and chroots to that directory, once
// checked to be the one resolved, through its fd: fchdir(root),
// chroot("."), then fchdir back to its working directory,
// which restoreFs set and which is kept open across. The task's files are
// open by then (the files step comes first), so their paths were resolved
// from the outer root, as they were printed.
// Preconditions:
//   - the task's working directory is fs.Cwd.
func (rs *restorer) restoreChroot(t *taskPlan, fs *image.Fs) error {
	if rs.nsRoot == nil {
		// Paths of the image are resolved in the root the tasks had
		// before the first chroot (taskRoot).
		r, err := fsroot.OpenTask(rs.plans[0].pid)
		if err != nil {
			return err
		}
		rs.nsRoot = r
	}
	root, err := rs.taskRoot()
	if err != nil {
		return err
	}
	defer root.Close()
	dir, err := root.Lookup(fs.Root)
	if err != nil {
		return fmt.Errorf("root %q: %w", fs.Root, err)
	}
	defer dir.Close()
	var st unix.Stat_t
	if err := unix.Fstat(int(dir.Fd()), &st); err != nil {
		return fmt.Errorf("root %q: %w", fs.Root, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return fmt.Errorf("root %q is not a directory (mode %#o)", fs.Root, st.Mode)
	}
	// The task opens the root itself (the restorer's files are no longer
	// passed in at this step): what it opened must be what fsroot found.
	lt := t.leader
	defer lt.Reset()
	rp, err := lt.PutString(fs.Root)
	if err != nil {
		return err
	}
	rootFd, err := lt.Syscall(unix.SYS_OPENAT, atFdcwd, uintptr(rp), unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open root %q in the task: %w", fs.Root, err)
	}
	defer lt.Syscall(unix.SYS_CLOSE, rootFd) //nolint:errcheck // closing our own fd in the task
	var got unix.Stat_t
	if err := unix.Stat(fmt.Sprintf("/proc/%d/fd/%d", t.pid, rootFd), &got); err != nil {
		return fmt.Errorf("root %q: %w", fs.Root, err)
	}
	if got.Dev != st.Dev || got.Ino != st.Ino {
		return fmt.Errorf("root %q: the task opened another directory than the one resolved in %s", fs.Root, root)
	}
	dot, err := lt.PutString(".")
	if err != nil {
		return err
	}
	cwdFd, err := lt.Syscall(unix.SYS_OPENAT, atFdcwd, uintptr(dot), unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("keep the working directory %q: %w", fs.Cwd, err)
	}
	defer lt.Syscall(unix.SYS_CLOSE, cwdFd) //nolint:errcheck // closing our own fd in the task
	if _, err := lt.Syscall(unix.SYS_FCHDIR, rootFd); err != nil {
		return fmt.Errorf("fchdir to root %q: %w", fs.Root, err)
	}
	if _, err := lt.Syscall(unix.SYS_CHROOT, uintptr(dot)); err != nil {
		return fmt.Errorf("chroot %q: %w", fs.Root, err)
	}
	if _, err := lt.Syscall(unix.SYS_FCHDIR, cwdFd); err != nil {
		return fmt.Errorf("fchdir back to %q: %w", fs.Cwd, err)
	}
	return nil
}
