package kernel

import (
	"net"
	"testing"

	"golang.org/x/sys/unix"
)

// TestPacketSockets lists our own packet socket: its protocol, version,
// reserve and options, a multicast membership of the loopback added twice,
// and a receive ring.
func TestPacketSockets(t *testing.T) {
	s, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(s)
	lo, err := net.InterfaceByName("lo")
	if err != nil {
		t.Fatal(err)
	}
	mr := unix.PacketMreq{Ifindex: int32(lo.Index), Type: unix.PACKET_MR_MULTICAST, Alen: 6,
		Address: [8]byte{0x01, 0x00, 0x5e, 0x00, 0x00, 0x43}}
	for _, o := range []struct{ name, v int }{{unix.PACKET_VERSION, unix.TPACKET_V2}, {unix.PACKET_RESERVE, 32},
		{unix.PACKET_AUXDATA, 1}, {unix.PACKET_LOSS, 1}} {
		if err := unix.SetsockoptInt(s, unix.SOL_PACKET, o.name, o.v); err != nil {
			t.Fatal(err)
		}
	}
	for range 2 {
		if err := unix.SetsockoptPacketMreq(s, unix.SOL_PACKET, unix.PACKET_ADD_MEMBERSHIP, &mr); err != nil {
			t.Fatal(err)
		}
	}
	if err := unix.SetsockoptTpacketReq(s, unix.SOL_PACKET, unix.PACKET_RX_RING,
		&unix.TpacketReq{Block_size: 4096, Block_nr: 1, Frame_size: 2048, Frame_nr: 2}); err != nil {
		t.Fatal(err)
	}
	socks, err := PacketSockets("/proc/self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	p := socks[sockIno(t, s)]
	if p == nil {
		t.Fatalf("our socket is not listed among %d", len(socks))
	}
	if p.Type != unix.SOCK_RAW || p.Num != 0 || p.Version != unix.TPACKET_V2 || p.Reserve != 32 ||
		p.Flags&(PDI_AUXDATA|PDI_LOSS) != PDI_AUXDATA|PDI_LOSS || !p.RxRing || p.TxRing || p.HasFanout {
		t.Errorf("got %+v", p)
	}
	if len(p.Mclist) != 1 || p.Mclist[0].Ifindex != uint32(lo.Index) || p.Mclist[0].Count != 2 ||
		p.Mclist[0].Type != unix.PACKET_MR_MULTICAST || p.Mclist[0].Alen != 6 || p.Mclist[0].Addr[5] != 0x43 {
		t.Errorf("memberships %+v, want the multicast address of lo, twice", p.Mclist)
	}
}
