package image

import "math"

// The round-trip cases of ICMP_SK, RAW_SK, PACKET_SK and PING_RANGE
// (roundtrip_test.go).
func init() {
	ones := [16]byte{}
	for i := range ones {
		ones[i] = 0xff
	}
	raw := RawSk{Objref: u32max, Flags: u32max, Family: u32max, Protocol: u32max, Connected: u32max, ScopeID: u32max,
		LocalPort: u32max, PeerPort: u32max, Local: ones, Peer: ones, HdrIncl: u32max, SndBuf: u32max, RcvBuf: u32max,
		RcvTimeoNs: math.MaxInt64, SndTimeoNs: math.MinInt64, LingerOn: u32max, LingerSec: u32max,
		IcmpFilter: fill(8, u32max), Opts: fill(100, SockOpt{u32max, u32max, math.MinInt32, u32max})}
	icmp := IcmpSk(raw)
	mb := PacketMembership{Ifindex: u32max, Count: u32max, MrType: u32max, Alen: u32max, IfName: ones}
	for i := range mb.Addr {
		mb.Addr[i] = 0xff
	}
	roundTripCases = append(roundTripCases, []struct {
		name string
		rec  Record
	}{
		{"raw_sk/empty", &RawSk{Objref: 1}},
		{"raw_sk/extremes", &raw},
		{"icmp_sk/empty", &IcmpSk{Objref: 1}},
		{"icmp_sk/extremes", &icmp},
		{"packet_sk/empty", &PacketSk{Objref: 1}},
		{"packet_sk/extremes", &PacketSk{Objref: u32max, Flags: u32max, SockType: u32max, Protocol: u32max, Num: u32max,
			Ifindex: u32max, Version: u32max, Reserve: u32max, CopyThresh: u32max, Timestamp: u32max, PktFlags: u32max, Fanout: u32max,
			SndBuf: u32max, RcvBuf: u32max, IfName: "0123456789abcde", Memberships: fill(PacketMaxMemberships, mb),
			Opts: fill(3, SockOpt{u32max, u32max, math.MaxInt32, u32max})}},
		{"ping_range/empty", &PingRange{}},
		{"ping_range/extremes", &PingRange{Low: u32max, High: u32max}},
	}...)
}
