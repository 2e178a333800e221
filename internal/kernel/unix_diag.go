package kernel

import (
	"encoding/binary"
	"fmt"

	"golang.org/x/sys/unix"
)

// The sock_diag netlink interface for AF_UNIX sockets. From
// include/uapi/linux/sock_diag.h (SOCK_DIAG_BY_FAMILY) and
// include/uapi/linux/unix_diag.h (struct unix_diag_req, struct
// unix_diag_msg, struct unix_diag_rqlen, the UDIAG_SHOW_* bits and the
// UNIX_DIAG_* attributes).
const (
	SOCK_DIAG_BY_FAMILY = 20

	UDIAG_SHOW_NAME    = 0x01 // the bound name
	UDIAG_SHOW_VFS     = 0x02 // the socket file's inode and device
	UDIAG_SHOW_PEER    = 0x04 // the peer's inode
	UDIAG_SHOW_ICONS   = 0x08 // a listener's pending connections
	UDIAG_SHOW_RQLEN   = 0x10 // queue lengths
	UDIAG_SHOW_MEMINFO = 0x20
	UDIAG_SHOW_UID     = 0x40

	UNIX_DIAG_NAME     = 0
	UNIX_DIAG_VFS      = 1
	UNIX_DIAG_PEER     = 2
	UNIX_DIAG_ICONS    = 3
	UNIX_DIAG_RQLEN    = 4
	UNIX_DIAG_MEMINFO  = 5
	UNIX_DIAG_SHUTDOWN = 6
	UNIX_DIAG_UID      = 7
)

// Socket states as unix_diag reports them (include/net/tcp_states.h: af_unix
// borrows TCP's numbers).
const (
	UnixStateEstablished = 1  // TCP_ESTABLISHED: connected
	UnixStateClose       = 7  // TCP_CLOSE: unconnected
	UnixStateListen      = 10 // TCP_LISTEN
)

// UnixDiagReq mirrors struct unix_diag_req.
type UnixDiagReq struct {
	Family   uint8
	Protocol uint8
	Pad      uint16
	States   uint32
	Ino      uint32
	Show     uint32
	Cookie   [2]uint32
}

// UnixSock is what unix_diag says about one socket.
type UnixSock struct {
	Type     uint8
	State    uint8
	Ino      uint32
	Name     []byte // sun_path as bound; a leading NUL is an abstract name; nil if unbound
	VfsIno   uint32 // the socket file's inode, for a path name
	VfsDev   uint32
	Peer     uint32   // the peer's inode, 0 if none
	Icons    []uint32 // a listener's connections not accepted yet: their clients' inodes (0: client closed)
	RQueue   uint32   // bytes (or, for a listener, connections) queued
	WQueue   uint32   // a listener's backlog
	Shutdown uint8    // RCV_SHUTDOWN 1 | SEND_SHUTDOWN 2
	Uid      uint32
}

// UnixSockets lists the AF_UNIX sockets of the network namespace nsPath
// (/proc/PID/ns/net), by inode. The netlink socket is made in a thread
// that joins that namespace and is thrown away after, so that the caller's
// own namespace does not matter.
func UnixSockets(nsPath string) (map[uint32]*UnixSock, error) {
	req := UnixDiagReq{Family: unix.AF_UNIX, States: ^uint32(0),
		Show: UDIAG_SHOW_NAME | UDIAG_SHOW_VFS | UDIAG_SHOW_PEER | UDIAG_SHOW_ICONS | UDIAG_SHOW_RQLEN | UDIAG_SHOW_UID}
	socks := map[uint32]*UnixSock{}
	err := sockDiagDump(nsPath, "sock_diag", &req, func(data []byte) error {
		s, err := parseUnixDiagMsg(data)
		if err != nil {
			return err
		}
		socks[s.Ino] = s
		return nil
	})
	return socks, err
}

// parseUnixDiagMsg decodes struct unix_diag_msg and its attributes.
func parseUnixDiagMsg(b []byte) (*UnixSock, error) {
	const hdr = 16 // struct unix_diag_msg
	if len(b) < hdr {
		return nil, fmt.Errorf("sock_diag: short unix_diag_msg (%d bytes)", len(b))
	}
	s := &UnixSock{Type: b[1], State: b[2], Ino: binary.LittleEndian.Uint32(b[4:])}
	for a := b[hdr:]; len(a) >= unix.SizeofRtAttr; {
		l := int(binary.LittleEndian.Uint16(a[0:]))
		typ := binary.LittleEndian.Uint16(a[2:])
		if l < unix.SizeofRtAttr || l > len(a) {
			return nil, fmt.Errorf("sock_diag: bad attribute length %d", l)
		}
		v := a[unix.SizeofRtAttr:l]
		switch typ {
		case UNIX_DIAG_NAME:
			s.Name = append([]byte{}, v...)
		case UNIX_DIAG_VFS:
			if len(v) >= 8 {
				s.VfsIno, s.VfsDev = binary.LittleEndian.Uint32(v), binary.LittleEndian.Uint32(v[4:])
			}
		case UNIX_DIAG_PEER:
			if len(v) >= 4 {
				s.Peer = binary.LittleEndian.Uint32(v)
			}
		case UNIX_DIAG_ICONS:
			for i := 0; i+4 <= len(v); i += 4 {
				s.Icons = append(s.Icons, binary.LittleEndian.Uint32(v[i:]))
			}
		case UNIX_DIAG_RQLEN:
			if len(v) >= 8 {
				s.RQueue, s.WQueue = binary.LittleEndian.Uint32(v), binary.LittleEndian.Uint32(v[4:])
			}
		case UNIX_DIAG_SHUTDOWN:
			if len(v) >= 1 {
				s.Shutdown = v[0]
			}
		case UNIX_DIAG_UID:
			if len(v) >= 4 {
				s.Uid = binary.LittleEndian.Uint32(v)
			}
		}
		al := (l + unix.RTA_ALIGNTO - 1) &^ (unix.RTA_ALIGNTO - 1)
		if al >= len(a) {
			break
		}
		a = a[al:]
	}
	return s, nil
}
