package runtime

import (
	"fmt"

	"github.com/opencontainers/cgroups"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Update changes a running container's cgroup limits to those lr sets,
// with runc's semantics (its `update`): a nil field leaves a limit as it
// is, except the cpuset, the CPU burst and idle, the pids limit and the
// unified map, which runc sets as given (empty or nil clears them); block
// I/O weights and throttles are added or replaced per device; a CPU quota
// or period given alone keeps the other. What cannot be changed by update
// is refused by name rather than ignored (runc ignores it): devices,
// huge pages, network, RDMA.
func (r *Runtime) Update(id string, lr *specs.LinuxResources) error {
	c, err := r.Load(id)
	if err != nil {
		return err
	}
	var refused []string
	if len(lr.Devices) > 0 {
		refused = append(refused, "devices")
	}
	if len(lr.HugepageLimits) > 0 {
		refused = append(refused, "hugepageLimits")
	}
	if lr.Network != nil {
		refused = append(refused, "network")
	}
	if len(lr.Rdma) > 0 {
		refused = append(refused, "rdma")
	}
	if len(refused) > 0 {
		return notSupported("update of %v: set at create only", refused)
	}
	cfg := c.Config()
	if cfg.Cgroups == nil || cfg.Cgroups.Resources == nil {
		return fmt.Errorf("container %s has no cgroup resources to update", id)
	}
	rs := cfg.Cgroups.Resources
	mem, cpu, bio, pids := lr.Memory, lr.CPU, lr.BlockIO, lr.Pids
	if mem == nil {
		mem = &specs.LinuxMemory{}
	}
	if cpu == nil {
		cpu = &specs.LinuxCPU{}
	}
	if bio == nil {
		bio = &specs.LinuxBlockIO{}
	}
	if pids == nil {
		pids = &specs.LinuxPids{}
	}
	// No memory limit (-1) with no swap limit: the kernel refuses a swap
	// limit without a memory limit, so swap goes unlimited too.
	if mem.Limit != nil && *mem.Limit == -1 && mem.Swap == nil {
		zero := int64(0)
		mem.Swap = &zero
	}
	// cpu.idle on cgroup v2 needs a weight to write with it.
	if cpu.Idle != nil && cpu.Shares == nil {
		zero := uint64(0)
		cpu.Shares = &zero
	}
	if mem.Kernel != nil || mem.KernelTCP != nil { //nolint:staticcheck // the fields callers still send
		r.log().Warn("kernel memory limits are ignored (as by runc): the kernel no longer has them", "id", id)
	}

	if bio.Weight != nil {
		rs.BlkioWeight = *bio.Weight
	}
	if bio.LeafWeight != nil {
		rs.BlkioLeafWeight = *bio.LeafWeight
	}
	for _, wd := range bio.WeightDevice {
		rs.BlkioWeightDevice = setWeightDevice(rs.BlkioWeightDevice, wd)
	}
	for _, x := range []struct {
		dst *[]*cgroups.ThrottleDevice
		src []specs.LinuxThrottleDevice
	}{
		{&rs.BlkioThrottleReadBpsDevice, bio.ThrottleReadBpsDevice},
		{&rs.BlkioThrottleWriteBpsDevice, bio.ThrottleWriteBpsDevice},
		{&rs.BlkioThrottleReadIOPSDevice, bio.ThrottleReadIOPSDevice},
		{&rs.BlkioThrottleWriteIOPSDevice, bio.ThrottleWriteIOPSDevice},
	} {
		for _, td := range x.src {
			*x.dst = setThrottleDevice(*x.dst, td)
		}
	}

	// The CFS quota and period: both or neither replace both; one alone
	// keeps the other's current value.
	var period uint64
	var quota int64
	if cpu.Period != nil {
		period = *cpu.Period
	}
	if cpu.Quota != nil {
		quota = *cpu.Quota
	}
	switch {
	case (period == 0) == (quota == 0):
		rs.CpuPeriod, rs.CpuQuota = period, quota
	case period != 0:
		rs.CpuPeriod = period
	default:
		rs.CpuQuota = quota
	}
	rs.CpuBurst = cpu.Burst
	if cpu.Shares != nil {
		rs.CpuShares = *cpu.Shares
		rs.CpuWeight = cgroups.ConvertCPUSharesToCgroupV2Value(*cpu.Shares)
	}
	if cpu.RealtimePeriod != nil {
		rs.CpuRtPeriod = *cpu.RealtimePeriod
	}
	if cpu.RealtimeRuntime != nil {
		rs.CpuRtRuntime = *cpu.RealtimeRuntime
	}
	rs.CpusetCpus, rs.CpusetMems = cpu.Cpus, cpu.Mems
	rs.CPUIdle = cpu.Idle
	if mem.Limit != nil {
		rs.Memory = *mem.Limit
	}
	if mem.Reservation != nil {
		rs.MemoryReservation = *mem.Reservation
	}
	if mem.Swap != nil {
		rs.MemorySwap = *mem.Swap
	}
	if mem.CheckBeforeUpdate != nil {
		rs.MemoryCheckBeforeUpdate = *mem.CheckBeforeUpdate
	}
	rs.PidsLimit = pids.Limit
	rs.Unified = lr.Unified
	// update cannot change the device rules; leave those another tool
	// added on top of ours alone (not saved in the state).
	cfg.Cgroups.SkipDevices = true
	if err := c.Set(cfg); err != nil {
		return fmt.Errorf("container %s: update: %w", id, err)
	}
	return nil
}

func setWeightDevice(ds []*cgroups.WeightDevice, wd specs.LinuxWeightDevice) []*cgroups.WeightDevice {
	var weight, leaf uint16
	if wd.Weight != nil {
		weight = *wd.Weight
	}
	if wd.LeafWeight != nil {
		leaf = *wd.LeafWeight
	}
	// From the end: of duplicates, the last is the one written last,
	// the one in effect.
	for i := len(ds) - 1; i >= 0; i-- {
		if d := ds[i]; d.Major == wd.Major && d.Minor == wd.Minor {
			if wd.Weight != nil {
				d.Weight = weight
			}
			if wd.LeafWeight != nil {
				d.LeafWeight = leaf
			}
			return ds
		}
	}
	return append(ds, cgroups.NewWeightDevice(wd.Major, wd.Minor, weight, leaf))
}

func setThrottleDevice(ds []*cgroups.ThrottleDevice, td specs.LinuxThrottleDevice) []*cgroups.ThrottleDevice {
	for i := len(ds) - 1; i >= 0; i-- {
		if d := ds[i]; d.Major == td.Major && d.Minor == td.Minor {
			d.Rate = td.Rate
			return ds
		}
	}
	return append(ds, cgroups.NewThrottleDevice(td.Major, td.Minor, td.Rate))
}
