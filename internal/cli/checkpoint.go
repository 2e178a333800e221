package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	ucli "github.com/urfave/cli/v2"

	"github.com/ckpt/ckpt/checkpoint"
	"github.com/ckpt/ckpt/image"
	"github.com/ckpt/ckpt/internal/logctx"
	"github.com/ckpt/ckpt/restore"
)

func checkpointCommand() *ucli.Command {
	return &ucli.Command{
		Name:      "checkpoint",
		Usage:     "checkpoint a running process into an image",
		UsageText: "ckpt checkpoint --pid PID (--image FILE | --image - | --image-path DIR) [--leave-running] [--pre-dump] [--parent-path DIR] [--ext-unix-sk] [--shell-job] [--tcp-established] [--file-locks]\n   ckpt checkpoint --image-path DIR [--leave-running] <container-id>",
		Description: `Stops every thread of the process with ptrace, saves its state into the
image and then kills it, unless --leave-running is given. On any failure
the process is left running as it was and nothing is killed.

With a container id instead of --pid, checkpoints that container of the
OCI runtime (see 'ckpt run'): every process of its pid namespace, the
content of its tmpfs mounts and its host name; the container is removed
afterwards unless --leave-running is given.

Pre-copy: --pre-dump checkpoints the process and leaves it running, and
tracking the pages it writes (with a userfaultfd it holds at a high fd).
A later checkpoint with --parent-path naming that image (a --pre-dump
again, or the final one) saves only the pages written since; restoring
it reads the pages it lacks from its parent, found at the path
--parent-path gave, relative to the new image's directory.`,
		Flags: append([]ucli.Flag{
			&ucli.IntFlag{Name: "pid", Usage: "the process to checkpoint"},
			&ucli.BoolFlag{Name: "leave-running", Usage: "let the process carry on after the checkpoint"},
			&ucli.StringFlag{Name: "freeze-cgroup", Usage: "freeze this cgroup `DIR` (v1 freezer or v2) while seizing the tasks it holds; " +
				"by default the process's own cgroup is frozen when it holds the process's tree and nothing else"},
			&ucli.BoolFlag{Name: "no-freeze", Usage: "do not look for a cgroup to freeze"},
			&ucli.BoolFlag{Name: "pre-dump", Usage: "checkpoint, leave the process running and track the pages it writes, for a later checkpoint with --parent-path"},
			&ucli.StringFlag{Name: "parent-path", Usage: "save only the pages written since the --pre-dump image in `DIR` (or an image file)"},
		}, append(allowFlags(false), imageFlags...)...),
		Action: runCheckpoint,
	}
}

func runCheckpoint(c *ucli.Context) error {
	if c.NArg() > 0 {
		return checkpointContainer(c)
	}
	if !c.IsSet("pid") {
		return fmt.Errorf("give --pid PID, or a container id")
	}
	if err := containerOnly(c, containerCheckpointFlags); err != nil {
		return err
	}
	path, err := imagePath(c)
	if err != nil {
		return err
	}
	var out io.Writer = os.Stdout
	var commit func() error
	if path != "-" {
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return err
		}
		// Written aside and renamed into place once complete: a failed
		// checkpoint leaves whatever was at path as it was.
		f, err := image.Create(path)
		if err != nil {
			return ucli.Exit(fmt.Sprintf("checkpoint of %d failed: %v", c.Int("pid"), err), 1)
		}
		defer f.Abort()
		out, commit = f, f.Commit
	}
	mode, err := restore.ParseCgroupMode(c.String("manage-cgroups-mode"))
	if err != nil {
		return err
	}
	opts := checkpoint.Options{LeaveRunning: c.Bool("leave-running"), FreezeCgroup: c.String("freeze-cgroup"), NoFreeze: c.Bool("no-freeze"), Allow: allowOf(c),
		Commit: commit, PreDump: c.Bool("pre-dump"), NoCgroups: mode == restore.CgroupIgnore}
	if pp := c.String("parent-path"); pp != "" {
		if opts.ParentPath, opts.ParentRecorded, err = parentPaths(pp, path); err != nil {
			return err
		}
	}
	log := logger(c)
	res, err := checkpoint.Dump(logctx.With(c.Context, log), c.Int("pid"), out, opts)
	if err != nil {
		return ucli.Exit(fmt.Sprintf("checkpoint of %d failed: %v", c.Int("pid"), err), 1)
	}
	log.Info("checkpointed", "pid", res.Pid, "tasks", res.Tasks, "threads", res.Threads, "bytes", res.Bytes, "freeze", res.FreezeWindow)
	return nil
}

// parentPaths returns the parent image file that parent names (a
// directory holding an image, or the file) and how the child image at
// child records it: relative to the child's directory when the child is a
// file, so that a chain moved as a whole stays whole; absolute for a child
// written to standard output.
func parentPaths(parent, child string) (file, recorded string, err error) {
	if fi, err := os.Stat(parent); err == nil && fi.IsDir() {
		parent = filepath.Join(parent, image.FileName)
	}
	abs, err := filepath.Abs(parent)
	if err != nil {
		return "", "", err
	}
	if child == "-" {
		return abs, abs, nil
	}
	childDir, err := filepath.Abs(filepath.Dir(child))
	if err != nil {
		return "", "", err
	}
	if rel, err := filepath.Rel(childDir, abs); err == nil {
		return abs, rel, nil
	}
	return abs, abs, nil
}
