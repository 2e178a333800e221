package checkpoint

import (
	"errors"
	"fmt"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
	"github.com/ckpt/ckpt/internal/kernel"
	"github.com/ckpt/ckpt/internal/proc"
)

func init() {
	registerFileKind(fileKind{name: "icmp socket", modes: []uint32{unix.S_IFSOCK},
		is: sockProto("PING", "PINGv6"), dump: (*dumper).dumpIcmp, extra: (*dumper).sockStateExtra})
	registerFileKind(fileKind{name: "raw socket", modes: []uint32{unix.S_IFSOCK},
		is: sockProto("RAW", "RAWv6"), dump: (*dumper).dumpRaw, extra: (*dumper).sockStateExtra})
}

// sockProto tells a socket by the protocol name sockfs gives it (the
// system.sockprotoname attribute of the fd: the name of the kernel's
// struct proto, "PING", "RAWv6", "PACKET"...), without touching it.
func sockProto(names ...string) func(p *process, of *openFd) bool {
	return func(p *process, of *openFd) bool {
		buf := make([]byte, 32)
		n, err := unix.Getxattr(fmt.Sprintf("/proc/%d/fd/%d", p.pid, of.fd), "system.sockprotoname", buf)
		if err != nil {
			return false
		}
		name := strings.TrimRight(string(buf[:n]), "\x00")
		for _, w := range names {
			if name == w {
				return true
			}
		}
		return false
	}
}

// sockStateExtra sets the objref of the SOCK_STATE a dump function left
// in fileExtra for rec, which collectFiles writes after it.
func (d *dumper) sockStateExtra(rec image.Record) []image.Record {
	for _, r := range d.fileExtra[rec] {
		if ss, ok := r.(*image.SockState); ok {
			ss.Socket = image.Objref(rec)
		}
	}
	return nil
}

func (d *dumper) dumpIcmp(p *process, of *openFd, obj string) (image.Record, error) {
	rec, err := d.dumpRawLike(p, of, obj, "ICMP")
	if err != nil {
		return nil, err
	}
	return (*image.IcmpSk)(rec), nil
}

func (d *dumper) dumpRaw(p *process, of *openFd, obj string) (image.Record, error) {
	return d.dumpRawLike(p, of, obj, "raw")
}

// dumpRawLike saves an ICMP ("ping") or raw socket: its address, peer,
// options and filters, with its socket-level state in a SOCK_STATE. A
// datagram queued for reading or a pending error cannot be put back:
// refused.
func (d *dumper) dumpRawLike(p *process, of *openFd, obj, kind string) (*image.RawSk, error) {
	f, err := takeFd(p.pid, of.fd)
	if err != nil {
		return nil, fmt.Errorf("task %d %s: %w", p.pid, obj, err)
	}
	defer f.Close()
	fd := int(f.Fd())
	rec := &image.RawSk{Flags: of.info.Flags & openFlagsMask}
	for _, o := range []struct {
		name  int
		label string
		to    *uint32
	}{{unix.SO_DOMAIN, "SO_DOMAIN", &rec.Family}, {unix.SO_PROTOCOL, "SO_PROTOCOL", &rec.Protocol}} {
		v, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, o.name)
		if err != nil {
			return nil, fmt.Errorf("task %d %s: getsockopt %s: %w", p.pid, obj, o.label, err)
		}
		*o.to = uint32(v)
	}
	obj = fmt.Sprintf("%s (%s socket, family %d, protocol %d)", obj, kind, rec.Family, rec.Protocol)
	fail := func(err error) (*image.RawSk, error) { return nil, fmt.Errorf("task %d %s: %w", p.pid, obj, err) }
	shut, err := rawPending(fd)
	if err != nil {
		if errors.Is(err, errQueued) {
			return nil, unsupported(p.pid, obj, "%v: restore cannot queue it again", err)
		}
		return fail(err)
	}
	local, err := unix.Getsockname(fd)
	if err != nil {
		return fail(fmt.Errorf("getsockname: %w", err))
	}
	rec.LocalPort, rec.ScopeID = putSockaddr(&rec.Local, local)
	if kind == "raw" {
		rec.LocalPort = 0 // the protocol number, which raw sockets report as their port
	}
	if err := rawPeer(p.pid, of.st.Ino, kind, rec); err != nil {
		return fail(err)
	}
	in := &image.InetSocket{Family: rec.Family, Protocol: rec.Protocol}
	if err := readInetOpts(fd, in); err != nil {
		return fail(err)
	}
	rec.Opts, rec.SndBuf, rec.RcvBuf = in.Opts, in.SndBuf, in.RcvBuf
	rec.RcvTimeoNs, rec.SndTimeoNs, rec.LingerOn, rec.LingerSec = in.RcvTimeoNs, in.SndTimeoNs, in.LingerOn, in.LingerSec
	if kind == "raw" {
		if err := readRawOpts(fd, rec); err != nil {
			return fail(err)
		}
	}
	ss, err := sockStateOf(fd, shut)
	if err != nil {
		return fail(err)
	}
	if ss != nil {
		if d.fileExtra == nil {
			d.fileExtra = map[image.Record][]image.Record{}
		}
		// The record the kind returns is the key: an ICMP_SK is the
		// same struct as its RAW_SK.
		if kind == "ICMP" {
			d.fileExtra[(*image.IcmpSk)(rec)] = []image.Record{ss}
		} else {
			d.fileExtra[rec] = []image.Record{ss}
		}
	}
	return rec, nil
}

// rawPeer finds whether the socket is connected, and to what. With a peer
// port 0, as they usually are, getpeername(2) says ENOTCONN even then: the
// task's /proc/PID/net table says.
func rawPeer(pid int, ino uint64, kind string, rec *image.RawSk) error {
	table := map[string]string{"raw": "raw", "ICMP": "icmp"}[kind]
	if rec.Family == unix.AF_INET6 {
		table += "6"
	}
	s, err := proc.FindDgramSock(pid, table, ino)
	if err != nil {
		return err
	}
	if s == nil && kind == "ICMP" && rec.LocalPort == 0 {
		// bind(2), connect(2) (net/ipv4/af_inet.c inet_dgram_connect
		// autobinds) and the first echo give an ICMP socket its
		// identifier and put it in the table: one without is new.
		return nil
	}
	if s == nil {
		return fmt.Errorf("socket %d is not in /proc/%d/net/%s", ino, pid, table)
	}
	if s.State == kernel.TCP_ESTABLISHED {
		rec.Connected, rec.Peer, rec.PeerPort = 1, s.Remote, uint32(s.RemotePort)
	}
	return nil
}

// readRawOpts reads a raw socket's header inclusion and ICMP filter.
func readRawOpts(fd int, rec *image.RawSk) error {
	level, name := unix.IPPROTO_IP, unix.IP_HDRINCL
	if rec.Family == unix.AF_INET6 {
		level, name = unix.IPPROTO_IPV6, unix.IPV6_HDRINCL
	}
	v, err := unix.GetsockoptInt(fd, level, name)
	if err != nil {
		return fmt.Errorf("getsockopt HDRINCL: %w", err)
	}
	rec.HdrIncl = uint32(v)
	switch {
	case rec.Family == unix.AF_INET && rec.Protocol == unix.IPPROTO_ICMP:
		v, err := unix.GetsockoptInt(fd, unix.SOL_RAW, unix.ICMP_FILTER)
		if err != nil {
			return fmt.Errorf("getsockopt ICMP_FILTER: %w", err)
		}
		if v != 0 {
			rec.IcmpFilter = []uint32{uint32(v)}
		}
	case rec.Family == unix.AF_INET6 && rec.Protocol == unix.IPPROTO_ICMPV6:
		flt, err := unix.GetsockoptICMPv6Filter(fd, unix.SOL_ICMPV6, unix.ICMPV6_FILTER)
		if err != nil {
			return fmt.Errorf("getsockopt ICMPV6_FILTER: %w", err)
		}
		if flt.Data != [8]uint32{} {
			rec.IcmpFilter = flt.Data[:]
		}
	}
	return nil
}

// errQueued says a socket holds data or an error restore cannot give back.
var errQueued = errors.New("queued")

// rawPending looks at a datagram socket (raw, ICMP, packet) from outside:
// poll says whether reading was shut down (POLLRDHUP; POLLHUP: both ways)
// and whether an error is pending (POLLERR: sk_err or the error queue);
// a peek whether a datagram is queued. Nothing is read or cleared.
// Writing shut down alone shows nowhere without sock_diag (raw_diag may
// be missing, ping sockets have none) and changes nothing for these
// sockets (they do not check it when sending): it is not saved.
func rawPending(fd int) (uint8, error) {
	pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN | unix.POLLRDHUP}}
	if _, err := unix.Poll(pfd, 0); err != nil {
		return 0, fmt.Errorf("poll: %w", err)
	}
	var shut uint8
	switch ev := pfd[0].Revents; {
	case ev&unix.POLLERR != 0:
		return 0, fmt.Errorf("an error %w on the socket (its error queue or a pending error)", errQueued)
	case ev&unix.POLLHUP != 0:
		shut = kernel.RCV_SHUTDOWN | kernel.SEND_SHUTDOWN
	case ev&unix.POLLRDHUP != 0:
		shut = kernel.RCV_SHUTDOWN
	}
	var b [1]byte
	n, _, err := unix.Recvfrom(fd, b[:], unix.MSG_PEEK|unix.MSG_DONTWAIT|unix.MSG_TRUNC)
	switch {
	case err == nil:
		return 0, fmt.Errorf("a datagram of %d bytes %w for reading", n, errQueued)
	case errors.Is(err, unix.EAGAIN):
		return shut, nil
	}
	return 0, fmt.Errorf("peek at the receive queue: %w", err)
}
