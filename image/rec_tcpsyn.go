package image

// TypeTcpSynSent is TCP_SYN_SENT's type number (in the inet range the
// 3.1 round opened, 333-339).
const TypeTcpSynSent Type = 333

var _ = registerType(typeInfo{typ: TypeTcpSynSent, name: "TCP_SYN_SENT", new: func() Record { return new(TcpSynSent) }})

// InetSynSent is the INET_SOCKET State of a TCP socket whose connect(2) is
// in progress (TCP_SYN_SENT in include/net/tcp_states.h): its SYN is sent,
// no answer has come. Its TCP_SYN_SENT record follows it. New in 3.1.
const InetSynSent uint32 = 2

// TcpSynSent (TCP_SYN_SENT, type 333) is what restore needs to send the
// SYN of a connect(2) in progress again as the same SYN: its sequence
// number. It follows the INET_SOCKET (State InetSynSent) it belongs to.
type TcpSynSent struct {
	Socket uint32 `ckpt:"ref"` // the INET_SOCKET (TCP, InetSynSent)
	Seq    uint32 // the SYN's sequence number (the connection's initial send sequence number)
}

func (*TcpSynSent) Type() Type { return TypeTcpSynSent }
