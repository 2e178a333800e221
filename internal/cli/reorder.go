package cli

import (
	"strings"

	ucli "github.com/urfave/cli/v2"
)

// runc's command line takes a verb's flags after the container id too
// (`runc update ID --pids-limit 10`, `runc checkpoint ID --leave-running`):
// its flag library moves them in front of the arguments. Ours stops at the
// first argument, so the same is done here before parsing. exec and ps are
// left alone, as runc leaves them: what follows the id is the command to
// run or ps(1)'s options.
var noReorder = map[string]bool{"exec": true, "ps": true}

// reorderArgs moves a runtime verb's flags (and their values) that follow
// its arguments in front of them. Anything after "--" stays in place.
func reorderArgs(app *ucli.App, args []string) []string {
	if len(args) < 2 {
		return args
	}
	// Find the verb: the first argument that is not a global flag or its
	// value.
	i := 1
	for i < len(args) {
		a := args[i]
		if a == "--" || !strings.HasPrefix(a, "-") || a == "-" {
			break
		}
		i++
		if takesValue(app.Flags, a) && i < len(args) {
			i++
		}
	}
	if i >= len(args) {
		return args
	}
	var cmd *ucli.Command
	for _, c := range app.Commands {
		if c.HasName(args[i]) {
			cmd = c
		}
	}
	if cmd == nil || noReorder[cmd.Name] {
		return args
	}
	out := append([]string(nil), args[:i+1]...)
	var flags, rest []string
	rem := args[i+1:]
	for j := 0; j < len(rem); j++ {
		a := rem[j]
		if a == "--" {
			rest = append(rest, rem[j:]...)
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" || !isFlag(cmd.Flags, a) {
			rest = append(rest, a)
			continue
		}
		flags = append(flags, a)
		if takesValue(cmd.Flags, a) && j+1 < len(rem) {
			j++
			flags = append(flags, rem[j])
		}
	}
	return append(append(out, flags...), rest...)
}

// flagNamed finds the flag an argument such as "--root", "-d" or
// "--root=X" names.
func flagNamed(flags []ucli.Flag, arg string) ucli.Flag {
	name := strings.TrimLeft(arg, "-")
	name, _, _ = strings.Cut(name, "=")
	for _, f := range flags {
		for _, n := range f.Names() {
			if n == name {
				return f
			}
		}
	}
	return nil
}

func isFlag(flags []ucli.Flag, arg string) bool { return flagNamed(flags, arg) != nil }

// takesValue says whether the flag an argument names reads the next
// argument as its value: not a boolean flag, and not given as --f=V.
func takesValue(flags []ucli.Flag, arg string) bool {
	if strings.Contains(arg, "=") {
		return false
	}
	f := flagNamed(flags, arg)
	if f == nil {
		return false
	}
	_, isBool := f.(*ucli.BoolFlag)
	return !isBool
}
