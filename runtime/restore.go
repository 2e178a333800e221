package runtime

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/moby/sys/capability"
	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runc/libcontainer/configs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
	"github.com/ckpt/ckpt/internal/allow"
	"github.com/ckpt/ckpt/internal/guard"
	"github.com/ckpt/ckpt/internal/logctx"
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
	allow.Allow
	// DryRun checks the image, the bundle and the host as a restore
	// would, prints what would be restored to Out and creates nothing.
	DryRun bool
	Out    io.Writer
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
	im, rec, err := openContainerImage(filepath.Join(o.ImagePath, image.FileName))
	if err != nil {
		return 0, err
	}
	defer im.Close()
	spec, err := LoadSpec(bundleOr(o.Bundle))
	if err != nil {
		return 0, err
	}
	cfg, sharedPidns, err := r.restoreConfig(id, spec, &o)
	if err != nil {
		return 0, err
	}
	rootfsCopy, err := r.checkBundle(rec, cfg, spec.Annotations[oci.RootfsCopyAnnotation] == "true")
	if err != nil {
		return 0, fmt.Errorf("restore of container %s into bundle %s: %w", rec.ID, Bundle0(cfg), err)
	}
	r.ownCgroup(cfg, rec.ID, id)
	if rec.ConfigDigest != "" && rec.ConfigDigest != configDigest(Bundle0(cfg)) {
		r.log().Info("the bundle's config.json differs from the checkpointed container's", "id", id)
	}
	grant, err := specGrant(im.File(), spec, rec.ID, Bundle0(cfg))
	if err != nil {
		return 0, err
	}
	if o.DryRun {
		return 0, r.dryRun(id, im, o.Out)
	}
	// The stub runs with our capabilities and without no_new_privs: the
	// engine gives every task the image's, within the grant. It does run
	// under the spec's seccomp profile and LSM labels, which libcontainer
	// applies as for any init: every task is made from the stub, so the
	// profile is the base filter beneath the image's own. The container
	// keeps the bundle's configuration for everything else (exec uses
	// it), which is put back once the tasks are restored.
	orig := *cfg
	caps, err := ownCaps()
	if err != nil {
		return 0, err
	}
	cfg.Capabilities = caps
	cfg.NoNewPrivileges = false
	c, j, err := r.createGuarded(id, cfg)
	if err != nil {
		return 0, err
	}
	defer j.Done()
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
	res, err := restore.RestoreImage(logctx.With(ctx, r.log()), im, restore.Options{Detached: o.Detach, Adopt: adopt,
		Allow: containerAllow(o.Allow), Grant: grant, Journal: j})
	if err != nil {
		return 0, fmt.Errorf("restore of container %s: %w", id, err)
	}
	if err := c.Set(orig); err != nil {
		_ = unix.Kill(res.Pid, unix.SIGKILL)
		return 0, fmt.Errorf("container %s: put back the bundle's configuration: %w", id, err)
	}
	r.noteStats(res)
	r.log().Info("container restored", "id", id, "init", res.Pid, "tasks", res.Tasks, "elapsed", since(start))
	if o.PidFile != "" {
		if err := writePidFile(o.PidFile, res.Pid); err != nil {
			_ = unix.Kill(res.Pid, unix.SIGKILL)
			return 0, err
		}
	}
	// The container runs restored: from here on it is its own.
	j.Done()
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

// specGrant is the privilege the bundle's spec grants the container's
// tasks. Privileges come from the spec: an image asking for more is
// refused here, before the container exists.
func specGrant(f *os.File, spec *specs.Spec, id, bundle string) (*restore.Grant, error) {
	grant, err := restore.SpecGrant(spec)
	if err != nil {
		return nil, fmt.Errorf("bundle %s: %w", bundle, err)
	}
	if err := restore.CheckPrivileges(f, grant); err != nil {
		return nil, fmt.Errorf("restore of container %s into bundle %s: %w", id, bundle, err)
	}
	return grant, nil
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

// createGuarded makes the container (and the state root) with a guardian (internal/guard): if
// ckpt dies before the container runs restored, the guardian removes it,
// its state, its cgroups and its half-restored tasks. The caller ends the
// journal (Done) once the container is its own.
func (r *Runtime) createGuarded(id string, cfg *configs.Config) (*libcontainer.Container, *guard.Journal, error) {
	root, err := r.root()
	if err != nil {
		return nil, nil, err
	}
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, nil, err
	}
	j, err := guard.Start()
	if err != nil {
		return nil, nil, err
	}
	c, err := libcontainer.Create(root, id, cfg)
	if err != nil {
		j.Done()
		return nil, nil, fmt.Errorf("container %s: %w", id, err)
	}
	// Only once it is ours: an id taken already is not to be removed.
	if _, err := j.Add("container", root, id, strconv.FormatBool(r.SystemdCgroup)); err != nil {
		_ = c.Destroy()
		j.Done()
		return nil, nil, err
	}
	guard.Fault(FaultCreated)
	return c, j, nil
}

// FaultCreated is the phase (guard.FaultEnv) of a container restore once
// libcontainer made the container, before its init (the stub) starts; the
// engine's phases (restore.FaultPhases) follow.
const FaultCreated = "restore/container created"

func init() {
	// The guardian's undo of a restore ckpt did not finish: remove the
	// container as `delete --force` does (args: state root, id, systemd
	// cgroup driver).
	guard.Register("container", func(args []string) error {
		if len(args) != 3 {
			return fmt.Errorf("container: want root, id, systemd; got %q", args)
		}
		systemd, _ := strconv.ParseBool(args[2])
		r := &Runtime{Root: args[0], SystemdCgroup: systemd}
		var err error
		if c, lerr := r.Load(args[1]); lerr == nil {
			// Its init may be dead already (it dies with ckpt, which
			// traced it): kill what is left, remove the rest.
			_ = c.Signal(unix.SIGKILL)
			waitGone(c)
			if err = c.Destroy(); err != nil {
				err = fmt.Errorf("container %s: destroy: %w", args[1], err)
			}
		}
		// Made but never started, it has a state directory and no
		// state.json that Load could read.
		dir := filepath.Join(args[0], args[1])
		if _, serr := os.Stat(filepath.Join(dir, "state.json")); os.IsNotExist(serr) {
			return errors.Join(err, os.RemoveAll(dir))
		}
		return err
	})
}

// dryRun is Restore's --dry-run, once the image and the bundle are
// checked: the id must be free, then the engine's own checks.
func (r *Runtime) dryRun(id string, im *image.Image, out io.Writer) error {
	if _, err := r.Load(id); err == nil {
		return fmt.Errorf("dry run: container %s exists", id)
	}
	report, err := restore.DryRun(im, restore.Options{Adopt: &restore.Adopt{}})
	if err != nil {
		return fmt.Errorf("dry run: restore of container %s would fail: %w", id, err)
	}
	if out != nil {
		fmt.Fprint(out, report)
	}
	return nil
}

// restoreConfig is the container's configuration from its bundle, and
// what else a restore takes from the bundle (fromBundle).
func (r *Runtime) restoreConfig(id string, spec *specs.Spec, o *RestoreOpts) (*configs.Config, string, error) {
	cfg, err := r.config(id, spec, o.CreateOpts)
	if err != nil {
		return nil, "", err
	}
	shared, err := fromBundle(id, spec, cfg, &o.Allow)
	return cfg, shared, err
}

// fromBundle reads what a restore takes from the bundle besides the
// container's configuration: the shared pid namespace it joins (a pod's,
// shareProcessNamespace: the tasks go back into it with their pids, the
// first one as the stub's, restore.Adopt.SharedPidns; a pid taken there
// fails the restore), "" for one of its own; and the shim's handler
// defaults (oci.RestoreFlagAnnotation), added to a: containerd gives a
// restore no flags of its own.
func fromBundle(id string, spec *specs.Spec, cfg *configs.Config, a *allow.Allow) (string, error) {
	var sharedPidns string
	if !cfg.Namespaces.IsPrivate(configs.NEWPID) {
		if sharedPidns = cfg.Namespaces.PathOf(configs.NEWPID); sharedPidns == "" {
			return "", NotSupported(fmt.Sprintf("restore of container %s into the host's pid namespace", id))
		}
	}
	for _, p := range allow.Permissions {
		if spec.Annotations[oci.RestoreFlagAnnotation+p.Flag] == "true" {
			*p.Field(a) = true
		}
	}
	return sharedPidns, nil
}
