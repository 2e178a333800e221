package runtime

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/opencontainers/runc/libcontainer"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// ExecOpts describe a process to start in a running container: a whole
// process spec (--process), or the bundle's process with the overrides.
type ExecOpts struct {
	IO
	ProcessFile string
	Args        []string
	Env         []string
	Cwd         string
	User        string // uid[:gid]
	AddGroups   []int
	Caps        []string
	Tty         bool
	NoNewPrivs  bool
	PidFile     string
	// IgnorePaused lets a process start in a paused container (frozen
	// with it until it is resumed).
	IgnorePaused bool
	// Cgroups are runc's --cgroup values: "PATH" (cgroup v2) or
	// "CONTROLLER[,CONTROLLER...]:PATH", a sub-cgroup of the container's
	// to put the process in.
	Cgroups []string
}

// subCgroupPaths parses --cgroup values into libcontainer's sub-cgroup
// paths by controller ("" for the unified hierarchy); libcontainer
// refuses a path leading out of the container's cgroup.
func subCgroupPaths(args []string) (map[string]string, error) {
	if len(args) == 0 {
		return nil, nil
	}
	paths := map[string]string{}
	for _, a := range args {
		ctrls, path, ok := strings.Cut(a, ":")
		if !ok {
			if len(args) > 1 {
				return nil, fmt.Errorf("--cgroup %s: with more than one --cgroup each needs a CONTROLLER: prefix", a)
			}
			paths[""] = a
			continue
		}
		for _, ctrl := range strings.Split(ctrls, ",") {
			if ctrl == "" {
				return nil, fmt.Errorf("--cgroup %s: an empty controller name", a)
			}
			if _, dup := paths[ctrl]; dup {
				return nil, fmt.Errorf("--cgroup %s: controller %s given twice", a, ctrl)
			}
			paths[ctrl] = path
		}
	}
	return paths, nil
}

// processSpec is the process exec starts.
func (o *ExecOpts) processSpec(c *libcontainer.Container) (*specs.Process, error) {
	if o.ProcessFile != "" {
		b, err := os.ReadFile(o.ProcessFile)
		if err != nil {
			return nil, fmt.Errorf("--process: %w", err)
		}
		var p specs.Process
		if err := json.Unmarshal(b, &p); err != nil {
			return nil, fmt.Errorf("--process %s: %w", o.ProcessFile, err)
		}
		return &p, nil
	}
	if len(o.Args) == 0 {
		return nil, fmt.Errorf("exec needs a command, or --process FILE")
	}
	spec, err := LoadSpec(Bundle(c))
	if err != nil {
		return nil, err
	}
	p := *spec.Process
	p.Args = o.Args
	p.Terminal = o.Tty
	p.Env = append(append([]string(nil), p.Env...), o.Env...)
	if o.Cwd != "" {
		p.Cwd = o.Cwd
	}
	if o.User != "" {
		u, g, hasG := strings.Cut(o.User, ":")
		uid, err := strconv.ParseUint(u, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("--user %q: want uid[:gid]", o.User)
		}
		p.User.UID = uint32(uid)
		if hasG {
			gid, err := strconv.ParseUint(g, 10, 32)
			if err != nil {
				return nil, fmt.Errorf("--user %q: want uid[:gid]", o.User)
			}
			p.User.GID = uint32(gid)
		}
	}
	for _, g := range o.AddGroups {
		p.User.AdditionalGids = append(p.User.AdditionalGids, uint32(g))
	}
	if len(o.Caps) > 0 && p.Capabilities != nil {
		cp := *p.Capabilities
		for _, c := range o.Caps {
			cp.Bounding = append(cp.Bounding, c)
			cp.Effective = append(cp.Effective, c)
			cp.Permitted = append(cp.Permitted, c)
			// An ambient capability needs its inheritable bit: with the
			// spec giving inheritable ones, --cap is ambient too, as
			// with runc (the process keeps it across its own execve).
			if cp.Inheritable != nil {
				cp.Ambient = append(cp.Ambient, c)
			}
		}
		p.Capabilities = &cp
	}
	if o.NoNewPrivs {
		p.NoNewPrivileges = true
	}
	return &p, nil
}

// Exec starts a process in a running container. Detached it returns once
// the process runs; otherwise it returns the process's exit code.
func (r *Runtime) Exec(id string, o ExecOpts) (int, error) {
	c, err := r.Load(id)
	if err != nil {
		return 0, err
	}
	st, err := c.Status()
	if err != nil {
		return 0, err
	}
	// A created container's init waits in the container's namespaces for
	// start: a process can join them already, as with runc. A paused one
	// takes it only when asked (the process starts frozen).
	switch st {
	case libcontainer.Running, libcontainer.Created:
	case libcontainer.Paused:
		if !o.IgnorePaused {
			return 0, fmt.Errorf("container %s: cannot exec in a paused container (use --ignore-paused to override)", id)
		}
	default:
		return 0, fmt.Errorf("container %s: cannot exec in a %s container", id, st)
	}
	ps, err := o.processSpec(c)
	if err != nil {
		return 0, err
	}
	p, err := newProcess(ps, false)
	if err != nil {
		return 0, err
	}
	if p.SubCgroupPaths, err = subCgroupPaths(o.Cgroups); err != nil {
		return 0, err
	}
	io, err := setupIO(p, ps.Terminal, o.IO)
	if err != nil {
		return 0, err
	}
	defer io.close()
	if err := c.Run(p); err != nil {
		return 0, fmt.Errorf("container %s: exec: %w", id, err)
	}
	if err := afterStart(p, io, o.PidFile); err != nil {
		return 0, err
	}
	if o.Detach {
		return 0, nil
	}
	return forward(p)
}
