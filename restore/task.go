package restore

import (
	"encoding/binary"
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/checkpoint/image"
	"github.com/ckpt/ckpt/internal/addrspace"
	"github.com/ckpt/ckpt/internal/remote"
)

// Options for every task we trace while restoring: syscall stops are told
// apart from signal stops, children and threads made by injected clone3
// are traced from birth, and all of them die if the restorer dies.
const traceOpts = unix.PTRACE_O_TRACESYSGOOD | unix.PTRACE_O_TRACECLONE |
	unix.PTRACE_O_TRACEFORK | unix.PTRACE_O_TRACEVFORK | unix.PTRACE_O_EXITKILL

// ensureTask creates the process once its layout is known and prepares its
// address space for pages.
func (rs *restorer) ensureTask(t *taskPlan) error {
	if t.memReady {
		return nil
	}
	if t.mm == nil || uint32(len(t.vmas)) != t.mm.NrVmas {
		return badImage("task %d: memory layout incomplete before its pages", t.rec.Pid)
	}
	steps := []struct {
		name string
		fn   func(*taskPlan) error
	}{
		{"create task", rs.createTask},
		{"memory layout", rs.layout},
	}
	for _, s := range steps {
		if err := s.fn(t); err != nil {
			return fmt.Errorf("task %d: %s: %w", t.rec.Pid, s.name, err)
		}
	}
	t.memReady = true
	return nil
}

func imageRanges(vmas []image.Vma) []addrspace.Range {
	r := make([]addrspace.Range, len(vmas))
	for i, v := range vmas {
		r[i] = addrspace.Range{Start: v.Start, End: v.End}
	}
	return r
}

// createTask starts a stub and makes it clone the task with its original
// pid (or as pid 1 of a new pid namespace), then lets the stub go.
func (rs *restorer) createTask(t *taskPlan) error {
	pidnsInit := t.rec.Flags&image.TaskFlagPidnsInit != 0
	if !pidnsInit {
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", t.rec.Pid)); err == nil {
			if err := rs.in.drain(); err != nil {
				return err
			}
			rs.log.Info("waiting for the pid to be released", "pid", t.rec.Pid)
			if err := waitPidFree(int(t.rec.Pid)); err != nil {
				return err
			}
		}
	}
	extra, err := rs.stubFiles(t)
	if err != nil {
		return err
	}
	base := addrspace.FindGap(stubPages*pageSize, imageRanges(t.vmas))
	if base == 0 {
		return fmt.Errorf("no room for the stub in the image's address space")
	}
	s, err := startStub(base, extra)
	if err != nil {
		return err
	}
	t.stub = s
	if err := rs.tr.SeizeStop(s.pid(), traceOpts); err != nil {
		return fmt.Errorf("seize stub %d: %w", s.pid(), err)
	}
	st, err := remote.New(rs.tr, s.pid(), s.syscallAddr())
	if err != nil {
		return err
	}
	st.UseScratch(base+pageSize, pageSize)

	// struct clone_args (include/uapi/linux/sched.h), then set_tid[1].
	flags := uint64(unix.CLONE_PARENT)
	setTid := uint32(t.rec.Pid)
	if pidnsInit {
		flags |= unix.CLONE_NEWPID
		setTid = 1
	}
	tidAddr, err := st.Put(binary.LittleEndian.AppendUint32(nil, setTid))
	if err != nil {
		return err
	}
	args := cloneArgs(flags, 0, tidAddr)
	argsAddr, err := st.Put(args)
	if err != nil {
		return err
	}
	if _, err := st.Syscall(unix.SYS_CLONE3, uintptr(argsAddr), uintptr(len(args))); err != nil {
		return fmt.Errorf("clone3 with pid %d: %w", t.rec.Pid, err)
	}
	child := st.Session().LastChild()
	if child <= 0 {
		return fmt.Errorf("clone3 made no traced child")
	}
	t.pid = child
	// The new task was auto-attached and starts in a ptrace stop.
	if _, err := rs.tr.Wait(child); err != nil {
		return fmt.Errorf("wait for new task %d: %w", child, err)
	}
	_ = st.Close()
	s.kill()
	t.stub = nil
	rs.log.Debug("task created", "pid", child, "image_pid", t.rec.Pid)

	if t.leader, err = remote.New(rs.tr, child, s.syscallAddr()); err != nil {
		return err
	}
	t.leader.UseScratch(base+pageSize, pageSize)
	return nil
}

// cloneArgs encodes struct clone_args (88 bytes, include/uapi/linux/sched.h)
// with one set_tid entry.
func cloneArgs(flags, exitSignal, setTid uint64) []byte {
	var b []byte
	for _, v := range []uint64{
		flags, 0 /* pidfd */, 0 /* child_tid */, 0 /* parent_tid */, exitSignal,
		0 /* stack */, 0 /* stack_size */, 0 /* tls */, setTid, 1 /* set_tid_size */, 0, /* cgroup */
	} {
		b = binary.LittleEndian.AppendUint64(b, v)
	}
	return b
}

// stubFiles lays out the files the stub inherits: external files and the
// image, all above the highest fd the task had, so that giving the task's
// fds their numbers never clobbers one of them.
func (rs *restorer) stubFiles(t *taskPlan) ([]*os.File, error) {
	base := stubFirstFd
	for _, fd := range t.fds {
		base = max(base, int(fd.Fd)+1)
	}
	extra := make([]*os.File, base-stubFirstFd)
	for _, fd := range t.fds {
		ext, ok := rs.objs[fd.File].(*image.ExtFile)
		if !ok {
			continue
		}
		if _, done := t.extFds[ext.Objref]; done {
			continue
		}
		f, err := rs.externalFile(ext, int(fd.Fd))
		if err != nil {
			return nil, err
		}
		t.extFds[ext.Objref] = stubFirstFd + len(extra)
		extra = append(extra, f)
	}
	if rs.imageFile != nil {
		t.imageFd = stubFirstFd + len(extra)
		extra = append(extra, rs.imageFile)
	}
	return extra, nil
}

func (rs *restorer) externalFile(ext *image.ExtFile, fd int) (*os.File, error) {
	if f, ok := rs.opts.InheritFds[ext.Key]; ok {
		return f, nil
	}
	switch fd {
	case 0:
		return os.Stdin, nil
	case 1:
		return os.Stdout, nil
	case 2:
		return os.Stderr, nil
	}
	return nil, fmt.Errorf("external file %q (fd %d) leads outside the image: name what to connect it to with --inherit-fd fd[N]:%s", ext.Key, fd, ext.Key)
}
