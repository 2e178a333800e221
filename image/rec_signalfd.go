package image

// SignalFd (SIGNALFD, type 312, object) is a signalfd(2) file.
type SignalFd struct {
	Objref  uint32 `ckpt:"objref"`
	Flags   uint32 // open(2) flags as in /proc/PID/fdinfo
	Sigmask uint64 // bit N-1 for signal N
}

func (*SignalFd) Type() Type { return TypeSignalFd }
