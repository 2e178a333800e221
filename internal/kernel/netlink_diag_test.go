package kernel

import (
	"testing"

	"golang.org/x/sys/unix"
)

// TestNetlinkSockets lists our own netlink sockets: a bound one with its
// groups (one past the first 32) and options, one connected to it, and
// the queued bytes of an answer not read yet.
func TestNetlinkSockets(t *testing.T) {
	a, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(a)
	if err := unix.Bind(a, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: 1}); err != nil {
		t.Fatal(err)
	}
	if err := unix.SetsockoptInt(a, unix.SOL_NETLINK, unix.NETLINK_ADD_MEMBERSHIP, 36); err != nil {
		t.Fatal(err)
	}
	if err := unix.SetsockoptInt(a, unix.SOL_NETLINK, unix.NETLINK_PKTINFO, 1); err != nil {
		t.Fatal(err)
	}
	sa, err := unix.Getsockname(a)
	if err != nil {
		t.Fatal(err)
	}
	portid := sa.(*unix.SockaddrNetlink).Pid
	b, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(b)
	if err := unix.Connect(b, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Pid: portid}); err != nil {
		t.Fatal(err)
	}
	if err := unix.Send(b, []byte("hello"), 0); err != nil {
		t.Fatal(err)
	}
	socks, err := NetlinkSockets("/proc/self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	na, nb := socks[sockIno(t, a)], socks[sockIno(t, b)]
	if na == nil || nb == nil {
		t.Fatalf("our sockets are not listed: %v %v", na, nb)
	}
	if na.Portid != portid || na.Type != unix.SOCK_RAW || na.Protocol != unix.NETLINK_ROUTE || na.State == NETLINK_CONNECTED ||
		len(na.Groups) < 2 || na.Groups[0] != 1 || na.Groups[1] != 1<<3 || na.Flags&0x2 == 0 || na.RmemAlloc == 0 {
		t.Errorf("bound socket: %+v, want port id %d, groups 1 and 36, NDIAG_FLAG_PKTINFO, bytes queued", na, portid)
	}
	if nb.Portid == 0 || nb.State != NETLINK_CONNECTED || nb.DstPortid != portid || nb.Type != unix.SOCK_DGRAM {
		t.Errorf("connected socket: %+v, want connected to %d", nb, portid)
	}
}
