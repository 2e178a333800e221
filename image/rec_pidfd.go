package image

// PidFd (PIDFD, type 315, object) is a pidfd(2) referring to a process of
// the image.
type PidFd struct {
	Objref   uint32 `ckpt:"objref"`
	Flags    uint32 // open(2) flags as in /proc/PID/fdinfo (O_NONBLOCK = PIDFD_NONBLOCK)
	Pid      int32  // the process it refers to: a TASK's Pid
	Reserved uint32
}

func (*PidFd) Type() Type { return TypePidFd }
