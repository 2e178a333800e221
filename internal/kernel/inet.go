package kernel

import (
	"encoding/binary"
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// TCP repair queue selectors for TCP_REPAIR_QUEUE (include/uapi/linux/tcp.h,
// enum TCP_NO_QUEUE...).
const (
	TCP_NO_QUEUE   = 0
	TCP_RECV_QUEUE = 1
	TCP_SEND_QUEUE = 2
)

// Bits of tcp_info.tcpi_options (include/uapi/linux/tcp.h).
const (
	TCPI_OPT_TIMESTAMPS = 1
	TCPI_OPT_SACK       = 2
	TCPI_OPT_WSCALE     = 4
)

// TCP states (include/net/tcp_states.h).
const (
	TCP_ESTABLISHED = 1
	TCP_SYN_SENT    = 2
	TCP_CLOSE       = 7
	TCP_LISTEN      = 10
)

// TCPRepairWindow mirrors struct tcp_repair_window
// (include/uapi/linux/tcp.h), for TCP_REPAIR_WINDOW.
type TCPRepairWindow struct {
	SndWl1    uint32
	SndWnd    uint32
	MaxWindow uint32
	RcvWnd    uint32
	RcvWup    uint32
}

// TCPInfo holds the fields of struct tcp_info (include/uapi/linux/tcp.h)
// that x/sys/unix's TCPInfo lacks or that matter here. unix.TCPInfo drops
// the wscale bit field byte, so the struct is read as bytes.
type TCPInfo struct {
	State     uint8
	Options   uint8
	SndWscale uint8
	RcvWscale uint8
	// Unacked is, for a listening socket, the length of its accept queue.
	Unacked uint32
	// Sacked is, for a listening socket, its backlog (sk_max_ack_backlog).
	Sacked uint32
}

// Offsets in struct tcp_info: u8 state, ca_state, retransmits, probes,
// backoff, options; u8 snd_wscale:4, rcv_wscale:4; u8 more bits; then u32
// rto, ato, snd_mss, rcv_mss, unacked, sacked.
const (
	tcpiOptionsOff = 5
	tcpiWscaleOff  = 6
	tcpiUnackedOff = 24
	tcpiSackedOff  = 28
	tcpiMinLen     = 32
)

// GetTCPInfo reads TCP_INFO of a TCP socket.
func GetTCPInfo(fd int) (*TCPInfo, error) {
	buf := make([]byte, 256)
	n, err := Getsockopt(fd, unix.IPPROTO_TCP, unix.TCP_INFO, buf)
	if err != nil {
		return nil, err
	}
	if n < tcpiMinLen {
		return nil, fmt.Errorf("TCP_INFO: %d bytes, want at least %d", n, tcpiMinLen)
	}
	return &TCPInfo{
		State:     buf[0],
		Options:   buf[tcpiOptionsOff],
		SndWscale: buf[tcpiWscaleOff] & 0xf,
		RcvWscale: buf[tcpiWscaleOff] >> 4,
		Unacked:   binary.NativeEndian.Uint32(buf[tcpiUnackedOff:]),
		Sacked:    binary.NativeEndian.Uint32(buf[tcpiSackedOff:]),
	}, nil
}

// Getsockopt reads a socket option into buf and returns its length.
func Getsockopt(fd, level, name int, buf []byte) (int, error) {
	n := uint32(len(buf))
	_, _, e := unix.Syscall6(unix.SYS_GETSOCKOPT, uintptr(fd), uintptr(level), uintptr(name),
		uintptr(unsafe.Pointer(&buf[0])), uintptr(unsafe.Pointer(&n)), 0)
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}

// Setsockopt sets a socket option from buf.
func Setsockopt(fd, level, name int, buf []byte) error {
	_, _, e := unix.Syscall6(unix.SYS_SETSOCKOPT, uintptr(fd), uintptr(level), uintptr(name),
		uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)), 0)
	if e != 0 {
		return e
	}
	return nil
}

// GetTCPRepairWindow reads TCP_REPAIR_WINDOW (repair mode only).
func GetTCPRepairWindow(fd int) (*TCPRepairWindow, error) {
	var w TCPRepairWindow
	buf := unsafe.Slice((*byte)(unsafe.Pointer(&w)), unsafe.Sizeof(w))
	n, err := Getsockopt(fd, unix.IPPROTO_TCP, unix.TCP_REPAIR_WINDOW, buf)
	if err != nil {
		return nil, err
	}
	if n != len(buf) {
		return nil, fmt.Errorf("TCP_REPAIR_WINDOW: %d bytes, want %d", n, len(buf))
	}
	return &w, nil
}

// SetTCPRepairWindow sets TCP_REPAIR_WINDOW (repair mode only).
func SetTCPRepairWindow(fd int, w *TCPRepairWindow) error {
	return Setsockopt(fd, unix.IPPROTO_TCP, unix.TCP_REPAIR_WINDOW,
		unsafe.Slice((*byte)(unsafe.Pointer(w)), unsafe.Sizeof(*w)))
}

// SetTCPRepairOptions sets TCP_REPAIR_OPTIONS: struct tcp_repair_opt
// {u32 opt_code; u32 opt_val} pairs (include/uapi/linux/tcp.h).
func SetTCPRepairOptions(fd int, opts []unix.TCPRepairOpt) error {
	if len(opts) == 0 {
		return nil
	}
	return Setsockopt(fd, unix.IPPROTO_TCP, unix.TCP_REPAIR_OPTIONS,
		unsafe.Slice((*byte)(unsafe.Pointer(&opts[0])), uintptr(len(opts))*unsafe.Sizeof(opts[0])))
}
