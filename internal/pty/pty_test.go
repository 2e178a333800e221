package pty

import (
	"bytes"
	"errors"
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// open makes a pty pair in the host's devpts, unlocked.
func open(t *testing.T) (master, slave *os.File) {
	t.Helper()
	fd, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Skipf("no /dev/ptmx: %v", err)
	}
	master = os.NewFile(uintptr(fd), "ptmx")
	t.Cleanup(func() { master.Close() })
	if err := SetLock(master, false); err != nil {
		t.Fatal(err)
	}
	if slave, err = Peer(master, unix.O_RDWR); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { slave.Close() })
	return master, slave
}

func termios(t *testing.T, f *os.File) *unix.Termios {
	t.Helper()
	tio, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS2)
	if err != nil {
		t.Fatal(err)
	}
	return tio
}

func readLine(t *testing.T, f *os.File) string {
	t.Helper()
	if err := waitFd(int(f.Fd()), unix.POLLIN); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 256)
	n, err := unix.Read(int(f.Fd()), buf)
	if err != nil && !errors.Is(err, unix.EAGAIN) {
		t.Fatal(err)
	}
	return string(buf[:max(n, 0)])
}

// TestDrainRefill moves the queues of one pty into another, canonical
// with echo on, the way checkpoint and restore do, and checks that lines
// stay lines, the partial line stays partial, nothing is echoed twice and
// the output is not processed twice.
func TestDrainRefill(t *testing.T) {
	m1, s1 := open(t)
	tio := termios(t, s1)
	tio.Lflag |= unix.ICANON | unix.ECHO | unix.ISIG | unix.IEXTEN
	tio.Oflag |= unix.OPOST | unix.ONLCR
	tio.Cc[unix.VERASE] = 'e' // would edit the typed text if it were typed again
	if err := unix.IoctlSetTermios(int(s1.Fd()), unix.TCSETS2, tio); err != nil {
		t.Fatal(err)
	}
	const typed = "on\x16e\ntwo\tx\npart" // ^V (LNEXT) makes the erase character a plain one
	if _, err := m1.Write([]byte(typed)); err != nil {
		t.Fatal(err)
	}
	if _, err := s1.Write([]byte("out\n")); err != nil {
		t.Fatal(err)
	}
	// The echo of the typed text is output too, before "out\r\n".
	in, out, err := Drain(m1, s1)
	if err != nil {
		t.Fatal(err)
	}
	if got := termios(t, s1); *got != *tio {
		t.Fatalf("Drain changed the termios: %+v, want %+v", got, tio)
	}
	if !bytes.Contains(out, []byte("out\r\n")) {
		t.Fatalf("output %q does not hold the processed write", out)
	}
	if string(in) != "one\ntwo\tx\npart" {
		t.Fatalf("input %q", in)
	}

	m2, s2 := open(t)
	if err := Refill(m2, s2, tio, in, out); err != nil {
		t.Fatal(err)
	}
	if got := termios(t, s2); *got != *tio {
		t.Fatalf("Refill left termios %+v, want %+v", got, tio)
	}
	q, err := unix.IoctlGetInt(int(m2.Fd()), unix.TIOCINQ)
	if err != nil || q != len(out) {
		t.Fatalf("the master holds %d bytes (%v), want %d", q, err, len(out))
	}
	buf := make([]byte, len(out))
	if _, err := m2.Read(buf); err != nil || !bytes.Equal(buf, out) {
		t.Fatalf("the master read %q, want %q", buf, out)
	}
	for _, want := range []string{"one\n", "two\tx\n"} {
		if l := readLine(t, s2); l != want {
			t.Fatalf("line %q, want %q", l, want)
		}
	}
	if err := unix.SetNonblock(int(s2.Fd()), true); err != nil {
		t.Fatal(err)
	}
	if n, err := unix.Read(int(s2.Fd()), make([]byte, 16)); !errors.Is(err, unix.EAGAIN) {
		t.Fatalf("the partial line is readable (%d bytes, %v) before its end", n, err)
	}
	if _, err := unix.Write(int(m2.Fd()), []byte("\n")); err != nil {
		t.Fatal(err)
	}
	if l := readLine(t, s2); l != "part\n" {
		t.Fatalf("last line %q, want %q", l, "part\n")
	}
	// The refill echoed nothing that stayed: only the echo of the "\n"
	// typed after it is on the master.
	q, _ = unix.IoctlGetInt(int(m2.Fd()), unix.TIOCINQ)
	if q > 2 {
		t.Fatalf("the master holds %d bytes after the new line: the refill left echo behind", q)
	}
}
