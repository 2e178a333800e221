package image

// The round-trip cases of NETLINK_SK (roundtrip_test.go).
func init() {
	roundTripCases = append(roundTripCases, []struct {
		name string
		rec  Record
	}{
		{"netlink_sk/empty", &NetlinkSk{Objref: 1}},
		{"netlink_sk/extremes", &NetlinkSk{Objref: u32max, Flags: u32max, SockType: u32max, Protocol: u32max, Portid: u32max,
			Connected: u32max, DstPortid: u32max, DstGroup: u32max, NlFlags: u32max, SndBuf: u32max, RcvBuf: u32max,
			Groups: fill(1000, u32max)}},
	}...)
}
