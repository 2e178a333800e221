package cli

import (
	"fmt"
	"os/exec"
	"strconv"
	"strings"

	ucli "github.com/urfave/cli/v2"
)

func psCommand() *ucli.Command {
	return &ucli.Command{
		Name: "ps", Usage: "list a container's processes", ArgsUsage: "<container-id> [ps options]",
		Flags:  []ucli.Flag{&ucli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: "table", Usage: "table (ps(1) output) or json (pids)"}},
		Action: runPs,
	}
}

func runPs(c *ucli.Context) error {
	if c.NArg() < 1 {
		return fmt.Errorf("ps needs a container id")
	}
	pids, err := runtimeOf(c).Processes(c.Args().First())
	if err != nil {
		return err
	}
	switch c.String("format") {
	case "json":
		if pids == nil {
			pids = []int{}
		}
		return printJSON(pids, false)
	case "table":
	default:
		return fmt.Errorf("--format %q: want table or json", c.String("format"))
	}
	// ps(1) with the caller's options (default -ef), keeping the header
	// and the lines whose PID column is one of the container's.
	args := c.Args().Tail()
	if len(args) == 0 {
		args = []string{"-ef"}
	}
	out, err := exec.Command("ps", args...).Output()
	if err != nil {
		return fmt.Errorf("ps %s: %w", strings.Join(args, " "), err)
	}
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	col := -1
	for i, h := range strings.Fields(lines[0]) {
		if h == "PID" {
			col = i
		}
	}
	if col < 0 {
		return fmt.Errorf("ps %s prints no PID column", strings.Join(args, " "))
	}
	in := map[string]bool{}
	for _, p := range pids {
		in[strconv.Itoa(p)] = true
	}
	fmt.Println(lines[0])
	for _, l := range lines[1:] {
		if f := strings.Fields(l); len(f) > col && in[f[col]] {
			fmt.Println(l)
		}
	}
	return nil
}
