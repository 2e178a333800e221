// Package cli is ckpt's command line: flags in, engine calls out.
package cli

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"

	ucli "github.com/urfave/cli/v2"

	"github.com/ckpt/ckpt/image"
)

// App returns the ckpt command line application.
func App() *ucli.App {
	return &ucli.App{
		Name:  "ckpt",
		Usage: "checkpoint and restore Linux processes and containers",
		Flags: append([]ucli.Flag{
			&ucli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "log progress to stderr"},
			&ucli.BoolFlag{Name: "debug", Usage: "log every step to stderr"},
		}, runtimeFlags...),
		Commands: append([]*ucli.Command{
			withFlags(checkpointCommand(), containerCheckpointFlags),
			withFlags(restoreCommand(), containerRestoreFlags),
			inspectCommand(),
			importCommand(),
			lazyPagesCommand(),
			pageServerCommand(),
		}, runtimeCommands()...),
		ExitErrHandler: logError,
		// A repeated flag gives one value each time, commas included, as
		// runc's flags do: `exec --env A=1,2`, `exec --cgroup
		// cpu,cpuacct:sub`.
		DisableSliceFlagSeparator: true,
	}
}

// Main runs the application and returns the process exit code.
func Main(args []string) int {
	stop, err := startProfile()
	if err != nil {
		fmt.Fprintln(os.Stderr, "ckpt:", err)
		return 1
	}
	defer stop()
	app := App()
	err = app.Run(reorderArgs(app, args))
	if err == nil {
		return 0
	}
	// An exit code of ours (ucli.Exit), maybe wrapped; not that of a
	// program something of ours ran (a hook's *exec.ExitError deep in
	// libcontainer's error), whose message would hide the reason: that
	// is a failure like any other, reported whole.
	var xe *exec.ExitError
	if ec := ucli.ExitCoder(nil); errors.As(err, &ec) && !errors.As(err, &xe) {
		if msg := err.Error(); msg != "" {
			fmt.Fprintln(os.Stderr, "ckpt:", msg)
		}
		return ec.ExitCode()
	}
	fmt.Fprintln(os.Stderr, "ckpt:", err)
	return 1
}

func logger(c *ucli.Context) *slog.Logger {
	level := slog.LevelWarn
	if c.Bool("verbose") {
		level = slog.LevelInfo
	}
	if c.Bool("debug") {
		level = slog.LevelDebug
	}
	return slog.New(logHandler(c, &slog.HandlerOptions{Level: level}))
}

// imageFlags are how every command names an image: a file, "-" for
// stdin/stdout, or a directory holding image.FileName.
var imageFlags = []ucli.Flag{
	&ucli.StringFlag{Name: "image", Usage: "image `FILE`, or - for standard input/output"},
	&ucli.StringFlag{Name: "image-path", Usage: "`DIR`ectory holding " + image.FileName},
}

func imagePath(c *ucli.Context) (string, error) {
	file, dir := c.String("image"), c.String("image-path")
	switch {
	case file != "" && dir != "":
		return "", fmt.Errorf("give --image or --image-path, not both")
	case file != "":
		return file, nil
	case dir != "":
		return dir + "/" + image.FileName, nil
	}
	return "", fmt.Errorf("no image: give --image FILE, --image - or --image-path DIR")
}

// openImage opens an image for reading; "-" is standard input. A directory
// stands for the image inside it.
func openImage(path string) (io.ReadCloser, error) {
	if path == "-" {
		// The *os.File itself: a regular file redirected to stdin is
		// then validated and read in place, not copied (image.OpenReader).
		return os.Stdin, nil
	}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		path = path + "/" + image.FileName
	}
	return os.Open(path)
}
