package restore

import (
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
)

// restoreSched gives a thread its scheduling from outside. An affinity
// naming CPUs this machine lacks keeps the ones it has.
func (rs *restorer) restoreSched(tid int, s *image.Sched) error {
	attr := unix.SchedAttr{
		Size: unix.SizeofSchedAttr, Policy: s.Policy, Flags: s.Flags, Nice: s.Nice, Priority: s.Priority,
		Runtime: s.Runtime, Deadline: s.Deadline, Period: s.Period,
	}
	if err := unix.SchedSetAttr(tid, &attr, 0); err != nil {
		return fmt.Errorf("sched_setattr(policy %d, nice %d, priority %d): %w", s.Policy, s.Nice, s.Priority, err)
	}
	var set unix.CPUSet
	for cpu := 0; cpu < len(s.Affinity)*64; cpu++ {
		if s.Affinity[cpu/64]&(1<<(cpu%64)) != 0 {
			set.Set(cpu)
		}
	}
	err := unix.SchedSetaffinity(tid, &set)
	if err == unix.EINVAL {
		var online unix.CPUSet
		if gerr := unix.SchedGetaffinity(0, &online); gerr == nil {
			for cpu := 0; cpu < len(s.Affinity)*64; cpu++ {
				if !online.IsSet(cpu) {
					set.Clear(cpu)
				}
			}
			rs.log.Warn("CPU affinity names CPUs this machine lacks: keeping the others", "tid", tid)
			err = unix.SchedSetaffinity(tid, &set)
		}
	}
	if err != nil {
		return fmt.Errorf("sched_setaffinity: %w", err)
	}
	return nil
}
