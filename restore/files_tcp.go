package restore

import (
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
	"github.com/ckpt/ckpt/internal/kernel"
	"github.com/ckpt/ckpt/internal/netlock"
)

// checkInetOrder enforces that an established TCP socket is followed by its
// TCP_STREAM and then exactly its queued data, so that a stream missing
// data is refused while reading, before restore makes anything of it.
func (rs *restorer) checkInetOrder(rec image.Record) error {
	if err := rs.checkSynSentOrder(rec); err != nil {
		return err
	}
	ts := rs.inet.want
	if ts == nil {
		switch rec.(type) {
		case *image.TcpStream, *image.TcpQueue:
			return badImage("%v that does not follow an established TCP INET_SOCKET", rec.Type())
		}
		return nil
	}
	switch x := rec.(type) {
	case *image.TcpStream:
		if ts.st == nil && x.Socket == ts.sock.Objref {
			return nil
		}
	case *image.TcpQueue:
		if ts.st != nil && x.Socket == ts.sock.Objref {
			return nil
		}
	}
	if ts.st == nil {
		return badImage("INET_SOCKET %d (established TCP) is followed by %v, not its TCP_STREAM", ts.sock.Objref, rec.Type())
	}
	return badImage("TCP_STREAM of socket %d: %d of %d received and %d of %d queued bytes before %v",
		ts.sock.Objref, len(ts.recv), ts.st.RecvLen, len(ts.send), ts.st.SendLen, rec.Type())
}

// addTcpStream takes the TCP_STREAM of the socket checkInetOrder expects.
func (rs *restorer) addTcpStream(st *image.TcpStream) error {
	ts := rs.inet.want
	if st.Unsent > st.SendLen {
		return badImage("TCP_STREAM of socket %d: %d unsent bytes of %d queued", st.Socket, st.Unsent, st.SendLen)
	}
	if st.SndWscale > 14 || st.RcvWscale > 14 {
		return badImage("TCP_STREAM of socket %d: window scale %d/%d above 14", st.Socket, st.SndWscale, st.RcvWscale)
	}
	if st.Options&^(image.TcpOptTimestamps|image.TcpOptSack|image.TcpOptWscale) != 0 {
		return badImage("TCP_STREAM of socket %d: unknown option bits %#x", st.Socket, st.Options)
	}
	if st.MSS == 0 {
		return badImage("TCP_STREAM of socket %d: MSS 0", st.Socket)
	}
	ts.st = st
	rs.tcpStreamDone(ts)
	return nil
}

// addTcpQueue appends queued data to the stream checkInetOrder expects.
func (rs *restorer) addTcpQueue(q *image.TcpQueue) error {
	ts := rs.inet.want
	switch q.Queue {
	case image.TcpRecvQueue:
		if len(ts.send) > 0 || uint64(len(ts.recv))+uint64(len(q.Data)) > uint64(ts.st.RecvLen) {
			return badImage("TCP_QUEUE of socket %d: receive queue data beyond RecvLen %d or after send queue data", q.Socket, ts.st.RecvLen)
		}
		ts.recv = append(ts.recv, q.Data...)
	case image.TcpSendQueue:
		if uint64(len(ts.send))+uint64(len(q.Data)) > uint64(ts.st.SendLen) {
			return badImage("TCP_QUEUE of socket %d: send queue data beyond SendLen %d", q.Socket, ts.st.SendLen)
		}
		ts.send = append(ts.send, q.Data...)
	default:
		return badImage("TCP_QUEUE of socket %d: queue %d", q.Socket, q.Queue)
	}
	if len(q.Data) == 0 {
		return badImage("empty TCP_QUEUE of socket %d", q.Socket)
	}
	rs.tcpStreamDone(ts)
	return nil
}

// tcpStreamDone stops expecting records for a stream that has them all.
func (rs *restorer) tcpStreamDone(ts *tcpStream) {
	if len(ts.recv) == int(ts.st.RecvLen) && len(ts.send) == int(ts.st.SendLen) {
		rs.inet.want = nil
	}
}

// restoreTcpStream rebuilds an established connection in TCP repair mode:
// no handshake, the saved sequence numbers, options, window and queues.
// The socket stays in repair mode (and so silent) until finishTcp.
func restoreTcpStream(fd int, ts *tcpStream) error {
	s, st := ts.sock, ts.st
	set := func(name, v int, what string) error {
		if err := unix.SetsockoptInt(fd, unix.IPPROTO_TCP, name, v); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		return nil
	}
	if err := set(unix.TCP_REPAIR, unix.TCP_REPAIR_ON, "enter TCP repair mode"); err != nil {
		return err
	}
	// The sequence numbers go in before connect, which starts from them.
	if err := set(unix.TCP_REPAIR_QUEUE, kernel.TCP_RECV_QUEUE, "TCP_REPAIR_QUEUE"); err != nil {
		return err
	}
	if err := set(unix.TCP_QUEUE_SEQ, int(int32(st.RcvSeq)), "receive sequence number"); err != nil {
		return err
	}
	if err := set(unix.TCP_REPAIR_QUEUE, kernel.TCP_SEND_QUEUE, "TCP_REPAIR_QUEUE"); err != nil {
		return err
	}
	if err := set(unix.TCP_QUEUE_SEQ, int(int32(st.SndSeq)), "send sequence number"); err != nil {
		return err
	}
	// In repair mode bind may take a port a listening socket holds.
	if err := unix.Bind(fd, bindAddr(s)); err != nil {
		return fmt.Errorf("bind: %w", err)
	}
	if err := unix.Connect(fd, sockaddr(s, s.Peer, s.PeerPort)); err != nil {
		return fmt.Errorf("connect in repair mode: %w", err)
	}
	// Options are only taken before anything is sent.
	opts := []unix.TCPRepairOpt{{Code: unix.TCPOPT_MAXSEG, Val: st.MSS}}
	if st.Options&image.TcpOptWscale != 0 {
		opts = append(opts, unix.TCPRepairOpt{Code: unix.TCPOPT_WINDOW, Val: st.SndWscale | st.RcvWscale<<16})
	}
	if st.Options&image.TcpOptSack != 0 {
		opts = append(opts, unix.TCPRepairOpt{Code: unix.TCPOPT_SACK_PERMITTED})
	}
	if st.Options&image.TcpOptTimestamps != 0 {
		opts = append(opts, unix.TCPRepairOpt{Code: unix.TCPOPT_TIMESTAMP})
	}
	if err := kernel.SetTCPRepairOptions(fd, opts); err != nil {
		return fmt.Errorf("TCP_REPAIR_OPTIONS: %w", err)
	}
	if st.Options&image.TcpOptTimestamps != 0 {
		if err := set(unix.TCP_TIMESTAMP, int(int32(st.Timestamp)), "TCP_TIMESTAMP"); err != nil {
			return err
		}
	}
	if err := set(unix.TCP_REPAIR_QUEUE, kernel.TCP_RECV_QUEUE, "TCP_REPAIR_QUEUE"); err != nil {
		return err
	}
	if err := writeQueue(fd, ts.recv); err != nil {
		return fmt.Errorf("receive queue: %w", err)
	}
	if err := set(unix.TCP_REPAIR_QUEUE, kernel.TCP_SEND_QUEUE, "TCP_REPAIR_QUEUE"); err != nil {
		return err
	}
	if err := writeQueue(fd, ts.send[:st.SendLen-st.Unsent]); err != nil {
		return fmt.Errorf("send queue: %w", err)
	}
	if err := set(unix.TCP_REPAIR_QUEUE, kernel.TCP_NO_QUEUE, "TCP_REPAIR_QUEUE"); err != nil {
		return err
	}
	// The window is checked against rcv_nxt, which the receive queue moved
	// to where it was.
	w := &kernel.TCPRepairWindow{SndWl1: st.SndWl1, SndWnd: st.SndWnd, MaxWindow: st.MaxWindow, RcvWnd: st.RcvWnd, RcvWup: st.RcvWup}
	if err := kernel.SetTCPRepairWindow(fd, w); err != nil {
		return fmt.Errorf("TCP_REPAIR_WINDOW: %w", err)
	}
	return nil
}

// writeQueue puts data into the queue TCP_REPAIR_QUEUE selected, in pieces
// the kernel takes in one go.
func writeQueue(fd int, data []byte) error {
	chunk := 64 << 10
	for len(data) > 0 {
		n, err := unix.SendmsgN(fd, data[:min(chunk, len(data))], nil, nil, unix.MSG_DONTWAIT)
		if err == unix.ENOMEM && chunk > 4096 {
			chunk /= 2
			continue
		}
		if err != nil {
			return fmt.Errorf("write %d bytes: %w", min(chunk, len(data)), err)
		}
		data = data[n:]
	}
	return nil
}

// finishTcp lets the restored connections go once every socket exists (a
// peer inside the image must be there to answer): repair mode off, which
// probes the peer's window, SO_REUSEADDR back (leaving repair mode resets
// it), and the never sent data written as ordinary data.
//
// The checkpoint locked each connection (internal/netlock): the lock is
// lifted first, while the socket still ignores the world, so that the
// peer's answer to the window probe gets through.
func (rs *restorer) finishTcp() error {
	byPid := map[int][]netlock.Conn{}
	for _, ts := range rs.inet.pending {
		byPid[ts.pid] = append(byPid[ts.pid], netlock.NewConn(ts.sock.AddrPorts()))
	}
	for _, sy := range rs.inet.connecting {
		byPid[sy.pid] = append(byPid[sy.pid], netlock.NewConn(sy.sock.AddrPorts()))
	}
	for pid, conns := range byPid {
		if err := netlock.Unlock(pid, conns); err != nil {
			return fmt.Errorf("unlock TCP connections: %w", err)
		}
	}
	if err := rs.connectSynSent(); err != nil {
		return err
	}
	for _, ts := range rs.inet.pending {
		fd := int(ts.f.Fd())
		name := inetName(ts.sock)
		if err := unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_REPAIR, unix.TCP_REPAIR_OFF); err != nil {
			return fmt.Errorf("socket %s: leave TCP repair mode: %w", name, err)
		}
		for _, o := range ts.sock.Opts {
			if o.Level == unix.SOL_SOCKET && o.Name == unix.SO_REUSEADDR && o.Value != 0 {
				if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, int(o.Value)); err != nil {
					return fmt.Errorf("socket %s: SO_REUSEADDR: %w", name, err)
				}
			}
		}
		unsent := ts.send[ts.st.SendLen-ts.st.Unsent:]
		for len(unsent) > 0 {
			n, err := unix.SendmsgN(fd, unsent, nil, nil, unix.MSG_DONTWAIT)
			if err == unix.EAGAIN {
				// It fitted in the buffer before: wait for room.
				pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLOUT}}
				if _, err := unix.Poll(pfd, 1000); err != nil && err != unix.EINTR {
					return fmt.Errorf("socket %s: poll: %w", name, err)
				}
				continue
			}
			if err != nil {
				return fmt.Errorf("socket %s: write %d unsent bytes: %w", name, len(unsent), err)
			}
			unsent = unsent[n:]
		}
	}
	rs.inet.pending = nil
	return nil
}
