package cli

import (
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	ucli "github.com/urfave/cli/v2"

	ckptrt "github.com/ckpt/ckpt/runtime"
)

func listCommand() *ucli.Command {
	return &ucli.Command{
		Name: "list", Usage: "list containers", Aliases: []string{"ls"},
		Flags: []ucli.Flag{
			&ucli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: "table", Usage: "table or json"},
			&ucli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "ids only"},
		},
		Action: runList,
	}
}

func runList(c *ucli.Context) error {
	// As runc: a state root that was named and does not exist is an
	// error (a typo must not list nothing); the default one may not
	// exist yet.
	if c.IsSet("root") {
		if _, err := os.Stat(c.String("root")); err != nil {
			return fmt.Errorf("state root: %w", err)
		}
	}
	states, err := runtimeOf(c).List()
	if err != nil {
		return err
	}
	if c.Bool("quiet") {
		for _, s := range states {
			fmt.Println(s.ID)
		}
		return nil
	}
	switch c.String("format") {
	case "json":
		if states == nil {
			states = []*ckptrt.State{}
		}
		return printJSON(states, false)
	case "table":
		w := tabwriter.NewWriter(os.Stdout, 12, 1, 3, ' ', 0)
		fmt.Fprint(w, "ID\tPID\tSTATUS\tBUNDLE\tCREATED\tOWNER\n")
		for _, s := range states {
			fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%s\t%s\n", s.ID, s.Pid, s.Status, s.Bundle, s.Created.Format(time.RFC3339Nano), s.Owner)
		}
		return w.Flush()
	}
	return fmt.Errorf("--format %q: want table or json", c.String("format"))
}
