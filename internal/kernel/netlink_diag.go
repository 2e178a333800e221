package kernel

import (
	"encoding/binary"
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The sock_diag netlink interface for AF_NETLINK sockets (CONFIG_NETLINK_DIAG),
// from include/uapi/linux/netlink_diag.h: struct netlink_diag_req, struct
// netlink_diag_msg, the NDIAG_SHOW_* bits, the NETLINK_DIAG_* attributes
// and the NDIAG_FLAG_* bits of NETLINK_DIAG_FLAGS.
const (
	NDIAG_PROTO_ALL    = 0xff
	NDIAG_SHOW_MEMINFO = 0x1
	NDIAG_SHOW_GROUPS  = 0x2
	NDIAG_SHOW_FLAGS   = 0x8

	NETLINK_DIAG_MEMINFO = 0
	NETLINK_DIAG_GROUPS  = 1
	NETLINK_DIAG_FLAGS   = 4

	NDIAG_FLAG_CB_RUNNING      = 0x1 // a dump is in progress: the kernel holds its state
	NDIAG_FLAG_PKTINFO         = 0x2
	NDIAG_FLAG_BROADCAST_ERROR = 0x4
	NDIAG_FLAG_NO_ENOBUFS      = 0x8
	NDIAG_FLAG_LISTEN_ALL_NSID = 0x10
	NDIAG_FLAG_CAP_ACK         = 0x20

	// NETLINK_MAX_LINKS bounds the netlink protocol numbers
	// (MAX_LINKS, include/uapi/linux/netlink.h).
	NETLINK_MAX_LINKS = 32

	// NETLINK_CONNECTED is a netlink socket's sk_state after connect(2)
	// (net/netlink/af_netlink.h).
	NETLINK_CONNECTED = 1
)

// NetlinkDiagReq mirrors struct netlink_diag_req.
type NetlinkDiagReq struct {
	Family   uint8
	Protocol uint8
	Pad      uint16
	Ino      uint32
	Show     uint32
	Cookie   [2]uint32
}

// NetlinkSock is what netlink_diag says about one netlink socket.
type NetlinkSock struct {
	Type      uint8 // SOCK_RAW or SOCK_DGRAM
	Protocol  uint8 // NETLINK_ROUTE...
	State     uint8 // 0, or NETLINK_CONNECTED
	Ino       uint32
	Portid    uint32 // 0: not bound
	DstPortid uint32
	DstGroup  uint32
	Groups    []uint32 // the multicast groups it is a member of, as a bitmap (bit 0 of word 0: group 1)
	Flags     uint32   // NDIAG_FLAG_*
	RmemAlloc uint32   // bytes of messages queued for reading
}

// NetlinkSockets lists the netlink sockets of the network namespace nsPath
// (/proc/PID/ns/net), by inode, asking the kernel from inside that
// namespace as UnixSockets does.
func NetlinkSockets(nsPath string) (map[uint32]*NetlinkSock, error) {
	req := NetlinkDiagReq{Family: unix.AF_NETLINK, Protocol: NDIAG_PROTO_ALL,
		Show: NDIAG_SHOW_MEMINFO | NDIAG_SHOW_GROUPS | NDIAG_SHOW_FLAGS}
	socks := map[uint32]*NetlinkSock{}
	err := sockDiagDump(nsPath, "netlink sock_diag", &req, func(data []byte) error {
		s, err := parseNetlinkDiagMsg(data)
		if err != nil {
			return err
		}
		socks[s.Ino] = s
		return nil
	})
	return socks, err
}

// parseNetlinkDiagMsg decodes struct netlink_diag_msg and its attributes.
func parseNetlinkDiagMsg(b []byte) (*NetlinkSock, error) {
	const hdr = 28 // struct netlink_diag_msg
	if len(b) < hdr {
		return nil, fmt.Errorf("netlink sock_diag: short netlink_diag_msg (%d bytes)", len(b))
	}
	le := binary.LittleEndian
	s := &NetlinkSock{Type: b[1], Protocol: b[2], State: b[3], Portid: le.Uint32(b[4:]),
		DstPortid: le.Uint32(b[8:]), DstGroup: le.Uint32(b[12:]), Ino: le.Uint32(b[16:])}
	err := diagAttrs(b[hdr:], "netlink sock_diag", func(typ uint16, v []byte) error {
		switch typ {
		case NETLINK_DIAG_GROUPS:
			for ; len(v) >= 4; v = v[4:] {
				s.Groups = append(s.Groups, le.Uint32(v))
			}
		case NETLINK_DIAG_FLAGS:
			if len(v) >= 4 {
				s.Flags = le.Uint32(v)
			}
		case NETLINK_DIAG_MEMINFO:
			if len(v) >= 4*(unix.SK_MEMINFO_RMEM_ALLOC+1) {
				s.RmemAlloc = le.Uint32(v[4*unix.SK_MEMINFO_RMEM_ALLOC:])
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// SocketFilterLen is the number of instructions of the classic BPF filter
// attached to socket fd (SO_ATTACH_FILTER), 0 if none. getsockopt
// SO_GET_FILTER takes its length in instructions, not bytes: asked with
// length 0 it only returns the filter's length (net/core/filter.c,
// sk_get_filter), so no buffer is written.
func SocketFilterLen(fd int) (int, error) {
	var n uint32
	if _, _, e := unix.Syscall6(unix.SYS_GETSOCKOPT, uintptr(fd), unix.SOL_SOCKET, unix.SO_GET_FILTER, 0,
		uintptr(unsafe.Pointer(&n)), 0); e != 0 {
		return 0, e
	}
	return int(n), nil
}
