package image

// EventFd (EVENTFD, type 305, object) is an eventfd(2) file.
type EventFd struct {
	Objref    uint32 `ckpt:"objref"`
	Flags     uint32 // open(2) flags as in /proc/PID/fdinfo
	Count     uint64
	Semaphore uint32 // 1 with EFD_SEMAPHORE
	Reserved  uint32
}

// Epoll (EPOLL, type 306, object) is an epoll instance with its watches.
// Targets name fds of the owner task's table, which restore rebuilds first.
type Epoll struct {
	Objref  uint32 `ckpt:"objref"`
	Flags   uint32 // open(2) flags as in /proc/PID/fdinfo
	Targets []EpollTarget
}

// EpollTarget is one watch: the arguments of epoll_ctl(EPOLL_CTL_ADD).
type EpollTarget struct {
	Fd     int32
	Events uint32
	Data   uint64
}

func (*EventFd) Type() Type { return TypeEventFd }
func (*Epoll) Type() Type   { return TypeEpoll }
