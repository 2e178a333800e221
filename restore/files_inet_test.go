package restore

import (
	"errors"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
	"github.com/ckpt/ckpt/internal/allow"
)

func goodInet() image.InetSocket {
	return image.InetSocket{Objref: 5, Family: unix.AF_INET, SockType: unix.SOCK_STREAM, Protocol: unix.IPPROTO_TCP,
		State: image.InetListen, Backlog: 8, LocalPort: 8080,
		Opts: []image.SockOpt{{Level: unix.SOL_SOCKET, Name: unix.SO_REUSEADDR, Value: 1}}}
}

func TestCheckInetSocketRefuses(t *testing.T) {
	rs := &restorer{}
	g := goodInet()
	if err := rs.checkInetSocket(&g); err != nil {
		t.Fatalf("a good record refused: %v", err)
	}
	bad := map[string]func(*image.InetSocket){
		"unix family":         func(x *image.InetSocket) { x.Family = unix.AF_UNIX },
		"raw socket":          func(x *image.InetSocket) { x.SockType, x.Protocol = unix.SOCK_RAW, unix.IPPROTO_ICMP },
		"udp over stream":     func(x *image.InetSocket) { x.Protocol = unix.IPPROTO_UDP },
		"unknown state":       func(x *image.InetSocket) { x.State = 4 },
		"udp listening":       func(x *image.InetSocket) { x.SockType, x.Protocol = unix.SOCK_DGRAM, unix.IPPROTO_UDP },
		"listening unbound":   func(x *image.InetSocket) { x.LocalPort = 0 },
		"port above 65535":    func(x *image.InetSocket) { x.LocalPort = 70000 },
		"backlog when closed": func(x *image.InetSocket) { x.State = image.InetClose },
		"established no peer": func(x *image.InetSocket) { x.State, x.Backlog = image.InetEstablished, 0 },
		"scope id on ipv4":    func(x *image.InetSocket) { x.ScopeID = 2 },
		"option not in list": func(x *image.InetSocket) {
			x.Opts = []image.SockOpt{{Level: unix.SOL_SOCKET, Name: unix.SO_ATTACH_FILTER}}
		},
		"ipv6 option on ipv4": func(x *image.InetSocket) {
			x.Opts = []image.SockOpt{{Level: unix.IPPROTO_IPV6, Name: unix.IPV6_V6ONLY}}
		},
		"option reserved set":   func(x *image.InetSocket) { x.Opts[0].Reserved = 1 },
		"negative send timeout": func(x *image.InetSocket) { x.SndTimeoNs = -1 },
	}
	for name, damage := range bad {
		x := goodInet()
		damage(&x)
		if err := rs.checkInetSocket(&x); !errors.Is(err, ErrBadImage) {
			t.Errorf("%s: %v, want ErrBadImage", name, err)
		}
	}
}

// An established TCP socket must be followed by its TCP_STREAM and then
// exactly its queued data; restore refuses the image otherwise, and
// refuses it altogether without --tcp-established.
func TestTcpStreamOrder(t *testing.T) {
	est := goodInet()
	est.State, est.Backlog, est.PeerPort = image.InetEstablished, 0, 4242
	st := &image.TcpStream{Socket: 5, MSS: 1460, SendLen: 3, RecvLen: 2, Unsent: 1}
	rs := &restorer{}
	if err := rs.checkInetSocket(&est); err == nil || errors.Is(err, ErrBadImage) {
		t.Errorf("without --tcp-established: %v, want a refusal naming the option", err)
	}
	feed := func(recs ...image.Record) error {
		rs := &restorer{opts: Options{Allow: allow.Allow{TcpEstablished: true}}}
		e := est
		if err := rs.checkInetSocket(&e); err != nil {
			return err
		}
		for _, r := range recs {
			if err := rs.checkInetOrder(r); err != nil {
				return err
			}
			switch x := r.(type) {
			case *image.TcpStream:
				if err := rs.addTcpStream(x); err != nil {
					return err
				}
			case *image.TcpQueue:
				if err := rs.addTcpQueue(x); err != nil {
					return err
				}
			}
		}
		if rs.inet.want != nil {
			return rs.checkInetOrder(&image.Files{})
		}
		return nil
	}
	recv := &image.TcpQueue{Socket: 5, Queue: image.TcpRecvQueue, Data: []byte("ab")}
	send := &image.TcpQueue{Socket: 5, Queue: image.TcpSendQueue, Data: []byte("xyz")}
	if err := feed(st, recv, send); err != nil {
		t.Fatalf("a good stream refused: %v", err)
	}
	bad := map[string][]image.Record{
		"no stream":         {&image.Files{}},
		"data missing":      {st, recv},
		"send before recv":  {st, send, recv},
		"too much data":     {st, recv, send, &image.TcpQueue{Socket: 5, Queue: image.TcpSendQueue, Data: []byte("!")}},
		"other socket":      {&image.TcpStream{Socket: 6, MSS: 1}},
		"unknown queue":     {st, &image.TcpQueue{Socket: 5, Queue: 3, Data: []byte("ab")}},
		"unsent > queued":   {&image.TcpStream{Socket: 5, MSS: 1, SendLen: 1, Unsent: 2}},
		"window scale 15":   {&image.TcpStream{Socket: 5, MSS: 1, SndWscale: 15}},
		"unknown option":    {&image.TcpStream{Socket: 5, MSS: 1, Options: 8}},
		"stream after data": {st, recv, send, st},
	}
	for name, recs := range bad {
		if err := feed(recs...); !errors.Is(err, ErrBadImage) {
			t.Errorf("%s: %v, want ErrBadImage", name, err)
		}
	}
}

// A connecting TCP socket must be followed at once by its TCP_SYN_SENT,
// and a TCP_SYN_SENT come nowhere else; restore refuses it altogether
// without --tcp-established.
func TestTcpSynSentOrder(t *testing.T) {
	syn := goodInet()
	syn.State, syn.Backlog, syn.PeerPort = image.InetSynSent, 0, 4242
	rs := &restorer{}
	if err := rs.checkInetSocket(&syn); err == nil || errors.Is(err, ErrBadImage) {
		t.Errorf("without --tcp-established: %v, want a refusal naming the option", err)
	}
	feed := func(sock *image.InetSocket, recs ...image.Record) error {
		rs := &restorer{opts: Options{Allow: allow.Allow{TcpEstablished: true}}}
		if sock != nil {
			if err := rs.checkInetSocket(sock); err != nil {
				return err
			}
		}
		for _, r := range recs {
			if err := rs.checkInetOrder(r); err != nil {
				return err
			}
			if x, ok := r.(*image.TcpSynSent); ok {
				if err := rs.addTcpSynSent(x); err != nil {
					return err
				}
			}
		}
		return nil
	}
	good := &image.TcpSynSent{Socket: 5, Seq: 12345}
	s := syn
	if err := feed(&s, good, &image.Files{}); err != nil {
		t.Fatalf("a good connecting socket refused: %v", err)
	}
	listening := goodInet()
	udp := syn
	udp.SockType, udp.Protocol = unix.SOCK_DGRAM, unix.IPPROTO_UDP
	noPeer := syn
	noPeer.PeerPort = 0
	bad := map[string]struct {
		sock *image.InetSocket
		recs []image.Record
	}{
		"no TCP_SYN_SENT":       {&syn, []image.Record{&image.Files{}}},
		"another socket's":      {&syn, []image.Record{&image.TcpSynSent{Socket: 6}}},
		"after a listener":      {&listening, []image.Record{good}},
		"alone":                 {nil, []image.Record{good}},
		"udp connecting":        {&udp, nil},
		"connecting, no peer":   {&noPeer, nil},
		"TCP_STREAM instead":    {&syn, []image.Record{&image.TcpStream{Socket: 5, MSS: 1}}},
		"a second TCP_SYN_SENT": {&syn, []image.Record{good, good}},
	}
	for name, c := range bad {
		var sock *image.InetSocket
		if c.sock != nil {
			x := *c.sock
			sock = &x
		}
		if err := feed(sock, c.recs...); !errors.Is(err, ErrBadImage) {
			t.Errorf("%s: %v, want ErrBadImage", name, err)
		}
	}
}

// An option only CAP_NET_RAW or CAP_NET_ADMIN may set is refused for a
// task that has neither.
func TestInetOptsPermitted(t *testing.T) {
	withOpt := func(level, name uint32, v int32) *image.InetSocket {
		s := goodInet()
		s.Opts = append(s.Opts, image.SockOpt{Level: level, Name: name, Value: v})
		return &s
	}
	none := &image.Creds{}
	admin := &image.Creds{CapPrm: 1 << unix.CAP_NET_ADMIN}
	raw := &image.Creds{CapPrm: 1 << unix.CAP_NET_RAW}
	for _, c := range []struct {
		name string
		c    *image.Creds
		s    *image.InetSocket
		ok   bool
	}{
		{"transparent, no caps", none, withOpt(unix.IPPROTO_IP, unix.IP_TRANSPARENT, 1), false},
		{"transparent6, no caps", none, withOpt(unix.IPPROTO_IPV6, unix.IPV6_TRANSPARENT, 1), false},
		{"mark, no creds", nil, withOpt(unix.SOL_SOCKET, unix.SO_MARK, 5), false},
		{"transparent off, no caps", none, withOpt(unix.IPPROTO_IP, unix.IP_TRANSPARENT, 0), true},
		{"transparent, CAP_NET_ADMIN", admin, withOpt(unix.IPPROTO_IP, unix.IP_TRANSPARENT, 1), true},
		{"mark, CAP_NET_RAW", raw, withOpt(unix.SOL_SOCKET, unix.SO_MARK, 5), true},
		{"freebind, no caps", none, withOpt(unix.IPPROTO_IP, unix.IP_FREEBIND, 1), true},
	} {
		if err := inetOptsPermitted(c.c, c.s); (err == nil) != c.ok {
			t.Errorf("%s: %v, want ok=%v", c.name, err, c.ok)
		}
	}
}
