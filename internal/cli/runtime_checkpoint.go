package cli

import (
	"fmt"
	"path/filepath"

	ucli "github.com/urfave/cli/v2"

	ckptrt "github.com/ckpt/ckpt/runtime"
)

// runc's checkpoint and restore flags that only the container forms take.
// Those ckpt does not implement are refused by name when given: a caller
// relying on one must not get a checkpoint without it.
var (
	containerCheckpointFlags = []ucli.Flag{
		&ucli.StringFlag{Name: "work-path", Usage: "container form: `DIR` for the log (dump.log) and statistics (stats-dump)"},
		&ucli.StringSliceFlag{Name: "empty-ns", Usage: "not supported (runc takes a namespace `TYPE`)"},
		&ucli.StringFlag{Name: "manage-cgroups-mode", Usage: cgroupsModeUsage},
		&ucli.IntFlag{Name: "status-fd", Usage: "not supported"},
		&ucli.BoolFlag{Name: "auto-dedup", Usage: "not supported"},
		&ucli.BoolFlag{Name: "lazy-pages", Usage: "not supported"},
		&ucli.StringFlag{Name: "page-server", Usage: "not supported"},
		&ucli.StringFlag{Name: "lsm-profile", Usage: "not supported"},
		&ucli.StringFlag{Name: "lsm-mount-context", Usage: "not supported"},
	}
	containerRestoreFlags = []ucli.Flag{
		&ucli.StringFlag{Name: "bundle", Aliases: []string{"b"}, Usage: "container form: `DIR` of the bundle to make the container from"},
		&ucli.StringFlag{Name: "work-path", Usage: "container form: `DIR` for the log (restore.log) and statistics (stats-restore)"},
		&ucli.StringFlag{Name: "console-socket", Usage: "container form: unix socket `PATH` to send the new terminal's master to"},
		&ucli.BoolFlag{Name: "no-subreaper", Usage: "container form: accepted; ckpt restore is no subreaper"},
		&ucli.BoolFlag{Name: "no-pivot", Usage: "container form: do not use pivot_root to enter the rootfs"},
		&ucli.StringSliceFlag{Name: "empty-ns", Usage: "not supported (runc takes a namespace `TYPE`)"},
		&ucli.StringFlag{Name: "manage-cgroups-mode", Usage: cgroupsModeUsage},
		&ucli.BoolFlag{Name: "auto-dedup", Usage: "not supported"},
		&ucli.BoolFlag{Name: "lazy-pages", Usage: "not supported"},
		&ucli.StringFlag{Name: "lsm-profile", Usage: "not supported"},
		&ucli.StringFlag{Name: "lsm-mount-context", Usage: "not supported"},
	}
)

// cgroupsModeUsage explains --manage-cgroups-mode for both forms.
const cgroupsModeUsage = "a process tree: soft (default: tasks back in their cgroups below ckpt's or --cgroup-root, made if missing, limits written on those made), " +
	"full (limits written on all), strict (full, refusing cgroups that exist or limits not saved) or ignore (at checkpoint: save none; at restore: leave tasks in ckpt's); " +
	"a container: soft or ignore (it gets its bundle's cgroup)"

// withFlags adds the container form's flags to the checkpoint and restore
// commands.
func withFlags(cmd *ucli.Command, flags []ucli.Flag) *ucli.Command {
	cmd.Flags = append(cmd.Flags, flags...)
	return cmd
}

// containerFlagsOK are the flags the container forms implement; any
// other flag given with a container id is refused by name, also flags
// added for the process form later, until the container form passes them
// on.
var (
	// shell-job: a container's stdio and console are always its caller's.
	checkpointContainerOK = withAllowFlags(map[string]bool{"image-path": true, "leave-running": true, "work-path": true, "manage-cgroups-mode": true})
	restoreContainerOK    = withAllowFlags(map[string]bool{"image-path": true, "bundle": true, "work-path": true, "detach": true,
		"pid-file": true, "console-socket": true, "no-pivot": true, "no-subreaper": true, "dry-run": true, "manage-cgroups-mode": true})
)

// defaultImagePath is runc's image directory when --image-path is not
// given: ./checkpoint, in the current directory.
const defaultImagePath = "checkpoint"

// containerImagePath is --image-path, absolute, or runc's default.
func containerImagePath(c *ucli.Context) string {
	if p := absPath(c, "image-path"); p != "" {
		return p
	}
	if abs, err := filepath.Abs(defaultImagePath); err == nil {
		return abs
	}
	return defaultImagePath
}

// checkCgroupsMode accepts runc's --manage-cgroups-mode values that are
// what ckpt does: the engine saves no cgroup and the restored container
// gets the one its bundle names, made and limited by the runtime, which is
// CRIU's "soft" (restore into existing cgroups, made by the runtime) and
// "ignore" (leave cgroups to the runtime). "full" and "strict" would have
// the cgroup tree's properties restored from the image: refused.
func checkCgroupsMode(c *ucli.Context) error {
	switch m := c.String("manage-cgroups-mode"); m {
	case "", "soft", "ignore":
		return nil
	default:
		return ckptrt.NotSupported(fmt.Sprintf("%s --manage-cgroups-mode %s (ckpt saves no cgroup: the container gets its bundle's; soft and ignore are accepted)", c.Command.Name, m))
	}
}

// refuseUnsupported fails on the first flag given that the container form
// does not implement.
func refuseUnsupported(c *ucli.Context, ok map[string]bool) error {
	for _, name := range c.LocalFlagNames() {
		canon := name
		for _, f := range c.Command.Flags {
			for _, n := range f.Names() {
				if n == name {
					canon = f.Names()[0]
				}
			}
		}
		if !ok[canon] {
			return ckptrt.NotSupported(fmt.Sprintf("%s --%s with a container id", c.Command.Name, canon))
		}
	}
	return nil
}

// containerOnly refuses container-form flags in the process form.
func containerOnly(c *ucli.Context, flags []ucli.Flag) error {
	for _, f := range flags {
		name := f.Names()[0]
		if name == "manage-cgroups-mode" {
			continue // both forms take it (cgroupsModeUsage)
		}
		if c.IsSet(name) {
			if !checkpointContainerOK[name] && !restoreContainerOK[name] {
				return ckptrt.NotSupported(fmt.Sprintf("%s --%s", c.Command.Name, name))
			}
			return fmt.Errorf("--%s is for the container form: %s --%s ... <container-id>", name, c.Command.Name, name)
		}
	}
	return nil
}

func checkpointContainer(c *ucli.Context) error {
	id, err := oneID(c)
	if err != nil {
		return err
	}
	for _, f := range []string{"pid", "image", "freeze-cgroup"} {
		if c.IsSet(f) {
			return fmt.Errorf("--%s is for a process, not a container: give --image-path DIR", f)
		}
	}
	if err := refuseUnsupported(c, checkpointContainerOK); err != nil {
		return err
	}
	if err := checkCgroupsMode(c); err != nil {
		return err
	}
	rt, done := runtimeOf(c), func(err error) error { return err }
	if p := absPath(c, "work-path"); p != "" {
		if rt, done, err = rt.WithWorkPath(p, ckptrt.WorkDump); err != nil {
			return err
		}
	}
	err = done(rt.Checkpoint(c.Context, id, ckptrt.CheckpointOpts{
		ImagePath: containerImagePath(c), LeaveRunning: c.Bool("leave-running"), Allow: allowOf(c),
	}))
	if err != nil {
		return ucli.Exit(err.Error(), 1)
	}
	return nil
}

func restoreContainer(c *ucli.Context) error {
	id, err := oneID(c)
	if err != nil {
		return err
	}
	if err := refuseUnsupported(c, restoreContainerOK); err != nil {
		return err
	}
	if err := checkCgroupsMode(c); err != nil {
		return err
	}
	rt, done := runtimeOf(c), func(err error) error { return err }
	if p := absPath(c, "work-path"); p != "" {
		if rt, done, err = rt.WithWorkPath(p, ckptrt.WorkRestore); err != nil {
			return err
		}
	}
	code, err := rt.Restore(c.Context, id, ckptrt.RestoreOpts{
		CreateOpts: ckptrt.CreateOpts{Bundle: absPath(c, "bundle"), NoPivot: c.Bool("no-pivot")},
		ImagePath:  containerImagePath(c), Detach: c.Bool("detach"), PidFile: absPath(c, "pid-file"),
		ConsoleSocket: absPath(c, "console-socket"), Allow: allowOf(c),
		DryRun: c.Bool("dry-run"), Out: c.App.Writer,
	})
	if err = done(err); err != nil {
		return ucli.Exit(err.Error(), 1)
	}
	return exitCode(code)
}
