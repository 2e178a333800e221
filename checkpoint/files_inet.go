package checkpoint

import (
	"errors"
	"fmt"
	"net/netip"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
	"github.com/ckpt/ckpt/internal/kernel"
)

// dumpInetSocket saves a socket fd that is not a unix socket. TCP and UDP
// over IPv4 and IPv6 are supported; every other family or protocol is
// refused, named.
func (d *dumper) dumpInetSocket(p *process, of *openFd, obj string) (image.Record, error) {
	f, err := takeFd(p.pid, of.fd)
	if err != nil {
		return nil, fmt.Errorf("task %d %s: %w", p.pid, obj, err)
	}
	keep := false
	defer func() {
		if !keep {
			f.Close()
		}
	}()
	fd := int(f.Fd())
	family, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_DOMAIN)
	if err != nil {
		return nil, fmt.Errorf("task %d %s: SO_DOMAIN: %w", p.pid, obj, err)
	}
	if family != unix.AF_INET && family != unix.AF_INET6 {
		return nil, unsupported(p.pid, obj, "%s sockets are not supported yet", socketFamily(p.pid, of.fd))
	}
	typ, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TYPE)
	if err != nil {
		return nil, fmt.Errorf("task %d %s: SO_TYPE: %w", p.pid, obj, err)
	}
	proto, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_PROTOCOL)
	if err != nil {
		return nil, fmt.Errorf("task %d %s: SO_PROTOCOL: %w", p.pid, obj, err)
	}
	switch {
	case typ == unix.SOCK_STREAM && proto == unix.IPPROTO_TCP:
	case typ == unix.SOCK_DGRAM && proto == unix.IPPROTO_UDP:
	default:
		return nil, unsupported(p.pid, obj, "inet sockets of type %d protocol %d are not supported (only TCP and UDP)", typ, proto)
	}
	rec := &image.InetSocket{Flags: of.info.Flags & openFlagsMask, Family: uint32(family),
		SockType: uint32(typ), Protocol: uint32(proto), State: image.InetClose}
	local, err := unix.Getsockname(fd)
	if err != nil {
		return nil, fmt.Errorf("task %d %s: getsockname: %w", p.pid, obj, err)
	}
	rec.LocalPort, rec.ScopeID = putSockaddr(&rec.Local, local)
	if peer, err := unix.Getpeername(fd); err == nil {
		rec.PeerPort, _ = putSockaddr(&rec.Peer, peer)
		rec.State = image.InetEstablished
	} else if err != unix.ENOTCONN {
		return nil, fmt.Errorf("task %d %s: getpeername: %w", p.pid, obj, err)
	}
	if err := readInetOpts(fd, rec); err != nil {
		return nil, fmt.Errorf("task %d %s: %w", p.pid, obj, err)
	}
	name := fmt.Sprintf("%s %s", obj, describeInet(rec))
	ss, err := d.sockState(p.pid, fd, of.st.Ino, family, proto)
	if err != nil {
		return nil, fmt.Errorf("task %d %s: %w", p.pid, name, err)
	}
	if ss != nil {
		if ss.Shutdown != 0 && proto == unix.IPPROTO_TCP {
			return nil, unsupported(p.pid, name, "a TCP socket shut down (shutdown(2) bits %#x) is not supported", ss.Shutdown)
		}
		if d.inetExtra == nil {
			d.inetExtra = map[*image.InetSocket][]image.Record{}
		}
		// After the TCP_STREAM and TCP_QUEUEs (dumpTcpStream sets them
		// first), as restore expects.
		defer func() { d.inetExtra[rec] = append(d.inetExtra[rec], ss) }()
	}
	if proto == unix.IPPROTO_UDP {
		if n, err := unix.IoctlGetInt(fd, unix.SIOCINQ); err == nil && n > 0 {
			// Datagrams are not saved (docs/image-format.md, INET_SOCKET):
			// the network may lose any of them, and so does a restore.
			d.log.Warn("queued UDP datagrams are dropped", "pid", p.pid, "socket", name, "first_datagram_bytes", n)
		}
		return rec, nil
	}
	ti, err := kernel.GetTCPInfo(fd)
	if err != nil {
		return nil, fmt.Errorf("task %d %s: TCP_INFO: %w", p.pid, name, err)
	}
	switch ti.State {
	case kernel.TCP_CLOSE:
		rec.State = image.InetClose
		return rec, nil
	case kernel.TCP_LISTEN:
		if ti.Unacked > 0 {
			return nil, unsupported(p.pid, name, "listening socket has %d connections waiting to be accepted", ti.Unacked)
		}
		rec.State, rec.Backlog = image.InetListen, ti.Sacked
		return rec, nil
	case kernel.TCP_ESTABLISHED:
		if !d.opts.TcpEstablished {
			return nil, unsupported(p.pid, name, "established TCP connection: checkpoint it with --tcp-established")
		}
		extra, err := d.dumpTcpStream(p.pid, of.fd, f, rec)
		if err != nil {
			return nil, fmt.Errorf("task %d %s: %w", p.pid, name, err)
		}
		keep = true // in repair mode until the tasks are gone (dump.go)
		if d.inetExtra == nil {
			d.inetExtra = map[*image.InetSocket][]image.Record{}
		}
		d.inetExtra[rec] = extra
		return rec, nil
	case kernel.TCP_SYN_SENT:
		extra, err := d.dumpTcpSynSent(p.pid, of, obj, f, rec)
		if err != nil {
			return nil, err
		}
		keep = true // in repair mode until the tasks are gone, as an established one
		if d.inetExtra == nil {
			d.inetExtra = map[*image.InetSocket][]image.Record{}
		}
		d.inetExtra[rec] = extra
		return rec, nil
	}
	return nil, unsupported(p.pid, name, "TCP socket in state %d (%s): only listening, connecting and established sockets are supported", ti.State, tcpStateName(ti.State))
}

// inetRecords returns the records that follow an INET_SOCKET once its
// objref is known.
func (d *dumper) inetRecords(rec *image.InetSocket) []image.Record {
	extra := d.inetExtra[rec]
	for _, r := range extra {
		switch x := r.(type) {
		case *image.TcpStream:
			x.Socket = rec.Objref
		case *image.TcpQueue:
			x.Socket = rec.Objref
		case *image.TcpSynSent:
			x.Socket = rec.Objref
		case *image.SockState:
			x.Socket = rec.Objref
		}
	}
	return extra
}

func tcpStateName(s uint8) string {
	names := []string{1: "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2", "TIME_WAIT", "CLOSE",
		"CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING", "NEW_SYN_RECV"}
	if int(s) < len(names) && names[s] != "" {
		return names[s]
	}
	return "unknown"
}

// putSockaddr stores an inet address in an INET_SOCKET field and returns
// its port and scope id.
func putSockaddr(dst *[16]byte, sa unix.Sockaddr) (port, scope uint32) {
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		copy(dst[:4], a.Addr[:])
		return uint32(a.Port), 0
	case *unix.SockaddrInet6:
		copy(dst[:], a.Addr[:])
		return uint32(a.Port), a.ZoneId
	}
	return 0, 0
}

// describeInet names a socket for messages: "tcp 127.0.0.1:80 -> 127.0.0.1:4242".
func describeInet(r *image.InetSocket) string {
	kind := "tcp"
	if r.Protocol == unix.IPPROTO_UDP {
		kind = "udp"
	}
	addr := func(b [16]byte, port uint32) string {
		if r.Family == unix.AF_INET {
			return netip.AddrPortFrom(netip.AddrFrom4([4]byte(b[:4])), uint16(port)).String()
		}
		return netip.AddrPortFrom(netip.AddrFrom16(b), uint16(port)).String()
	}
	if r.Family == unix.AF_INET6 {
		kind += "6"
	}
	s := kind + " " + addr(r.Local, r.LocalPort)
	switch r.State {
	case image.InetEstablished:
		s += " -> " + addr(r.Peer, r.PeerPort)
	case image.InetSynSent:
		s += " -> " + addr(r.Peer, r.PeerPort) + " (connecting)"
	}
	return s
}

// readInetOpts reads the options INET_SOCKET saves. An option the kernel
// does not report for this socket (EOPNOTSUPP, ENOPROTOOPT) is left out.
func readInetOpts(fd int, rec *image.InetSocket) error {
	for _, o := range image.InetOpts {
		if (o.Family != 0 && o.Family != int(rec.Family)) || (o.Proto != 0 && o.Proto != int(rec.Protocol)) {
			continue
		}
		v, err := unix.GetsockoptInt(fd, o.Level, o.Name)
		if err == unix.EOPNOTSUPP || err == unix.ENOPROTOOPT {
			continue
		}
		if err != nil {
			return fmt.Errorf("getsockopt %s: %w", o.Label, err)
		}
		rec.Opts = append(rec.Opts, image.SockOpt{Level: uint32(o.Level), Name: uint32(o.Name), Value: int32(v)})
	}
	var err error
	get := func(name int, label string) uint32 {
		v, e := unix.GetsockoptInt(fd, unix.SOL_SOCKET, name)
		if e != nil && err == nil {
			err = fmt.Errorf("getsockopt %s: %w", label, e)
		}
		return uint32(v)
	}
	rec.SndBuf = get(unix.SO_SNDBUF, "SO_SNDBUF")
	rec.RcvBuf = get(unix.SO_RCVBUF, "SO_RCVBUF")
	if err != nil {
		return err
	}
	for _, t := range []struct {
		name int
		dst  *int64
	}{{unix.SO_RCVTIMEO, &rec.RcvTimeoNs}, {unix.SO_SNDTIMEO, &rec.SndTimeoNs}} {
		tv, err := unix.GetsockoptTimeval(fd, unix.SOL_SOCKET, t.name)
		if err != nil {
			return fmt.Errorf("getsockopt timeout %d: %w", t.name, err)
		}
		*t.dst = tv.Nano()
	}
	l, err := unix.GetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER)
	if err != nil {
		return fmt.Errorf("getsockopt SO_LINGER: %w", err)
	}
	rec.LingerOn, rec.LingerSec = uint32(l.Onoff), uint32(l.Linger)
	return nil
}

// sockState reads the socket-level state SOCK_STATE saves; nil when all of
// it is a new socket's.
func (d *dumper) sockState(pid, fd int, ino uint64, family, proto int) (*image.SockState, error) {
	shut, err := d.inetShutdown(pid, fd, ino, family, proto)
	if err != nil {
		return nil, fmt.Errorf("shutdown state: %w", err)
	}
	return sockStateOf(fd, shut)
}

// sockStateOf reads the socket-level state SOCK_STATE saves, but for the
// shutdown bits, which the caller knows; nil when all of it is a new
// socket's.
func sockStateOf(fd int, shut uint8) (*image.SockState, error) {
	ss := &image.SockState{Shutdown: uint32(shut)}
	dev, err := unix.GetsockoptString(fd, unix.SOL_SOCKET, unix.SO_BINDTODEVICE)
	if err != nil {
		return nil, fmt.Errorf("getsockopt SO_BINDTODEVICE: %w", err)
	}
	ss.BindDev = dev
	lock, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_BUF_LOCK)
	if err != nil && !errors.Is(err, unix.ENOPROTOOPT) { // before Linux 5.14: no such option
		return nil, fmt.Errorf("getsockopt SO_BUF_LOCK: %w", err)
	}
	ss.BufLock = uint32(lock)
	if ss.Filter, err = kernel.SocketFilter(fd); err != nil {
		return nil, fmt.Errorf("getsockopt SO_GET_FILTER: %w", err)
	}
	locked, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_LOCK_FILTER)
	if err != nil {
		return nil, fmt.Errorf("getsockopt SO_LOCK_FILTER: %w", err)
	}
	ss.FilterLocked = uint32(locked)
	if ss.BindDev == "" && ss.BufLock == 0 && len(ss.Filter) == 0 && ss.FilterLocked == 0 && ss.Shutdown == 0 {
		return nil, nil
	}
	return ss, nil
}

// inetShutdown is the shutdown bits of socket ino of task pid, from one
// sock_diag dump per network namespace, family and protocol.
func (d *dumper) inetShutdown(pid, fd int, ino uint64, family, proto int) (uint8, error) {
	nsPath := fmt.Sprintf("/proc/%d/ns/net", pid)
	var st unix.Stat_t
	if err := unix.Stat(nsPath, &st); err != nil {
		return 0, err
	}
	key := [3]uint64{st.Ino, uint64(family), uint64(proto)}
	m := d.inetShut[key]
	if m == nil {
		var err error
		if m, err = kernel.InetShutdowns(nsPath, uint8(family), uint8(proto)); err != nil {
			return 0, err
		}
		if d.inetShut == nil {
			d.inetShut = map[[3]uint64]map[uint64]uint8{}
		}
		d.inetShut[key] = m
	}
	shut, ok := m[ino]
	if !ok {
		return unhashedShutdown(fd, proto)
	}
	return shut, nil
}

// unhashedShutdown is what poll(2) shows of the shutdown bits of a socket
// that inet sock_diag does not list: one without a port (never bound, or
// bound with IP_BIND_ADDRESS_NO_PORT), which is in none of the hash
// tables sock_diag walks. Reading shut down shows as POLLRDHUP (tcp_poll,
// datagram_poll), both shut down on a UDP socket as POLLHUP too (a TCP
// socket in state CLOSE always polls POLLHUP). Writing alone shut down on
// such a socket shows nowhere short of sending: it is saved as not shut
// down (docs/state.md).
func unhashedShutdown(fd, proto int) (uint8, error) {
	pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN | unix.POLLRDHUP}}
	if _, err := unix.Poll(pfd, 0); err != nil {
		return 0, fmt.Errorf("poll: %w", err)
	}
	var shut uint8
	if pfd[0].Revents&unix.POLLRDHUP != 0 {
		shut |= kernel.RCV_SHUTDOWN
	}
	if proto == unix.IPPROTO_UDP && pfd[0].Revents&unix.POLLHUP != 0 {
		shut |= kernel.RCV_SHUTDOWN | kernel.SEND_SHUTDOWN
	}
	return shut, nil
}
