package cli

import (
	ucli "github.com/urfave/cli/v2"

	ckptrt "github.com/ckpt/ckpt/runtime"
)

func specCommand() *ucli.Command {
	return &ucli.Command{
		Name: "spec", Usage: "write an example config.json",
		Flags: []ucli.Flag{
			&ucli.StringFlag{Name: "bundle", Aliases: []string{"b"}, Usage: "`DIR` to write config.json into"},
			&ucli.BoolFlag{Name: "rootless", Usage: "not supported: a spec for a rootless container"},
		},
		Action: func(c *ucli.Context) error {
			if c.Bool("rootless") {
				return ckptrt.NotSupported("spec --rootless")
			}
			return ckptrt.WriteSpec(c.String("bundle"))
		},
	}
}
