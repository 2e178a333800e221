package image

import (
	"net/netip"

	"golang.org/x/sys/unix"
)

// InetSocket (INET_SOCKET, type 330, object) is a TCP or UDP socket of
// family AF_INET or AF_INET6. A TCP socket in state InetEstablished has
// its connection in the TCP_STREAM record that follows it.
type InetSocket struct {
	Objref   uint32 `ckpt:"objref"`
	Flags    uint32 // open(2) flags as in /proc/PID/fdinfo (O_NONBLOCK)
	Family   uint32 // AF_INET 2, AF_INET6 10
	SockType uint32 // SOCK_STREAM 1 (TCP), SOCK_DGRAM 2 (UDP)
	Protocol uint32 // IPPROTO_TCP 6, IPPROTO_UDP 17
	State    uint32 // InetClose, InetListen or InetEstablished
	Backlog  uint32 // InetListen: the listen(2) backlog
	ScopeID  uint32 // AF_INET6: the scope id of the local address
	// LocalPort and Local 0: not bound (Local alone: bound with
	// IP_BIND_ADDRESS_NO_PORT). Addresses are network order; AF_INET uses
	// the first 4 bytes.
	LocalPort  uint32
	PeerPort   uint32 // InetEstablished only
	Local      [16]byte
	Peer       [16]byte
	SndBuf     uint32 // SO_SNDBUF as getsockopt(2) returns it
	RcvBuf     uint32 // SO_RCVBUF likewise
	RcvTimeoNs int64  // SO_RCVTIMEO, 0: none
	SndTimeoNs int64  // SO_SNDTIMEO, 0: none
	LingerOn   uint32 // SO_LINGER l_onoff
	LingerSec  uint32 // SO_LINGER l_linger
	Opts       []SockOpt
}

// InetSocket.State values: the kernel's TCP states (include/net/tcp_states.h).
const (
	InetEstablished uint32 = 1
	InetClose       uint32 = 7
	InetListen      uint32 = 10
)

// SockOpt is one integer socket option: getsockopt(2) level, name, value.
type SockOpt struct {
	Level    uint32
	Name     uint32
	Value    int32
	Reserved uint32
}

// InetOpt is an integer socket option INET_SOCKET Opts may hold.
type InetOpt struct {
	Level, Name int
	Family      int    // 0: any family, else only sockets of this family
	Proto       int    // 0: any protocol, else only this one
	Label       string // for errors
}

// InetOpts is the list docs/image-format.md gives for INET_SOCKET Opts:
// the checkpoint saves these, a restorer refuses any other.
var InetOpts = []InetOpt{
	{unix.SOL_SOCKET, unix.SO_REUSEADDR, 0, 0, "SO_REUSEADDR"},
	{unix.SOL_SOCKET, unix.SO_REUSEPORT, 0, 0, "SO_REUSEPORT"},
	{unix.SOL_SOCKET, unix.SO_KEEPALIVE, 0, 0, "SO_KEEPALIVE"},
	{unix.SOL_SOCKET, unix.SO_BROADCAST, 0, 0, "SO_BROADCAST"},
	{unix.SOL_SOCKET, unix.SO_OOBINLINE, 0, 0, "SO_OOBINLINE"},
	{unix.SOL_SOCKET, unix.SO_PRIORITY, 0, 0, "SO_PRIORITY"},
	{unix.SOL_SOCKET, unix.SO_RCVLOWAT, 0, 0, "SO_RCVLOWAT"},
	{unix.SOL_SOCKET, unix.SO_MARK, 0, 0, "SO_MARK"},
	{unix.IPPROTO_TCP, unix.TCP_NODELAY, 0, unix.IPPROTO_TCP, "TCP_NODELAY"},
	{unix.IPPROTO_TCP, unix.TCP_CORK, 0, unix.IPPROTO_TCP, "TCP_CORK"},
	{unix.IPPROTO_TCP, unix.TCP_KEEPIDLE, 0, unix.IPPROTO_TCP, "TCP_KEEPIDLE"},
	{unix.IPPROTO_TCP, unix.TCP_KEEPINTVL, 0, unix.IPPROTO_TCP, "TCP_KEEPINTVL"},
	{unix.IPPROTO_TCP, unix.TCP_KEEPCNT, 0, unix.IPPROTO_TCP, "TCP_KEEPCNT"},
	{unix.IPPROTO_TCP, unix.TCP_DEFER_ACCEPT, 0, unix.IPPROTO_TCP, "TCP_DEFER_ACCEPT"},
	{unix.IPPROTO_TCP, unix.TCP_USER_TIMEOUT, 0, unix.IPPROTO_TCP, "TCP_USER_TIMEOUT"},
	{unix.IPPROTO_TCP, unix.TCP_NOTSENT_LOWAT, 0, unix.IPPROTO_TCP, "TCP_NOTSENT_LOWAT"},
	{unix.IPPROTO_IP, unix.IP_TOS, unix.AF_INET, 0, "IP_TOS"},
	{unix.IPPROTO_IP, unix.IP_TTL, unix.AF_INET, 0, "IP_TTL"},
	{unix.IPPROTO_IP, unix.IP_RECVERR, unix.AF_INET, 0, "IP_RECVERR"},
	{unix.IPPROTO_IP, unix.IP_FREEBIND, unix.AF_INET, 0, "IP_FREEBIND"},
	{unix.IPPROTO_IP, unix.IP_PKTINFO, unix.AF_INET, 0, "IP_PKTINFO"},
	{unix.IPPROTO_IP, unix.IP_TRANSPARENT, unix.AF_INET, 0, "IP_TRANSPARENT"}, // 3.1
	// 3.1; IPv6 sockets take SOL_IP's too (ipv6_setsockopt passes them on).
	{unix.IPPROTO_IP, unix.IP_BIND_ADDRESS_NO_PORT, 0, 0, "IP_BIND_ADDRESS_NO_PORT"},
	{unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, unix.AF_INET6, 0, "IPV6_V6ONLY"},
	{unix.IPPROTO_IPV6, unix.IPV6_UNICAST_HOPS, unix.AF_INET6, 0, "IPV6_UNICAST_HOPS"},
	{unix.IPPROTO_IPV6, unix.IPV6_TCLASS, unix.AF_INET6, 0, "IPV6_TCLASS"},
	{unix.IPPROTO_IPV6, unix.IPV6_RECVPKTINFO, unix.AF_INET6, 0, "IPV6_RECVPKTINFO"},
	{unix.IPPROTO_IPV6, unix.IPV6_FREEBIND, unix.AF_INET6, 0, "IPV6_FREEBIND"},       // 3.1
	{unix.IPPROTO_IPV6, unix.IPV6_TRANSPARENT, unix.AF_INET6, 0, "IPV6_TRANSPARENT"}, // 3.1
}

// TcpStream (TCP_STREAM, type 331) is the state of an established TCP
// connection, taken in the kernel's TCP repair mode. Its queued data is in
// the TCP_QUEUE records that follow it.
type TcpStream struct {
	Socket    uint32 `ckpt:"ref"` // the INET_SOCKET (TCP, InetEstablished)
	Options   uint32 // TcpOpt* bits: what was negotiated
	SndSeq    uint32 // sequence number of the first byte of the send queue
	RcvSeq    uint32 // sequence number of the first byte of the receive queue
	SendLen   uint32 // bytes in the send queue (sent, unacknowledged or not yet sent)
	Unsent    uint32 // of which the last Unsent bytes were never sent
	RecvLen   uint32 // bytes received and not yet read
	MSS       uint32 // the MSS clamp
	SndWscale uint32
	RcvWscale uint32
	Timestamp uint32 // TCP_TIMESTAMP: the timestamp clock of the connection
	SndWl1    uint32 // struct tcp_repair_window
	SndWnd    uint32
	MaxWindow uint32
	RcvWnd    uint32
	RcvWup    uint32
}

// TcpStream.Options bits.
const (
	TcpOptTimestamps uint32 = 1 // TCPI_OPT_TIMESTAMPS
	TcpOptSack       uint32 = 2 // TCPI_OPT_SACK
	TcpOptWscale     uint32 = 4 // TCPI_OPT_WSCALE
)

// TcpQueue (TCP_QUEUE, type 332) is a piece of the send or receive queue
// of the TCP_STREAM before it.
type TcpQueue struct {
	Socket uint32 `ckpt:"ref"` // the INET_SOCKET, as in its TCP_STREAM
	Queue  uint32 // TcpRecvQueue or TcpSendQueue
	Data   []byte
}

// TcpQueue.Queue values, as TCP_REPAIR_QUEUE takes them.
const (
	TcpRecvQueue uint32 = 1
	TcpSendQueue uint32 = 2
)

// MaxTcpQueueChunk bounds the data of one TCP_QUEUE record.
const MaxTcpQueueChunk = 256 << 10

func (*InetSocket) Type() Type { return TypeInetSocket }
func (*TcpStream) Type() Type  { return TypeTcpStream }
func (*TcpQueue) Type() Type   { return TypeTcpQueue }

// AddrPorts returns the socket's local and peer addresses with their ports.
func (s *InetSocket) AddrPorts() (local, peer netip.AddrPort) {
	addr := func(b [16]byte, port uint32) netip.AddrPort {
		if s.Family == unix.AF_INET {
			return netip.AddrPortFrom(netip.AddrFrom4([4]byte(b[:4])), uint16(port))
		}
		return netip.AddrPortFrom(netip.AddrFrom16(b), uint16(port))
	}
	return addr(s.Local, s.LocalPort), addr(s.Peer, s.PeerPort)
}
