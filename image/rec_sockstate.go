package image

// TypeSockState is SOCK_STATE's type number (in the files range).
const TypeSockState Type = 371

var _ = registerType(typeInfo{typ: TypeSockState, name: "SOCK_STATE", new: func() Record { return new(SockState) }})

// SockState (SOCK_STATE, type 371) is the socket-level state of an
// INET_SOCKET that its record does not hold: the device it is bound to
// (SO_BINDTODEVICE), SO_BUF_LOCK, the shutdown(2) of a UDP socket and an
// attached classic BPF filter (SO_ATTACH_FILTER, SO_LOCK_FILTER). It
// follows the socket's records (after its TCP_STREAM and TCP_QUEUEs), and
// only when one of them is not a new socket's. A UNIX_SK's (after its
// UNIX_QUEUEs) holds only BufLock.
type SockState struct {
	Socket       uint32 `ckpt:"ref"` // the INET_SOCKET or UNIX_SK
	BufLock      uint32 // SO_BUF_LOCK: bit 0 SOCK_SNDBUF_LOCK, bit 1 SOCK_RCVBUF_LOCK
	Shutdown     uint32 // bit 0 reading (SHUT_RD), bit 1 writing (SHUT_WR) were shut down
	FilterLocked uint32 // 1: SO_LOCK_FILTER is on
	BindDev      string // SO_BINDTODEVICE's interface name; "" for none
	Filter       []byte // the classic BPF program (struct sock_filter, 8 bytes each); empty for none
}

// SockStateMaxFilter is the most instructions a SOCK_STATE's Filter holds
// (BPF_MAXINSNS).
const SockStateMaxFilter = 4096

func (*SockState) Type() Type { return TypeSockState }
