package restore

import (
	"errors"
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
)

func TestCheckRawSkRefuses(t *testing.T) {
	good := image.RawSk{Objref: 1, Flags: 2, Family: unix.AF_INET6, Protocol: unix.IPPROTO_ICMPV6, Connected: 1,
		ScopeID: 3, HdrIncl: 1, IcmpFilter: make([]uint32, 8),
		Opts: []image.SockOpt{{Level: unix.IPPROTO_IPV6, Name: unix.IPV6_UNICAST_HOPS, Value: 7}}}
	if err := checkRawSk(&good, false); err != nil {
		t.Fatalf("a good RAW_SK refused: %v", err)
	}
	goodIcmp := image.RawSk{Objref: 1, Family: unix.AF_INET, Protocol: unix.IPPROTO_ICMP, LocalPort: 0x1234,
		Opts: []image.SockOpt{{Level: unix.IPPROTO_IP, Name: unix.IP_TTL, Value: 33}}}
	if err := checkRawSk(&goodIcmp, true); err != nil {
		t.Fatalf("a good ICMP_SK refused: %v", err)
	}
	for name, c := range map[string]struct {
		icmp   bool
		damage func(*image.RawSk)
	}{
		"another family":           {false, func(x *image.RawSk) { x.Family = unix.AF_PACKET }},
		"protocol past 255":        {false, func(x *image.RawSk) { x.Protocol = 256 }},
		"no access mode":           {false, func(x *image.RawSk) { x.Flags = 3 }},
		"connected twice":          {false, func(x *image.RawSk) { x.Connected = 2 }},
		"a raw socket's port":      {false, func(x *image.RawSk) { x.LocalPort = 1 }},
		"v6 filter of 1 word":      {false, func(x *image.RawSk) { x.IcmpFilter = []uint32{1} }},
		"filter of a UDP protocol": {false, func(x *image.RawSk) { x.Protocol = unix.IPPROTO_UDP }},
		"a TCP option":             {false, func(x *image.RawSk) { x.Opts = []image.SockOpt{{Level: unix.IPPROTO_TCP, Name: unix.TCP_NODELAY}} }},
		"a v4 option on v6":        {false, func(x *image.RawSk) { x.Opts = []image.SockOpt{{Level: unix.IPPROTO_IP, Name: unix.IP_TTL}} }},
		"negative timeout":         {false, func(x *image.RawSk) { x.RcvTimeoNs = -1 }},
		"ICMP of UDP":              {true, func(x *image.RawSk) { x.Protocol = unix.IPPROTO_UDP }},
		"ICMP with HdrIncl":        {true, func(x *image.RawSk) { x.HdrIncl = 1 }},
		"ICMP with a filter":       {true, func(x *image.RawSk) { x.IcmpFilter = []uint32{1} }},
		"ICMP port past 65535":     {true, func(x *image.RawSk) { x.LocalPort = 1 << 16 }},
		"AF_INET with a scope":     {true, func(x *image.RawSk) { x.ScopeID = 1 }},
	} {
		x := good
		if c.icmp {
			x = goodIcmp
		}
		c.damage(&x)
		if err := checkRawSk(&x, c.icmp); !errors.Is(err, ErrBadImage) {
			t.Errorf("%s: %v, want ErrBadImage", name, err)
		}
	}
}

func TestCheckPacketRefuses(t *testing.T) {
	mb := image.PacketMembership{Ifindex: 1, Count: 2, MrType: unix.PACKET_MR_PROMISC, IfName: [16]byte{'l', 'o'}}
	good := image.PacketSk{Objref: 1, SockType: unix.SOCK_RAW, Num: 0x0300, Ifindex: 1, IfName: "lo",
		Version: unix.TPACKET_V3, PktFlags: image.PacketAllFlags, Memberships: []image.PacketMembership{mb},
		Fanout: 0x77 | (unix.PACKET_FANOUT_QM|unix.PACKET_FANOUT_FLAG_ROLLOVER|unix.PACKET_FANOUT_FLAG_DEFRAG)<<16,
		Opts:   []image.SockOpt{{Level: unix.SOL_SOCKET, Name: unix.SO_MARK, Value: 5}}}
	if err := checkPacket(&good); err != nil {
		t.Fatalf("a good PACKET_SK refused: %v", err)
	}
	for name, damage := range map[string]func(*image.PacketSk){
		"a stream socket":        func(x *image.PacketSk) { x.SockType = unix.SOCK_STREAM },
		"protocol past 16 bits":  func(x *image.PacketSk) { x.Num = 1 << 16 },
		"TPACKET_V4":             func(x *image.PacketSk) { x.Version = 3 },
		"unknown option bit":     func(x *image.PacketSk) { x.PktFlags = 1 << 20 },
		"interface without name": func(x *image.PacketSk) { x.IfName = "" },
		"name without interface": func(x *image.PacketSk) { x.Ifindex = 0 },
		"a long interface name":  func(x *image.PacketSk) { x.IfName = "0123456789abcdef" },
		"reserve past INT_MAX":   func(x *image.PacketSk) { x.Reserve = 1 << 31 },
		"another option":         func(x *image.PacketSk) { x.Opts = []image.SockOpt{{Level: unix.SOL_SOCKET, Name: unix.SO_REUSEADDR}} },
		"membership counted 257": func(x *image.PacketSk) {
			x.Memberships = []image.PacketMembership{{Ifindex: 1, Count: image.PacketMaxCount + 1, IfName: mb.IfName}}
		},
		"membership counted 0": func(x *image.PacketSk) {
			x.Memberships = []image.PacketMembership{{Ifindex: 1, IfName: mb.IfName}}
		},
		"membership of a long address": func(x *image.PacketSk) {
			x.Memberships = []image.PacketMembership{{Ifindex: 1, Count: 1, Alen: 9, IfName: mb.IfName}}
		},
		"membership of no interface": func(x *image.PacketSk) { x.Memberships = []image.PacketMembership{{Count: 1, IfName: mb.IfName}} },
		"fanout with a program":      func(x *image.PacketSk) { x.Fanout = 7 | unix.PACKET_FANOUT_EBPF<<16 },
		"fanout of a unique id":      func(x *image.PacketSk) { x.Fanout = 7 | unix.PACKET_FANOUT_FLAG_UNIQUEID<<16 },
		"too many memberships": func(x *image.PacketSk) {
			x.Memberships = make([]image.PacketMembership, image.PacketMaxMemberships+1)
		},
	} {
		x := good
		damage(&x)
		if err := checkPacket(&x); !errors.Is(err, ErrBadImage) {
			t.Errorf("%s: %v, want ErrBadImage", name, err)
		}
	}
}

// TestCheckPingGroup: without CAP_NET_RAW in the grant, a task gets an
// ICMP socket only when its egid or a group is in its network namespace's
// ping_group_range (here ours, read the same way).
func TestCheckPingGroup(t *testing.T) {
	lo, hi, err := pingRangeOf(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	narrow := &Grant{From: "the test"}
	rs := &restorer{opts: Options{Grant: narrow}}
	task := func(egid uint32, groups ...uint32) *taskPlan {
		return &taskPlan{rec: image.Task{Pid: 7}, pid: os.Getpid(), creds: &image.Creds{Egid: egid, Groups: groups}}
	}
	outside := hi + 1 // above the range; with the "1 0" of no group, 1 is outside too
	if lo > hi {
		outside = 1
	}
	if err := rs.checkPingGroup(task(outside)); err == nil || !strings.Contains(err.Error(), "ping_group_range") {
		t.Errorf("egid %d outside %d-%d: %v, want a refusal naming ping_group_range", outside, lo, hi, err)
	}
	if lo <= hi {
		if err := rs.checkPingGroup(task(outside, lo)); err != nil {
			t.Errorf("group %d in %d-%d: %v", lo, lo, hi, err)
		}
	}
	rs.opts.Grant = &Grant{From: "the test", CapPrm: 1 << unix.CAP_NET_RAW}
	if err := rs.checkPingGroup(task(outside)); err != nil {
		t.Errorf("a grant with CAP_NET_RAW: %v", err)
	}
	rs.opts.Grant = narrow
	if err := rs.checkPingGroup(&taskPlan{rec: image.Task{Pid: 7}, pid: os.Getpid()}); !errors.Is(err, ErrBadImage) {
		t.Errorf("no CREDS: %v, want ErrBadImage", err)
	}
}
