package restore

import (
	"bytes"
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
)

func init() {
	// The restorer keeps the copy it set the socket up with.
	registerKind(kind{name: "packet socket", task: true,
		takes: []taker{object(func(_ *restorer, x *image.PacketSk) error { return checkPacket(x) })},
		opens: []opener{inTaskOf(false, func(rs *restorer, t *taskPlan, fd image.Fd, x *image.PacketSk, min int) (int, error) {
			return rs.openPacket(t, fd.File, x, min)
		})}})
}

// packetOpts are the on/off SOL_PACKET options of PACKET_SK PktFlags.
var packetOpts = []struct {
	bit  uint32
	name int
}{
	{image.PacketAuxdata, unix.PACKET_AUXDATA},
	{image.PacketOrigdev, unix.PACKET_ORIGDEV},
	{image.PacketLoss, unix.PACKET_LOSS},
	{image.PacketQdiscBypass, unix.PACKET_QDISC_BYPASS},
	{image.PacketVnetHdr, unix.PACKET_VNET_HDR},
	{image.PacketIgnoreOutgoing, unix.PACKET_IGNORE_OUTGOING},
}

// checkPacket checks a PACKET_SK as it is read.
func checkPacket(x *image.PacketSk) error {
	bad := func(format string, args ...any) error {
		return badImage("PACKET_SK %d: %s", x.Objref, fmt.Sprintf(format, args...))
	}
	switch {
	case x.SockType != unix.SOCK_RAW && x.SockType != unix.SOCK_DGRAM:
		return bad("socket type %d", x.SockType)
	case x.Protocol > 0xffff || x.Num > 0xffff:
		return bad("protocol %#x or %#x", x.Protocol, x.Num)
	case x.Flags&unix.O_ACCMODE == unix.O_ACCMODE:
		return bad("open flags %#o have no access mode", x.Flags)
	case x.Version > unix.TPACKET_V3:
		return bad("PACKET_VERSION %d", x.Version)
	case x.Reserve > 1<<31-1 || x.CopyThresh > 1<<31-1 || x.Timestamp > 1<<31-1:
		return bad("PACKET_RESERVE %d, PACKET_COPY_THRESH %d or PACKET_TIMESTAMP %#x", x.Reserve, x.CopyThresh, x.Timestamp)
	case x.PktFlags&^image.PacketAllFlags != 0:
		return bad("unknown option bits %#x", x.PktFlags&^image.PacketAllFlags)
	case x.Ifindex > 1<<31-1 || (x.Ifindex == 0) != (x.IfName == "") || len(x.IfName) >= unix.IFNAMSIZ:
		return bad("interface %d named %q", x.Ifindex, x.IfName)
	case len(x.Memberships) > image.PacketMaxMemberships:
		return bad("%d memberships", len(x.Memberships))
	case x.Fanout != 0 && !fanoutRestorable(x.Fanout):
		return bad("PACKET_FANOUT %#x", x.Fanout)
	}
	for _, m := range x.Memberships {
		if m.Ifindex == 0 || m.Ifindex > 1<<31-1 || m.Count == 0 || m.Count > image.PacketMaxCount || m.MrType > unix.PACKET_MR_UNICAST || m.Alen > 8 || m.IfName[0] == 0 {
			return bad("membership of interface %d: %d times, type %d, %d address bytes", m.Ifindex, m.Count, m.MrType, m.Alen)
		}
	}
	for _, o := range x.Opts {
		ok := false
		for _, a := range image.PacketOpts {
			ok = ok || (uint32(a.Level) == o.Level && uint32(a.Name) == o.Name && o.Reserved == 0)
		}
		if !ok {
			return bad("option level %d name %d is not one PACKET_SK may hold", o.Level, o.Name)
		}
	}
	return nil
}

// openPacket makes the socket in the task, so in the task's network
// namespace, and sets it up from the restorer's copy of it, which it keeps.
func (rs *restorer) openPacket(t *taskPlan, objref uint32, x *image.PacketSk, min int) (int, error) {
	lt := t.leader
	typ := uintptr(x.SockType)
	if x.Flags&unix.O_NONBLOCK != 0 {
		typ |= unix.SOCK_NONBLOCK
	}
	// Made for the protocol it receives now: what socket(2) was given
	// shows nowhere else once the socket is bound.
	fd, err := lt.Syscall(unix.SYS_SOCKET, unix.AF_PACKET, typ, uintptr(x.Num))
	if err != nil {
		return -1, fmt.Errorf("socket(AF_PACKET, %d, %#x): %w", x.SockType, x.Num, err)
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
	if err := setupPacket(f, x, rs.inet.states[objref]); err != nil {
		return -1, fmt.Errorf("packet socket of protocol %#x: %w", x.Num, err)
	}
	return tmp, nil
}

// setupPacket gives a new packet socket the saved options, interface,
// memberships and socket-level state. The interfaces are those of the
// task's network namespace, which must have each under its saved name
// and index.
func setupPacket(f *os.File, x *image.PacketSk, ss *image.SockState) error {
	fd := int(f.Fd())
	if err := setBufSizes(fd, x.SndBuf, x.RcvBuf); err != nil {
		return err
	}
	for _, o := range x.Opts {
		if cur, err := unix.GetsockoptInt(fd, int(o.Level), int(o.Name)); err == nil && cur == int(o.Value) {
			continue
		}
		if err := unix.SetsockoptInt(fd, int(o.Level), int(o.Name), int(o.Value)); err != nil {
			return fmt.Errorf("setsockopt level %d name %d to %d: %w", o.Level, o.Name, o.Value, err)
		}
	}
	for _, o := range []struct {
		name  int
		label string
		v     uint32
	}{{unix.PACKET_VERSION, "PACKET_VERSION", x.Version}, {unix.PACKET_RESERVE, "PACKET_RESERVE", x.Reserve},
		{unix.PACKET_COPY_THRESH, "PACKET_COPY_THRESH", x.CopyThresh}, {unix.PACKET_TIMESTAMP, "PACKET_TIMESTAMP", x.Timestamp}} {
		if o.v == 0 {
			continue // a new socket's
		}
		if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, o.name, int(o.v)); err != nil {
			return fmt.Errorf("setsockopt %s %d: %w", o.label, o.v, err)
		}
	}
	for _, o := range packetOpts {
		if x.PktFlags&o.bit == 0 {
			continue
		}
		if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, o.name, 1); err != nil {
			return fmt.Errorf("setsockopt SOL_PACKET %d: %w", o.name, err)
		}
	}
	if ss != nil && ss.BindDev != "" {
		if err := unix.SetsockoptString(fd, unix.SOL_SOCKET, unix.SO_BINDTODEVICE, ss.BindDev); err != nil {
			return fmt.Errorf("setsockopt SO_BINDTODEVICE %q: %w", ss.BindDev, err)
		}
	}
	if x.Ifindex != 0 {
		if err := sameInterface(fd, x.Ifindex, x.IfName); err != nil {
			return err
		}
		// sll_protocol as it is in memory: network byte order, as x/sys
		// keeps it.
		if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: uint16(x.Num), Ifindex: int(x.Ifindex)}); err != nil {
			return fmt.Errorf("bind to interface %d (%s), protocol %#x: %w", x.Ifindex, x.IfName, x.Num, err)
		}
	}
	for _, m := range x.Memberships {
		name := string(bytes.TrimRight(m.IfName[:], "\x00"))
		if err := sameInterface(fd, m.Ifindex, name); err != nil {
			return fmt.Errorf("membership: %w", err)
		}
		mr := unix.PacketMreq{Ifindex: int32(m.Ifindex), Type: uint16(m.MrType), Alen: uint16(m.Alen)}
		copy(mr.Address[:], m.Addr[:m.Alen])
		for range m.Count {
			if err := unix.SetsockoptPacketMreq(fd, unix.SOL_PACKET, unix.PACKET_ADD_MEMBERSHIP, &mr); err != nil {
				return fmt.Errorf("PACKET_ADD_MEMBERSHIP of interface %d (%s), type %d: %w", m.Ifindex, name, m.MrType, err)
			}
		}
	}
	if x.Fanout != 0 {
		// The first member restored makes the group, the others join
		// it (net/packet/af_packet.c fanout_add: same id, mode and
		// flags); the checkpoint made sure no other process is in it.
		if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_FANOUT, int(x.Fanout)); err != nil {
			return fmt.Errorf("PACKET_FANOUT %#x (group %d): %w", x.Fanout, x.Fanout&0xffff, err)
		}
	}
	return setSockState(fd, ss)
}

// fanoutRestorable: a PACKET_FANOUT value of a known mode without a
// program, with known flags and an id the process chose.
func fanoutRestorable(v uint32) bool {
	mode, flags := (v>>16)&0xff, (v>>24)<<8
	known := uint32(unix.PACKET_FANOUT_FLAG_ROLLOVER | unix.PACKET_FANOUT_FLAG_IGNORE_OUTGOING | unix.PACKET_FANOUT_FLAG_DEFRAG)
	return mode <= unix.PACKET_FANOUT_QM && flags&^known == 0
}

// sameInterface refuses an interface that the network namespace of socket
// fd does not have under the saved name and index: the socket would
// listen to another one, or to none.
func sameInterface(fd int, index uint32, name string) error {
	ifr, err := unix.NewIfreq("")
	if err != nil {
		return err
	}
	ifr.SetUint32(index)
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFNAME, ifr); err != nil {
		return fmt.Errorf("interface %d (%s) is not in the restored network namespace: %w", index, name, err)
	}
	if got := ifr.Name(); got != name {
		return fmt.Errorf("interface %d is %s in the restored network namespace, not %s as it was", index, got, name)
	}
	return nil
}
