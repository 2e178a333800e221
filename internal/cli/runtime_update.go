package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"

	units "github.com/docker/go-units"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	ucli "github.com/urfave/cli/v2"

	ckptrt "github.com/ckpt/ckpt/runtime"
)

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
