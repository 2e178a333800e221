package cli

import (
	"fmt"

	ucli "github.com/urfave/cli/v2"

	ckptrt "github.com/ckpt/ckpt/runtime"
)

func killCommand() *ucli.Command {
	return &ucli.Command{
		Name: "kill", Usage: "send a signal (default SIGTERM) to a container's init", ArgsUsage: "<container-id> [signal]",
		Flags: []ucli.Flag{&ucli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "signal every process of the container"}},
		Action: func(c *ucli.Context) error {
			if c.NArg() < 1 || c.NArg() > 2 {
				return fmt.Errorf("kill needs a container id and at most one signal")
			}
			sig, err := ckptrt.ParseSignal(c.Args().Get(1))
			if err != nil {
				return err
			}
			return runtimeOf(c).Kill(c.Args().First(), sig, c.Bool("all"))
		},
	}
}
