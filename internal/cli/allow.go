package cli

import (
	ucli "github.com/urfave/cli/v2"

	"github.com/ckpt/ckpt/internal/allow"
)

// allowUsage is what each permission flag means on checkpoint and on
// restore.
var allowUsage = map[string][2]string{
	"file-locks": {"save the file locks (flock, POSIX, OFD) the tasks hold; without it a held lock refuses the checkpoint",
		"take again the file locks the image holds (checkpointed with --file-locks)"},
	"ext-unix-sk": {"allow unix sockets connected outside the tree (saved as external files, given back at restore with --inherit-fd)",
		"restore unix sockets connected outside the image, each to its --inherit-fd"},
	"shell-job": {"allow terminals outside the checkpoint (the user's terminal); restore needs --shell-job too",
		"attach the tasks' terminal (checkpointed with --shell-job) to ours: our stdin must be a terminal"},
	"tcp-established": {"save established TCP connections (in TCP repair mode) instead of refusing them",
		"restore the established TCP connections the image holds"},
	"allow-shared-offset": {"save a file's open description shared with a process outside the tree; the restored task gets one of its own, whose offset parts from the outside one's (O_APPEND logs need no flag)",
		"no effect: the offset parted at checkpoint time (accepted for symmetry)"},
}

// allowFlags are the flags of allow.Allow, for checkpoint or for restore.
func allowFlags(restore bool) []ucli.Flag {
	var fs []ucli.Flag
	for _, p := range allow.Permissions {
		u := allowUsage[p.Flag][0]
		if restore {
			u = allowUsage[p.Flag][1]
		}
		fs = append(fs, &ucli.BoolFlag{Name: p.Flag, Usage: u})
	}
	return fs
}

// allowOf reads the permissions from the command line.
func allowOf(c *ucli.Context) allow.Allow {
	var a allow.Allow
	for _, p := range allow.Permissions {
		*p.Field(&a) = c.Bool(p.Flag)
	}
	return a
}

// withAllowFlags adds every permission's flag to a set of flag names
// (the container forms' allow-lists).
func withAllowFlags(ok map[string]bool) map[string]bool {
	for _, p := range allow.Permissions {
		ok[p.Flag] = true
	}
	return ok
}
