package cli

import (
	"os"
	"time"

	ucli "github.com/urfave/cli/v2"
)

func eventsCommand() *ucli.Command {
	return &ucli.Command{
		Name: "events", Usage: "print a container's statistics as JSON", ArgsUsage: "<container-id>",
		Flags: []ucli.Flag{
			&ucli.BoolFlag{Name: "stats", Usage: "print them once and exit"},
			&ucli.DurationFlag{Name: "interval", Value: 5 * time.Second, Usage: "time between two"},
		},
		Action: func(c *ucli.Context) error {
			id, err := oneID(c)
			if err != nil {
				return err
			}
			return runtimeOf(c).Events(id, os.Stdout, c.Duration("interval"), c.Bool("stats"))
		},
	}
}
