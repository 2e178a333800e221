package checkpoint

import (
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
)

// collectSched reads a thread's scheduling from outside: sched_getattr(2)
// and sched_getaffinity(2) take a tid.
func collectSched(tid int, imageTid int32) (image.Sched, error) {
	attr, err := unix.SchedGetAttr(tid, 0)
	if err != nil {
		return image.Sched{}, fmt.Errorf("sched_getattr(%d): %w", tid, err)
	}
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(tid, &set); err != nil {
		return image.Sched{}, fmt.Errorf("sched_getaffinity(%d): %w", tid, err)
	}
	s := image.Sched{
		Tid: imageTid, Policy: attr.Policy, Flags: attr.Flags, Nice: attr.Nice, Priority: attr.Priority,
		Runtime: attr.Runtime, Deadline: attr.Deadline, Period: attr.Period,
	}
	for _, w := range set {
		s.Affinity = append(s.Affinity, uint64(w))
	}
	return s, nil
}
