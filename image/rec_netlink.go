package image

// Record types of the netlink socket kind (format 2.6).
const (
	TypeNetlinkSk Type = 360
)

var _ = registerType(typeInfo{typ: TypeNetlinkSk, name: "NETLINK_SK", new: func() Record { return new(NetlinkSk) }})

// NetlinkSk (NETLINK_SK, type 360, object) is an AF_NETLINK socket: its
// protocol, its port id if bound, the multicast groups it is a member of,
// its peer if connected, and its netlink options. Restore makes it in the
// task's network namespace and binds it to the same port id.
type NetlinkSk struct {
	Objref    uint32 `ckpt:"objref"`
	Flags     uint32 // open(2) flags as in /proc/PID/fdinfo (O_NONBLOCK)
	SockType  uint32 // SOCK_RAW 3 or SOCK_DGRAM 2
	Protocol  uint32 // NETLINK_ROUTE 0, NETLINK_SOCK_DIAG 4, NETLINK_AUDIT 9, NETLINK_KOBJECT_UEVENT 15...
	Portid    uint32 // the bound port id; 0: not bound
	Connected uint32 // 1: connect(2)ed to DstPortid/DstGroup
	DstPortid uint32
	DstGroup  uint32   // a group number (1-based), 0 for none
	NlFlags   uint32   // NetlinkPktinfo... : the socket's netlink options that are on
	SndBuf    uint32   // SO_SNDBUF as getsockopt(2) returns it
	RcvBuf    uint32   // SO_RCVBUF likewise
	Groups    []uint32 // the groups it is a member of: bit n of word w is group 32w+n+1
}

// NetlinkSk.NlFlags bits, each a SOL_NETLINK option that is on.
const (
	NetlinkPktinfo        uint32 = 1 << 0 // NETLINK_PKTINFO
	NetlinkBroadcastError uint32 = 1 << 1 // NETLINK_BROADCAST_ERROR
	NetlinkNoEnobufs      uint32 = 1 << 2 // NETLINK_NO_ENOBUFS
	NetlinkListenAllNsid  uint32 = 1 << 3 // NETLINK_LISTEN_ALL_NSID
	NetlinkCapAck         uint32 = 1 << 4 // NETLINK_CAP_ACK
	NetlinkExtAck         uint32 = 1 << 5 // NETLINK_EXT_ACK
	NetlinkGetStrictChk   uint32 = 1 << 6 // NETLINK_GET_STRICT_CHK

	NetlinkAllFlags = NetlinkPktinfo | NetlinkBroadcastError | NetlinkNoEnobufs | NetlinkListenAllNsid |
		NetlinkCapAck | NetlinkExtAck | NetlinkGetStrictChk
)

// NetlinkMaxGroups bounds Groups: netlink protocols have at most a few
// hundred groups (generic netlink hands out numbers as families come).
const NetlinkMaxGroups = 1 << 12

func (*NetlinkSk) Type() Type { return TypeNetlinkSk }
