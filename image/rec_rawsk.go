package image

import "golang.org/x/sys/unix"

// Record types of the ICMP, raw and packet socket kinds (format 3.1).
const (
	TypeIcmpSk    Type = 380
	TypeRawSk     Type = 381
	TypePacketSk  Type = 382
	TypePingRange Type = 383
)

var (
	_ = registerType(typeInfo{typ: TypeIcmpSk, name: "ICMP_SK", new: func() Record { return new(IcmpSk) }})
	_ = registerType(typeInfo{typ: TypeRawSk, name: "RAW_SK", new: func() Record { return new(RawSk) }})
	_ = registerType(typeInfo{typ: TypePacketSk, name: "PACKET_SK", new: func() Record { return new(PacketSk) }})
	_ = registerType(typeInfo{typ: TypePingRange, name: "PING_RANGE", new: func() Record { return new(PingRange) }})
)

// RawSk (RAW_SK, type 381, object) is an AF_INET or AF_INET6 SOCK_RAW
// socket of any protocol: its bound address, its peer if connected, header
// inclusion, its ICMP filter and its options. Restore makes it in the
// task's network namespace; the restore's grant must hold CAP_NET_RAW.
type RawSk struct {
	Objref     uint32 `ckpt:"objref"`
	Flags      uint32 // open(2) flags as in /proc/PID/fdinfo (O_NONBLOCK)
	Family     uint32 // AF_INET 2, AF_INET6 10
	Protocol   uint32 // the IP protocol given to socket(2) (IPPROTO_ICMP 1, IPPROTO_RAW 255...)
	Connected  uint32 // 1: connect(2)ed to Peer
	ScopeID    uint32 // AF_INET6: the scope id of the local address
	LocalPort  uint32 // ICMP_SK: the echo identifier it is bound to (0: none yet); RAW_SK: 0
	PeerPort   uint32 // Connected: the port given to connect(2)
	Local      [16]byte
	Peer       [16]byte
	HdrIncl    uint32 // RAW_SK: IP_HDRINCL (AF_INET) or IPV6_HDRINCL (AF_INET6); ICMP_SK: 0
	SndBuf     uint32 // SO_SNDBUF as getsockopt(2) returns it
	RcvBuf     uint32 // SO_RCVBUF likewise
	RcvTimeoNs int64  // SO_RCVTIMEO, 0: none
	SndTimeoNs int64  // SO_SNDTIMEO, 0: none
	LingerOn   uint32 // SO_LINGER l_onoff
	LingerSec  uint32 // SO_LINGER l_linger
	// IcmpFilter is ICMP_FILTER (1 word, a raw IPPROTO_ICMP socket) or
	// ICMPV6_FILTER (8 words, a raw IPPROTO_ICMPV6 socket); empty when
	// it passes every type, as a new socket's does.
	IcmpFilter []uint32
	Opts       []SockOpt // as INET_SOCKET's, of InetOpts' socket and IP levels
}

// IcmpSk (ICMP_SK, type 380, object) is an ICMP datagram ("ping") socket:
// AF_INET SOCK_DGRAM IPPROTO_ICMP or AF_INET6 SOCK_DGRAM IPPROTO_ICMPV6,
// which net.ipv4.ping_group_range lets a group make. Its fields are
// RAW_SK's; HdrIncl and IcmpFilter are always empty.
type IcmpSk RawSk

// PacketSk (PACKET_SK, type 382, object) is an AF_PACKET socket (SOCK_RAW
// or SOCK_DGRAM): its protocol, the interface it is bound to, its
// SOL_PACKET options and its memberships. Restore makes it in the task's
// network namespace, where the interface must be there under the same
// name and index; the restore's grant must hold CAP_NET_RAW.
type PacketSk struct {
	Objref     uint32 `ckpt:"objref"`
	Flags      uint32 // open(2) flags as in /proc/PID/fdinfo (O_NONBLOCK)
	SockType   uint32 // SOCK_RAW 3 or SOCK_DGRAM 2
	Protocol   uint32 // socket(2)'s protocol, network byte order (ETH_P_ALL: 0x0300)
	Num        uint32 // the protocol it receives now (bind(2)'s sll_protocol), network byte order
	Ifindex    uint32 // the interface it is bound to; 0: none (all)
	Version    uint32 // PACKET_VERSION: TPACKET_V1 0, V2 1, V3 2
	Reserve    uint32 // PACKET_RESERVE
	CopyThresh uint32 // PACKET_COPY_THRESH (from sock_diag)
	Timestamp  uint32 // PACKET_TIMESTAMP
	PktFlags   uint32 // PacketAuxdata...: the on/off SOL_PACKET options that are on
	// Fanout is PACKET_FANOUT as getsockopt(2) gives it and setsockopt(2)
	// takes it: the group id | mode<<16 | flags<<24; 0: in no group.
	Fanout      uint32
	SndBuf      uint32 // SO_SNDBUF as getsockopt(2) returns it
	RcvBuf      uint32 // SO_RCVBUF likewise
	IfName      string // the name of Ifindex in the task's network namespace; "" when Ifindex is 0
	Memberships []PacketMembership
	Opts        []SockOpt // socket-level options, of PacketOpts
}

// PacketSk.PktFlags bits, each a SOL_PACKET option that is on.
const (
	PacketAuxdata        uint32 = 1 << 0 // PACKET_AUXDATA
	PacketOrigdev        uint32 = 1 << 1 // PACKET_ORIGDEV
	PacketLoss           uint32 = 1 << 2 // PACKET_LOSS
	PacketQdiscBypass    uint32 = 1 << 3 // PACKET_QDISC_BYPASS
	PacketVnetHdr        uint32 = 1 << 4 // PACKET_VNET_HDR
	PacketIgnoreOutgoing uint32 = 1 << 5 // PACKET_IGNORE_OUTGOING

	PacketAllFlags = PacketAuxdata | PacketOrigdev | PacketLoss | PacketQdiscBypass | PacketVnetHdr | PacketIgnoreOutgoing
)

// PacketMembership is one PACKET_ADD_MEMBERSHIP of a packet socket, as
// sock_diag's PACKET_DIAG_MCLIST gives it.
type PacketMembership struct {
	Ifindex uint32
	Count   uint32   // how many times it was added (each needs its PACKET_DROP_MEMBERSHIP)
	MrType  uint32   // PACKET_MR_MULTICAST 0, PROMISC 1, ALLMULTI 2, UNICAST 3
	Alen    uint32   // bytes of Addr used, at most 8
	IfName  [16]byte // the name of Ifindex, NUL-padded
	Addr    [32]byte
}

// PacketMaxMemberships bounds PacketSk.Memberships, PacketMaxCount each
// one's Count: restore adds a membership once per count.
const (
	PacketMaxMemberships = 1024
	PacketMaxCount       = 256
)

// PacketOpts are the socket-level options PACKET_SK Opts may hold.
var PacketOpts = []InetOpt{
	{unix.SOL_SOCKET, unix.SO_PRIORITY, 0, 0, "SO_PRIORITY"},
	{unix.SOL_SOCKET, unix.SO_RCVLOWAT, 0, 0, "SO_RCVLOWAT"},
	{unix.SOL_SOCKET, unix.SO_MARK, 0, 0, "SO_MARK"},
}

// PingRange (PING_RANGE, type 383) is net.ipv4.ping_group_range of the
// tree's private network namespace (after its NETNS), when it is not a
// new namespace's "1 0": the groups that may make ICMP_SKs.
type PingRange struct {
	Low  uint32
	High uint32
}

func (*RawSk) Type() Type     { return TypeRawSk }
func (*IcmpSk) Type() Type    { return TypeIcmpSk }
func (*PacketSk) Type() Type  { return TypePacketSk }
func (*PingRange) Type() Type { return TypePingRange }
