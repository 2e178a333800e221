package checkpoint

import (
	"errors"
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
	"github.com/ckpt/ckpt/internal/guard"
	"github.com/ckpt/ckpt/internal/kernel"
	"github.com/ckpt/ckpt/internal/netlock"
)

// dumpTcpStream saves an established connection with the socket (ckpt's
// copy f of it) in TCP repair mode, and leaves it in repair mode: until the
// checkpointed tasks are killed their end must not answer the peer, and a
// socket closed in repair mode goes away without a FIN or a reset. The
// copy is kept in d.tcpRepair; endTcpRepair lets go of it.
//
// Unless the tasks run on (--leave-running), the connection is locked
// first (internal/netlock): from here until restore rebuilds it, what the
// peer sends is dropped, to be sent again, rather than lost after the
// queues were read or answered with a reset once the socket is gone.
func (d *dumper) dumpTcpStream(pid, taskFd int, f *os.File, rec *image.InetSocket) ([]image.Record, error) {
	return d.dumpInRepair(pid, taskFd, f, rec, readTcpStream)
}

// dumpInRepair locks a connection (unless the tasks run on), puts the
// socket in repair mode and reads it with read; the socket stays in
// repair mode as dumpTcpStream says.
func (d *dumper) dumpInRepair(pid, taskFd int, f *os.File, rec *image.InetSocket, read func(int) ([]image.Record, error)) ([]image.Record, error) {
	fd := int(f.Fd())
	s := repairSock{f: f, pid: pid}
	for _, o := range rec.Opts {
		if o.Level == unix.SOL_SOCKET && o.Name == unix.SO_REUSEADDR {
			s.reuseAddr = int(o.Value)
		}
	}
	// If ckpt dies from here on, the guardian takes the task's socket out
	// of repair mode and unlocks the connection (guard.go).
	var err error
	if !d.opts.LeaveRunning {
		s.lock = []netlock.Conn{netlock.NewConn(rec.AddrPorts())}
		if s.undoLock, err = d.j.Add("unlock", append([]string{strconv.Itoa(pid)}, connArgs(s.lock)...)...); err != nil {
			return nil, err
		}
		if err := netlock.Lock(pid, s.lock); err != nil {
			s.undoLock.Drop()
			return nil, fmt.Errorf("lock the connection: %w", err)
		}
	}
	unlock := func() error {
		err := netlock.Unlock(pid, s.lock)
		if err == nil {
			s.undoLock.Drop()
		}
		return err
	}
	if s.undoRepair, err = d.j.Add("tcp-repair-off", strconv.Itoa(pid), strconv.Itoa(taskFd), strconv.Itoa(s.reuseAddr)); err != nil {
		return nil, errors.Join(err, unlock())
	}
	if err := unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_REPAIR, unix.TCP_REPAIR_ON); err != nil {
		s.undoRepair.Drop()
		return nil, errors.Join(fmt.Errorf("enter TCP repair mode: %w", err), unlock())
	}
	recs, err := read(fd)
	if err != nil {
		if e := unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_REPAIR, unix.TCP_REPAIR_OFF_NO_WP); e != nil {
			err = errors.Join(err, fmt.Errorf("leave TCP repair mode: %w", e))
		} else {
			s.undoRepair.Drop()
		}
		return nil, errors.Join(err, unlock())
	}
	d.tcpRepair = append(d.tcpRepair, s)
	return recs, nil
}

// readTcpStream reads a connection in repair mode: the TCP_STREAM record
// and the TCP_QUEUE records of its queued data.
func readTcpStream(fd int) ([]image.Record, error) {
	ti, err := kernel.GetTCPInfo(fd)
	if err != nil {
		return nil, fmt.Errorf("TCP_INFO: %w", err)
	}
	if ti.State != kernel.TCP_ESTABLISHED {
		return nil, fmt.Errorf("connection left state ESTABLISHED (now %s) while being saved", tcpStateName(ti.State))
	}
	st := &image.TcpStream{SndWscale: uint32(ti.SndWscale), RcvWscale: uint32(ti.RcvWscale)}
	if ti.Options&kernel.TCPI_OPT_TIMESTAMPS != 0 {
		st.Options |= image.TcpOptTimestamps
	}
	if ti.Options&kernel.TCPI_OPT_SACK != 0 {
		st.Options |= image.TcpOptSack
	}
	if ti.Options&kernel.TCPI_OPT_WSCALE != 0 {
		st.Options |= image.TcpOptWscale
	}
	inq, err := unix.IoctlGetInt(fd, unix.SIOCINQ)
	if err != nil {
		return nil, fmt.Errorf("SIOCINQ: %w", err)
	}
	outq, err := unix.IoctlGetInt(fd, unix.SIOCOUTQ)
	if err != nil {
		return nil, fmt.Errorf("SIOCOUTQ: %w", err)
	}
	unsent, err := unix.IoctlGetInt(fd, unix.SIOCOUTQNSD)
	if err != nil {
		return nil, fmt.Errorf("SIOCOUTQNSD: %w", err)
	}
	if unsent > outq {
		return nil, fmt.Errorf("send queue: %d bytes unsent of %d", unsent, outq)
	}
	st.RecvLen, st.SendLen, st.Unsent = uint32(inq), uint32(outq), uint32(unsent)
	mss, err := unix.GetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_MAXSEG) // the clamp, in repair mode
	if err != nil {
		return nil, fmt.Errorf("TCP_MAXSEG: %w", err)
	}
	st.MSS = uint32(mss)
	if st.Options&image.TcpOptTimestamps != 0 {
		ts, err := unix.GetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_TIMESTAMP)
		if err != nil {
			return nil, fmt.Errorf("TCP_TIMESTAMP: %w", err)
		}
		st.Timestamp = uint32(ts)
	}
	w, err := kernel.GetTCPRepairWindow(fd)
	if err != nil {
		return nil, fmt.Errorf("TCP_REPAIR_WINDOW: %w", err)
	}
	st.SndWl1, st.SndWnd, st.MaxWindow, st.RcvWnd, st.RcvWup = w.SndWl1, w.SndWnd, w.MaxWindow, w.RcvWnd, w.RcvWup

	recs := []image.Record{st}
	for _, q := range []struct {
		queue uint32
		n     int
		seq   *uint32
	}{{image.TcpRecvQueue, inq, &st.RcvSeq}, {image.TcpSendQueue, outq, &st.SndSeq}} {
		if err := unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_REPAIR_QUEUE, int(q.queue)); err != nil {
			return nil, fmt.Errorf("TCP_REPAIR_QUEUE %d: %w", q.queue, err)
		}
		// TCP_QUEUE_SEQ is the sequence number after the queue's last
		// byte (rcv_nxt, write_seq); the record keeps that of its first.
		end, err := unix.GetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_QUEUE_SEQ)
		if err != nil {
			return nil, fmt.Errorf("TCP_QUEUE_SEQ of queue %d: %w", q.queue, err)
		}
		*q.seq = uint32(end) - uint32(q.n)
		if q.n == 0 {
			continue
		}
		data, err := peekQueue(fd, q.n)
		if err != nil {
			return nil, fmt.Errorf("queue %d: %w", q.queue, err)
		}
		for len(data) > 0 {
			n := min(len(data), image.MaxTcpQueueChunk)
			recs = append(recs, &image.TcpQueue{Queue: q.queue, Data: data[:n]})
			data = data[n:]
		}
	}
	if err := unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_REPAIR_QUEUE, kernel.TCP_NO_QUEUE); err != nil {
		return nil, fmt.Errorf("TCP_REPAIR_QUEUE off: %w", err)
	}
	return recs, nil
}

// peekQueue reads n bytes of the queue TCP_REPAIR_QUEUE selected without
// consuming them.
func peekQueue(fd, n int) ([]byte, error) {
	buf := make([]byte, n+1) // one more, to notice a queue that grew
	got, _, err := unix.Recvfrom(fd, buf, unix.MSG_PEEK|unix.MSG_DONTWAIT)
	if err != nil {
		return nil, fmt.Errorf("peek %d bytes: %w", n, err)
	}
	if got != n {
		return nil, fmt.Errorf("peek: %d bytes, the queue holds %d", got, n)
	}
	return buf[:n], nil
}

// repairSock is ckpt's copy of a socket it put in repair mode.
type repairSock struct {
	f *os.File
	// reuseAddr is the socket's SO_REUSEADDR, which leaving repair mode
	// resets.
	reuseAddr int
	pid       int            // the task it was taken from
	lock      []netlock.Conn // the connection, if locked
	// The guardian's entries: leave repair mode, unlock the connection.
	undoRepair, undoLock guard.Undo
}

// endTcpRepair lets go of the sockets left in repair mode. When the tasks
// were killed their connections end silently with the close, and stay
// locked for the restore; otherwise (--leave-running, a failed
// checkpoint) repair mode is left first, without a window probe, and the
// lock lifted, so that the connection carries on as it was.
func (d *dumper) endTcpRepair(killed bool) {
	for _, s := range d.tcpRepair {
		if !killed {
			fd := int(s.f.Fd())
			if err := unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_REPAIR, unix.TCP_REPAIR_OFF_NO_WP); err != nil {
				d.log.Error("cannot leave TCP repair mode", "socket", s.f.Name(), "err", err)
			} else if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, s.reuseAddr); err != nil {
				d.log.Error("cannot set SO_REUSEADDR back", "socket", s.f.Name(), "err", err)
			} else {
				s.undoRepair.Drop()
			}
			if err := netlock.Unlock(s.pid, s.lock); err != nil {
				d.log.Error("cannot unlock a TCP connection", "socket", s.f.Name(), "err", err)
			} else {
				s.undoLock.Drop()
			}
		} else {
			s.undoRepair.Drop() // the socket is gone with its task
		}
		s.f.Close()
	}
	d.tcpRepair = nil
}

// settleTcpLocks keeps the connections locked even if ckpt dies now: the
// image is complete and the tasks are being killed, so the lock must stay
// for the restore.
func (d *dumper) settleTcpLocks() {
	for _, s := range d.tcpRepair {
		s.undoLock.Drop()
	}
}
