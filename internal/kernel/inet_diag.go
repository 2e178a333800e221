package kernel

import (
	"encoding/binary"
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The sock_diag netlink interface for AF_INET and AF_INET6 sockets
// (include/uapi/linux/inet_diag.h): struct inet_diag_req_v2, struct
// inet_diag_msg and the INET_DIAG_SHUTDOWN attribute, which the kernel adds
// for every socket (inet_diag_msg_attrs_fill).
const (
	INET_DIAG_SHUTDOWN = 8

	// sk_shutdown bits (include/net/sock.h).
	RCV_SHUTDOWN  = 1
	SEND_SHUTDOWN = 2

	inetDiagMsgLen = 72 // struct inet_diag_msg
	inetDiagInoOff = 68 // its idiag_inode
)

// InetDiagReqV2 mirrors struct inet_diag_req_v2.
type InetDiagReqV2 struct {
	Family   uint8
	Protocol uint8
	Ext      uint8
	Pad      uint8
	States   uint32
	ID       [48]byte // struct inet_diag_sockid: any, for a dump
}

// InetShutdowns returns the sk_shutdown bits of the inet sockets of a
// family (AF_INET or AF_INET6) and protocol (IPPROTO_UDP or IPPROTO_TCP)
// in the network namespace nsPath, by inode. No syscall tells them for a
// UDP socket.
func InetShutdowns(nsPath string, family, protocol uint8) (map[uint64]uint8, error) {
	socks, err := InetSockets(nsPath, family, protocol, ^uint32(0))
	if err != nil {
		return nil, err
	}
	shut := make(map[uint64]uint8, len(socks))
	for ino, s := range socks {
		shut[ino] = s.Shutdown
	}
	return shut, nil
}

// InetSock is what inet sock_diag tells of one socket.
type InetSock struct {
	State    uint8
	Shutdown uint8
	DstPort  uint16
	Dst      [16]byte // network order; AF_INET uses the first 4 bytes
}

// Offsets in struct inet_diag_msg: idiag_state, then in its struct
// inet_diag_sockid idiag_dport (big-endian) and idiag_dst.
const (
	inetDiagStateOff = 1
	inetDiagDportOff = 6
	inetDiagDstOff   = 24
)

// InetSockets dumps the inet sockets of a family and protocol in the
// network namespace nsPath whose TCP state is in the states bit mask (1
// << state), by inode. It is how the peer of a TCP socket whose connect is
// in progress is known: getpeername(2) says ENOTCONN until it completes.
func InetSockets(nsPath string, family, protocol uint8, states uint32) (map[uint64]InetSock, error) {
	fd, err := diagSocketIn(nsPath)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	req := InetDiagReqV2{Family: family, Protocol: protocol, States: states}
	msg, err := binary.Append(nil, binary.LittleEndian, &unix.NlMsghdr{
		Len:   uint32(unix.SizeofNlMsghdr + binary.Size(req)),
		Type:  SOCK_DIAG_BY_FAMILY,
		Flags: unix.NLM_F_REQUEST | unix.NLM_F_DUMP,
		Seq:   1,
	})
	if err == nil {
		msg, err = binary.Append(msg, binary.LittleEndian, &req)
	}
	if err != nil {
		return nil, err
	}
	if err := unix.Sendto(fd, msg, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return nil, fmt.Errorf("inet sock_diag request: %w", err)
	}
	buf := make([]byte, 1<<16)
	socks := map[uint64]InetSock{}
	for {
		n, _, err := unix.Recvfrom(fd, buf, 0)
		if err != nil {
			return nil, fmt.Errorf("inet sock_diag reply: %w", err)
		}
		for b := buf[:n]; len(b) >= unix.SizeofNlMsghdr; {
			l := int(binary.LittleEndian.Uint32(b[0:]))
			typ := binary.LittleEndian.Uint16(b[4:])
			if l < unix.SizeofNlMsghdr || l > len(b) {
				return nil, fmt.Errorf("inet sock_diag reply: bad message length %d", l)
			}
			data := b[unix.SizeofNlMsghdr:l]
			b = b[min(len(b), (l+unix.NLMSG_ALIGNTO-1)&^(unix.NLMSG_ALIGNTO-1)):]
			switch typ {
			case unix.NLMSG_DONE:
				return socks, nil
			case unix.NLMSG_ERROR:
				if len(data) >= 4 {
					if e := int32(binary.LittleEndian.Uint32(data)); e != 0 {
						return nil, fmt.Errorf("inet sock_diag: %w", unix.Errno(-e))
					}
				}
				return nil, fmt.Errorf("inet sock_diag: error reply")
			}
			if len(data) < inetDiagMsgLen {
				return nil, fmt.Errorf("inet sock_diag: short inet_diag_msg (%d bytes)", len(data))
			}
			ino := uint64(binary.LittleEndian.Uint32(data[inetDiagInoOff:]))
			s := InetSock{State: data[inetDiagStateOff], DstPort: binary.BigEndian.Uint16(data[inetDiagDportOff:])}
			copy(s.Dst[:], data[inetDiagDstOff:inetDiagDstOff+16])
			for a := data[inetDiagMsgLen:]; len(a) >= unix.SizeofRtAttr; {
				al := int(binary.LittleEndian.Uint16(a[0:]))
				at := binary.LittleEndian.Uint16(a[2:])
				if al < unix.SizeofRtAttr || al > len(a) {
					return nil, fmt.Errorf("inet sock_diag: bad attribute length %d", al)
				}
				if at == INET_DIAG_SHUTDOWN && al > unix.SizeofRtAttr {
					s.Shutdown = a[unix.SizeofRtAttr]
				}
				a = a[min(len(a), (al+unix.RTA_ALIGNTO-1)&^(unix.RTA_ALIGNTO-1)):]
			}
			socks[ino] = s
		}
	}
}

// SocketFilter returns the classic BPF program attached to socket fd
// (SO_ATTACH_FILTER) as the kernel gives it back (SO_GET_FILTER: n struct
// sock_filter of 8 bytes each), nil if none.
func SocketFilter(fd int) ([]byte, error) {
	n, err := SocketFilterLen(fd)
	if err != nil || n == 0 {
		return nil, err
	}
	prog := make([]byte, 8*n)
	l := uint32(n)
	if _, _, e := unix.Syscall6(unix.SYS_GETSOCKOPT, uintptr(fd), unix.SOL_SOCKET, unix.SO_GET_FILTER,
		uintptr(unsafe.Pointer(&prog[0])), uintptr(unsafe.Pointer(&l)), 0); e != 0 {
		return nil, e
	}
	if int(l) != n {
		return nil, fmt.Errorf("SO_GET_FILTER: %d instructions, then %d", n, l)
	}
	return prog, nil
}

// AttachSocketFilter attaches a classic BPF program (struct sock_filter
// entries, 8 bytes each) to socket fd with SO_ATTACH_FILTER.
func AttachSocketFilter(fd int, prog []byte) error {
	if len(prog) == 0 || len(prog)%8 != 0 {
		return fmt.Errorf("a socket filter of %d bytes", len(prog))
	}
	fp := unix.SockFprog{Len: uint16(len(prog) / 8), Filter: (*unix.SockFilter)(unsafe.Pointer(&prog[0]))}
	return unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, &fp)
}

// Futimens sets the access and modification times of the file fd
// (utimensat(fd, NULL, times, 0), futimens(3)), in nanoseconds since the
// epoch.
func Futimens(fd int, atimeNs, mtimeNs int64) error {
	ts := [2]unix.Timespec{unix.NsecToTimespec(atimeNs), unix.NsecToTimespec(mtimeNs)}
	if _, _, e := unix.Syscall6(unix.SYS_UTIMENSAT, uintptr(fd), 0, uintptr(unsafe.Pointer(&ts[0])), 0, 0, 0); e != 0 {
		return e
	}
	return nil
}
