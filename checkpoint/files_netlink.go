package checkpoint

import (
	"fmt"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
	"github.com/ckpt/ckpt/internal/kernel"
)

func init() {
	registerFileKind(fileKind{name: "netlink socket", modes: []uint32{unix.S_IFSOCK}, is: isNetlink,
		dump: (*dumper).dumpNetlink})
}

// isNetlink tells a netlink socket by the protocol name sockfs gives it
// (the system.sockprotoname attribute of the fd), without touching it.
func isNetlink(p *process, of *openFd) bool {
	buf := make([]byte, 32)
	n, err := unix.Getxattr(fmt.Sprintf("/proc/%d/fd/%d", p.pid, of.fd), "system.sockprotoname", buf)
	return err == nil && strings.TrimRight(string(buf[:n]), "\x00") == "NETLINK"
}

// netlinkFlags are the SOL_NETLINK options of NETLINK_SK NlFlags.
var netlinkFlags = []struct {
	name int
	bit  uint32
}{
	{unix.NETLINK_PKTINFO, image.NetlinkPktinfo},
	{unix.NETLINK_BROADCAST_ERROR, image.NetlinkBroadcastError},
	{unix.NETLINK_NO_ENOBUFS, image.NetlinkNoEnobufs},
	{unix.NETLINK_LISTEN_ALL_NSID, image.NetlinkListenAllNsid},
	{unix.NETLINK_CAP_ACK, image.NetlinkCapAck},
	{unix.NETLINK_EXT_ACK, image.NetlinkExtAck},
	{unix.NETLINK_GET_STRICT_CHK, image.NetlinkGetStrictChk},
}

// netlinkDefaults are the socket-level options restore does not set on a
// netlink socket, with their value on a new one: any other value refuses
// the checkpoint rather than lose it.
var netlinkDefaults = []struct {
	name  int
	label string
	def   int
}{
	{unix.SO_PRIORITY, "SO_PRIORITY", 0},
	{unix.SO_MARK, "SO_MARK", 0},
	{unix.SO_PASSCRED, "SO_PASSCRED", 0},
	{unix.SO_TIMESTAMP, "SO_TIMESTAMP", 0},
	{unix.SO_TIMESTAMPNS, "SO_TIMESTAMPNS", 0},
	{unix.SO_RCVLOWAT, "SO_RCVLOWAT", 1},
}

// dumpNetlink saves a netlink socket: its type, protocol and options
// from the socket itself, its port id, groups, peer and queued bytes from
// sock_diag. Messages queued for reading and a dump in progress cannot be
// put back: refused.
func (d *dumper) dumpNetlink(p *process, of *openFd, obj string) (image.Record, error) {
	sfd, err := kernel.TakeFd(p.pid, of.fd)
	if err != nil {
		return nil, fmt.Errorf("task %d %s: %w", p.pid, obj, err)
	}
	defer unix.Close(sfd)
	get := func(level, name int, label string) (int, error) {
		v, err := unix.GetsockoptInt(sfd, level, name)
		if err != nil {
			return 0, fmt.Errorf("task %d %s: getsockopt %s: %w", p.pid, obj, label, err)
		}
		return v, nil
	}
	rec := &image.NetlinkSk{Flags: of.info.Flags & openFlagsMask}
	for _, o := range []struct {
		name  int
		label string
		to    *uint32
	}{{unix.SO_TYPE, "SO_TYPE", &rec.SockType}, {unix.SO_PROTOCOL, "SO_PROTOCOL", &rec.Protocol},
		{unix.SO_SNDBUF, "SO_SNDBUF", &rec.SndBuf}, {unix.SO_RCVBUF, "SO_RCVBUF", &rec.RcvBuf}} {
		v, err := get(unix.SOL_SOCKET, o.name, o.label)
		if err != nil {
			return nil, err
		}
		*o.to = uint32(v)
	}
	for _, o := range netlinkFlags {
		v, err := get(unix.SOL_NETLINK, o.name, "SOL_NETLINK")
		if err != nil {
			return nil, err
		}
		if v != 0 {
			rec.NlFlags |= o.bit
		}
	}
	for _, o := range netlinkDefaults {
		v, err := get(unix.SOL_SOCKET, o.name, o.label)
		if err != nil {
			return nil, err
		}
		if v != o.def {
			return nil, unsupported(p.pid, obj, "netlink socket with %s %d: restore does not set it on netlink sockets", o.label, v)
		}
	}
	if n, err := kernel.SocketFilterLen(sfd); err != nil {
		return nil, fmt.Errorf("task %d %s: getsockopt SO_GET_FILTER: %w", p.pid, obj, err)
	} else if n > 0 {
		return nil, unsupported(p.pid, obj, "netlink socket with a socket filter attached (SO_ATTACH_FILTER, %d instructions): restore does not attach filters", n)
	}
	for _, o := range []struct {
		name  int
		label string
	}{{unix.SO_RCVTIMEO, "SO_RCVTIMEO"}, {unix.SO_SNDTIMEO, "SO_SNDTIMEO"}} {
		tv, err := unix.GetsockoptTimeval(sfd, unix.SOL_SOCKET, o.name)
		if err != nil {
			return nil, fmt.Errorf("task %d %s: getsockopt %s: %w", p.pid, obj, o.label, err)
		}
		if tv.Sec != 0 || tv.Usec != 0 {
			return nil, unsupported(p.pid, obj, "netlink socket with %s set: restore does not set it on netlink sockets", o.label)
		}
	}

	all, err := kernel.NetlinkSockets(fmt.Sprintf("/proc/%d/ns/net", p.pid))
	if err != nil {
		return nil, fmt.Errorf("task %d %s: list netlink sockets: %w", p.pid, obj, err)
	}
	ds := all[uint32(of.st.Ino)]
	if ds == nil {
		// sock_diag lists the sockets that are bound or in a group. One
		// that is neither cannot have been sent anything, nor have
		// connected (connect binds): a new socket, with its options.
		sa, err := unix.Getsockname(sfd)
		nl, ok := sa.(*unix.SockaddrNetlink)
		if err != nil || !ok || nl.Pid != 0 || nl.Groups != 0 {
			return nil, unsupported(p.pid, obj, "a netlink socket that sock_diag does not list in the task's network namespace")
		}
		return rec, nil
	}
	switch {
	case ds.Flags&kernel.NDIAG_FLAG_CB_RUNNING != 0:
		return nil, unsupported(p.pid, obj, "a netlink dump is in progress on the socket (protocol %d): the kernel holds its state", ds.Protocol)
	case ds.RmemAlloc > 0:
		return nil, unsupported(p.pid, obj, "%d bytes of netlink messages queued for reading (protocol %d): restore cannot queue them again", ds.RmemAlloc, ds.Protocol)
	}
	rec.Portid, rec.DstPortid, rec.DstGroup = ds.Portid, ds.DstPortid, ds.DstGroup
	if ds.State == kernel.NETLINK_CONNECTED {
		rec.Connected = 1
	}
	// Trailing empty words say nothing.
	groups := ds.Groups
	for len(groups) > 0 && groups[len(groups)-1] == 0 {
		groups = groups[:len(groups)-1]
	}
	rec.Groups = groups
	return rec, nil
}
