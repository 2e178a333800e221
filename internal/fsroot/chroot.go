package fsroot

import (
	"fmt"
	"os"
	"path"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// OpenTaskNs opens the directory that the paths the kernel prints for task
// pid are relative to, as the caller reads them (/proc/PID/fd/N, cwd,
// maps, exe: d_path(3) stops at the reader's root, or at the root of the
// task's mount namespace when the reader's is not in it): the task's root,
// unless the task is chrooted (/proc/PID/root reads other than "/"). A
// chrooted task's kernel-printed paths include the path of its root, so
// they are resolved from the directory the chroot is in: its root climbed
// by one ".." per component of that path (".." crosses mount points
// upwards as the kernel's own walk does), checked to lead back to the
// task's root. Names the task gave itself (a unix socket's bound name)
// are relative to its root: OpenTask.
func OpenTaskNs(pid int) (*Root, error) {
	r, err := OpenTask(pid)
	if err != nil {
		return nil, err
	}
	link, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/root")
	if err != nil {
		r.Close()
		return nil, fmt.Errorf("task %d's root: %w", pid, err)
	}
	if link == "/" {
		return r, nil
	}
	defer r.Close()
	clean := path.Clean(link)
	if !path.IsAbs(clean) || strings.HasSuffix(link, " (deleted)") {
		return nil, fmt.Errorf("task %d's root %q cannot be climbed out of", pid, link)
	}
	n := strings.Count(clean, "/")
	fd, err := unix.Openat(r.Fd(), strings.TrimSuffix(strings.Repeat("../", n), "/"), unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("climb out of task %d's root %q: %w", pid, link, err)
	}
	ns := &Root{f: os.NewFile(uintptr(fd), link+"/.."), name: "the directory task " + strconv.Itoa(pid) + "'s root " + strconv.Quote(link) + " is in"}
	// The root must be found again from there at its path: else the
	// climb went elsewhere (the chroot renamed meanwhile).
	var want, got unix.Stat_t
	if err := unix.Fstat(r.Fd(), &want); err != nil {
		ns.Close()
		return nil, err
	}
	if got, err = ns.Stat(clean); err != nil {
		ns.Close()
		return nil, fmt.Errorf("task %d's root %q from %s: %w", pid, link, ns, err)
	}
	if got.Dev != want.Dev || got.Ino != want.Ino {
		ns.Close()
		return nil, fmt.Errorf("task %d's root %q is not at its path from %s", pid, link, ns)
	}
	return ns, nil
}

// Dup returns another Root on the same directory.
func (r *Root) Dup() (*Root, error) {
	fd, err := unix.FcntlInt(r.f.Fd(), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("dup %s: %w", r.name, err)
	}
	return &Root{f: os.NewFile(uintptr(fd), r.f.Name()), name: r.name}, nil
}
