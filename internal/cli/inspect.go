package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	ucli "github.com/urfave/cli/v2"

	"github.com/ckpt/ckpt/image"
	"github.com/ckpt/ckpt/oci/kubelet"
)

func inspectCommand() *ucli.Command {
	return &ucli.Command{
		Name:  "inspect",
		Usage: "show what an image or a kubelet checkpoint archive holds",
		UsageText: `ckpt inspect (ARCHIVE | FILE | DIR | -) [view flags] [--format tree|json]
   ckpt inspect (ARCHIVE | FILE | DIR | -) --records [--format json]
   ckpt inspect list [DIR]          (default ` + kubelet.DefaultDirectory + `)
   ckpt inspect diff A B`,
		Description: `Without a view flag: a summary (for a kubelet archive, the container,
its image, id, runtime, creation time, engine and sizes, as checkpointctl
show prints them; then the processes). Views: --ps-tree (with
--ps-tree-cmd, --ps-tree-env), --files, --sockets, --mounts, --stats,
--metadata, --all; memory: --pid P with --search STRING, --search-regex RE
(--context N bytes around each match) or --hexdump. --records prints every
record with its offset instead, flags, modes, protections, commands and
addresses by name (O_RDONLY|O_LARGEFILE, S_IFREG|0644, "java");
--json: the same as JSON, numbers in "fields", names in "symbolic".
diff compares two checkpoints: processes, files, sockets, and memory
page by page (per task and mapping: the pages that differ or are in one
only, as address ranges).

The image is checked while read (framing, tail, digest): a damaged image
is an error. An ARCHIVE (a tar, or a gzipped one, as the kubelet writes
into /var/lib/kubelet/checkpoints) is untrusted: members with absolute
names or "..", links, devices, a name twice or sizes over the bounds are
refused; nothing is unpacked.`,
		Flags: []ucli.Flag{
			&ucli.BoolFlag{Name: "records", Usage: "every record with its offset"},
			&ucli.BoolFlag{Name: "json", Usage: `--records as one JSON object: {"records":[{"offset","type","len","fields","symbolic"}...]}`},
			&ucli.StringFlag{Name: "format", Value: "tree", Usage: "tree (for people) or json"},
			&ucli.BoolFlag{Name: "ps-tree", Usage: "the process tree"},
			&ucli.BoolFlag{Name: "ps-tree-cmd", Usage: "the process tree with each command line (from the tasks' memory)"},
			&ucli.BoolFlag{Name: "ps-tree-env", Usage: "the process tree with each environment (from the tasks' memory)"},
			&ucli.BoolFlag{Name: "files", Usage: "each task's open files"},
			&ucli.BoolFlag{Name: "sockets", Usage: "each task's sockets"},
			&ucli.BoolFlag{Name: "mounts", Usage: "the container's mounts (spec.dump) and the image's MOUNT records"},
			&ucli.BoolFlag{Name: "stats", Usage: "how the checkpoint went (STATS)"},
			&ucli.BoolFlag{Name: "metadata", Usage: "the archive's config.dump, the spec's annotations, its members"},
			&ucli.BoolFlag{Name: "all", Usage: "every view"},
			&ucli.IntFlag{Name: "pid", Usage: "memory views: the task `PID` (as in the image)"},
			&ucli.StringFlag{Name: "search", Usage: "memory: find `STRING` in the task's memory"},
			&ucli.StringFlag{Name: "search-regex", Usage: "memory: find matches of `RE`"},
			&ucli.IntFlag{Name: "context", Value: 32, Usage: "memory: `N` bytes shown around a match"},
			&ucli.BoolFlag{Name: "hexdump", Usage: "memory: a hexdump of the task's memory in the image"},
			&ucli.Int64Flag{Name: "max-member-size", Usage: "archives: refuse members over `BYTES` (default 64 GiB)"},
		},
		Action: runInspect,
	}
}

// inspected is one record as `ckpt inspect --records --format json` shows it.
type inspected struct {
	Offset int64        `json:"offset"`
	Type   string       `json:"type"`
	Len    uint32       `json:"len"`
	Fields image.Record `json:"fields"`
	// Symbolic renders the fields that have names for their values
	// (open flags, modes, protections, commands, addresses) as people
	// read them; Fields keeps the numbers.
	Symbolic map[string]string `json:"symbolic,omitempty"`
}

// inspectArgs splits the arguments into operands and applies flags given
// after them (the flag parser stops at the first operand, and
// "ckpt inspect IMAGE --ps-tree" is the natural order).
func inspectArgs(c *ucli.Context) ([]string, error) {
	valued := map[string]bool{}
	for _, f := range c.Command.Flags {
		if _, ok := f.(*ucli.BoolFlag); !ok {
			for _, n := range f.Names() {
				valued[n] = true
			}
		}
	}
	var ops []string
	args := c.Args().Slice()
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "-" || !strings.HasPrefix(a, "-") {
			ops = append(ops, a)
			continue
		}
		name, val, hasVal := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if valued[name] && !hasVal {
			if i+1 >= len(args) {
				return nil, fmt.Errorf("flag --%s needs a value", name)
			}
			i++
			val, hasVal = args[i], true
		}
		if !hasVal {
			val = "true"
		}
		if err := c.Set(name, val); err != nil {
			return nil, fmt.Errorf("flag %s: %w", a, err)
		}
	}
	return ops, nil
}

func runInspect(c *ucli.Context) error {
	args, err := inspectArgs(c)
	if err != nil {
		return err
	}
	if len(args) >= 1 && (args[0] == "list" || args[0] == "diff") {
		if _, err := os.Stat(args[0]); err != nil {
			if args[0] == "list" {
				return inspectList(c, args[1:])
			}
			return inspectDiff(c, args[1:])
		}
	}
	if len(args) != 1 {
		return fmt.Errorf("inspect takes one image: an archive, a file, a directory or -")
	}
	if c.Bool("records") || c.Bool("json") {
		return inspectRecords(c, args[0], c.Bool("json") || c.String("format") == "json")
	}
	return inspectViews(c, args[0])
}

// inspectRecords prints every record of the image.
func inspectRecords(c *ucli.Context, arg string, asJSON bool) error {
	var recs []inspected
	var readErr error
	_, err := withImage(c, arg, func(in io.Reader) error {
		readErr = readRecords(in, asJSON, &recs)
		return nil
	})
	if err != nil {
		return err
	}
	if asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", " ")
		if err := enc.Encode(struct {
			Records []inspected `json:"records"`
		}{recs}); err != nil {
			return err
		}
	}
	if readErr != nil {
		return ucli.Exit(fmt.Sprintf("image is damaged: %v", readErr), 2)
	}
	return nil
}

// readRecords reads every record, printing each unless asJSON.
func readRecords(in io.Reader, asJSON bool, recs *[]inspected) error {
	r := image.NewReader(in, image.Options{})
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		*recs = append(*recs, inspected{Offset: r.RecordOffset(), Type: rec.Type().String(), Len: r.RecordLen(), Fields: rec, Symbolic: symbolic(rec)})
		if !asJSON {
			printRecord(os.Stdout, (*recs)[len(*recs)-1])
		}
	}
}
