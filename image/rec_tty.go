package image

import "fmt"

// Tty (TTY, type 350) is a terminal the image knows: a pseudo-terminal
// whose master is held inside the checkpointed set (Kind TtyPty), or the
// terminal outside that a session of the set has as its controlling
// terminal (Kind TtyExternal, --shell-job). TTY records follow the PSTREE
// (and MOUNTs), before the first TASK: restore makes the controlling
// terminals as the session leaders are born, before their children.
type Tty struct {
	TtyID    uint32 // names the terminal in TTY_DATA and TTY_FILE; unique in the image
	Kind     uint32 // TtyPty or TtyExternal
	Index    uint32 // the pty's index at checkpoint (/dev/pts/Index); 0 for an external terminal
	Flags    uint32 // TtyFlag* bits
	Sid      int32  // the session whose controlling terminal it is (a pid of the image), 0 for none
	Pgrp     int32  // its foreground process group (a pid of the image), 0 for none or one outside the image
	Termios  Termios
	Rows     uint16 // struct winsize
	Cols     uint16
	Xpixel   uint16
	Ypixel   uint16
	Reserved uint32
}

// Tty.Kind values.
const (
	TtyPty      uint32 = 1
	TtyExternal uint32 = 2
)

// Tty.Flags bits.
const (
	TtyFlagPacket    uint32 = 1 // packet mode is on (TIOCPKT)
	TtyFlagLocked    uint32 = 2 // the slave is locked (TIOCSPTLCK)
	TtyFlagExclusive uint32 = 4 // the slave is in exclusive mode (TIOCEXCL)
	// TtyFlagSlaveClosed: no slave is open, and one was: the master reads
	// EIO once its queue is empty (the kernel's TTY_OTHER_CLOSED).
	TtyFlagSlaveClosed uint32 = 8
	TtyFlagsKnown             = TtyFlagPacket | TtyFlagLocked | TtyFlagExclusive | TtyFlagSlaveClosed
)

// Termios mirrors struct termios2 of include/uapi/asm-generic/termbits.h
// (TCGETS2/TCSETS2): the settings of the terminal's slave side.
type Termios struct {
	Iflag  uint32
	Oflag  uint32
	Cflag  uint32
	Lflag  uint32
	Line   uint8
	Cc     [19]uint8
	Ispeed uint32
	Ospeed uint32
}

// TtyData (TTY_DATA, type 351) is data queued in a pty and not yet read.
// It follows the TTY record of its pty; data longer than TtyDataChunk is
// split over several records of one direction, in order.
type TtyData struct {
	TtyID uint32
	Dir   uint32 // TtyDataInput or TtyDataOutput
	Data  []byte
}

// TtyData.Dir values.
const (
	TtyDataInput  uint32 = 1 // written on the master, not yet read on the slave
	TtyDataOutput uint32 = 2 // written on the slave, not yet read on the master
)

// TtyDataChunk is the most data one TTY_DATA record holds.
const TtyDataChunk = 64 << 10

// TtyFile (TTY_FILE, type 352, object) is an open file description of a
// pty of the image: its master (/dev/ptmx), its slave (/dev/pts/N), or
// /dev/tty opened by a task whose controlling terminal the pty is.
type TtyFile struct {
	Objref uint32 `ckpt:"objref"`
	Flags  uint32 // open(2) flags as in /proc/PID/fdinfo
	TtyID  uint32 // the TTY (Kind TtyPty) it is a description of
	Side   uint32 // TtyMaster, TtySlave or TtyCtty
}

// TtyFile.Side values.
const (
	TtyMaster uint32 = 1
	TtySlave  uint32 = 2
	TtyCtty   uint32 = 3 // /dev/tty, which led to the pty
)

// TtySideName names a TtyFile.Side value, for messages and inspect.
func TtySideName(s uint32) string {
	switch s {
	case TtyMaster:
		return "master"
	case TtySlave:
		return "slave"
	case TtyCtty:
		return "/dev/tty"
	}
	return fmt.Sprintf("side(%d)", s)
}

func (*Tty) Type() Type     { return TypeTty }
func (*TtyData) Type() Type { return TypeTtyData }
func (*TtyFile) Type() Type { return TypeTtyFile }
