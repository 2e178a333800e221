package image

// FileOwner (FILE_OWNER, type 319) is the signal-driven I/O state of an open
// file description: O_ASYNC, the owner the kernel signals (F_SETOWN_EX) and
// the signal it sends (F_SETSIG). It names the description by an fd of the
// task it follows, and is saved once per description, in the first task
// that has it.
type FileOwner struct {
	Fd        int32  // an fd of the task, of the description
	Flags     uint32 // FileOwnerAsync
	OwnerType uint32 // F_OWNER_TID (0), F_OWNER_PID (1), F_OWNER_PGRP (2)
	Pid       int32  // the owner: a TASK's Pid (a process, its main thread, or the group it leads); 0 for none
	Signal    uint32 // F_SETSIG's signal; 0 is SIGIO
	Reserved  uint32
}

// FileOwner.Flags bits.
const (
	// FileOwnerAsync: the description has O_ASYNC (signal-driven I/O on).
	FileOwnerAsync uint32 = 1
)

func (*FileOwner) Type() Type { return TypeFileOwner }
