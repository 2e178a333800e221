package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	units "github.com/docker/go-units"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	ucli "github.com/urfave/cli/v2"

	ckptrt "github.com/ckpt/ckpt/runtime"
)

// The OCI runtime verbs: runc's command line on libcontainer (runtime/).
// Flags, JSON outputs and exit codes follow runc's, which containerd's
// runc shim and other callers of runc rely on.

// runtimeFlags are the global flags of runc's command line.
var runtimeFlags = []ucli.Flag{
	&ucli.StringFlag{Name: "root", Value: ckptrt.DefaultRoot, Usage: "`DIR` holding the containers' state"},
	&ucli.StringFlag{Name: "log", Usage: "write the log to `FILE` instead of stderr"},
	&ucli.StringFlag{Name: "log-format", Value: "text", Usage: "log format: text or json"},
	&ucli.BoolFlag{Name: "systemd-cgroup", Usage: "manage cgroups through systemd (cgroupsPath is slice:prefix:name)"},
	&ucli.StringFlag{Name: "criu", Hidden: true, Usage: "ignored: ckpt checkpoints containers itself (accepted because callers of runc pass it)"},
	&ucli.BoolFlag{Name: "rootless", Hidden: true},
}

// logError also writes a failure to the --log file, where callers of runc
// (containerd's go-runc) look for the reason of a non-zero exit. It still
// goes to stderr (Main).
func logError(c *ucli.Context, err error) {
	if err == nil || c.String("log") == "" {
		return
	}
	msg := err.Error()
	if ec := ucli.ExitCoder(nil); errors.As(err, &ec) && ec.Error() == "" {
		return // an exit code passed through (run, exec), not a failure of ours
	}
	setupLogrus(c)
	logrus.Error(msg)
}

// setupLogrus sends libcontainer's own log (logrus) where ours goes.
func setupLogrus(c *ucli.Context) {
	logrus.SetOutput(logWriter(c))
	if c.String("log-format") == "json" {
		logrus.SetFormatter(&logrus.JSONFormatter{})
	}
	if c.Bool("debug") {
		logrus.SetLevel(logrus.DebugLevel)
	}
}

func runtimeOf(c *ucli.Context) *ckptrt.Runtime {
	setupLogrus(c)
	if c.IsSet("rootless") {
		// Parsed so that the error is ours, not the flag parser's.
		fmt.Fprintln(os.Stderr, "ckpt: warning: --rootless is ignored: ckpt runs containers as root only")
	}
	return &ckptrt.Runtime{Root: c.String("root"), SystemdCgroup: c.Bool("systemd-cgroup"), Log: logger(c)}
}

// logWriter is where the log goes: --log FILE (appended to) or stderr.
func logWriter(c *ucli.Context) io.Writer {
	if p := c.String("log"); p != "" {
		if f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644); err == nil {
			return f
		}
	}
	return os.Stderr
}

func logHandler(c *ucli.Context, opts *slog.HandlerOptions) slog.Handler {
	w := logWriter(c)
	if c.String("log-format") == "json" {
		return slog.NewJSONHandler(w, opts)
	}
	return slog.NewTextHandler(w, opts)
}

func oneID(c *ucli.Context) (string, error) {
	if c.NArg() != 1 {
		return "", fmt.Errorf("%s needs exactly one container id, got %d arguments", c.Command.Name, c.NArg())
	}
	return c.Args().First(), nil
}

var bundleFlags = []ucli.Flag{
	&ucli.StringFlag{Name: "bundle", Aliases: []string{"b"}, Usage: "`DIR` of the bundle (config.json, rootfs); default: the current directory"},
	&ucli.StringFlag{Name: "console-socket", Usage: "unix socket `PATH` to send the terminal's master to"},
	&ucli.StringFlag{Name: "pid-file", Usage: "write the container init's pid to `FILE`"},
	&ucli.BoolFlag{Name: "no-pivot", Usage: "do not use pivot_root to enter the rootfs"},
	&ucli.BoolFlag{Name: "no-new-keyring", Usage: "do not make a session keyring for the container"},
	&ucli.IntFlag{Name: "preserve-fds", Usage: "pass this many fds beyond stdio (3, 4, ...) to the process"},
}

func preserved(n int) []*os.File {
	var out []*os.File
	for i := 0; i < n; i++ {
		out = append(out, os.NewFile(uintptr(3+i), "preserved-fd-"+strconv.Itoa(3+i)))
	}
	return out
}

// absPath makes a path flag absolute: creating a container changes the
// current directory to the bundle (libcontainer resolves the spec's
// relative paths from there), after which a relative path would lead
// elsewhere.
func absPath(c *ucli.Context, name string) string {
	p := c.String(name)
	if p == "" {
		return ""
	}
	if abs, err := filepath.Abs(p); err == nil {
		return abs
	}
	return p
}

func startOpts(c *ucli.Context) ckptrt.StartOpts {
	return ckptrt.StartOpts{
		CreateOpts: ckptrt.CreateOpts{Bundle: absPath(c, "bundle"), NoPivot: c.Bool("no-pivot"), NoNewKeyring: c.Bool("no-new-keyring")},
		IO:         ckptrt.IO{Detach: c.Bool("detach"), ConsoleSocket: absPath(c, "console-socket"), ExtraFiles: preserved(c.Int("preserve-fds"))},
		PidFile:    absPath(c, "pid-file"),
	}
}

func runtimeCommands() []*ucli.Command {
	return []*ucli.Command{
		{
			Name: "create", Usage: "create a container (its init waits for start)", ArgsUsage: "<container-id>",
			Flags: bundleFlags,
			Action: func(c *ucli.Context) error {
				id, err := oneID(c)
				if err != nil {
					return err
				}
				return runtimeOf(c).Create(id, startOpts(c))
			},
		},
		{
			Name: "run", Usage: "create and start a container", ArgsUsage: "<container-id>",
			Flags: append([]ucli.Flag{
				&ucli.BoolFlag{Name: "detach", Aliases: []string{"d"}, Usage: "return once the container runs"},
				&ucli.BoolFlag{Name: "keep", Usage: "keep the container, stopped, after it exits (delete removes it)"},
			}, bundleFlags...),
			Action: func(c *ucli.Context) error {
				id, err := oneID(c)
				if err != nil {
					return err
				}
				o := startOpts(c)
				o.Keep = c.Bool("keep")
				code, err := runtimeOf(c).Run(id, o)
				if err != nil {
					return err
				}
				return exitCode(code)
			},
		},
		{
			Name: "start", Usage: "start a created container", ArgsUsage: "<container-id>",
			Action: func(c *ucli.Context) error {
				id, err := oneID(c)
				if err != nil {
					return err
				}
				return runtimeOf(c).Start(id)
			},
		},
		{
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
		},
		{
			Name: "kill", Usage: "send a signal (default SIGTERM) to a container's init", ArgsUsage: "<container-id> [signal]",
			Flags: []ucli.Flag{&ucli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "signal every process of the container"}},
			Action: func(c *ucli.Context) error {
				if c.NArg() < 1 || c.NArg() > 2 {
					return fmt.Errorf("kill needs a container id and at most one signal")
				}
				sig, err := ckptrt.ParseSignal(c.Args().Get(1))
				if err != nil {
					return err
				}
				return runtimeOf(c).Kill(c.Args().First(), sig, c.Bool("all"))
			},
		},
		{
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
		},
		{
			Name: "list", Usage: "list containers", Aliases: []string{"ls"},
			Flags: []ucli.Flag{
				&ucli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: "table", Usage: "table or json"},
				&ucli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "ids only"},
			},
			Action: runList,
		},
		{
			Name: "ps", Usage: "list a container's processes", ArgsUsage: "<container-id> [ps options]",
			Flags:  []ucli.Flag{&ucli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: "table", Usage: "table (ps(1) output) or json (pids)"}},
			Action: runPs,
		},
		execCommand(),
		{
			Name: "pause", Usage: "freeze every process of a container", ArgsUsage: "<container-id>",
			Action: func(c *ucli.Context) error {
				id, err := oneID(c)
				if err != nil {
					return err
				}
				return runtimeOf(c).Pause(id)
			},
		},
		{
			Name: "resume", Usage: "thaw a paused container", ArgsUsage: "<container-id>",
			Action: func(c *ucli.Context) error {
				id, err := oneID(c)
				if err != nil {
					return err
				}
				return runtimeOf(c).Resume(id)
			},
		},
		updateCommand(),
		{
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
		},
		{
			Name: "features", Usage: "print what this runtime supports (JSON)",
			Action: func(c *ucli.Context) error { return printJSON(ckptrt.Features(), true) },
		},
		{
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
		},
	}
}

func exitCode(code int) error {
	if code == 0 {
		return nil
	}
	return ucli.Exit("", code)
}

func printJSON(v any, indent bool) error {
	enc := json.NewEncoder(os.Stdout)
	if indent {
		enc.SetIndent("", "  ")
	}
	return enc.Encode(v)
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

func execCommand() *ucli.Command {
	return &ucli.Command{
		Name: "exec", Usage: "run a process in a running container", ArgsUsage: "<container-id> <command> [args...]",
		Flags: []ucli.Flag{
			&ucli.StringFlag{Name: "console-socket", Usage: "unix socket `PATH` to send the terminal's master to"},
			&ucli.StringFlag{Name: "cwd", Usage: "working directory in the container"},
			&ucli.StringSliceFlag{Name: "env", Aliases: []string{"e"}, Usage: "KEY=VALUE to add to the environment"},
			&ucli.BoolFlag{Name: "tty", Aliases: []string{"t"}, Usage: "give the process a terminal"},
			&ucli.StringFlag{Name: "user", Aliases: []string{"u"}, Usage: "uid[:gid]"},
			&ucli.IntSliceFlag{Name: "additional-gids", Aliases: []string{"g"}, Usage: "more groups"},
			&ucli.StringFlag{Name: "process", Aliases: []string{"p"}, Usage: "a process.json `FILE` (the spec's process object)"},
			&ucli.BoolFlag{Name: "detach", Aliases: []string{"d"}, Usage: "return once the process runs"},
			&ucli.StringFlag{Name: "pid-file", Usage: "write the process's pid to `FILE`"},
			&ucli.StringFlag{Name: "process-label", Usage: "not supported: SELinux label"},
			&ucli.StringFlag{Name: "apparmor", Usage: "not supported: AppArmor profile"},
			&ucli.BoolFlag{Name: "no-new-privs", Usage: "set no_new_privs"},
			&ucli.StringSliceFlag{Name: "cap", Aliases: []string{"c"}, Usage: "add a capability"},
			&ucli.IntFlag{Name: "preserve-fds", Usage: "pass this many fds beyond stdio (3, 4, ...) to the process"},
			&ucli.BoolFlag{Name: "ignore-paused", Usage: "not supported: exec into a paused container"},
			&ucli.StringSliceFlag{Name: "cgroup", Usage: "a sub-cgroup of the container's to run the process in: `PATH` (cgroup v2) or CONTROLLER[,CONTROLLER]:PATH"},
		},
		Action: func(c *ucli.Context) error {
			if c.NArg() < 1 {
				return fmt.Errorf("exec needs a container id")
			}
			for _, f := range []string{"process-label", "apparmor", "ignore-paused"} {
				if c.IsSet(f) {
					return ckptrt.NotSupported("exec --" + f)
				}
			}
			o := ckptrt.ExecOpts{
				IO:          ckptrt.IO{Detach: c.Bool("detach"), ConsoleSocket: absPath(c, "console-socket"), ExtraFiles: preserved(c.Int("preserve-fds"))},
				ProcessFile: absPath(c, "process"), Args: c.Args().Tail(), Env: c.StringSlice("env"),
				Cwd: c.String("cwd"), User: c.String("user"), AddGroups: c.IntSlice("additional-gids"),
				Caps: c.StringSlice("cap"), Tty: c.Bool("tty"), NoNewPrivs: c.Bool("no-new-privs"),
				PidFile: absPath(c, "pid-file"), Cgroups: c.StringSlice("cgroup"),
			}
			code, err := runtimeOf(c).Exec(c.Args().First(), o)
			if err != nil {
				// runc's code for an exec that did not run the process
				// (no container, no binary, a bad pid file): a process's
				// own codes are 0-254 or 128+signal.
				return ucli.Exit("exec failed: "+err.Error(), 255)
			}
			return exitCode(code)
		},
	}
}

func updateCommand() *ucli.Command {
	return &ucli.Command{
		Name: "update", Usage: "change a container's cgroup limits", ArgsUsage: "<container-id>",
		Flags: []ucli.Flag{
			&ucli.StringFlag{Name: "resources", Aliases: []string{"r"}, Usage: "a LinuxResources JSON `FILE`, - for stdin (the other flags are then ignored, as by runc)"},
			&ucli.IntFlag{Name: "blkio-weight", Usage: "block I/O weight (10-1000)"},
			&ucli.StringFlag{Name: "cpu-period", Usage: "CFS period (µs)"},
			&ucli.StringFlag{Name: "cpu-quota", Usage: "CFS quota (µs)"},
			&ucli.StringFlag{Name: "cpu-burst", Usage: "CFS burst (µs)"},
			&ucli.StringFlag{Name: "cpu-share", Aliases: []string{"cpu-shares"}, Usage: "CPU shares"},
			&ucli.StringFlag{Name: "cpu-rt-period", Usage: "realtime period (µs)"},
			&ucli.StringFlag{Name: "cpu-rt-runtime", Usage: "realtime runtime (µs)"},
			&ucli.StringFlag{Name: "cpu-idle", Usage: "cpu.idle (0 or 1)"},
			&ucli.StringFlag{Name: "cpuset-cpus", Usage: "CPUs allowed"},
			&ucli.StringFlag{Name: "cpuset-mems", Usage: "memory nodes allowed"},
			&ucli.StringFlag{Name: "memory", Usage: "memory limit (bytes, or 100M...; -1 unlimited)"},
			&ucli.StringFlag{Name: "memory-swap", Usage: "memory+swap limit"},
			&ucli.StringFlag{Name: "memory-reservation", Usage: "memory soft limit"},
			&ucli.StringFlag{Name: "kernel-memory", Hidden: true, Usage: "ignored with a warning, as by runc"},
			&ucli.StringFlag{Name: "kernel-memory-tcp", Hidden: true, Usage: "ignored with a warning, as by runc"},
			&ucli.IntFlag{Name: "pids-limit", Usage: "maximum number of tasks"},
			&ucli.StringFlag{Name: "l3-cache-schema", Hidden: true},
			&ucli.StringFlag{Name: "mem-bw-schema", Hidden: true},
		},
		Action: runUpdate,
	}
}

// runUpdate builds the LinuxResources runc's update builds from the same
// flags (or reads them from --resources) and has the runtime apply them.
func runUpdate(c *ucli.Context) error {
	id, err := oneID(c)
	if err != nil {
		return err
	}
	for _, f := range []string{"l3-cache-schema", "mem-bw-schema"} {
		if c.IsSet(f) {
			return ckptrt.NotSupported("update --" + f + " (Intel RDT)")
		}
	}
	no := false
	r := specs.LinuxResources{
		Memory:  &specs.LinuxMemory{CheckBeforeUpdate: &no},
		CPU:     &specs.LinuxCPU{},
		BlockIO: &specs.LinuxBlockIO{},
		Pids:    &specs.LinuxPids{},
	}
	if in := c.String("resources"); in != "" {
		f := os.Stdin
		if in != "-" {
			if f, err = os.Open(in); err != nil {
				return fmt.Errorf("--resources: %w", err)
			}
			defer f.Close()
		}
		if err := json.NewDecoder(f).Decode(&r); err != nil {
			return fmt.Errorf("--resources %s: %w", in, err)
		}
		// A JSON null leaves a section nil: the runtime takes nil as
		// "unchanged".
		return runtimeOf(c).Update(id, &r)
	}
	if v := c.Int("blkio-weight"); v != 0 {
		w := uint16(v)
		r.BlockIO.Weight = &w
	}
	r.CPU.Cpus, r.CPU.Mems = c.String("cpuset-cpus"), c.String("cpuset-mems")
	if v := c.String("cpu-idle"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return fmt.Errorf("--cpu-idle %q: %w", v, err)
		}
		r.CPU.Idle = &n
	}
	for _, x := range []struct {
		name string
		dst  **uint64
	}{{"cpu-burst", &r.CPU.Burst}, {"cpu-period", &r.CPU.Period}, {"cpu-rt-period", &r.CPU.RealtimePeriod}, {"cpu-share", &r.CPU.Shares}} {
		if v := c.String(x.name); v != "" {
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				return fmt.Errorf("--%s %q: %w", x.name, v, err)
			}
			*x.dst = &n
		}
	}
	for _, x := range []struct {
		name string
		dst  **int64
	}{{"cpu-quota", &r.CPU.Quota}, {"cpu-rt-runtime", &r.CPU.RealtimeRuntime}} {
		if v := c.String(x.name); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return fmt.Errorf("--%s %q: %w", x.name, v, err)
			}
			*x.dst = &n
		}
	}
	for _, x := range []struct {
		name string
		dst  **int64
	}{{"memory", &r.Memory.Limit}, {"memory-swap", &r.Memory.Swap}, {"memory-reservation", &r.Memory.Reservation},
		{"kernel-memory", &r.Memory.Kernel}, {"kernel-memory-tcp", &r.Memory.KernelTCP}} { //nolint:staticcheck // runc's flags
		if v := c.String(x.name); v != "" {
			n := int64(-1)
			if v != "-1" {
				if n, err = units.RAMInBytes(v); err != nil {
					return fmt.Errorf("--%s %q: %w", x.name, v, err)
				}
			}
			*x.dst = &n
		}
	}
	if c.IsSet("pids-limit") {
		n := int64(c.Int("pids-limit"))
		r.Pids.Limit = &n
	}
	return runtimeOf(c).Update(id, &r)
}
