package runtime

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/moby/sys/capability"
	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runc/libcontainer/configs"
	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/internal/proc"
	"github.com/ckpt/ckpt/oci"
	"github.com/ckpt/ckpt/restore"
)

// RestoreOpts are `restore <id>`'s options.
type RestoreOpts struct {
	CreateOpts
	ImagePath string
	Detach    bool
	PidFile   string
	// ConsoleSocket receives the master of the container's new terminal
	// when its process has one (then the terminal the tasks had is
	// replaced by this one); without it ckpt copies it to its own stdio.
	ConsoleSocket string
	// As in CheckpointOpts: each must be given again to restore what its
	// checkpoint allowed.
	TcpEstablished, FileLocks, ExtUnixSk bool
}

// Restore makes container id from the bundle and the image: libcontainer
// builds the container (namespaces, rootfs and mounts, cgroup and limits,
// devices, host name) with the engine's stub as its init, and the engine
// turns the stub into the checkpointed init and recreates the rest of the
// pid namespace. A bundle the image cannot go into is refused before
// anything is made; on any later failure the container is removed.
// Detached, it returns once the container runs; otherwise it waits for
// the container's init, removes the container and returns its exit code.
func (r *Runtime) Restore(ctx context.Context, id string, o RestoreOpts) (code int, err error) {
	start := time.Now()
	if o.ImagePath == "" {
		return 0, fmt.Errorf("restore needs --image-path DIR")
	}
	f, err := os.Open(o.ImagePath + "/" + ImageName)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	rec, err := readContainerRecord(f)
	if err != nil {
		return 0, err
	}
	spec, err := LoadSpec(bundleOr(o.Bundle))
	if err != nil {
		return 0, err
	}
	cfg, err := r.config(id, spec, o.CreateOpts)
	if err != nil {
		return 0, err
	}
	// A shared pid namespace (a pod's, shareProcessNamespace): the tasks go
	// back into it with their pids, the first one as the stub's
	// (restore.Adopt.SharedPidns); a pid taken there fails the restore.
	var sharedPidns string
	if !cfg.Namespaces.IsPrivate(configs.NEWPID) {
		if sharedPidns = cfg.Namespaces.PathOf(configs.NEWPID); sharedPidns == "" {
			return 0, NotSupported(fmt.Sprintf("restore of container %s into the host's pid namespace", id))
		}
	}
	rootfsCopy := spec.Annotations[oci.RootfsCopyAnnotation] == "true"
	// The shim's handler defaults (oci.RestoreFlagAnnotation): containerd
	// gives a restore no flags of its own.
	flag := func(name string) bool { return spec.Annotations[oci.RestoreFlagAnnotation+name] == "true" }
	o.TcpEstablished = o.TcpEstablished || flag("tcp-established")
	o.FileLocks = o.FileLocks || flag("file-locks")
	o.ExtUnixSk = o.ExtUnixSk || flag("ext-unix-sk")
	if err := r.checkBundle(rec, cfg, rootfsCopy); err != nil {
		return 0, fmt.Errorf("restore of container %s into bundle %s: %w", rec.ID, Bundle0(cfg), err)
	}
	if rec.ConfigDigest != "" && rec.ConfigDigest != configDigest(Bundle0(cfg)) {
		r.log().Info("the bundle's config.json differs from the checkpointed container's", "id", id)
	}
	// The stub runs with our capabilities, no seccomp filter and without
	// no_new_privs: the engine gives every task its own. The container
	// keeps the bundle's configuration for everything else (exec uses
	// it), which is put back once the tasks are restored.
	orig := *cfg
	caps, err := ownCaps()
	if err != nil {
		return 0, err
	}
	cfg.Capabilities = caps
	cfg.Seccomp = nil
	cfg.NoNewPrivileges = false
	root, err := r.root()
	if err != nil {
		return 0, err
	}
	if err := os.MkdirAll(root, 0o711); err != nil {
		return 0, err
	}
	c, err := libcontainer.Create(root, id, cfg)
	if err != nil {
		return 0, fmt.Errorf("container %s: %w", id, err)
	}
	defer func() {
		if err != nil {
			if derr := c.Destroy(); derr != nil {
				r.log().Warn("remove the container after a failed restore", "id", id, "err", derr)
			}
		}
	}()
	no := false
	p := &libcontainer.Process{
		Args:            []string{restore.StubExe},
		Cwd:             "/",
		Init:            true,
		Capabilities:    caps,
		NoNewPrivileges: &no,
	}
	// The stub's stdio is what the tasks' external stdio is connected to:
	// ours, or a new terminal made in the container.
	io, err := setupIO(p, spec.Process.Terminal, IO{Detach: o.Detach, ConsoleSocket: o.ConsoleSocket})
	if err != nil {
		return 0, err
	}
	defer io.close()
	var mounts []string
	for _, m := range cfg.Mounts {
		mounts = append(mounts, m.Destination)
	}
	adopt := &restore.Adopt{
		Rootfs:      cfg.Rootfs,
		Mounts:      mounts,
		RootfsCopy:  rootfsCopy,
		SharedPidns: sharedPidns,
		Start: func(files []*os.File) (int, error) {
			p.ExtraFiles = files
			if err := c.Run(p); err != nil {
				return 0, err
			}
			if err := io.started(); err != nil {
				return 0, err
			}
			return p.Pid()
		},
	}
	res, err := restore.Restore(ctx, f, restore.Options{Detached: o.Detach, Adopt: adopt, ShellJob: true,
		TcpEstablished: o.TcpEstablished, FileLocks: o.FileLocks, ExtUnixSk: o.ExtUnixSk, Logger: r.log()})
	if err != nil {
		return 0, fmt.Errorf("restore of container %s: %w", id, err)
	}
	if err := c.Set(orig); err != nil {
		_ = unix.Kill(res.Pid, unix.SIGKILL)
		return 0, fmt.Errorf("container %s: put back the bundle's configuration: %w", id, err)
	}
	r.log().Info("container restored", "id", id, "init", res.Pid, "tasks", res.Tasks, "elapsed", since(start))
	if o.PidFile != "" {
		if err := writePidFile(o.PidFile, res.Pid); err != nil {
			_ = unix.Kill(res.Pid, unix.SIGKILL)
			return 0, err
		}
	}
	if o.Detach {
		return 0, nil
	}
	// As `run` does, signals we get go to the container's init.
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, unix.SIGINT, unix.SIGTERM, unix.SIGHUP, unix.SIGQUIT, unix.SIGUSR1, unix.SIGUSR2)
	defer signal.Stop(sigs)
	go func() {
		for s := range sigs {
			_ = unix.Kill(res.Pid, s.(unix.Signal))
		}
	}()
	code, err = waitExit(res.Pid)
	if derr := c.Destroy(); derr != nil && err == nil {
		err = derr
	}
	return code, err
}

// Bundle0 is the bundle a configuration was made from.
func Bundle0(cfg *configs.Config) string {
	for _, l := range cfg.Labels {
		if v, ok := strings.CutPrefix(l, "bundle="); ok {
			return v
		}
	}
	return ""
}

// ownCaps are the capabilities of this process (root here lacks some, e.g.
// CAP_SYS_RESOURCE on some machines), as libcontainer names them: the
// stub may have no more than we have.
func ownCaps() (*configs.Capabilities, error) {
	st, err := proc.ReadStatus(os.Getpid())
	if err != nil {
		return nil, err
	}
	var names []string
	for _, c := range capability.ListKnown() {
		if st.CapBnd&(1<<uint(c)) != 0 && st.CapEff&(1<<uint(c)) != 0 {
			names = append(names, "CAP_"+strings.ToUpper(c.String()))
		}
	}
	return &configs.Capabilities{Bounding: names, Effective: names, Permitted: names}, nil
}
