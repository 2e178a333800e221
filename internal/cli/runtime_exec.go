package cli

import (
	"fmt"

	ucli "github.com/urfave/cli/v2"

	ckptrt "github.com/ckpt/ckpt/runtime"
)

func execCommand() *ucli.Command {
	return &ucli.Command{
		Name: "exec", Usage: "run a process in a running container", ArgsUsage: "<container-id> <command> [args...]",
		Flags: []ucli.Flag{
			&ucli.StringFlag{Name: "console-socket", Usage: "unix socket `PATH` to send the terminal's master to"},
			&ucli.StringFlag{Name: "cwd", Usage: "working directory in the container"},
			&ucli.StringSliceFlag{Name: "env", Aliases: []string{"e"}, Usage: "KEY=VALUE to add to the environment"},
			&ucli.BoolFlag{Name: "tty", Aliases: []string{"t"}, Usage: "give the process a terminal"},
			&ucli.StringFlag{Name: "user", Aliases: []string{"u"}, Usage: "uid[:gid]"},
			&ucli.IntSliceFlag{Name: "additional-gids", Aliases: []string{"g"}, Usage: "more groups"},
			&ucli.StringFlag{Name: "process", Aliases: []string{"p"}, Usage: "a process.json `FILE` (the spec's process object)"},
			&ucli.BoolFlag{Name: "detach", Aliases: []string{"d"}, Usage: "return once the process runs"},
			&ucli.StringFlag{Name: "pid-file", Usage: "write the process's pid to `FILE`"},
			&ucli.StringFlag{Name: "process-label", Usage: "not supported: SELinux label"},
			&ucli.StringFlag{Name: "apparmor", Usage: "not supported: AppArmor profile"},
			&ucli.BoolFlag{Name: "no-new-privs", Usage: "set no_new_privs"},
			&ucli.StringSliceFlag{Name: "cap", Aliases: []string{"c"}, Usage: "add a capability"},
			&ucli.IntFlag{Name: "preserve-fds", Usage: "pass this many fds beyond stdio (3, 4, ...) to the process"},
			&ucli.BoolFlag{Name: "ignore-paused", Usage: "exec into a paused container (the process starts frozen)"},
			&ucli.StringFlag{Name: "pidfd-socket", Usage: "unix socket `PATH` to send a pidfd of the process to"},
			&ucli.StringSliceFlag{Name: "cgroup", Usage: "a sub-cgroup of the container's to run the process in: `PATH` (cgroup v2) or CONTROLLER[,CONTROLLER]:PATH"},
		},
		Action: func(c *ucli.Context) error {
			if c.NArg() < 1 {
				return fmt.Errorf("exec needs a container id")
			}
			for _, f := range []string{"process-label", "apparmor"} {
				if c.IsSet(f) {
					return ckptrt.NotSupported("exec --" + f)
				}
			}
			o := ckptrt.ExecOpts{
				IO: ckptrt.IO{Detach: c.Bool("detach"), ConsoleSocket: absPath(c, "console-socket"), ExtraFiles: preserved(c.Int("preserve-fds")),
					PidfdSocket: absPath(c, "pidfd-socket")},
				ProcessFile: absPath(c, "process"), Args: c.Args().Tail(), Env: c.StringSlice("env"),
				Cwd: c.String("cwd"), User: c.String("user"), AddGroups: c.IntSlice("additional-gids"),
				Caps: c.StringSlice("cap"), Tty: c.Bool("tty"), NoNewPrivs: c.Bool("no-new-privs"),
				PidFile: absPath(c, "pid-file"), Cgroups: c.StringSlice("cgroup"), IgnorePaused: c.Bool("ignore-paused"),
			}
			code, err := runtimeOf(c).Exec(c.Args().First(), o)
			if err != nil {
				// runc's code for an exec that did not run the process
				// (no container, no binary, a bad pid file): a process's
				// own codes are 0-254 or 128+signal.
				return ucli.Exit("exec failed: "+err.Error(), 255)
			}
			return exitCode(code)
		},
	}
}
