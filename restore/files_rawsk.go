package restore

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"slices"

	"github.com/moby/sys/capability"
	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
)

func init() {
	// The restorer keeps the copy it set each socket up with.
	registerKind(kind{name: "icmp socket", task: true,
		takes: []taker{object(func(_ *restorer, x *image.IcmpSk) error { return checkRawSk((*image.RawSk)(x), true) })},
		opens: []opener{inTaskOf(false, func(rs *restorer, t *taskPlan, fd image.Fd, x *image.IcmpSk, min int) (int, error) {
			return rs.openRawSk(t, fd.File, (*image.RawSk)(x), true, min)
		})}})
	registerKind(kind{name: "raw socket", task: true,
		takes: []taker{object(func(_ *restorer, x *image.RawSk) error { return checkRawSk(x, false) })},
		opens: []opener{inTaskOf(false, func(rs *restorer, t *taskPlan, fd image.Fd, x *image.RawSk, min int) (int, error) {
			return rs.openRawSk(t, fd.File, x, false, min)
		})}})
}

// checkRawSk checks a RAW_SK, or an ICMP_SK (icmp), as it is read.
func checkRawSk(x *image.RawSk, icmp bool) error {
	name := "RAW_SK"
	if icmp {
		name = "ICMP_SK"
	}
	bad := func(format string, args ...any) error {
		return badImage("%s %d: %s", name, x.Objref, fmt.Sprintf(format, args...))
	}
	in := &image.InetSocket{Family: x.Family, Protocol: x.Protocol}
	switch {
	case x.Family != unix.AF_INET && x.Family != unix.AF_INET6:
		return bad("family %d is neither AF_INET nor AF_INET6", x.Family)
	case icmp && x.Family == unix.AF_INET && x.Protocol != unix.IPPROTO_ICMP,
		icmp && x.Family == unix.AF_INET6 && x.Protocol != unix.IPPROTO_ICMPV6:
		return bad("protocol %d is not ICMP of family %d", x.Protocol, x.Family)
	case x.Protocol > 0xff:
		return bad("protocol %d", x.Protocol)
	case x.Flags&unix.O_ACCMODE == unix.O_ACCMODE:
		return bad("open flags %#o have no access mode", x.Flags)
	case x.Connected > 1 || x.HdrIncl > 1:
		return bad("Connected %d, HdrIncl %d", x.Connected, x.HdrIncl)
	case x.LocalPort > 0xffff || x.PeerPort > 0xffff || (!icmp && x.LocalPort != 0):
		return bad("port %d or %d", x.LocalPort, x.PeerPort)
	case x.Family == unix.AF_INET && x.ScopeID != 0:
		return bad("AF_INET with a scope id")
	case x.RcvTimeoNs < 0 || x.SndTimeoNs < 0:
		return bad("negative timeout")
	case icmp && x.HdrIncl != 0:
		return bad("an ICMP socket with HdrIncl")
	}
	switch n := len(x.IcmpFilter); {
	case n == 0:
	case !icmp && n == 1 && x.Family == unix.AF_INET && x.Protocol == unix.IPPROTO_ICMP:
	case !icmp && n == 8 && x.Family == unix.AF_INET6 && x.Protocol == unix.IPPROTO_ICMPV6:
	default:
		return bad("an ICMP filter of %d words", n)
	}
	for _, o := range x.Opts {
		if !inetOptAllowed(in, o) || rawOptTCP(o) {
			return bad("option level %d name %d is not one %s may hold", o.Level, o.Name, name)
		}
	}
	return nil
}

// rawOptTCP tells the TCP options of InetOpts, which no raw or ICMP socket
// holds.
func rawOptTCP(o image.SockOpt) bool { return o.Level == unix.IPPROTO_TCP }

// openRawSk makes an ICMP (icmp) or raw socket in the task, so in the
// task's network namespace, and sets it up from the restorer's copy of
// it, which it keeps.
func (rs *restorer) openRawSk(t *taskPlan, objref uint32, x *image.RawSk, icmp bool, min int) (int, error) {
	typ := uintptr(unix.SOCK_RAW)
	if icmp {
		typ = unix.SOCK_DGRAM
		if err := rs.checkPingGroup(t); err != nil {
			return -1, err
		}
	}
	if x.Flags&unix.O_NONBLOCK != 0 {
		typ |= unix.SOCK_NONBLOCK
	}
	lt := t.leader
	fd, err := lt.Syscall(unix.SYS_SOCKET, uintptr(x.Family), typ, uintptr(x.Protocol))
	if err != nil {
		if icmp && errors.Is(err, unix.EACCES) {
			// The kernel checked the stub's groups, the restorer's.
			return -1, fmt.Errorf("socket(%d, SOCK_DGRAM, %d): %w: the restorer's groups are not in the network namespace's ping_group_range", x.Family, x.Protocol, err)
		}
		return -1, fmt.Errorf("socket(%d, %d, %d): %w", x.Family, typ&0xf, x.Protocol, err)
	}
	tmp, err := moveAbove(lt, fd, min)
	if err != nil {
		return -1, err
	}
	f, err := rs.copyFromTask(t, tmp)
	if err != nil {
		return -1, err
	}
	rs.ctlFiles[objref] = f
	if err := setupRawSk(f, x, rs.inet.states[objref]); err != nil {
		return -1, fmt.Errorf("socket of family %d protocol %d: %w", x.Family, x.Protocol, err)
	}
	return tmp, nil
}

// setupRawSk gives a new ICMP or raw socket the saved options, filter,
// device, address, peer and socket-level state, in that order (the device
// decides which addresses bind accepts).
func setupRawSk(f *os.File, x *image.RawSk, ss *image.SockState) error {
	fd := int(f.Fd())
	in := &image.InetSocket{Family: x.Family, Protocol: x.Protocol, ScopeID: x.ScopeID, Opts: x.Opts,
		SndBuf: x.SndBuf, RcvBuf: x.RcvBuf, RcvTimeoNs: x.RcvTimeoNs, SndTimeoNs: x.SndTimeoNs,
		LingerOn: x.LingerOn, LingerSec: x.LingerSec}
	if err := setInetOpts(fd, in); err != nil {
		return err
	}
	if err := setRawOpts(fd, x); err != nil {
		return err
	}
	if ss != nil && ss.BindDev != "" {
		if err := unix.SetsockoptString(fd, unix.SOL_SOCKET, unix.SO_BINDTODEVICE, ss.BindDev); err != nil {
			return fmt.Errorf("setsockopt SO_BINDTODEVICE %q: %w", ss.BindDev, err)
		}
	}
	if x.LocalPort != 0 || x.Local != [16]byte{} {
		if err := unix.Bind(fd, sockaddr(in, x.Local, x.LocalPort)); err != nil {
			return fmt.Errorf("bind to %v: %w", rawAddr(x.Family, x.Local, x.LocalPort), err)
		}
	}
	if x.Connected == 1 {
		if err := unix.Connect(fd, sockaddr(in, x.Peer, x.PeerPort)); err != nil {
			return fmt.Errorf("connect to %v: %w", rawAddr(x.Family, x.Peer, x.PeerPort), err)
		}
	}
	return setSockState(fd, ss)
}

// setRawOpts sets a raw socket's header inclusion when it is not the new
// socket's, and its ICMP filter.
func setRawOpts(fd int, x *image.RawSk) error {
	level, name := unix.IPPROTO_IP, unix.IP_HDRINCL
	if x.Family == unix.AF_INET6 {
		level, name = unix.IPPROTO_IPV6, unix.IPV6_HDRINCL
	}
	if cur, err := unix.GetsockoptInt(fd, level, name); err == nil && uint32(cur) != x.HdrIncl {
		if err := unix.SetsockoptInt(fd, level, name, int(x.HdrIncl)); err != nil {
			return fmt.Errorf("setsockopt HDRINCL %d: %w", x.HdrIncl, err)
		}
	}
	switch len(x.IcmpFilter) {
	case 1:
		if err := unix.SetsockoptInt(fd, unix.SOL_RAW, unix.ICMP_FILTER, int(x.IcmpFilter[0])); err != nil {
			return fmt.Errorf("setsockopt ICMP_FILTER %#x: %w", x.IcmpFilter[0], err)
		}
	case 8:
		flt := unix.ICMPv6Filter{Data: [8]uint32(x.IcmpFilter)}
		if err := unix.SetsockoptICMPv6Filter(fd, unix.SOL_ICMPV6, unix.ICMPV6_FILTER, &flt); err != nil {
			return fmt.Errorf("setsockopt ICMPV6_FILTER: %w", err)
		}
	}
	return nil
}

func rawAddr(family uint32, b [16]byte, port uint32) netip.AddrPort {
	if family == unix.AF_INET {
		return netip.AddrPortFrom(netip.AddrFrom4([4]byte(b[:4])), uint16(port))
	}
	return netip.AddrPortFrom(netip.AddrFrom16(b), uint16(port))
}

// checkPingGroup refuses to give task t an ICMP socket the kernel would
// not let it make itself: the socket is made by the task's stub, which
// still has the restorer's credentials, so the kernel's own check
// (net/ipv4/ping.c ping_init_sock: the egid or a supplementary group in
// net.ipv4.ping_group_range) is made here again with the task's saved
// ones, against the range of the task's network namespace. A grant with
// CAP_NET_RAW allows raw ICMP sockets anyway, so any.
func (rs *restorer) checkPingGroup(t *taskPlan) error {
	g := rs.opts.Grant
	if g.may(capability.CAP_NET_RAW) {
		return nil
	}
	c := t.creds
	if c == nil {
		return badImage("task %d: an ICMP_SK before its CREDS", t.rec.Pid)
	}
	lo, hi, err := pingRangeOf(t.pid)
	if err != nil {
		return fmt.Errorf("task %d: ICMP socket: %w", t.rec.Pid, err)
	}
	in := func(g uint32) bool { return g >= lo && g <= hi }
	if in(c.Egid) || slices.ContainsFunc(c.Groups, in) {
		return nil
	}
	return fmt.Errorf("task %d: ICMP socket: none of its groups (egid %d, groups %v) is in its network namespace's ping_group_range %d-%d, and %s does not grant CAP_NET_RAW: it could not make one itself",
		t.rec.Pid, c.Egid, c.Groups, lo, hi, g.From)
}
