package proc

import (
	"encoding/binary"
	"fmt"
	"strings"
)

// DgramSock is one line of /proc/PID/net/{raw,raw6,icmp,icmp6}: a raw or
// ICMP socket of the task's network namespace. These sockets keep the
// peer port connect(2) gave them, usually 0, and getpeername(2) answers
// ENOTCONN for a peer port 0 (net/ipv4/af_inet.c inet_getname): only
// these tables show such a socket connected.
type DgramSock struct {
	Local, Remote         [16]byte // network order; AF_INET uses the first 4 bytes
	LocalPort, RemotePort uint16
	State                 uint8 // TCP_ESTABLISHED 1 once connected, TCP_CLOSE 7 otherwise
	Inode                 uint64
}

// FindDgramSock finds socket ino in /proc/pid/net/table (raw, raw6, icmp
// or icmp6); nil if it is not there. The tables print each 32-bit word of
// an address as a hexadecimal number in host order
// (net/ipv4/raw.c raw_sock_seq_show, net/ipv6/datagram.c
// __ip6_dgram_sock_seq_show).
func FindDgramSock(pid int, table string, ino uint64) (*DgramSock, error) {
	var found *DgramSock
	first := true
	err := forEachLine(pidPath(pid, "net/"+table), func(line []byte) error {
		if first { // the header
			first = false
			return nil
		}
		s, err := parseDgramSock(string(line))
		if err != nil {
			return fmt.Errorf("/proc/%d/net/%s: %w", pid, table, err)
		}
		if s.Inode == ino {
			found = s
		}
		return nil
	})
	return found, err
}

func parseDgramSock(line string) (*DgramSock, error) {
	f := strings.Fields(line)
	if len(f) < 10 {
		return nil, fmt.Errorf("short line %q", line)
	}
	s := &DgramSock{}
	addr := func(field string, to *[16]byte, port *uint16) error {
		a, p, ok := strings.Cut(field, ":")
		if !ok || (len(a) != 8 && len(a) != 32) || len(p) != 4 {
			return fmt.Errorf("address %q", field)
		}
		for i := 0; i < len(a)/8; i++ {
			w, ok := parseHex([]byte(a[8*i : 8*i+8]))
			if !ok {
				return fmt.Errorf("address %q", field)
			}
			binary.LittleEndian.PutUint32(to[4*i:], uint32(w))
		}
		v, ok := parseHex([]byte(p))
		if !ok {
			return fmt.Errorf("port %q", field)
		}
		*port = uint16(v)
		return nil
	}
	if err := addr(f[1], &s.Local, &s.LocalPort); err != nil {
		return nil, err
	}
	if err := addr(f[2], &s.Remote, &s.RemotePort); err != nil {
		return nil, err
	}
	st, ok := parseHex([]byte(f[3]))
	ino, ok2 := parseDec([]byte(f[9]))
	if !ok || !ok2 || st > 0xff {
		return nil, fmt.Errorf("state %q or inode %q", f[3], f[9])
	}
	s.State, s.Inode = uint8(st), ino
	return s, nil
}
