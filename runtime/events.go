package runtime

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/opencontainers/cgroups"
	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runc/types"
)

// Event is one line of `events`: runc's (types.Event), whose data is
// runc's statistics (types.Stats) for "stats" and nothing for "oom".
type Event = types.Event

// Events writes the container's events as JSON lines, as runc's events
// does: with once, its statistics once; else its statistics every
// interval and an "oom" event whenever its cgroup runs out of memory,
// until the container is gone.
func (r *Runtime) Events(id string, w io.Writer, interval time.Duration, once bool) error {
	if interval <= 0 {
		return errors.New("the interval must be greater than 0")
	}
	c, err := r.Load(id)
	if err != nil {
		return err
	}
	st, err := c.Status()
	if err != nil {
		return err
	}
	if st == libcontainer.Stopped {
		return fmt.Errorf("container %s is not running", id)
	}
	enc := json.NewEncoder(w)
	stats := func() error {
		s, err := c.Stats()
		if err != nil {
			return fmt.Errorf("container %s: stats: %w", id, err)
		}
		return enc.Encode(Event{Type: "stats", ID: id, Data: runcStats(s)})
	}
	if once {
		return stats()
	}
	oom, err := c.NotifyOOM()
	if err != nil {
		return fmt.Errorf("container %s: OOM notifications: %w", id, err)
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case _, ok := <-oom:
			if !ok {
				// The cgroup is gone: so is the container.
				return nil
			}
			if err := enc.Encode(Event{Type: "oom", ID: id}); err != nil {
				return err
			}
		case <-tick.C:
			if err := stats(); err != nil {
				// Gone between two ticks: the OOM channel closes next.
				r.log().Debug("events: no statistics", "id", id, "err", err)
			}
		}
	}
}

// runcStats turns libcontainer's statistics into runc's events format.
func runcStats(ls *libcontainer.Stats) *types.Stats {
	if ls == nil || ls.CgroupStats == nil {
		return nil
	}
	cg := ls.CgroupStats
	s := &types.Stats{
		Pids: types.Pids{Current: cg.PidsStats.Current, Limit: cg.PidsStats.Limit},
		CPU: types.Cpu{
			Usage: types.CpuUsage{
				Total: cg.CpuStats.CpuUsage.TotalUsage, Kernel: cg.CpuStats.CpuUsage.UsageInKernelmode,
				User: cg.CpuStats.CpuUsage.UsageInUsermode, Percpu: cg.CpuStats.CpuUsage.PercpuUsage,
				PercpuKernel: cg.CpuStats.CpuUsage.PercpuUsageInKernelmode, PercpuUser: cg.CpuStats.CpuUsage.PercpuUsageInUsermode,
			},
			Throttling: types.Throttling{Periods: cg.CpuStats.ThrottlingData.Periods,
				ThrottledPeriods: cg.CpuStats.ThrottlingData.ThrottledPeriods, ThrottledTime: cg.CpuStats.ThrottlingData.ThrottledTime},
			PSI: cg.CpuStats.PSI,
		},
		CPUSet: types.CPUSet(cg.CPUSetStats),
		Memory: types.Memory{
			Cache: cg.MemoryStats.Cache, Usage: memoryEntry(cg.MemoryStats.Usage), Swap: memoryEntry(cg.MemoryStats.SwapUsage),
			Kernel: memoryEntry(cg.MemoryStats.KernelUsage), KernelTCP: memoryEntry(cg.MemoryStats.KernelTCPUsage),
			Raw: cg.MemoryStats.Stats, PSI: cg.MemoryStats.PSI,
		},
		Blkio: types.Blkio{
			IoServiceBytesRecursive: blkioEntries(cg.BlkioStats.IoServiceBytesRecursive),
			IoServicedRecursive:     blkioEntries(cg.BlkioStats.IoServicedRecursive),
			IoQueuedRecursive:       blkioEntries(cg.BlkioStats.IoQueuedRecursive),
			IoServiceTimeRecursive:  blkioEntries(cg.BlkioStats.IoServiceTimeRecursive),
			IoWaitTimeRecursive:     blkioEntries(cg.BlkioStats.IoWaitTimeRecursive),
			IoMergedRecursive:       blkioEntries(cg.BlkioStats.IoMergedRecursive),
			IoTimeRecursive:         blkioEntries(cg.BlkioStats.IoTimeRecursive),
			SectorsRecursive:        blkioEntries(cg.BlkioStats.SectorsRecursive),
			PSI:                     cg.BlkioStats.PSI,
		},
		Hugetlb:           map[string]types.Hugetlb{},
		NetworkInterfaces: ls.Interfaces,
	}
	for size, h := range cg.HugetlbStats {
		s.Hugetlb[size] = types.Hugetlb{Usage: h.Usage, Max: h.MaxUsage, Failcnt: h.Failcnt}
	}
	return s
}

func memoryEntry(d cgroups.MemoryData) types.MemoryEntry {
	return types.MemoryEntry{Limit: d.Limit, Usage: d.Usage, Max: d.MaxUsage, Failcnt: d.Failcnt}
}

func blkioEntries(es []cgroups.BlkioStatEntry) []types.BlkioEntry {
	out := make([]types.BlkioEntry, 0, len(es))
	for _, e := range es {
		out = append(out, types.BlkioEntry{Major: e.Major, Minor: e.Minor, Op: e.Op, Value: e.Value})
	}
	return out
}
