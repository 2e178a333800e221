package kernel

import (
	"encoding/binary"
	"fmt"

	"golang.org/x/sys/unix"
)

// The sock_diag netlink interface for AF_PACKET sockets (CONFIG_PACKET_DIAG),
// from include/uapi/linux/packet_diag.h: struct packet_diag_req, struct
// packet_diag_msg, the PACKET_SHOW_* bits, the PACKET_DIAG_* attributes,
// struct packet_diag_info with its PDI_* flags and struct
// packet_diag_mclist.
const (
	PACKET_SHOW_INFO     = 0x1
	PACKET_SHOW_MCLIST   = 0x2
	PACKET_SHOW_RING_CFG = 0x4
	PACKET_SHOW_FANOUT   = 0x8
	PACKET_SHOW_MEMINFO  = 0x10
	PACKET_SHOW_FILTER   = 0x20

	PACKET_DIAG_INFO    = 0
	PACKET_DIAG_MCLIST  = 1
	PACKET_DIAG_RX_RING = 2
	PACKET_DIAG_TX_RING = 3
	PACKET_DIAG_FANOUT  = 4
	PACKET_DIAG_MEMINFO = 6
	PACKET_DIAG_FILTER  = 7

	PDI_RUNNING = 0x1
	PDI_AUXDATA = 0x2
	PDI_ORIGDEV = 0x4
	PDI_VNETHDR = 0x8
	PDI_LOSS    = 0x10

	// SizeofPacketDiagMclist is sizeof(struct packet_diag_mclist):
	// u32 index, u32 count, u16 type, u16 alen, u8 addr[MAX_ADDR_LEN 32].
	SizeofPacketDiagMclist = 44
)

// PacketDiagReq mirrors struct packet_diag_req.
type PacketDiagReq struct {
	Family   uint8
	Protocol uint8
	Pad      uint16
	Ino      uint32
	Show     uint32
	Cookie   [2]uint32
}

// PacketMc is one entry of PACKET_DIAG_MCLIST.
type PacketMc struct {
	Ifindex uint32
	Count   uint32
	Type    uint16
	Alen    uint16
	Addr    [32]byte
}

// PacketSock is what packet_diag says about one packet socket.
type PacketSock struct {
	Type       uint8  // SOCK_RAW or SOCK_DGRAM
	Num        uint16 // the protocol it receives, host byte order
	Ino        uint32
	Ifindex    uint32 // struct packet_diag_info
	Version    uint32
	Reserve    uint32
	CopyThresh uint32
	Tstamp     uint32
	Flags      uint32 // PDI_*
	Mclist     []PacketMc
	RxRing     bool // a PACKET_RX_RING is set up
	TxRing     bool // a PACKET_TX_RING is set up
	Fanout     uint32
	HasFanout  bool // in a fanout group: Fanout is id | type<<16 (without the flags, af_packet.c pdiag_put_fanout)
	RmemAlloc  uint32
	HasFilter  bool
}

// PacketSockets lists the packet sockets of the network namespace nsPath
// (/proc/PID/ns/net), by inode, asking the kernel from inside that
// namespace as NetlinkSockets does.
func PacketSockets(nsPath string) (map[uint32]*PacketSock, error) {
	req := PacketDiagReq{Family: unix.AF_PACKET,
		Show: PACKET_SHOW_INFO | PACKET_SHOW_MCLIST | PACKET_SHOW_RING_CFG | PACKET_SHOW_FANOUT |
			PACKET_SHOW_MEMINFO | PACKET_SHOW_FILTER}
	socks := map[uint32]*PacketSock{}
	err := sockDiagDump(nsPath, "packet sock_diag", &req, func(data []byte) error {
		s, err := parsePacketDiagMsg(data)
		if err != nil {
			return err
		}
		socks[s.Ino] = s
		return nil
	})
	return socks, err
}

// parsePacketDiagMsg decodes struct packet_diag_msg and its attributes.
func parsePacketDiagMsg(b []byte) (*PacketSock, error) {
	const hdr = 16 // struct packet_diag_msg
	if len(b) < hdr {
		return nil, fmt.Errorf("packet sock_diag: short packet_diag_msg (%d bytes)", len(b))
	}
	le := binary.LittleEndian
	s := &PacketSock{Type: b[1], Num: le.Uint16(b[2:]), Ino: le.Uint32(b[4:])}
	err := diagAttrs(b[hdr:], "packet sock_diag", func(typ uint16, v []byte) error {
		switch typ {
		case PACKET_DIAG_INFO:
			if len(v) < 24 {
				return fmt.Errorf("packet sock_diag: short packet_diag_info (%d bytes)", len(v))
			}
			s.Ifindex, s.Version, s.Reserve = le.Uint32(v[0:]), le.Uint32(v[4:]), le.Uint32(v[8:])
			s.CopyThresh, s.Tstamp, s.Flags = le.Uint32(v[12:]), le.Uint32(v[16:]), le.Uint32(v[20:])
		case PACKET_DIAG_MCLIST:
			for ; len(v) >= SizeofPacketDiagMclist; v = v[SizeofPacketDiagMclist:] {
				mc := PacketMc{Ifindex: le.Uint32(v[0:]), Count: le.Uint32(v[4:]), Type: le.Uint16(v[8:]), Alen: le.Uint16(v[10:])}
				copy(mc.Addr[:], v[12:44])
				s.Mclist = append(s.Mclist, mc)
			}
		case PACKET_DIAG_RX_RING:
			s.RxRing = true
		case PACKET_DIAG_TX_RING:
			s.TxRing = true
		case PACKET_DIAG_FANOUT:
			if len(v) >= 4 {
				s.Fanout, s.HasFanout = le.Uint32(v), true
			}
		case PACKET_DIAG_MEMINFO:
			if len(v) >= 4*(unix.SK_MEMINFO_RMEM_ALLOC+1) {
				s.RmemAlloc = le.Uint32(v[4*unix.SK_MEMINFO_RMEM_ALLOC:])
			}
		case PACKET_DIAG_FILTER:
			s.HasFilter = len(v) > 0
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}
