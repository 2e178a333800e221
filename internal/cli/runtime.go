package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/sirupsen/logrus"
	ucli "github.com/urfave/cli/v2"

	ckptrt "github.com/ckpt/ckpt/runtime"
)

// The OCI runtime verbs: runc's command line on libcontainer (runtime/).
// Flags, JSON outputs and exit codes follow runc's, which containerd's
// runc shim and other callers of runc rely on.

// runtimeFlags are the global flags of runc's command line.
var runtimeFlags = []ucli.Flag{
	&ucli.StringFlag{Name: "root", Value: ckptrt.DefaultRoot, Usage: "`DIR` holding the containers' state"},
	&ucli.StringFlag{Name: "log", Usage: "write the log to `FILE` instead of stderr"},
	&ucli.StringFlag{Name: "log-format", Value: "text", Usage: "log format: text or json"},
	&ucli.BoolFlag{Name: "systemd-cgroup", Usage: "manage cgroups through systemd (cgroupsPath is slice:prefix:name)"},
	&ucli.StringFlag{Name: "criu", Hidden: true, Usage: "ignored: ckpt checkpoints containers itself (accepted because callers of runc pass it)"},
	&ucli.BoolFlag{Name: "rootless", Hidden: true},
}

// logError also writes a failure to the --log file, where callers of runc
// (containerd's go-runc) look for the reason of a non-zero exit. It still
// goes to stderr (Main).
func logError(c *ucli.Context, err error) {
	if err == nil || c.String("log") == "" {
		return
	}
	msg := err.Error()
	if ec := ucli.ExitCoder(nil); errors.As(err, &ec) && ec.Error() == "" {
		return // an exit code passed through (run, exec), not a failure of ours
	}
	setupLogrus(c)
	logrus.Error(msg)
}

// setupLogrus sends libcontainer's own log (logrus) where ours goes.
func setupLogrus(c *ucli.Context) {
	logrus.SetOutput(logWriter(c))
	if c.String("log-format") == "json" {
		logrus.SetFormatter(&logrus.JSONFormatter{})
	}
	if c.Bool("debug") {
		logrus.SetLevel(logrus.DebugLevel)
	}
}

func runtimeOf(c *ucli.Context) *ckptrt.Runtime {
	setupLogrus(c)
	if c.IsSet("rootless") {
		// Parsed so that the error is ours, not the flag parser's.
		fmt.Fprintln(os.Stderr, "ckpt: warning: --rootless is ignored: ckpt runs containers as root only")
	}
	return &ckptrt.Runtime{Root: c.String("root"), SystemdCgroup: c.Bool("systemd-cgroup"), Log: logger(c)}
}

// logWriter is where the log goes: --log FILE (appended to) or stderr.
func logWriter(c *ucli.Context) io.Writer {
	if p := c.String("log"); p != "" {
		if f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644); err == nil {
			return f
		}
	}
	return os.Stderr
}

func logHandler(c *ucli.Context, opts *slog.HandlerOptions) slog.Handler {
	w := logWriter(c)
	if c.String("log-format") == "json" {
		return slog.NewJSONHandler(w, opts)
	}
	return slog.NewTextHandler(w, opts)
}

// onID is the action of a verb that takes one container id and calls the
// runtime with it.
func onID(fn func(rt *ckptrt.Runtime, id string) error) ucli.ActionFunc {
	return func(c *ucli.Context) error {
		id, err := oneID(c)
		if err != nil {
			return err
		}
		return fn(runtimeOf(c), id)
	}
}

func oneID(c *ucli.Context) (string, error) {
	if c.NArg() != 1 {
		return "", fmt.Errorf("%s needs exactly one container id, got %d arguments", c.Command.Name, c.NArg())
	}
	return c.Args().First(), nil
}

func runtimeCommands() []*ucli.Command {
	return []*ucli.Command{
		createCommand(),
		runCommand(),
		startCommand(),
		stateCommand(),
		killCommand(),
		deleteCommand(),
		listCommand(),
		psCommand(),
		execCommand(),
		pauseCommand(),
		resumeCommand(),
		updateCommand(),
		eventsCommand(),
		featuresCommand(),
		specCommand(),
	}
}

func exitCode(code int) error {
	if code == 0 {
		return nil
	}
	return ucli.Exit("", code)
}

func printJSON(v any, indent bool) error {
	enc := json.NewEncoder(os.Stdout)
	if indent {
		enc.SetIndent("", "  ")
	}
	return enc.Encode(v)
}
