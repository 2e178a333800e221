package kernel

import (
	"encoding/binary"
	"fmt"
	"os"
	"runtime"

	"golang.org/x/sys/unix"
)

// sockDiagDump sends one SOCK_DIAG_BY_FAMILY dump request (req, the
// family's struct *_diag_req) from inside the network namespace nsPath and
// hands each reply message's payload to each, until NLMSG_DONE. what names
// the family in errors. From include/uapi/linux/sock_diag.h and
// net/core/sock_diag.c.
func sockDiagDump(nsPath, what string, req any, each func(data []byte) error) error {
	fd, err := diagSocketIn(nsPath)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	msg, err := binary.Append(nil, binary.LittleEndian, &unix.NlMsghdr{
		Len:   uint32(unix.SizeofNlMsghdr + binary.Size(req)),
		Type:  SOCK_DIAG_BY_FAMILY,
		Flags: unix.NLM_F_REQUEST | unix.NLM_F_DUMP,
		Seq:   1,
	})
	if err == nil {
		msg, err = binary.Append(msg, binary.LittleEndian, req)
	}
	if err != nil {
		return err
	}
	if err := unix.Sendto(fd, msg, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return fmt.Errorf("%s request: %w", what, err)
	}
	buf := make([]byte, 1<<16)
	for {
		n, _, err := unix.Recvfrom(fd, buf, 0)
		if err != nil {
			return fmt.Errorf("%s reply: %w", what, err)
		}
		for b := buf[:n]; len(b) >= unix.SizeofNlMsghdr; {
			l := int(binary.LittleEndian.Uint32(b[0:]))
			typ := binary.LittleEndian.Uint16(b[4:])
			if l < unix.SizeofNlMsghdr || l > len(b) {
				return fmt.Errorf("%s reply: bad message length %d", what, l)
			}
			data := b[unix.SizeofNlMsghdr:l]
			b = b[min(len(b), (l+unix.NLMSG_ALIGNTO-1)&^(unix.NLMSG_ALIGNTO-1)):]
			switch typ {
			case unix.NLMSG_DONE:
				return nil
			case unix.NLMSG_ERROR:
				if len(data) >= 4 {
					if e := int32(binary.LittleEndian.Uint32(data)); e != 0 {
						return fmt.Errorf("%s: %w", what, unix.Errno(-e))
					}
				}
				return fmt.Errorf("%s: error reply", what)
			}
			if err := each(data); err != nil {
				return err
			}
		}
	}
}

// diagSocketIn opens a NETLINK_SOCK_DIAG socket in the network namespace
// nsPath. A socket keeps the namespace it was made in, so a locked thread
// joins the namespace, makes it and then exits with the goroutine (it is
// never unlocked, so the runtime does not reuse a thread in another
// namespace).
func diagSocketIn(nsPath string) (int, error) {
	type result struct {
		fd  int
		err error
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		ns, err := os.Open(nsPath)
		if err != nil {
			ch <- result{-1, err}
			return
		}
		defer ns.Close()
		if err := unix.Setns(int(ns.Fd()), unix.CLONE_NEWNET); err != nil {
			ch <- result{-1, fmt.Errorf("setns %s: %w", nsPath, err)}
			return
		}
		fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_SOCK_DIAG)
		if err != nil {
			err = fmt.Errorf("NETLINK_SOCK_DIAG socket: %w", err)
		}
		ch <- result{fd, err}
	}()
	r := <-ch
	return r.fd, r.err
}

// diagAttrs calls each with the type and value of every netlink attribute
// (struct rtattr, include/uapi/linux/rtnetlink.h) in b, in order; a length
// that does not fit is an error naming what.
func diagAttrs(b []byte, what string, each func(typ uint16, v []byte) error) error {
	for len(b) >= unix.SizeofRtAttr {
		l := int(binary.LittleEndian.Uint16(b[0:]))
		typ := binary.LittleEndian.Uint16(b[2:])
		if l < unix.SizeofRtAttr || l > len(b) {
			return fmt.Errorf("%s: bad attribute length %d", what, l)
		}
		v := b[unix.SizeofRtAttr:l]
		b = b[min(len(b), (l+unix.RTA_ALIGNTO-1)&^(unix.RTA_ALIGNTO-1)):]
		if err := each(typ, v); err != nil {
			return err
		}
	}
	return nil
}
