package restore

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
	"github.com/ckpt/ckpt/internal/kernel"
	"github.com/ckpt/ckpt/internal/netlock"
)

// tcpSynSent is a TCP socket whose connect(2) was in progress: its
// records, then the restorer's copy of the socket.
type tcpSynSent struct {
	sock *image.InetSocket
	syn  *image.TcpSynSent
	f    *os.File
	pid  int // the task it was made in
}

// checkSynSent takes a connecting INET_SOCKET, whose TCP_SYN_SENT must
// come next.
func (rs *restorer) checkSynSent(s *image.InetSocket) error {
	if !rs.opts.TcpEstablished {
		return fmt.Errorf("the image holds a TCP connect in progress (%s): restore it with --tcp-established", inetName(s))
	}
	if err := netlock.Available(); err != nil {
		return fmt.Errorf("TCP connect in progress (%s): %w", inetName(s), err)
	}
	sy := &tcpSynSent{sock: s}
	if rs.inet.synSent == nil {
		rs.inet.synSent = map[uint32]*tcpSynSent{}
	}
	rs.inet.synSent[s.Objref] = sy
	rs.inet.wantSyn = sy
	return nil
}

// checkSynSentOrder enforces that a connecting INET_SOCKET is followed by
// its TCP_SYN_SENT, and that no TCP_SYN_SENT comes elsewhere.
func (rs *restorer) checkSynSentOrder(rec image.Record) error {
	x, isSyn := rec.(*image.TcpSynSent)
	sy := rs.inet.wantSyn
	switch {
	case sy == nil && isSyn:
		return badImage("TCP_SYN_SENT of object %d does not follow a connecting TCP INET_SOCKET", x.Socket)
	case sy != nil && (!isSyn || x.Socket != sy.sock.Objref):
		return badImage("INET_SOCKET %d (a TCP connect in progress) is followed by %v, not its TCP_SYN_SENT", sy.sock.Objref, rec.Type())
	}
	return nil
}

// addTcpSynSent takes the TCP_SYN_SENT checkSynSentOrder expects.
func (rs *restorer) addTcpSynSent(x *image.TcpSynSent) error {
	rs.inet.wantSyn.syn = x
	rs.inet.wantSyn = nil
	return nil
}

// prepareSynSent gets a connecting socket ready for finishTcp's connect:
// its send sequence number set to that of the saved SYN, in repair mode,
// and bound to its address and port (in repair mode bind takes a port
// other sockets hold: sk_reuse is SK_FORCE_REUSE). Leaving repair mode
// keeps write_seq, and tcp_v4_connect and tcp_v6_connect choose an initial
// sequence number only when write_seq is 0, so the connect sends the same
// SYN again. (A SYN whose sequence number was 0 gets a new one: the
// kernel cannot be told to use 0.)
func prepareSynSent(fd int, sy *tcpSynSent) error {
	set := func(name, v int, what string) error {
		if err := unix.SetsockoptInt(fd, unix.IPPROTO_TCP, name, v); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		return nil
	}
	if err := set(unix.TCP_REPAIR, unix.TCP_REPAIR_ON, "enter TCP repair mode"); err != nil {
		return err
	}
	if err := set(unix.TCP_REPAIR_QUEUE, kernel.TCP_SEND_QUEUE, "TCP_REPAIR_QUEUE"); err != nil {
		return err
	}
	if err := set(unix.TCP_QUEUE_SEQ, int(int32(sy.syn.Seq)), "SYN sequence number"); err != nil {
		return err
	}
	if err := set(unix.TCP_REPAIR_QUEUE, kernel.TCP_NO_QUEUE, "TCP_REPAIR_QUEUE"); err != nil {
		return err
	}
	if err := unix.Bind(fd, bindAddr(sy.sock)); err != nil {
		return fmt.Errorf("bind: %w", err)
	}
	// On a socket that is not connected leaving repair mode sends nothing.
	if err := set(unix.TCP_REPAIR, unix.TCP_REPAIR_OFF_NO_WP, "leave TCP repair mode"); err != nil {
		return err
	}
	// Leaving repair mode reset SO_REUSEADDR (sk_reuse = SK_NO_REUSE).
	for _, o := range sy.sock.Opts {
		if o.Level == unix.SOL_SOCKET && o.Name == unix.SO_REUSEADDR && o.Value != 0 {
			if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, int(o.Value)); err != nil {
				return fmt.Errorf("SO_REUSEADDR: %w", err)
			}
		}
	}
	return nil
}

// connectSynSent sends the SYN of every connect that was in progress again,
// once the connections are unlocked (finishTcp), so that the answer gets
// through. The connect must not wait: the file's O_NONBLOCK, which the
// task shares, is turned on for it and put back (no task runs yet). A task
// that was blocked in connect(2) calls it again when it runs and waits on
// the connection in progress, as it did.
func (rs *restorer) connectSynSent() error {
	for _, sy := range rs.inet.connecting {
		fd := int(sy.f.Fd())
		name := inetName(sy.sock)
		fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
		if err != nil {
			return fmt.Errorf("socket %s: F_GETFL: %w", name, err)
		}
		if fl&unix.O_NONBLOCK == 0 {
			if _, err := unix.FcntlInt(uintptr(fd), unix.F_SETFL, fl|unix.O_NONBLOCK); err != nil {
				return fmt.Errorf("socket %s: F_SETFL: %w", name, err)
			}
		}
		err = unix.Connect(fd, sockaddr(sy.sock, sy.sock.Peer, sy.sock.PeerPort))
		if fl&unix.O_NONBLOCK == 0 {
			if _, e := unix.FcntlInt(uintptr(fd), unix.F_SETFL, fl); e != nil {
				return fmt.Errorf("socket %s: F_SETFL back: %w", name, e)
			}
		}
		if err != nil && !errors.Is(err, unix.EINPROGRESS) {
			return fmt.Errorf("socket %s: connect: %w", name, err)
		}
	}
	rs.inet.connecting = nil
	return nil
}
