package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	ucli "github.com/urfave/cli/v2"

	"github.com/ckpt/ckpt/checkpoint"
	"github.com/ckpt/ckpt/checkpoint/image"
	"github.com/ckpt/ckpt/internal/logctx"
)

func checkpointCommand() *ucli.Command {
	return &ucli.Command{
		Name:      "checkpoint",
		Usage:     "checkpoint a running process into an image",
		UsageText: "ckpt checkpoint --pid PID (--image FILE | --image - | --image-path DIR) [--leave-running] [--ext-unix-sk] [--shell-job] [--tcp-established] [--file-locks]\n   ckpt checkpoint --image-path DIR [--leave-running] <container-id>",
		Description: `Stops every thread of the process with ptrace, saves its state into the
image and then kills it, unless --leave-running is given. On any failure
the process is left running as it was and nothing is killed.

With a container id instead of --pid, checkpoints that container of the
OCI runtime (see 'ckpt run'): every process of its pid namespace, the
content of its tmpfs mounts and its host name; the container is removed
afterwards unless --leave-running is given.`,
		Flags: append([]ucli.Flag{
			&ucli.IntFlag{Name: "pid", Usage: "the process to checkpoint"},
			&ucli.BoolFlag{Name: "leave-running", Usage: "let the process carry on after the checkpoint"},
			&ucli.StringFlag{Name: "freeze-cgroup", Usage: "freeze this cgroup `DIR` (v1 freezer or v2) while seizing the tasks it holds; " +
				"by default the process's own cgroup is frozen when it holds the process's tree and nothing else"},
			&ucli.BoolFlag{Name: "no-freeze", Usage: "do not look for a cgroup to freeze"},
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
	opts := checkpoint.Options{LeaveRunning: c.Bool("leave-running"), FreezeCgroup: c.String("freeze-cgroup"), NoFreeze: c.Bool("no-freeze"), Allow: allowOf(c),
		Commit: commit}
	log := logger(c)
	res, err := checkpoint.Dump(logctx.With(c.Context, log), c.Int("pid"), out, opts)
	if err != nil {
		return ucli.Exit(fmt.Sprintf("checkpoint of %d failed: %v", c.Int("pid"), err), 1)
	}
	log.Info("checkpointed", "pid", res.Pid, "tasks", res.Tasks, "threads", res.Threads, "bytes", res.Bytes, "freeze", res.FreezeWindow)
	return nil
}
