package checkpoint

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/ckpt/ckpt/image"
	"github.com/ckpt/ckpt/internal/proc"
)

// collect reads everything about p that the image needs, before a single
// byte is written: refusals happen here, with nothing yet to undo.
func (d *dumper) collect(p *process) error {
	// What the process shares with its parent is its parent's to collect.
	// (Its memory map is still read: injecting syscalls needs it.)
	steps := []struct {
		name  string
		fn    func(*process) error
		share uint32
	}{
		{"task", d.collectTask, 0},
		{"dirty tracking", d.collectTracking, image.ShareVM},
		{"memory map", d.collectVmas, 0},
		{"shared memory", d.collectShmem, image.ShareVM},
		{"files", d.collectFiles, image.ShareFiles},
		{"fs", d.collectFs, image.ShareFS},
		{"threads", d.collectThreads, 0},
		{"seccomp", d.collectSeccomp, 0},
		{"task state", d.collectInjected, 0},
		{"mm", d.collectMm, image.ShareVM},
	}
	p.paths = newTaskPaths(p.pid)
	defer func() {
		p.paths.close()
		p.paths = nil
	}()
	for _, s := range steps {
		if p.shares&s.share != 0 {
			continue
		}
		start := time.Now()
		if err := s.fn(p); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		d.log.Debug("collected", "step", s.name, "took", time.Since(start))
	}
	return nil
}

// inRootPidns: with Options.SharedPidns, the task is in the pid
// namespace of the tree's root (the container's, shared with its pod).
func (d *dumper) inRootPidns(pid int) bool {
	if !d.opts.SharedPidns || d.opts.Container == nil {
		return false
	}
	ns, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", pid))
	if err != nil {
		return false
	}
	root, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", d.root))
	return err == nil && ns == root
}

func (d *dumper) collectTask(p *process) error {
	var err error
	if p.stat, err = proc.ReadStat(p.pid); err != nil {
		return err
	}
	if p.status, err = proc.ReadStatus(p.pid); err != nil {
		return err
	}
	st := p.status
	if st.State == 'Z' || st.State == 'X' {
		return unsupported(p.pid, "process", "it is a zombie")
	}
	var flags uint32
	if n := len(st.NSpid); n > 1 {
		self, err := proc.ReadStatus(os.Getpid())
		if err != nil {
			return err
		}
		switch {
		case st.NSpid[n-1] == 1:
			flags |= taskFlagPidnsInit
		case n != len(self.NSpid) && !d.inPidns && !d.inRootPidns(p.pid):
			return unsupported(p.pid, "pid namespace", "the process lives in another pid namespace (pid %d there) and is not its init", st.NSpid[n-1])
		}
		if flags != 0 && d.inPidns {
			return unsupported(p.pid, "pid namespace", "nested pid namespaces are not supported yet")
		}
		if flags != 0 {
			d.inPidns = true
		}
	}
	p.task.Flags = flags
	p.task.NrThreads = uint32(len(p.threads))
	copy(p.task.Comm[:], p.stat.Comm)

	c := &p.creds
	c.Uid, c.Euid, c.Suid, c.Fsuid = st.Uid[0], st.Uid[1], st.Uid[2], st.Uid[3]
	c.Gid, c.Egid, c.Sgid, c.Fsgid = st.Gid[0], st.Gid[1], st.Gid[2], st.Gid[3]
	c.CapInh, c.CapPrm, c.CapEff, c.CapBnd, c.CapAmb = st.CapInh, st.CapPrm, st.CapEff, st.CapBnd, st.CapAmb
	c.NoNewPrivs = uint32(st.NoNewPrivs)
	c.Groups = st.Groups
	p.misc.Umask = st.Umask

	lims, err := proc.Limits(p.pid)
	if err != nil {
		return err
	}
	if len(lims) != nRlimits {
		return fmt.Errorf("task %d has %d resource limits, want %d", p.pid, len(lims), nRlimits)
	}
	for _, l := range lims {
		p.rlimits.Limits = append(p.rlimits.Limits, image.Rlimit{Cur: l.Cur, Max: l.Max})
	}
	return nil
}

func (d *dumper) collectFs(p *process) error {
	cwd, err := proc.Cwd(p.pid)
	if err != nil {
		return err
	}
	root, err := proc.Root(p.pid)
	if err != nil {
		return err
	}
	for _, x := range []struct{ what, path string }{{"cwd", cwd}, {"root", root}} {
		if strings.HasSuffix(x.path, " (deleted)") {
			return unsupported(p.pid, x.what, "directory %q was deleted", x.path)
		}
	}
	// A chrooted task: its root is saved as the kernel prints it, like
	// every path of it (paths.go resolves them from the directory the
	// chroot is in). A private mount namespace's table is read from the
	// first task (mntns.go), relative to its root: that one must not be
	// chrooted, or what is outside its chroot would be missed.
	if root != "/" && p.pid == d.root && nsLink(p.pid, "mnt") != nsLink(os.Getpid(), "mnt") {
		return unsupported(p.pid, "root", "the first task is chrooted (root %q) in a mount namespace of its own: not supported yet", root)
	}
	p.fs.Objref = d.nextObjref()
	p.fs.Cwd, p.fs.Root = cwd, root
	return nil
}
