package runtime

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runc/libcontainer/utils"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/internal/atomicfile"
)

// StartOpts are create's and run's options beyond the bundle.
type StartOpts struct {
	CreateOpts
	IO
	PidFile string
	// Keep leaves a container run in the foreground in place, stopped,
	// once its init exits (runc's run --keep): delete removes it.
	Keep bool
}

// Create makes the container and its init, which waits for Start before it
// execs the process.
func (r *Runtime) Create(id string, o StartOpts) error {
	_, err := r.launch(id, o, false)
	return err
}

// Run creates and starts the container. Detached, it returns once the
// process runs; otherwise it waits, removes the container, and returns the
// process's exit code.
func (r *Runtime) Run(id string, o StartOpts) (int, error) {
	return r.launch(id, o, true)
}

func (r *Runtime) launch(id string, o StartOpts, run bool) (code int, err error) {
	spec, err := LoadSpec(bundleOr(o.Bundle))
	if err != nil {
		return 0, err
	}
	c, err := r.create(id, spec, o.CreateOpts)
	if err != nil {
		return 0, err
	}
	defer func() {
		if err != nil {
			_ = c.Destroy()
		}
	}()
	p, err := newProcess(spec.Process, true)
	if err != nil {
		return 0, err
	}
	io, err := setupIO(p, spec.Process.Terminal, o.IO)
	if err != nil {
		return 0, err
	}
	defer io.close()
	// The init waits at its exec fifo until Exec: the terminal is ours
	// (received, its ONLCR cleared) before the process writes a byte.
	if err = c.Start(p); err != nil {
		return 0, fmt.Errorf("container %s: start: %w", id, err)
	}
	if err := afterStart(p, io, o.PidFile); err != nil {
		return 0, err
	}
	if run {
		if err = c.Exec(); err != nil {
			return 0, fmt.Errorf("container %s: start: %w", id, err)
		}
	}
	if !run || o.Detach {
		return 0, nil
	}
	code, werr := forward(p)
	if o.Keep {
		return code, werr
	}
	if derr := c.Destroy(); derr != nil && werr == nil {
		werr = derr
	}
	return code, werr
}

func bundleOr(b string) string {
	if b == "" {
		return "."
	}
	return b
}

// writePidFile writes the file atomically (the caller may poll for it),
// through a temporary file made with O_EXCL|O_NOFOLLOW: a link planted at
// a predictable name cannot redirect the write.
func writePidFile(path string, pid int) error {
	if err := atomicfile.WriteFile(path, []byte(strconv.Itoa(pid)), 0o644); err != nil {
		return fmt.Errorf("pid file: %w", err)
	}
	return nil
}

// Start lets a created container's init exec its process.
func (r *Runtime) Start(id string) error {
	c, err := r.Load(id)
	if err != nil {
		return err
	}
	st, err := c.Status()
	if err != nil {
		return err
	}
	switch st {
	case libcontainer.Created:
		return c.Exec()
	case libcontainer.Stopped:
		return fmt.Errorf("container %s: cannot start a container that has stopped", id)
	case libcontainer.Running:
		return fmt.Errorf("container %s: cannot start an already running container", id)
	}
	return fmt.Errorf("container %s: cannot start a container in the %s state", id, st)
}

// Kill sends sig to the container's init (with all, to every process in
// its cgroup).
func (r *Runtime) Kill(id string, sig unix.Signal, all bool) error {
	c, err := r.Load(id)
	if err != nil {
		return err
	}
	if all && sig != unix.SIGKILL {
		pids, err := c.Processes()
		if err != nil {
			return err
		}
		for _, p := range pids {
			_ = unix.Kill(p, sig)
		}
		return nil
	}
	if err := c.Signal(sig); err != nil {
		// As runc: --all (obsolete there) makes a stopped container no
		// error.
		if all && errors.Is(err, libcontainer.ErrNotRunning) {
			return nil
		}
		return fmt.Errorf("container %s: %w", id, err)
	}
	return nil
}

// Delete removes a container: a stopped or created one, or with force a
// running one, which is killed first.
func (r *Runtime) Delete(id string, force bool) error {
	c, err := r.Load(id)
	if err != nil {
		if errors.Is(err, libcontainer.ErrNotExist) && force {
			return nil
		}
		return err
	}
	st, err := c.Status()
	if err != nil {
		return err
	}
	switch st {
	case libcontainer.Stopped, libcontainer.Created:
	default:
		if !force {
			return fmt.Errorf("container %s is %s: stop it first, or give --force", id, st)
		}
		if st == libcontainer.Paused {
			_ = c.Resume()
		}
		if err := c.Signal(unix.SIGKILL); err != nil && !errors.Is(err, libcontainer.ErrNotRunning) {
			return fmt.Errorf("container %s: kill: %w", id, err)
		}
		waitGone(c)
	}
	if err := c.Destroy(); err != nil {
		return fmt.Errorf("container %s: destroy: %w", id, err)
	}
	return nil
}

// waitGone waits for the killed init to be gone: its pid stops existing
// once it is reaped by whoever is its parent.
func waitGone(c *libcontainer.Container) {
	for i := 0; i < 100; i++ {
		if st, err := c.Status(); err == nil && st == libcontainer.Stopped {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// State is `state`'s JSON, the fields containerd's runc client reads.
type State struct {
	OCIVersion  string            `json:"ociVersion"`
	ID          string            `json:"id"`
	Pid         int               `json:"pid"`
	Status      string            `json:"status"`
	Bundle      string            `json:"bundle"`
	Rootfs      string            `json:"rootfs"`
	Created     time.Time         `json:"created"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Owner       string            `json:"owner"`
}

// State reports one container.
func (r *Runtime) State(id string) (*State, error) {
	c, err := r.Load(id)
	if err != nil {
		return nil, err
	}
	return stateOf(c)
}

func stateOf(c *libcontainer.Container) (*State, error) {
	ls, err := c.State()
	if err != nil {
		return nil, fmt.Errorf("container %s: %w", c.ID(), err)
	}
	st, err := c.Status()
	if err != nil {
		return nil, fmt.Errorf("container %s: %w", c.ID(), err)
	}
	pid := ls.InitProcessPid
	if st == libcontainer.Stopped {
		pid = 0
	}
	bundle, ann := utils.Annotations(ls.Config.Labels)
	owner := ""
	if fi, err := os.Stat(filepath.Join(ls.Config.Rootfs)); err == nil {
		if sys, ok := fi.Sys().(*syscall.Stat_t); ok {
			owner = strconv.Itoa(int(sys.Uid))
			if sys.Uid == 0 {
				owner = "root"
			}
		}
	}
	return &State{OCIVersion: specs.Version, ID: c.ID(), Pid: pid, Status: st.String(), Bundle: bundle,
		Rootfs: ls.Config.Rootfs, Created: ls.Created, Annotations: ann, Owner: owner}, nil
}

// List reports every container under the root.
func (r *Runtime) List() ([]*State, error) {
	root, err := r.root()
	if err != nil {
		return nil, err
	}
	ents, err := os.ReadDir(root)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []*State
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		c, err := libcontainer.Load(root, e.Name())
		if err != nil {
			r.log().Warn("skipping a state directory", "id", e.Name(), "err", err)
			continue
		}
		s, err := stateOf(c)
		if err != nil {
			r.log().Warn("skipping a container", "id", e.Name(), "err", err)
			continue
		}
		out = append(out, s)
	}
	return out, nil
}

// Processes lists the pids of the container's cgroup.
func (r *Runtime) Processes(id string) ([]int, error) {
	c, err := r.Load(id)
	if err != nil {
		return nil, err
	}
	pids, err := c.Processes()
	if err != nil {
		return nil, fmt.Errorf("container %s: %w", id, err)
	}
	return pids, nil
}
