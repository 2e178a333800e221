package checkpoint

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
	"github.com/ckpt/ckpt/internal/kernel"
)

func init() {
	registerFileKind(fileKind{name: "packet socket", modes: []uint32{unix.S_IFSOCK},
		is: sockProto("PACKET"), dump: (*dumper).dumpPacket, extra: (*dumper).sockStateExtra})
}

// packetFlags are the on/off SOL_PACKET options of PACKET_SK PktFlags.
var packetFlags = []struct {
	name  int
	label string
	bit   uint32
}{
	{unix.PACKET_AUXDATA, "PACKET_AUXDATA", image.PacketAuxdata},
	{unix.PACKET_ORIGDEV, "PACKET_ORIGDEV", image.PacketOrigdev},
	{unix.PACKET_LOSS, "PACKET_LOSS", image.PacketLoss},
	{unix.PACKET_QDISC_BYPASS, "PACKET_QDISC_BYPASS", image.PacketQdiscBypass},
	{unix.PACKET_VNET_HDR, "PACKET_VNET_HDR", image.PacketVnetHdr},
	{unix.PACKET_IGNORE_OUTGOING, "PACKET_IGNORE_OUTGOING", image.PacketIgnoreOutgoing},
}

// dumpPacket saves a packet socket: its type and protocols, the interface
// it is bound to (by index and name), its SOL_PACKET options and its
// memberships and fanout group from sock_diag and the socket, its
// socket-level state in a SOCK_STATE. Queued packets, mmap'ed rings and
// fanout groups restore cannot rebuild are refused.
func (d *dumper) dumpPacket(p *process, of *openFd, obj string) (image.Record, error) {
	f, err := takeFd(p.pid, of.fd)
	if err != nil {
		return nil, fmt.Errorf("task %d %s: %w", p.pid, obj, err)
	}
	defer f.Close()
	fd := int(f.Fd())
	fail := func(err error) (image.Record, error) { return nil, fmt.Errorf("task %d %s: %w", p.pid, obj, err) }
	rec := &image.PacketSk{Flags: of.info.Flags & openFlagsMask}
	get := func(level, name int, label string) (int, error) {
		v, err := unix.GetsockoptInt(fd, level, name)
		if err != nil {
			return 0, fmt.Errorf("getsockopt %s: %w", label, err)
		}
		return v, nil
	}
	for _, o := range []struct {
		level, name int
		label       string
		to          *uint32
	}{{unix.SOL_SOCKET, unix.SO_TYPE, "SO_TYPE", &rec.SockType},
		{unix.SOL_SOCKET, unix.SO_PROTOCOL, "SO_PROTOCOL", &rec.Protocol},
		{unix.SOL_SOCKET, unix.SO_SNDBUF, "SO_SNDBUF", &rec.SndBuf},
		{unix.SOL_SOCKET, unix.SO_RCVBUF, "SO_RCVBUF", &rec.RcvBuf},
		{unix.SOL_PACKET, unix.PACKET_VERSION, "PACKET_VERSION", &rec.Version},
		{unix.SOL_PACKET, unix.PACKET_RESERVE, "PACKET_RESERVE", &rec.Reserve},
		{unix.SOL_PACKET, unix.PACKET_TIMESTAMP, "PACKET_TIMESTAMP", &rec.Timestamp}} {
		v, err := get(o.level, o.name, o.label)
		if err != nil {
			return fail(err)
		}
		*o.to = uint32(v)
	}
	// socket(2) takes the protocol in network byte order; SO_PROTOCOL
	// gives back the int stored, so its low 16 bits are that.
	rec.Protocol &= 0xffff
	for _, o := range packetFlags {
		v, err := get(unix.SOL_PACKET, o.name, o.label)
		if err != nil {
			return fail(err)
		}
		if v != 0 {
			rec.PktFlags |= o.bit
		}
	}
	for _, o := range image.PacketOpts {
		v, err := get(o.Level, o.Name, o.Label)
		if err != nil {
			return fail(err)
		}
		rec.Opts = append(rec.Opts, image.SockOpt{Level: uint32(o.Level), Name: uint32(o.Name), Value: int32(v)})
	}
	fo, err := get(unix.SOL_PACKET, unix.PACKET_FANOUT, "PACKET_FANOUT")
	if err != nil {
		return fail(err)
	}
	rec.Fanout = uint32(fo)
	sa, err := unix.Getsockname(fd)
	if err != nil {
		return fail(fmt.Errorf("getsockname: %w", err))
	}
	ll, ok := sa.(*unix.SockaddrLinklayer)
	if !ok {
		return fail(fmt.Errorf("getsockname: not a sockaddr_ll (%T)", sa))
	}
	// x/sys/unix keeps sll_protocol's bytes as they are: network order.
	rec.Num, rec.Ifindex = uint32(ll.Protocol), uint32(ll.Ifindex)
	all, err := kernel.PacketSockets(fmt.Sprintf("/proc/%d/ns/net", p.pid))
	if err != nil {
		return fail(fmt.Errorf("list packet sockets: %w", err))
	}
	ds := all[uint32(of.st.Ino)]
	if ds == nil {
		return nil, unsupported(p.pid, obj, "a packet socket that sock_diag does not list in the task's network namespace")
	}
	switch {
	case ds.RxRing || ds.TxRing:
		return nil, unsupported(p.pid, obj, "packet socket with an mmap'ed ring (PACKET_RX_RING/PACKET_TX_RING): its frames and the task's mapping of them are not restored")
	case ds.HasFanout != (rec.Fanout != 0) || ds.Fanout != rec.Fanout&0xffffff: // diag leaves the flags out
		return fail(fmt.Errorf("PACKET_FANOUT %#x, but sock_diag says %#x", rec.Fanout, ds.Fanout))
	}
	if rec.Fanout != 0 {
		if err := d.checkFanout(p.pid, obj, rec.Fanout, all); err != nil {
			return nil, err
		}
	}
	if ds.RmemAlloc > 0 {
		return nil, unsupported(p.pid, obj, "%d bytes of packets queued for reading: restore cannot queue them again", ds.RmemAlloc)
	}
	rec.CopyThresh = ds.CopyThresh
	if _, err := rawPending(fd); err != nil {
		if errors.Is(err, errQueued) {
			return nil, unsupported(p.pid, obj, "%v: restore cannot queue it again", err)
		}
		return fail(err)
	}
	if rec.Ifindex != 0 {
		if rec.IfName, err = ifName(fd, rec.Ifindex); err != nil {
			return fail(err)
		}
	}
	if rec.Memberships, err = packetMemberships(p.pid, obj, fd, ds.Mclist); err != nil {
		return nil, err
	}
	ss, err := sockStateOf(fd, 0)
	if err != nil {
		return fail(err)
	}
	if ss != nil {
		if d.fileExtra == nil {
			d.fileExtra = map[image.Record][]image.Record{}
		}
		d.fileExtra[rec] = []image.Record{ss}
	}
	return rec, nil
}

// ifName names interface index in the network namespace of socket fd
// (SIOCGIFNAME asks the socket's namespace).
func ifName(fd int, index uint32) (string, error) {
	ifr, err := unix.NewIfreq("")
	if err != nil {
		return "", err
	}
	ifr.SetUint32(index)
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFNAME, ifr); err != nil {
		return "", fmt.Errorf("interface %d: SIOCGIFNAME: %w", index, err)
	}
	return ifr.Name(), nil
}

// checkFanout refuses a fanout group restore could not rebuild exactly:
// one whose mode steers packets with a program (PACKET_FANOUT_CBPF,
// PACKET_FANOUT_EBPF: PACKET_FANOUT_DATA cannot be read back), one whose id
// the kernel chose (PACKET_FANOUT_FLAG_UNIQUEID: restore would have to give
// it), and one a process outside the tree is in: restore rebuilds the
// group from its members in the tree alone. all are the packet sockets of
// the socket's network namespace, where group ids live.
func (d *dumper) checkFanout(pid int, obj string, fanout uint32, all map[uint32]*kernel.PacketSock) error {
	id, mode, flags := fanout&0xffff, (fanout>>16)&0xff, fanout>>24
	switch {
	case mode == unix.PACKET_FANOUT_CBPF || mode == unix.PACKET_FANOUT_EBPF:
		return unsupported(pid, obj, "packet socket in fanout group %d of mode %d: its BPF program (PACKET_FANOUT_DATA) cannot be read back", id, mode)
	case flags<<8&unix.PACKET_FANOUT_FLAG_UNIQUEID != 0:
		return unsupported(pid, obj, "packet socket in fanout group %d, whose id the kernel chose (PACKET_FANOUT_FLAG_UNIQUEID): not restored", id)
	}
	for ino, s := range all {
		if !s.HasFanout || s.Fanout&0xffff != id {
			continue
		}
		if holder, ok := d.heldOutside(uint64(ino)); ok {
			return unsupported(pid, obj, "packet socket in fanout group %d, which process %d outside the checkpointed tree is in too (socket:[%d])", id, holder, ino)
		}
	}
	return nil
}

// heldOutside finds a process outside the tree that has socket ino open.
func (d *dumper) heldOutside(ino uint64) (int, bool) {
	want := fmt.Sprintf("socket:[%d]", ino)
	for _, o := range d.outsiders {
		dir := fmt.Sprintf("/proc/%d/fd", o.pid)
		ents, err := os.ReadDir(dir)
		if err != nil {
			continue // gone, or denied: it holds nothing we could learn of
		}
		for _, e := range ents {
			if l, err := os.Readlink(dir + "/" + e.Name()); err == nil && l == want {
				return o.pid, true
			}
		}
	}
	return 0, false
}

// packetMemberships turns sock_diag's PACKET_DIAG_MCLIST into PACKET_SK
// Memberships, naming each interface; what restore could not add back
// exactly is refused.
func packetMemberships(pid int, obj string, fd int, mcs []kernel.PacketMc) ([]image.PacketMembership, error) {
	if len(mcs) > image.PacketMaxMemberships {
		return nil, unsupported(pid, obj, "%d memberships (at most %d)", len(mcs), image.PacketMaxMemberships)
	}
	var out []image.PacketMembership
	for _, mc := range mcs {
		if mc.Count > image.PacketMaxCount {
			return nil, unsupported(pid, obj, "a membership of interface %d added %d times (at most %d are restored)", mc.Ifindex, mc.Count, image.PacketMaxCount)
		}
		if mc.Alen > 8 {
			return nil, unsupported(pid, obj, "a membership of interface %d with a %d-byte address (at most 8 are restored)", mc.Ifindex, mc.Alen)
		}
		m := image.PacketMembership{Ifindex: mc.Ifindex, Count: mc.Count, MrType: uint32(mc.Type), Alen: uint32(mc.Alen), Addr: mc.Addr}
		name, err := ifName(fd, mc.Ifindex)
		if err != nil {
			return nil, fmt.Errorf("task %d %s: %w", pid, obj, err)
		}
		copy(m.IfName[:], name)
		out = append(out, m)
	}
	return out, nil
}
