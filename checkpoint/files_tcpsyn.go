package checkpoint

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
	"github.com/ckpt/ckpt/internal/kernel"
)

// dumpTcpSynSent saves a TCP socket whose connect(2) is in progress
// (SYN_SENT): its peer, which getpeername(2) does not tell yet (inet
// sock_diag does), and the sequence number of its SYN, read in repair mode
// (allowed on any socket that does not listen since Linux 4.9, commit
// 5e6a3ce6573f "tcp: allow to enable the repair mode for non-listening
// sockets"). Restore connects again from the same address and port with
// that sequence number: to the peer the new SYN is the old one sent again,
// as the kernel would have (docs/image-format.md, TCP_SYN_SENT). Like an
// established connection it needs --tcp-established, and it is locked and
// left in repair mode until the tasks are gone (dumpTcpStream).
func (d *dumper) dumpTcpSynSent(pid int, of *openFd, obj string, f *os.File, rec *image.InetSocket) ([]image.Record, error) {
	name := fmt.Sprintf("%s %s", obj, describeInet(rec))
	if !d.opts.TcpEstablished {
		return nil, unsupported(pid, name, "a connect(2) in progress (TCP SYN_SENT): checkpoint it with --tcp-established")
	}
	nsPath := fmt.Sprintf("/proc/%d/ns/net", pid)
	socks, err := kernel.InetSockets(nsPath, uint8(rec.Family), unix.IPPROTO_TCP, 1<<kernel.TCP_SYN_SENT)
	if err != nil {
		return nil, fmt.Errorf("task %d %s: inet sock_diag: %w", pid, name, err)
	}
	peer, ok := socks[of.st.Ino]
	if !ok || peer.State != kernel.TCP_SYN_SENT || peer.DstPort == 0 {
		return nil, fmt.Errorf("task %d %s: inet sock_diag does not list socket %d as connecting", pid, name, of.st.Ino)
	}
	rec.State, rec.Peer, rec.PeerPort = image.InetSynSent, peer.Dst, uint32(peer.DstPort)
	name = fmt.Sprintf("%s %s", obj, describeInet(rec))
	recs, err := d.dumpInRepair(pid, of.fd, f, rec, readTcpSynSent)
	if err != nil {
		return nil, fmt.Errorf("task %d %s: %w", pid, name, err)
	}
	return recs, nil
}

// readTcpSynSent reads the SYN's sequence number of a connecting socket in
// repair mode. tcp_connect sent the SYN with write_seq and counted it, so
// the send queue's TCP_QUEUE_SEQ is one past it.
func readTcpSynSent(fd int) ([]image.Record, error) {
	ti, err := kernel.GetTCPInfo(fd)
	if err != nil {
		return nil, fmt.Errorf("TCP_INFO: %w", err)
	}
	if ti.State != kernel.TCP_SYN_SENT {
		return nil, fmt.Errorf("connection left state SYN_SENT (now %s) while being saved", tcpStateName(ti.State))
	}
	if err := unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_REPAIR_QUEUE, kernel.TCP_SEND_QUEUE); err != nil {
		return nil, fmt.Errorf("TCP_REPAIR_QUEUE: %w", err)
	}
	next, err := unix.GetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_QUEUE_SEQ)
	if err != nil {
		return nil, fmt.Errorf("TCP_QUEUE_SEQ: %w", err)
	}
	if err := unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_REPAIR_QUEUE, kernel.TCP_NO_QUEUE); err != nil {
		return nil, fmt.Errorf("TCP_REPAIR_QUEUE off: %w", err)
	}
	return []image.Record{&image.TcpSynSent{Seq: uint32(next) - 1}}, nil
}
