package cli

import (
	ucli "github.com/urfave/cli/v2"
)

func stateCommand() *ucli.Command {
	return &ucli.Command{
		Name: "state", Usage: "print a container's state as JSON", ArgsUsage: "<container-id>",
		Action: func(c *ucli.Context) error {
			id, err := oneID(c)
			if err != nil {
				return err
			}
			st, err := runtimeOf(c).State(id)
			if err != nil {
				return err
			}
			return printJSON(st, true)
		},
	}
}
