package restore

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
	"github.com/ckpt/ckpt/internal/kernel"
)

func init() {
	// The restorer keeps the copy it set the socket up with.
	registerKind(kind{name: "netlink socket", task: true,
		takes: []taker{object(func(_ *restorer, x *image.NetlinkSk) error { return checkNetlink(x) })},
		opens: []opener{inTaskOf(false, func(rs *restorer, t *taskPlan, fd image.Fd, x *image.NetlinkSk, min int) (int, error) {
			return rs.openNetlink(t, fd.File, x, min)
		})}})
}

// netlinkOpts are the SOL_NETLINK options of NETLINK_SK NlFlags.
var netlinkOpts = []struct {
	bit  uint32
	name int
}{
	{image.NetlinkPktinfo, unix.NETLINK_PKTINFO},
	{image.NetlinkBroadcastError, unix.NETLINK_BROADCAST_ERROR},
	{image.NetlinkNoEnobufs, unix.NETLINK_NO_ENOBUFS},
	{image.NetlinkListenAllNsid, unix.NETLINK_LISTEN_ALL_NSID},
	{image.NetlinkCapAck, unix.NETLINK_CAP_ACK},
	{image.NetlinkExtAck, unix.NETLINK_EXT_ACK},
	{image.NetlinkGetStrictChk, unix.NETLINK_GET_STRICT_CHK},
}

// checkNetlink checks a NETLINK_SK as it is read.
func checkNetlink(x *image.NetlinkSk) error {
	switch {
	case x.SockType != unix.SOCK_RAW && x.SockType != unix.SOCK_DGRAM:
		return badImage("NETLINK_SK %d: socket type %d", x.Objref, x.SockType)
	case x.Protocol >= kernel.NETLINK_MAX_LINKS:
		return badImage("NETLINK_SK %d: protocol %d", x.Objref, x.Protocol)
	case x.Flags&unix.O_ACCMODE == unix.O_ACCMODE:
		return badImage("NETLINK_SK %d: open flags %#o have no access mode", x.Objref, x.Flags)
	case x.NlFlags&^image.NetlinkAllFlags != 0:
		return badImage("NETLINK_SK %d: unknown option bits %#x", x.Objref, x.NlFlags&^image.NetlinkAllFlags)
	case x.Connected > 1:
		return badImage("NETLINK_SK %d: Connected %d", x.Objref, x.Connected)
	case x.Connected == 1 && x.Portid == 0:
		return badImage("NETLINK_SK %d: connected, but not bound", x.Objref)
	case x.DstGroup > 32:
		// connect(2) names the group by a 32-bit mask.
		return badImage("NETLINK_SK %d: destination group %d", x.Objref, x.DstGroup)
	case len(x.Groups) > image.NetlinkMaxGroups:
		return badImage("NETLINK_SK %d: %d words of groups", x.Objref, len(x.Groups))
	}
	return nil
}

// openNetlink makes the socket in the task, so in the task's network
// namespace, and sets it up from the restorer's copy of it, which it keeps.
func (rs *restorer) openNetlink(t *taskPlan, objref uint32, x *image.NetlinkSk, min int) (int, error) {
	lt := t.leader
	typ := uintptr(x.SockType)
	if x.Flags&unix.O_NONBLOCK != 0 {
		typ |= unix.SOCK_NONBLOCK
	}
	fd, err := lt.Syscall(unix.SYS_SOCKET, unix.AF_NETLINK, typ, uintptr(x.Protocol))
	if err != nil {
		return -1, fmt.Errorf("socket(AF_NETLINK, %d, %d): %w", x.SockType, x.Protocol, err)
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
	if err := setupNetlink(f, x); err != nil {
		return -1, fmt.Errorf("netlink socket of protocol %d, port id %d: %w", x.Protocol, x.Portid, err)
	}
	return tmp, nil
}

// setupNetlink gives a new netlink socket the saved buffers, port id,
// groups, options and peer. The port id is bound explicitly, whether the
// task chose it or the kernel did: nothing sends on the socket before.
func setupNetlink(f *os.File, x *image.NetlinkSk) error {
	fd := int(f.Fd())
	if err := setBufSizes(fd, x.SndBuf, x.RcvBuf); err != nil {
		return err
	}
	if x.Portid != 0 {
		if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Pid: x.Portid}); err != nil {
			return fmt.Errorf("bind to port id %d: %w", x.Portid, err)
		}
	}
	for w, bits := range x.Groups {
		for b := 0; b < 32; b++ {
			if bits&(1<<b) == 0 {
				continue
			}
			g := 32*w + b + 1
			if err := unix.SetsockoptInt(fd, unix.SOL_NETLINK, unix.NETLINK_ADD_MEMBERSHIP, g); err != nil {
				return fmt.Errorf("join group %d: %w", g, err)
			}
		}
	}
	for _, o := range netlinkOpts {
		if x.NlFlags&o.bit == 0 {
			continue
		}
		if err := unix.SetsockoptInt(fd, unix.SOL_NETLINK, o.name, 1); err != nil {
			return fmt.Errorf("setsockopt SOL_NETLINK %d: %w", o.name, err)
		}
	}
	if x.Connected == 1 {
		var groups uint32
		if x.DstGroup != 0 {
			groups = 1 << (x.DstGroup - 1)
		}
		if err := unix.Connect(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Pid: x.DstPortid, Groups: groups}); err != nil {
			return fmt.Errorf("connect to port id %d group %d: %w", x.DstPortid, x.DstGroup, err)
		}
	}
	return nil
}
