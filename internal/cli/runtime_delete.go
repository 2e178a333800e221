package cli

import (
	"fmt"
	"strings"

	ucli "github.com/urfave/cli/v2"
)

func deleteCommand() *ucli.Command {
	return &ucli.Command{
		Name: "delete", Usage: "remove a stopped (or, with --force, any) container", ArgsUsage: "<container-id>...",
		Flags: []ucli.Flag{&ucli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "kill a running container first"}},
		Action: func(c *ucli.Context) error {
			if c.NArg() == 0 {
				return fmt.Errorf("delete needs a container id")
			}
			rt := runtimeOf(c)
			var errs []string
			for _, id := range c.Args().Slice() {
				if err := rt.Delete(id, c.Bool("force")); err != nil {
					errs = append(errs, err.Error())
				}
			}
			if len(errs) > 0 {
				return fmt.Errorf("%s", strings.Join(errs, "; "))
			}
			return nil
		},
	}
}
