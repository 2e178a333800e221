package kernel

import "golang.org/x/sys/unix"

// Terminal device numbers. From include/uapi/linux/major.h (TTY_MAJOR,
// TTYAUX_MAJOR, UNIX98_PTY_MASTER_MAJOR, UNIX98_PTY_SLAVE_MAJOR,
// UNIX98_PTY_MAJOR_COUNT) and drivers/tty/tty_io.c (the minors of
// TTYAUX_MAJOR: 0 /dev/tty, 1 /dev/console, 2 /dev/ptmx).
const (
	TTY_MAJOR               = 4
	TTYAUX_MAJOR            = 5
	PtmxMinor               = 2
	UNIX98_PTY_SLAVE_MAJOR  = 136
	UNIX98_PTY_MAJOR_COUNT  = 8
	UNIX98_PTY_MASTER_MAJOR = 128
)

// IsTTY tells the character devices that are terminals: the console and
// virtual terminals, /dev/tty, /dev/console, /dev/ptmx and pty slaves.
func IsTTY(rdev uint64) bool {
	m := unix.Major(rdev)
	return m == TTY_MAJOR || m == TTYAUX_MAJOR || IsPtySlave(rdev)
}

// IsPtmx tells /dev/ptmx (or /dev/pts/ptmx): a pty master's device.
func IsPtmx(rdev uint64) bool {
	return unix.Major(rdev) == TTYAUX_MAJOR && unix.Minor(rdev) == PtmxMinor
}

// IsDevTty tells /dev/tty, which opens the caller's controlling terminal.
func IsDevTty(rdev uint64) bool {
	return unix.Major(rdev) == TTYAUX_MAJOR && unix.Minor(rdev) == 0
}

// IsPtySlave tells the device of a Unix 98 pty slave, /dev/pts/N.
func IsPtySlave(rdev uint64) bool {
	m := unix.Major(rdev)
	return m >= UNIX98_PTY_SLAVE_MAJOR && m < UNIX98_PTY_SLAVE_MAJOR+UNIX98_PTY_MAJOR_COUNT
}

// PtySlaveIndex is N of the pty slave /dev/pts/N with device rdev: the
// slave majors number the ptys on from 0, 256 minors each
// (drivers/tty/pty.c registers NR_UNIX98_PTY_MAX minors across them).
func PtySlaveIndex(rdev uint64) uint32 {
	return (unix.Major(rdev)-UNIX98_PTY_SLAVE_MAJOR)<<8 | unix.Minor(rdev)
}

// TtyNrDev turns the tty_nr field of /proc/PID/stat (the controlling
// terminal, encoded by fs/proc/array.c as new_encode_dev) into a device
// number; 0 means none.
func TtyNrDev(ttyNr int) uint64 {
	n := uint32(ttyNr)
	major := (n >> 8) & 0xfff
	minor := (n & 0xff) | ((n >> 12) & 0xfff00)
	return unix.Mkdev(major, minor)
}

// PtyPeer is ioctl(master, TIOCGPTPEER, flags): it opens the slave of pty
// master by the master itself, not by a /dev/pts path that a mount
// namespace could hide or redirect. It returns the new fd.
func PtyPeer(master, flags int) (int, error) {
	fd, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(master), unix.TIOCGPTPEER, uintptr(flags))
	if e != 0 {
		return -1, e
	}
	return int(fd), nil
}
