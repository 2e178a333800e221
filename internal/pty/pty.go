// Package pty reads and writes back what a pseudo-terminal holds: the
// data queued in it, which the kernel offers no way to copy without
// taking, and its settings. Checkpoint and restore share it: checkpoint
// takes the queues and writes them straight back (the original may run
// on), restore writes them into the new pty the same way.
package pty

import (
	"errors"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/internal/kernel"
)

// MaxQueue bounds what one direction of a pty can hold: the line
// discipline's buffer (N_TTY_BUF_SIZE, 4 KiB) plus the flip buffers the
// tty layer queues before it (TTYB_DEFAULT_MEM_LIMIT, 64 KiB), rounded up.
const MaxQueue = 128 << 10

// settle bounds the wait for the tty layer's worker to move written data
// into the line discipline of the other side (see waitQueued).
const settle = 5 * time.Second

// Peer opens the slave of master (TIOCGPTPEER) with flags, which need not
// hold O_NOCTTY: it is added. A locked pty is unlocked for the open and
// locked again: the lock refuses every open of the slave.
func Peer(master *os.File, flags int) (*os.File, error) {
	mfd := int(master.Fd())
	locked, err := unix.IoctlGetInt(mfd, unix.TIOCGPTLCK)
	if err != nil {
		return nil, fmt.Errorf("TIOCGPTLCK: %w", err)
	}
	if locked != 0 {
		if err := setLock(mfd, false); err != nil {
			return nil, err
		}
		defer func() { _ = setLock(mfd, true) }()
	}
	fd, err := kernel.PtyPeer(mfd, flags|unix.O_NOCTTY|unix.O_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("TIOCGPTPEER: %w", err)
	}
	return os.NewFile(uintptr(fd), "pty-slave"), nil
}

// SetLock locks or unlocks the slave of master (TIOCSPTLCK).
func SetLock(master *os.File, lock bool) error { return setLock(int(master.Fd()), lock) }

func setLock(mfd int, lock bool) error {
	v := 0
	if lock {
		v = 1
	}
	if err := unix.IoctlSetPointerInt(mfd, unix.TIOCSPTLCK, v); err != nil {
		return fmt.Errorf("TIOCSPTLCK %d: %w", v, err)
	}
	return nil
}

// Drain takes what the pty queues in each direction: in, written on the
// master and not yet read on the slave; out, written on the slave and not
// yet read on the master. The pty is left empty, with its settings as
// they were; a caller that lets the pty's users run on gives the data back
// with Refill. Packet mode is suspended while the master is read, so that
// no status byte comes with the data.
func Drain(master, slave *os.File) (in, out []byte, err error) {
	mfd, sfd := int(master.Fd()), int(slave.Fd())
	pkt, err := unix.IoctlGetInt(mfd, unix.TIOCGPKT)
	if err != nil {
		return nil, nil, fmt.Errorf("TIOCGPKT: %w", err)
	}
	if pkt != 0 {
		if err := unix.IoctlSetPointerInt(mfd, unix.TIOCPKT, 0); err != nil {
			return nil, nil, fmt.Errorf("TIOCPKT 0: %w", err)
		}
		defer func() {
			if e := unix.IoctlSetPointerInt(mfd, unix.TIOCPKT, 1); e != nil && err == nil {
				err = fmt.Errorf("TIOCPKT 1: %w", e)
			}
		}()
	}
	// A canonical reader sees complete lines only; without ICANON the
	// line discipline gives everything it holds, the line being typed
	// too. The complete lines are read first, canonically: the last,
	// empty read hands what is still in flight to the line discipline,
	// which must process it in the mode the task set. Switching back
	// with nothing left keeps no trace.
	tio, err := unix.IoctlGetTermios(sfd, unix.TCGETS2)
	if err != nil {
		return nil, nil, fmt.Errorf("TCGETS2: %w", err)
	}
	if in, err = readAll(sfd, "slave"); err != nil {
		return nil, nil, err
	}
	if tio.Lflag&unix.ICANON != 0 {
		raw := *tio
		raw.Lflag &^= unix.ICANON
		if err := unix.IoctlSetTermios(sfd, unix.TCSETS2, &raw); err != nil {
			return nil, nil, fmt.Errorf("TCSETS2 without ICANON: %w", err)
		}
		partial, err := readAll(sfd, "slave")
		in = append(in, partial...)
		if e := unix.IoctlSetTermios(sfd, unix.TCSETS2, tio); e != nil && err == nil {
			err = fmt.Errorf("TCSETS2: %w", e)
		}
		if err != nil {
			return nil, nil, err
		}
	}
	// The master last: input still in flight when the slave was read
	// echoed onto it meanwhile.
	if out, err = readAll(mfd, "master"); err != nil {
		return nil, nil, err
	}
	return in, out, nil
}

// DrainMaster takes what the master's reader has queued (written on the
// slave), for a pty with no slave open to read the other way: opening one
// would change the pty (the kernel marks a master whose last slave closes).
// closed tells that no slave is open and one was: the master then reads
// EIO once it is empty.
func DrainMaster(master *os.File) (out []byte, closed bool, err error) {
	mfd := int(master.Fd())
	pkt, err := unix.IoctlGetInt(mfd, unix.TIOCGPKT)
	if err != nil {
		return nil, false, fmt.Errorf("TIOCGPKT: %w", err)
	}
	if pkt != 0 {
		if err := unix.IoctlSetPointerInt(mfd, unix.TIOCPKT, 0); err != nil {
			return nil, false, fmt.Errorf("TIOCPKT 0: %w", err)
		}
		defer func() {
			if e := unix.IoctlSetPointerInt(mfd, unix.TIOCPKT, 1); e != nil && err == nil {
				err = fmt.Errorf("TIOCPKT 1: %w", e)
			}
		}()
	}
	return readQueue(mfd, "master")
}

// readAll reads fd, a side of the pty, until it has nothing more. A
// non-blocking read that finds nothing first waits for the tty layer's
// worker to hand over what is still in flight (n_tty_read calls
// tty_buffer_flush_work), so EAGAIN means empty.
func readAll(fd int, side string) ([]byte, error) {
	data, _, err := readQueue(fd, side)
	return data, err
}

// readQueue is readAll that also tells whether the read ended on EIO: on
// a master, the slave is closed (TTY_OTHER_CLOSED) and nothing more comes.
func readQueue(fd int, side string) ([]byte, bool, error) {
	undo, err := nonblock(fd)
	if err != nil {
		return nil, false, err
	}
	defer undo()
	var data []byte
	buf := make([]byte, 4096)
	for {
		n, err := unix.Read(fd, buf)
		if n > 0 {
			data = append(data, buf[:n]...)
			if len(data) > MaxQueue {
				return nil, false, fmt.Errorf("%s: more than %d bytes queued", side, MaxQueue)
			}
			continue
		}
		if errors.Is(err, unix.EAGAIN) || n == 0 && err == nil {
			return data, false, nil
		}
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if errors.Is(err, unix.EIO) {
			return data, true, nil // the other side is closed: nothing more comes
		}
		return nil, false, fmt.Errorf("read the %s: %w", side, err)
	}
}

// Refill queues in for the slave's reader and out for the master's, as
// Drain took them, then gives the pty the settings tio. The pty must be
// empty.
//
// Input goes in through the master with the line discipline in the mode
// tio says (ICANON or not: switching it with data queued would lose the
// line boundaries) but with signals, input mapping and the special
// editing characters out of the way, so every byte is queued as it is.
// Echo is on meanwhile, with output processing and ECHOCTL off, so that
// each byte queued echoes one byte to the master: when all of them are
// back, the line discipline has the whole input (a partial canonical line
// is not otherwise visible). The echo is read and dropped. Output goes in
// through the slave with output processing off: it was processed once.
func Refill(master, slave *os.File, tio *unix.Termios, in, out []byte) error {
	mfd, sfd := int(master.Fd()), int(slave.Fd())
	for _, fd := range []int{mfd, sfd} {
		undo, err := nonblock(fd)
		if err != nil {
			return err
		}
		defer undo()
	}
	if len(in) > 0 {
		t := *tio
		t.Iflag &^= unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IUCLC | unix.IXON | unix.IXOFF |
			unix.BRKINT | unix.PARMRK | unix.INPCK | unix.IGNBRK
		t.Oflag &^= unix.OPOST
		t.Lflag &^= unix.ISIG | unix.IEXTEN | unix.ECHOCTL | unix.ECHOE | unix.ECHOK | unix.ECHOKE | unix.ECHOPRT | unix.ECHONL
		t.Lflag |= unix.ECHO
		if t.Lflag&unix.ICANON != 0 {
			// ERASE, KILL, EOF and EOL still act with ICANON: give
			// them a byte the data does not hold. ('\n' ends lines, as
			// it did.)
			b, ok := unusedByte(in)
			if !ok {
				return fmt.Errorf("%d bytes of canonical input use every byte value: no character is free for the line editing", len(in))
			}
			for _, c := range []int{unix.VERASE, unix.VKILL, unix.VEOF, unix.VEOL} {
				t.Cc[c] = b
			}
		}
		if err := unix.IoctlSetTermios(sfd, unix.TCSETS2, &t); err != nil {
			return fmt.Errorf("TCSETS2 for the input: %w", err)
		}
		if err := writeAll(mfd, in, "master"); err != nil {
			return err
		}
		if err := dropEcho(mfd, len(in)); err != nil {
			return err
		}
	}
	if len(out) > 0 {
		t := *tio
		t.Oflag &^= unix.OPOST
		t.Lflag &^= unix.ECHO // nothing may add to the master's queue
		if err := unix.IoctlSetTermios(sfd, unix.TCSETS2, &t); err != nil {
			return fmt.Errorf("TCSETS2 for the output: %w", err)
		}
		if err := writeAll(sfd, out, "slave"); err != nil {
			return err
		}
		if err := waitQueued(mfd, len(out)); err != nil {
			return err
		}
	}
	if err := unix.IoctlSetTermios(sfd, unix.TCSETS2, tio); err != nil {
		return fmt.Errorf("TCSETS2: %w", err)
	}
	return nil
}

// nonblock makes the description of fd non-blocking until the returned
// function runs. (A master taken from a task shares the task's
// description: its flags are put back.)
func nonblock(fd int) (func(), error) {
	fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
	if err != nil {
		return nil, fmt.Errorf("F_GETFL: %w", err)
	}
	if fl&unix.O_NONBLOCK != 0 {
		return func() {}, nil
	}
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_SETFL, fl|unix.O_NONBLOCK); err != nil {
		return nil, fmt.Errorf("F_SETFL: %w", err)
	}
	return func() { _, _ = unix.FcntlInt(uintptr(fd), unix.F_SETFL, fl) }, nil
}

func unusedByte(data []byte) (byte, bool) {
	var seen [256]bool
	for _, c := range data {
		seen[c] = true
	}
	// Prefer a byte nobody types: from 0xff down.
	for c := 255; c >= 1; c-- {
		if !seen[c] {
			return byte(c), true
		}
	}
	return 0, false
}

func writeAll(fd int, data []byte, side string) error {
	for len(data) > 0 {
		n, err := unix.Write(fd, data)
		if errors.Is(err, unix.EINTR) || errors.Is(err, unix.EAGAIN) {
			if err := waitFd(fd, unix.POLLOUT); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("write %d bytes to the %s: %w", len(data), side, err)
		}
		data = data[n:]
	}
	return nil
}

// dropEcho reads and drops the n bytes of echo the input makes on the
// master.
func dropEcho(mfd, n int) error {
	buf := make([]byte, 4096)
	deadline := time.Now().Add(settle)
	for got := 0; got < n; {
		if time.Now().After(deadline) {
			return fmt.Errorf("the line discipline took %d of %d bytes of input", got, n)
		}
		if err := waitFd(mfd, unix.POLLIN); err != nil {
			return err
		}
		r, err := unix.Read(mfd, buf[:min(len(buf), n-got)])
		if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return fmt.Errorf("read the echo: %w", err)
		}
		got += r
	}
	return nil
}

// waitQueued waits until the master holds n bytes for its reader: data
// written on the slave reaches the master's line discipline through the
// tty layer's worker, after write(2) returns.
func waitQueued(mfd, n int) error {
	deadline := time.Now().Add(settle)
	for {
		q, err := unix.IoctlGetInt(mfd, unix.TIOCINQ)
		if err != nil {
			return fmt.Errorf("TIOCINQ: %w", err)
		}
		if q >= n {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the master holds %d of the %d bytes of output written back", q, n)
		}
		time.Sleep(time.Millisecond)
	}
}

func waitFd(fd int, events int16) error {
	pfd := []unix.PollFd{{Fd: int32(fd), Events: events}}
	_, err := unix.Poll(pfd, 100)
	if err != nil && !errors.Is(err, unix.EINTR) {
		return fmt.Errorf("poll: %w", err)
	}
	return nil
}
