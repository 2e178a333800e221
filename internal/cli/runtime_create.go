package cli

import (
	"os"
	"path/filepath"
	"strconv"

	ucli "github.com/urfave/cli/v2"

	ckptrt "github.com/ckpt/ckpt/runtime"
)

var bundleFlags = []ucli.Flag{
	&ucli.StringFlag{Name: "bundle", Aliases: []string{"b"}, Usage: "`DIR` of the bundle (config.json, rootfs); default: the current directory"},
	&ucli.StringFlag{Name: "console-socket", Usage: "unix socket `PATH` to send the terminal's master to"},
	&ucli.StringFlag{Name: "pid-file", Usage: "write the container init's pid to `FILE`"},
	&ucli.BoolFlag{Name: "no-pivot", Usage: "do not use pivot_root to enter the rootfs"},
	&ucli.BoolFlag{Name: "no-new-keyring", Usage: "do not make a session keyring for the container"},
	&ucli.IntFlag{Name: "preserve-fds", Usage: "pass this many fds beyond stdio (3, 4, ...) to the process"},
	&ucli.StringFlag{Name: "pidfd-socket", Usage: "unix socket `PATH` to send a pidfd of the container's init to"},
}

func createCommand() *ucli.Command {
	return &ucli.Command{
		Name: "create", Usage: "create a container (its init waits for start)", ArgsUsage: "<container-id>",
		Flags: bundleFlags,
		Action: func(c *ucli.Context) error {
			id, err := oneID(c)
			if err != nil {
				return err
			}
			return runtimeOf(c).Create(id, startOpts(c))
		},
	}
}

func runCommand() *ucli.Command {
	return &ucli.Command{
		Name: "run", Usage: "create and start a container", ArgsUsage: "<container-id>",
		Flags: append([]ucli.Flag{
			&ucli.BoolFlag{Name: "detach", Aliases: []string{"d"}, Usage: "return once the container runs"},
			&ucli.BoolFlag{Name: "keep", Usage: "keep the container, stopped, after it exits (delete removes it)"},
		}, bundleFlags...),
		Action: func(c *ucli.Context) error {
			id, err := oneID(c)
			if err != nil {
				return err
			}
			o := startOpts(c)
			o.Keep = c.Bool("keep")
			code, err := runtimeOf(c).Run(id, o)
			if err != nil {
				return err
			}
			return exitCode(code)
		},
	}
}

func startCommand() *ucli.Command {
	return &ucli.Command{
		Name: "start", Usage: "start a created container", ArgsUsage: "<container-id>",
		Action: onID((*ckptrt.Runtime).Start),
	}
}

func preserved(n int) []*os.File {
	var out []*os.File
	for i := 0; i < n; i++ {
		out = append(out, os.NewFile(uintptr(3+i), "preserved-fd-"+strconv.Itoa(3+i)))
	}
	return out
}

// absPath makes a path flag absolute: creating a container changes the
// current directory to the bundle (libcontainer resolves the spec's
// relative paths from there), after which a relative path would lead
// elsewhere.
func absPath(c *ucli.Context, name string) string {
	p := c.String(name)
	if p == "" {
		return ""
	}
	if abs, err := filepath.Abs(p); err == nil {
		return abs
	}
	return p
}

func startOpts(c *ucli.Context) ckptrt.StartOpts {
	return ckptrt.StartOpts{
		CreateOpts: ckptrt.CreateOpts{Bundle: absPath(c, "bundle"), NoPivot: c.Bool("no-pivot"), NoNewKeyring: c.Bool("no-new-keyring")},
		IO: ckptrt.IO{Detach: c.Bool("detach"), ConsoleSocket: absPath(c, "console-socket"), ExtraFiles: preserved(c.Int("preserve-fds")),
			PidfdSocket: absPath(c, "pidfd-socket")},
		PidFile: absPath(c, "pid-file"),
	}
}
