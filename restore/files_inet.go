package restore

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
	"github.com/ckpt/ckpt/internal/netlock"
)

func init() {
	registerKind(kind{name: "inet socket", task: true,
		takes: []taker{object((*restorer).checkInetSocket), on((*restorer).addTcpStream), on((*restorer).addTcpQueue),
			on((*restorer).addSockState), on((*restorer).addTcpSynSent)},
		follow: func(rs *restorer, _ *image.Reader, rec image.Record) (bool, error) {
			return false, rs.checkInetOrder(rec)
		},
		// The restorer keeps the copy it set the socket up with.
		opens: []opener{inTaskOf(false, func(rs *restorer, t *taskPlan, fd image.Fd, x *image.InetSocket, min int) (int, error) {
			return rs.openInet(t, fd.File, x, min)
		})}})
}

// inetState is what restore knows of the TCP and UDP sockets of the image.
type inetState struct {
	streams map[uint32]*tcpStream // by the socket's objref
	// want is the established TCP socket whose TCP_STREAM, then TCP_QUEUE
	// records, must come next; nil when none is due.
	want *tcpStream
	// pending are the restored connections still in repair mode, which
	// finishTcp lets go once every task has its files.
	pending []*tcpStream
	// states are the SOCK_STATEs, by the socket's objref.
	states map[uint32]*image.SockState
	// synSent are the connecting sockets, by objref; wantSyn the one
	// whose TCP_SYN_SENT must come next; connecting those made, which
	// finishTcp connects.
	synSent    map[uint32]*tcpSynSent
	wantSyn    *tcpSynSent
	connecting []*tcpSynSent
}

// tcpStream is one established connection: its records, then the
// restorer's copy of the socket rebuilt from them.
type tcpStream struct {
	sock       *image.InetSocket
	st         *image.TcpStream
	recv, send []byte
	f          *os.File
	pid        int // the task it was made in
}

// checkInetSocket refuses an INET_SOCKET restore could not make sense of.
func (rs *restorer) checkInetSocket(s *image.InetSocket) error {
	bad := func(format string, args ...any) error {
		return badImage("INET_SOCKET %d: %s", s.Objref, fmt.Sprintf(format, args...))
	}
	if s.Family != unix.AF_INET && s.Family != unix.AF_INET6 {
		return bad("family %d is neither AF_INET nor AF_INET6", s.Family)
	}
	tcp := s.SockType == unix.SOCK_STREAM && s.Protocol == unix.IPPROTO_TCP
	udp := s.SockType == unix.SOCK_DGRAM && s.Protocol == unix.IPPROTO_UDP
	if !tcp && !udp {
		return bad("type %d protocol %d is neither TCP nor UDP", s.SockType, s.Protocol)
	}
	switch s.State {
	case image.InetClose:
	case image.InetListen:
		if !tcp || s.LocalPort == 0 {
			return bad("listening, but not a bound TCP socket")
		}
	case image.InetEstablished:
		if s.LocalPort == 0 || s.PeerPort == 0 {
			return bad("established without both ports")
		}
	case image.InetSynSent:
		if !tcp || s.LocalPort == 0 || s.PeerPort == 0 {
			return bad("connecting, but not a TCP socket with both ports")
		}
	default:
		return bad("state %d", s.State)
	}
	if s.LocalPort > 0xffff || s.PeerPort > 0xffff {
		return bad("port out of range")
	}
	if s.Backlog != 0 && s.State != image.InetListen {
		return bad("backlog %d on a socket that does not listen", s.Backlog)
	}
	if s.Family == unix.AF_INET && s.ScopeID != 0 {
		return bad("AF_INET with a scope id")
	}
	for _, o := range s.Opts {
		if !inetOptAllowed(s, o) {
			return bad("option level %d name %d is not one INET_SOCKET may hold", o.Level, o.Name)
		}
	}
	if s.RcvTimeoNs < 0 || s.SndTimeoNs < 0 {
		return bad("negative timeout")
	}
	if tcp && s.State == image.InetEstablished {
		if !rs.opts.TcpEstablished {
			return fmt.Errorf("the image holds an established TCP connection (%s): restore it with --tcp-established", inetName(s))
		}
		if err := netlock.Available(); err != nil {
			return fmt.Errorf("established TCP connection (%s): %w", inetName(s), err)
		}
		ts := &tcpStream{sock: s}
		if rs.inet.streams == nil {
			rs.inet.streams = map[uint32]*tcpStream{}
		}
		rs.inet.streams[s.Objref] = ts
		rs.inet.want = ts
	}
	if s.State == image.InetSynSent {
		return rs.checkSynSent(s)
	}
	return nil
}

func inetOptAllowed(s *image.InetSocket, o image.SockOpt) bool {
	for _, a := range image.InetOpts {
		if uint32(a.Level) == o.Level && uint32(a.Name) == o.Name &&
			(a.Family == 0 || uint32(a.Family) == s.Family) && (a.Proto == 0 || uint32(a.Proto) == s.Protocol) {
			return o.Reserved == 0
		}
	}
	return false
}

func inetName(s *image.InetSocket) string {
	name := fmt.Sprintf("port %d", s.LocalPort)
	switch s.State {
	case image.InetEstablished:
		name += fmt.Sprintf(" to port %d", s.PeerPort)
	case image.InetSynSent:
		name += fmt.Sprintf(" connecting to port %d", s.PeerPort)
	}
	return name
}

// openInet makes the socket in the task, so in the task's network
// namespace, and sets it up from the restorer's copy of it, which it keeps.
func (rs *restorer) openInet(t *taskPlan, objref uint32, s *image.InetSocket, min int) (int, error) {
	lt := t.leader
	typ := uintptr(s.SockType)
	if s.Flags&unix.O_NONBLOCK != 0 {
		typ |= unix.SOCK_NONBLOCK
	}
	fd, err := lt.Syscall(unix.SYS_SOCKET, uintptr(s.Family), typ, uintptr(s.Protocol))
	if err != nil {
		return -1, fmt.Errorf("socket(%d, %d, %d): %w", s.Family, s.SockType, s.Protocol, err)
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
	if err := rs.setupInet(t, f, s); err != nil {
		return -1, fmt.Errorf("socket %s: %w", inetName(s), err)
	}
	return tmp, nil
}

// setupInet gives a new socket the saved options, address and state.
func (rs *restorer) setupInet(t *taskPlan, f *os.File, s *image.InetSocket) error {
	fd := int(f.Fd())
	if err := inetOptsPermitted(t.creds, s); err != nil {
		return err
	}
	if err := setInetOpts(fd, s); err != nil {
		return err
	}
	ss := rs.inet.states[s.Objref]
	if ss != nil && ss.BindDev != "" {
		// Before bind: the device decides which addresses bind accepts.
		if err := unix.SetsockoptString(fd, unix.SOL_SOCKET, unix.SO_BINDTODEVICE, ss.BindDev); err != nil {
			return fmt.Errorf("setsockopt SO_BINDTODEVICE %q: %w", ss.BindDev, err)
		}
	}
	if ts := rs.inet.streams[s.Objref]; ts != nil {
		ts.f, ts.pid = f, t.pid
		if err := restoreTcpStream(fd, ts); err != nil {
			return err
		}
		rs.inet.pending = append(rs.inet.pending, ts)
		return setSockState(fd, ss)
	}
	if sy := rs.inet.synSent[s.Objref]; sy != nil {
		sy.f, sy.pid = f, t.pid
		if err := prepareSynSent(fd, sy); err != nil {
			return err
		}
		rs.inet.connecting = append(rs.inet.connecting, sy)
		return setSockState(fd, ss)
	}
	reuseBack := false
	// A socket with an address and no port was bound with
	// IP_BIND_ADDRESS_NO_PORT on (set above), which leaves the port to
	// connect.
	if s.LocalPort != 0 || s.Local != ([16]byte{}) {
		var err error
		if reuseBack, err = bindInet(fd, s); err != nil {
			return err
		}
	}
	switch {
	case s.State == image.InetListen:
		if err := unix.Listen(fd, int(s.Backlog)); err != nil {
			return fmt.Errorf("listen(%d): %w", s.Backlog, err)
		}
	case s.State == image.InetEstablished: // UDP
		if err := unix.Connect(fd, sockaddr(s, s.Peer, s.PeerPort)); err != nil {
			return fmt.Errorf("connect: %w", err)
		}
	}
	if reuseBack {
		// listen(2) checks the port again (inet_csk_listen_start calls
		// get_port): only now may SO_REUSEADDR be the task's again.
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 0); err != nil {
			return fmt.Errorf("setsockopt SO_REUSEADDR back to 0: %w", err)
		}
	}
	return setSockState(fd, ss)
}

// bindInet binds a socket that is not an established TCP connection to
// its saved address. The port may still be held by a TIME_WAIT left by a
// connection of the tree closed before the checkpoint: the task's socket
// was bound before that TIME_WAIT existed, the new one comes after it, and
// a bind without SO_REUSEADDR conflicts with any TIME_WAIT on the port
// (net/ipv4/inet_connection_sock.c:inet_bind_conflict). So when bind fails
// with EADDRINUSE and the socket's SO_REUSEADDR is off, it is tried again
// with SO_REUSEADDR on, as CRIU does; reuseBack then says the caller must
// turn it off again once the socket listens or is connected. A TIME_WAIT
// that had SO_REUSEADDR off itself (its listener had it off) still
// conflicts: restore fails, saying so.
func bindInet(fd int, s *image.InetSocket) (reuseBack bool, err error) {
	err = unix.Bind(fd, bindAddr(s))
	if err == nil {
		return false, nil
	}
	if !errors.Is(err, unix.EADDRINUSE) {
		return false, fmt.Errorf("bind: %w", err)
	}
	if cur, gerr := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR); gerr != nil || cur != 0 {
		return false, fmt.Errorf("bind: %w (another socket holds the port, or a TIME_WAIT that had SO_REUSEADDR off)", err)
	}
	if serr := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); serr != nil {
		return false, fmt.Errorf("bind: %w; setsockopt SO_REUSEADDR for a second try: %w", err, serr)
	}
	if err2 := unix.Bind(fd, bindAddr(s)); err2 != nil {
		return false, fmt.Errorf("bind: %w, also with SO_REUSEADDR on for the bind (another socket holds the port, "+
			"or a TIME_WAIT that had SO_REUSEADDR off, which ends within 60 s)", err)
	}
	return true, nil
}

// bindAddr is where to bind a socket. Binding an IPv6 socket to a
// specific IPv6 address turns IPV6_V6ONLY on; a connected socket whose
// connect(2) chose its address (autobind) had it off. Such a socket is
// bound to the wildcard address and its port, and connect picks the same
// address again.
func bindAddr(s *image.InetSocket) unix.Sockaddr {
	if s.Family == unix.AF_INET6 && (s.State == image.InetEstablished || s.State == image.InetSynSent) && !v6only(s) {
		a := netip.AddrFrom16(s.Local)
		if !a.IsUnspecified() && !a.Is4In6() {
			return &unix.SockaddrInet6{Port: int(s.LocalPort)}
		}
	}
	return sockaddr(s, s.Local, s.LocalPort)
}

func v6only(s *image.InetSocket) bool {
	for _, o := range s.Opts {
		if o.Level == unix.IPPROTO_IPV6 && o.Name == unix.IPV6_V6ONLY {
			return o.Value != 0
		}
	}
	return false
}

func sockaddr(s *image.InetSocket, addr [16]byte, port uint32) unix.Sockaddr {
	if s.Family == unix.AF_INET {
		return &unix.SockaddrInet4{Port: int(port), Addr: [4]byte(addr[:4])}
	}
	return &unix.SockaddrInet6{Port: int(port), ZoneId: s.ScopeID, Addr: addr}
}

// setInetOpts sets every saved option whose value differs from the new
// socket's: what the kernel chose by itself is left to it.
func setInetOpts(fd int, s *image.InetSocket) error {
	for _, o := range priorityLast(s.Opts) {
		cur, err := unix.GetsockoptInt(fd, int(o.Level), int(o.Name))
		if err == nil && cur == int(o.Value) {
			continue
		}
		if err := unix.SetsockoptInt(fd, int(o.Level), int(o.Name), int(o.Value)); err != nil {
			return fmt.Errorf("setsockopt level %d name %d to %d: %w", o.Level, o.Name, o.Value, err)
		}
	}
	if err := setBufSizes(fd, s.SndBuf, s.RcvBuf); err != nil {
		return err
	}
	for _, to := range []struct {
		name int
		ns   int64
	}{{unix.SO_RCVTIMEO, s.RcvTimeoNs}, {unix.SO_SNDTIMEO, s.SndTimeoNs}} {
		if to.ns == 0 {
			continue
		}
		tv := unix.NsecToTimeval(to.ns)
		if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, to.name, &tv); err != nil {
			return fmt.Errorf("setsockopt timeout %d to %v: %w", to.name, time.Duration(to.ns), err)
		}
	}
	if s.LingerOn != 0 {
		l := unix.Linger{Onoff: int32(s.LingerOn), Linger: int32(s.LingerSec)}
		if err := unix.SetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER, &l); err != nil {
			return fmt.Errorf("setsockopt SO_LINGER: %w", err)
		}
	}
	return nil
}

// inetOptsPermitted refuses an option whose setsockopt(2) needs
// CAP_NET_RAW or CAP_NET_ADMIN (SO_MARK in net/core/sock.c, IP_TRANSPARENT
// in net/ipv4/ip_sockglue.c, IPV6_TRANSPARENT in net/ipv6/ipv6_sockglue.c)
// on a task whose permitted set, which restore checks against the grant,
// holds neither: the restorer sets options with its own privileges, and an
// image must not give a socket what its task could not have set itself.
func inetOptsPermitted(c *image.Creds, s *image.InetSocket) error {
	var prm uint64
	if c != nil {
		prm = c.CapPrm
	}
	if prm&(1<<unix.CAP_NET_RAW|1<<unix.CAP_NET_ADMIN) != 0 {
		return nil
	}
	for _, o := range s.Opts {
		privileged := (o.Level == unix.SOL_SOCKET && o.Name == unix.SO_MARK) ||
			(o.Level == unix.IPPROTO_IP && o.Name == unix.IP_TRANSPARENT) ||
			(o.Level == unix.IPPROTO_IPV6 && o.Name == unix.IPV6_TRANSPARENT)
		if privileged && o.Value != 0 {
			return fmt.Errorf("option level %d name %d is %d, which takes CAP_NET_RAW or CAP_NET_ADMIN, and the task has neither",
				o.Level, o.Name, o.Value)
		}
	}
	return nil
}

// priorityLast orders options so that SO_PRIORITY comes after IP_TOS,
// which sets the priority too (net/ipv4/ip_sockglue.c:__ip_sock_set_tos:
// sk_priority = rt_tos2priority(tos)): the saved priority is the one the
// task set last or the one IP_TOS made, and setting it last gives either.
func priorityLast(opts []image.SockOpt) []image.SockOpt {
	out := make([]image.SockOpt, 0, len(opts))
	var prio []image.SockOpt
	for _, o := range opts {
		if o.Level == unix.SOL_SOCKET && o.Name == unix.SO_PRIORITY {
			prio = append(prio, o)
			continue
		}
		out = append(out, o)
	}
	return append(out, prio...)
}

// setBufSizes gives a new socket the saved send and receive buffer sizes
// (0: the kernel's default), as getsockopt reported them. The kernel
// doubles what it is given, and FORCE passes the rmem_max and wmem_max
// limits the task may have been allowed past.
func setBufSizes(fd int, snd, rcv uint32) error {
	for _, b := range []struct {
		get, force int
		want       uint32
	}{{unix.SO_SNDBUF, unix.SO_SNDBUFFORCE, snd}, {unix.SO_RCVBUF, unix.SO_RCVBUFFORCE, rcv}} {
		cur, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, b.get)
		if err != nil {
			return fmt.Errorf("getsockopt buffer size %d: %w", b.get, err)
		}
		if uint32(cur) == b.want || b.want == 0 {
			continue
		}
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, b.force, int(b.want/2)); err != nil {
			return fmt.Errorf("setsockopt buffer size %d to %d: %w", b.force, b.want/2, err)
		}
	}
	return nil
}
