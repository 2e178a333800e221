package restore

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/checkpoint/image"
	"github.com/ckpt/ckpt/internal/kernel"
)

// Adopt restores a whole container (an image with a CONTAINER record) into
// a container a runtime builds: the runtime makes the namespaces, mounts,
// cgroup and devices from the bundle and starts the restorer's stub as the
// container's init, and the stub becomes the root task, pid 1 of the
// container's pid namespace. Its mount and UTS namespaces are the
// container's: restore only writes the saved tmpfs contents into the
// container's fresh tmpfs mounts and sets the saved host name.
type Adopt struct {
	// Start starts the stub as the container's init. The stub's
	// executable is /proc/self/fd/4 of the new process, which must get
	// files as its fds 3, 4, 5... (the stub closes fd 3 when it runs) and
	// full capabilities and no no_new_privs: restore gives every task its
	// own. A seccomp filter and LSM labels the stub runs under are every
	// task's too (Options.Grant.Seccomp says whether there is a filter).
	// It returns the stub's pid in the caller's
	// pid namespace.
	Start func(files []*os.File) (pid int, err error)
	// Rootfs is the container's root directory as the restorer sees it:
	// the files the image names are checked there before anything runs.
	Rootfs string
	// Mounts are the mount points the runtime makes: files under them are
	// not checked beforehand (the tasks open them in the container).
	Mounts []string
	// RootfsCopy says Rootfs is another directory than the checkpointed
	// one, holding the same files (containerd restores into a new snapshot
	// with the checkpointed rw diff applied): their device differs, and a
	// copied-up file's inode too, so files there are checked by path
	// (type, and size for reopened regular files) instead of identity.
	RootfsCopy bool
}

// StubExe is the path of the stub's executable in the new process, for
// Adopt.Start.
const StubExe = "/proc/self/fd/4"

func (rs *restorer) addContainer(c *image.Container) error {
	if rs.hdr == nil || rs.tree || rs.container != nil {
		return badImage("CONTAINER out of place: it follows the HEADER, once")
	}
	if rs.opts.Adopt == nil {
		return fmt.Errorf("the image is a whole container (%s): restore it with 'ckpt restore --bundle B --image-path D <id>'", c.ID)
	}
	rs.container = c
	return nil
}

// adoptStub has the runtime start the stub and waits until it runs its own
// code, as startStub does for a stub of ours.
func (rs *restorer) adoptStub(base uint64) (*stub, error) {
	root := rs.plans[0]
	if root.rec.Flags&image.TaskFlagPidnsInit == 0 {
		return nil, badImage("a container image whose first task %d is not its pid namespace's init", root.rec.Pid)
	}
	pid, err := runStub(base, func(syncW, memfd *os.File) (int, error) {
		pid, err := rs.opts.Adopt.Start([]*os.File{syncW, memfd, rs.ctlPidfd})
		if err != nil {
			return 0, fmt.Errorf("start the stub as the container's init: %w", err)
		}
		return pid, nil
	})
	if err != nil {
		return nil, err
	}
	if err := rs.takeStdio(pid); err != nil {
		return nil, err
	}
	return &stub{base: base, adopted: pid}, nil
}

// takeStdio keeps copies of the stdio the runtime gave the stub (what the
// caller of restore passed on, or the container's new terminal): the
// external files that were fds 0, 1 and 2 are connected to them.
func (rs *restorer) takeStdio(pid int) error {
	for fd := range rs.stdio {
		got, err := kernel.TakeFd(pid, fd)
		if errors.Is(err, unix.EBADF) {
			continue // the runtime gave it none
		}
		if err != nil {
			return fmt.Errorf("stub %d: %w", pid, err)
		}
		rs.stdio[fd] = os.NewFile(uintptr(got), fmt.Sprintf("stub-%d-fd-%d", pid, fd))
	}
	return nil
}

// adoptedStdio is the stub's fd 0, 1 or 2, when restoring into a
// container; nil otherwise.
func (rs *restorer) adoptedStdio(fd int) *os.File {
	if rs.opts.Adopt == nil || fd < 0 || fd >= len(rs.stdio) {
		return nil
	}
	return rs.stdio[fd]
}

func (rs *restorer) closeAdoptedStdio() {
	for i, f := range rs.stdio {
		if f != nil {
			f.Close()
			rs.stdio[i] = nil
		}
	}
}

// sessionLeader: the container's init may already lead its session.
func (rs *restorer) sessionLeader(t *taskPlan) bool {
	if rs.opts.Adopt == nil || t != rs.plans[0] {
		return false
	}
	sid, err := unix.Getsid(t.pid)
	return err == nil && sid == t.pid
}

// setupMntnsOrAdopted finishes the root's mount namespace: a new one of
// ours (mntns.go), or the container's, whose tmpfs mounts get their saved
// content.
func (rs *restorer) setupMntnsOrAdopted(t *taskPlan) error {
	if rs.opts.Adopt == nil {
		return rs.setupMntns(t)
	}
	if rs.mnt == nil {
		return nil
	}
	defer rs.mnt.close()
	for _, mp := range rs.mnt.mounts {
		if err := fillTmpfs(t.pid, mp); err != nil {
			return fmt.Errorf("the container's tmpfs on %q: %w", mp.rec.MountPoint, err)
		}
	}
	return nil
}

// adoptedPath maps a path of the container to where the restorer checks
// it: in the rootfs (the path itself, resolved inside Adopt.Rootfs by
// pathRoot, never joined to it as a host path), unless the runtime mounts
// something there (then the task finds it when it opens it) or it is in a
// saved tmpfs (then it comes from the image).
func (rs *restorer) adoptedPath(p string) (string, bool, error) {
	if rs.mnt != nil {
		if _, check, err := rs.mnt.resolve(p, len(rs.mnt.mounts)); err != nil || !check {
			return "", false, err
		}
	}
	for _, m := range rs.opts.Adopt.Mounts {
		if m != "/" && pathUnder(p, m) {
			return "", false, nil
		}
	}
	if strings.HasPrefix(p, "/proc/") || strings.HasPrefix(p, "/dev/") || strings.HasPrefix(p, "/sys/") {
		return "", false, nil
	}
	return p, true, nil
}
