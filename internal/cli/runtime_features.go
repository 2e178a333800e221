package cli

import (
	ucli "github.com/urfave/cli/v2"

	ckptrt "github.com/ckpt/ckpt/runtime"
)

func featuresCommand() *ucli.Command {
	return &ucli.Command{
		Name: "features", Usage: "print what this runtime supports (JSON)",
		Action: func(c *ucli.Context) error { return printJSON(ckptrt.Features(), true) },
	}
}
