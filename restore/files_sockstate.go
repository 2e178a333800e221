package restore

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
	"github.com/ckpt/ckpt/internal/kernel"
)

// addSockState takes the SOCK_STATE of an INET_SOCKET or UNIX_SK read
// before it. A unix socket's holds only SO_BUF_LOCK.
func (rs *restorer) addSockState(ss *image.SockState) error {
	what := fmt.Sprintf("SOCK_STATE of object %d", ss.Socket)
	if _, ok := rs.objs[ss.Socket].(*image.UnixSk); ok && rs.inet.states[ss.Socket] == nil {
		if ss.BufLock&^3 != 0 || ss.Shutdown != 0 || ss.FilterLocked != 0 || ss.BindDev != "" || len(ss.Filter) != 0 {
			return badImage("%s: a unix socket's holds only SO_BUF_LOCK (%#x)", what, ss.BufLock)
		}
		if rs.inet.states == nil {
			rs.inet.states = map[uint32]*image.SockState{}
		}
		rs.inet.states[ss.Socket] = ss
		return nil
	}
	// Shutdown bits are saved for UDP, raw and ICMP sockets only.
	var canShut bool
	switch s := rs.objs[ss.Socket].(type) {
	case *image.InetSocket:
		canShut = s.Protocol == unix.IPPROTO_UDP
	case *image.RawSk, *image.IcmpSk:
		canShut = true
	case *image.PacketSk:
	default:
		return badImage("%s: not an INET_SOCKET, UNIX_SK, RAW_SK, ICMP_SK or PACKET_SK", what)
	}
	switch {
	case rs.inet.states[ss.Socket] != nil:
		return badImage("%s: a second one", what)
	case ss.BufLock&^3 != 0 || ss.FilterLocked > 1 || ss.Shutdown&^3 != 0:
		return badImage("%s: SO_BUF_LOCK %#x, SO_LOCK_FILTER %d, shutdown %#x", what, ss.BufLock, ss.FilterLocked, ss.Shutdown)
	case ss.Shutdown != 0 && !canShut:
		return badImage("%s: shutdown of a socket that is neither UDP, raw nor ICMP", what)
	case len(ss.BindDev) >= unix.IFNAMSIZ:
		return badImage("%s: device name of %d bytes", what, len(ss.BindDev))
	case len(ss.Filter)%8 != 0 || len(ss.Filter) > 8*image.SockStateMaxFilter:
		return badImage("%s: a filter of %d bytes", what, len(ss.Filter))
	}
	if rs.inet.states == nil {
		rs.inet.states = map[uint32]*image.SockState{}
	}
	rs.inet.states[ss.Socket] = ss
	return nil
}

// setBufLock sets SO_BUF_LOCK to a SOCK_STATE's (nil: 0) once the buffer
// sizes are set, which locked them.
func setBufLock(fd int, ss *image.SockState) error {
	var v uint32
	if ss != nil {
		v = ss.BufLock
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_BUF_LOCK, int(v)); err != nil &&
		(!errors.Is(err, unix.ENOPROTOOPT) || v != 0) {
		return fmt.Errorf("setsockopt SO_BUF_LOCK %d: %w", v, err)
	}
	return nil
}

// setSockState gives a socket, once bound and connected, the state of its
// SOCK_STATE (nil: a new socket's). SO_BUF_LOCK is set in any case: giving
// the socket its buffer sizes (setInetOpts) locked them.
func setSockState(fd int, ss *image.SockState) error {
	if ss == nil {
		ss = &image.SockState{}
	}
	if err := setBufLock(fd, ss); err != nil {
		return err
	}
	if ss.Shutdown != 0 {
		how := map[uint32]int{kernel.RCV_SHUTDOWN: unix.SHUT_RD, kernel.SEND_SHUTDOWN: unix.SHUT_WR,
			kernel.RCV_SHUTDOWN | kernel.SEND_SHUTDOWN: unix.SHUT_RDWR}[ss.Shutdown]
		// An unconnected UDP socket is shut down all the same, with
		// ENOTCONN (inet_shutdown).
		if err := unix.Shutdown(fd, how); err != nil && !errors.Is(err, unix.ENOTCONN) {
			return fmt.Errorf("shutdown(%d): %w", how, err)
		}
	}
	if len(ss.Filter) > 0 {
		if err := kernel.AttachSocketFilter(fd, ss.Filter); err != nil {
			return fmt.Errorf("setsockopt SO_ATTACH_FILTER (%d instructions): %w", len(ss.Filter)/8, err)
		}
	}
	if ss.FilterLocked != 0 {
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_LOCK_FILTER, 1); err != nil {
			return fmt.Errorf("setsockopt SO_LOCK_FILTER: %w", err)
		}
	}
	return nil
}
