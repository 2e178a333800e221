package runtime

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"time"

	"github.com/opencontainers/cgroups"
)

// Pause freezes every process of the container (cgroup freezer).
func (r *Runtime) Pause(id string) error {
	c, err := r.Load(id)
	if err != nil {
		return err
	}
	if err := c.Pause(); err != nil {
		return fmt.Errorf("container %s: pause: %w", id, err)
	}
	return nil
}

// Resume thaws a paused container.
func (r *Runtime) Resume(id string) error {
	c, err := r.Load(id)
	if err != nil {
		return err
	}
	if err := c.Resume(); err != nil {
		return fmt.Errorf("container %s: resume: %w", id, err)
	}
	return nil
}

// Resources are the limits `update` can change; nil leaves one as it is.
type Resources struct {
	Memory            *int64
	MemorySwap        *int64
	MemoryReservation *int64
	PidsLimit         *int64
	CPUShares         *uint64
	CPUQuota          *int64
	CPUPeriod         *uint64
	CpusetCpus        string
	CpusetMems        string
}

// Update changes a running container's cgroup limits.
func (r *Runtime) Update(id string, res Resources) error {
	c, err := r.Load(id)
	if err != nil {
		return err
	}
	cfg := c.Config()
	if cfg.Cgroups == nil || cfg.Cgroups.Resources == nil {
		return fmt.Errorf("container %s has no cgroup resources to update", id)
	}
	rs := cfg.Cgroups.Resources
	if res.Memory != nil {
		rs.Memory = *res.Memory
	}
	if res.MemorySwap != nil {
		rs.MemorySwap = *res.MemorySwap
	}
	if res.MemoryReservation != nil {
		rs.MemoryReservation = *res.MemoryReservation
	}
	if res.PidsLimit != nil {
		rs.PidsLimit = res.PidsLimit
	}
	if res.CPUShares != nil {
		rs.CpuShares = *res.CPUShares
	}
	if res.CPUQuota != nil {
		rs.CpuQuota = *res.CPUQuota
	}
	if res.CPUPeriod != nil {
		rs.CpuPeriod = *res.CPUPeriod
	}
	if res.CpusetCpus != "" {
		rs.CpusetCpus = res.CpusetCpus
	}
	if res.CpusetMems != "" {
		rs.CpusetMems = res.CpusetMems
	}
	if err := c.Set(cfg); err != nil {
		return fmt.Errorf("container %s: update: %w", id, err)
	}
	return nil
}

// Event is one line of `events`.
type Event struct {
	Type string `json:"type"`
	ID   string `json:"id"`
	Data any    `json:"data,omitempty"`
}

// Events writes the container's statistics as JSON lines: once with once,
// else every interval until the container stops or the write fails.
func (r *Runtime) Events(id string, w io.Writer, interval time.Duration, once bool) error {
	c, err := r.Load(id)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(w)
	for {
		st, err := c.Stats()
		if err != nil {
			return fmt.Errorf("container %s: stats: %w", id, err)
		}
		var data *cgroups.Stats
		if st != nil {
			data = st.CgroupStats
		}
		if err := enc.Encode(Event{Type: "stats", ID: id, Data: data}); err != nil {
			return err
		}
		if once {
			return nil
		}
		time.Sleep(interval)
	}
}

// FromJSONFile reads the runtime-spec's LinuxResources (memory, pids, cpu)
// from a file, "-" for stdin; what it cannot apply it refuses.
func (res *Resources) FromJSONFile(path string) error {
	var b []byte
	var err error
	if path == "-" {
		b, err = io.ReadAll(os.Stdin)
	} else {
		b, err = os.ReadFile(path)
	}
	if err != nil {
		return fmt.Errorf("--resources: %w", err)
	}
	var lr specs.LinuxResources
	if err := json.Unmarshal(b, &lr); err != nil {
		return fmt.Errorf("--resources %s: %w", path, err)
	}
	if len(lr.Devices) > 0 || lr.HugepageLimits != nil || lr.Network != nil || lr.Rdma != nil || lr.BlockIO != nil || lr.Unified != nil {
		return notSupported("update --resources: only memory, pids and cpu limits can be changed")
	}
	if m := lr.Memory; m != nil {
		res.Memory, res.MemorySwap, res.MemoryReservation = m.Limit, m.Swap, m.Reservation
	}
	if p := lr.Pids; p != nil {
		res.PidsLimit = p.Limit
	}
	if c := lr.CPU; c != nil {
		res.CPUShares, res.CPUQuota, res.CPUPeriod = c.Shares, c.Quota, c.Period
		res.CpusetCpus, res.CpusetMems = c.Cpus, c.Mems
	}
	return nil
}
