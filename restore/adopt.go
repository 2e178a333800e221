package restore

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
	"github.com/ckpt/ckpt/internal/kernel"
	"github.com/ckpt/ckpt/internal/proc"
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
	// SharedPidns is the pid namespace the container joins (a pod's, whose
	// init is outside the container: the image's first task is no init),
	// or "" when the container has a pid namespace of its own. The stub
	// must then get the first task's pid in that namespace: the next pid
	// the namespace hands out is set to it right before Start (its
	// ns_last_pid), and a stub with another pid (the pid was taken, or
	// another process of the namespace forked in between) fails the
	// restore naming the pid, as CRIU's restore into a taken pid fails.
	SharedPidns string
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
	shared := rs.opts.Adopt.SharedPidns
	switch init := root.rec.Flags&image.TaskFlagPidnsInit != 0; {
	case init && shared != "":
		return nil, fmt.Errorf("the image's first task %d was its pid namespace's init: it cannot go into a shared pid namespace (%s)", root.rec.Pid, shared)
	case !init && shared == "":
		return nil, fmt.Errorf("the image's first task %d was not its pid namespace's init (the container shared a pod's): it goes into a shared pid namespace only", root.rec.Pid)
	}
	pid, err := runStub(base, func(syncW, memfd *os.File) (int, error) {
		if shared != "" {
			if err := setNextPid(shared, root.rec.Pid); err != nil {
				return 0, err
			}
		}
		pid, err := rs.opts.Adopt.Start([]*os.File{syncW, memfd, rs.ctlPidfd})
		if err != nil {
			return 0, fmt.Errorf("start the stub as the container's init: %w", err)
		}
		return pid, nil
	})
	if err != nil {
		return nil, err
	}
	if shared != "" {
		st, err := proc.ReadStatus(pid)
		if err != nil {
			return nil, err
		}
		if got := st.NSpid[len(st.NSpid)-1]; got != int(root.rec.Pid) {
			return nil, fmt.Errorf("task %d: the container's first process got pid %d in the shared pid namespace, not %d (%s)",
				root.rec.Pid, got, root.rec.Pid, pidHolder(pid, int(root.rec.Pid)))
		}
	}
	if err := rs.takeStdio(pid); err != nil {
		return nil, err
	}
	return &stub{base: base, adopted: pid}, nil
}

// pidHolder says who holds pid in the pid namespace of task ns: pid is
// taken there, or was free and another process was born at the same time.
func pidHolder(ns, pid int) string {
	link, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", ns))
	if err != nil {
		return fmt.Sprintf("pid %d is taken there, or another process of the namespace was born at the same time", pid)
	}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		host, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if l, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", host)); err != nil || l != link {
			continue
		}
		st, err := proc.ReadStatus(host)
		if err == nil && len(st.NSpid) > 0 && st.NSpid[len(st.NSpid)-1] == pid {
			comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", host))
			return fmt.Sprintf("pid %d is taken there by %q (pid %d here)", pid, strings.TrimSpace(string(comm)), host)
		}
	}
	return fmt.Sprintf("pid %d was free: another process of the namespace was born at the same time; try again", pid)
}

// setNextPid makes pid the next pid the pid namespace at nsPath hands out,
// unless it is taken: a short-lived child of ours in that namespace writes
// pid-1 into its /proc/sys/kernel/ns_last_pid (the file is the writer's
// pid namespace's). The child is made from a thread that joined the
// namespace for its children and then ends with its goroutine.
func setNextPid(nsPath string, pid int32) error {
	if pid < 2 {
		return fmt.Errorf("pid %d cannot be asked for in a shared pid namespace", pid)
	}
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread is in another pid namespace for its children
		fd, err := unix.Open(nsPath, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			errc <- fmt.Errorf("pid namespace %s: %w", nsPath, err)
			return
		}
		defer unix.Close(fd)
		if err := unix.Setns(fd, unix.CLONE_NEWPID); err != nil {
			errc <- fmt.Errorf("join pid namespace %s: %w", nsPath, err)
			return
		}
		cmd := exec.Command("/bin/sh", "-c", `echo "$1" > /proc/sys/kernel/ns_last_pid`, "sh", strconv.Itoa(int(pid-1)))
		if out, err := cmd.CombinedOutput(); err != nil {
			errc <- fmt.Errorf("set the next pid of %s to %d: %w: %s", nsPath, pid, err, out)
			return
		}
		errc <- nil
	}()
	return <-errc
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
