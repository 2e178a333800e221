package restore

import (
	"encoding/binary"
	"fmt"
	"os"
	"os/signal"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
	"github.com/ckpt/ckpt/internal/kernel"
	"github.com/ckpt/ckpt/internal/pty"
)

// ttyKind is the restore state of terminals.
type ttyKind struct {
	ttys map[uint32]*ttyState // by TtyID, from TTY
}

func init() {
	registerKind(kind{name: "terminal",
		takes: all((*restorer).handleTty, image.TypeTty, image.TypeTtyData, image.TypeTtyFile, image.TypeTtyAttr),
		opens: []opener{inTaskOf(false, func(rs *restorer, t *taskPlan, fd image.Fd, x *image.TtyFile, min int) (int, error) {
			return rs.openTtyFile(t, fd.File, x, min)
		})},
		close: (*restorer).closeTtys})
}

// ttyState is one TTY of the image and, once made, the restorer's copies
// of the new pty's master and of a slave of its own.
type ttyState struct {
	rec           *image.Tty
	in, out       []byte // TTY_DATA, by direction
	master, slave *os.File
	attr          *image.TtyAttr // the slave's owner and mode; nil in images before 2.6
}

// handleTty takes the terminal records: TTY and TTY_DATA between the
// PSTREE and the first TASK, TTY_FILE in a task's section. It reports
// whether rec was one of them.
func (rs *restorer) handleTty(rec image.Record) (bool, error) {
	switch x := rec.(type) {
	case *image.Tty:
		return true, rs.addTty(x)
	case *image.TtyData:
		if !rs.tree || rs.cur != nil {
			return true, badImage("TTY_DATA out of place: it follows its TTY, before the first TASK")
		}
		st := rs.ttys[x.TtyID]
		if st == nil || st.rec.Kind != image.TtyPty {
			return true, badImage("TTY_DATA for %d, which is no pty's TTY before it", x.TtyID)
		}
		switch x.Dir {
		case image.TtyDataInput:
			st.in = append(st.in, x.Data...)
		case image.TtyDataOutput:
			st.out = append(st.out, x.Data...)
		default:
			return true, badImage("TTY_DATA for pty %d: unknown direction %d", st.rec.Index, x.Dir)
		}
		if len(st.in) > pty.MaxQueue || len(st.out) > pty.MaxQueue {
			return true, badImage("TTY_DATA for pty %d: more than %d bytes queued in one direction", st.rec.Index, pty.MaxQueue)
		}
		return true, nil
	case *image.TtyAttr:
		if !rs.tree || rs.cur != nil {
			return true, badImage("TTY_ATTR out of place: it follows its TTY, before the first TASK")
		}
		st := rs.ttys[x.TtyID]
		switch {
		case st == nil || st.rec.Kind != image.TtyPty:
			return true, badImage("TTY_ATTR for %d, which is no pty's TTY before it", x.TtyID)
		case st.attr != nil:
			return true, badImage("a second TTY_ATTR for pty %d", st.rec.Index)
		case x.Mode&^0o7777 != 0:
			return true, badImage("TTY_ATTR for pty %d: mode %#o", st.rec.Index, x.Mode)
		}
		st.attr = x
		return true, nil
	case *image.TtyFile:
		if rs.cur == nil {
			return true, badImage("TTY_FILE before any TASK")
		}
		st := rs.ttys[x.TtyID]
		if st == nil || st.rec.Kind != image.TtyPty {
			return true, badImage("TTY_FILE %d refers to terminal %d, which is no pty's TTY", x.Objref, x.TtyID)
		}
		switch x.Side {
		case image.TtyMaster:
			if x.Flags&unix.O_ACCMODE != unix.O_RDWR {
				return true, badImage("TTY_FILE %d: a pty master open with flags %#o, not for reading and writing", x.Objref, x.Flags)
			}
		case image.TtySlave, image.TtyCtty:
			if x.Flags&unix.O_ACCMODE == unix.O_ACCMODE {
				return true, badImage("TTY_FILE %d: open flags %#o have no access mode", x.Objref, x.Flags)
			}
		default:
			return true, badImage("TTY_FILE %d: unknown side %d", x.Objref, x.Side)
		}
		rs.objs[x.Objref] = x
		return true, nil
	}
	return false, nil
}

// addTty checks a TTY as it is read: its place, its kind, and that its
// session and foreground group are the image's.
func (rs *restorer) addTty(x *image.Tty) error {
	if !rs.tree || rs.cur != nil {
		return badImage("TTY out of place: TTY records follow the PSTREE, before the first TASK")
	}
	if rs.ttys == nil {
		rs.ttys = map[uint32]*ttyState{}
	}
	if rs.ttys[x.TtyID] != nil {
		return badImage("two TTY records with TtyID %d", x.TtyID)
	}
	if x.Flags&^image.TtyFlagsKnown != 0 {
		return badImage("TTY %d: unknown flags %#x", x.TtyID, x.Flags&^image.TtyFlagsKnown)
	}
	var leader *taskPlan
	if x.Sid != 0 {
		if l := rs.byPid[x.Sid]; l != nil && l.rec.Sid == x.Sid && !l.zombie {
			leader = l
		}
	}
	switch x.Kind {
	case image.TtyPty:
		if x.Sid != 0 && leader == nil {
			return badImage("TTY %d: pty %d is the controlling terminal of session %d, whose leader is not a live task of the image", x.TtyID, x.Index, x.Sid)
		}
	case image.TtyExternal:
		if !rs.opts.ShellJob {
			return fmt.Errorf("the tasks had the terminal they were started on (session %d's controlling terminal), outside the image: restore with --shell-job to attach them to this one", x.Sid)
		}
	default:
		return badImage("TTY %d: unknown kind %d", x.TtyID, x.Kind)
	}
	if x.Pgrp != 0 {
		found := false
		for _, t := range rs.plans {
			if t.rec.Pgid == x.Pgrp && t.rec.Sid == x.Sid {
				found = true
				break
			}
		}
		if !found {
			return badImage("TTY %d: foreground group %d is no group of session %d in the image", x.TtyID, x.Pgrp, x.Sid)
		}
	}
	rs.ttys[x.TtyID] = &ttyState{rec: x}
	return nil
}

// makePty opens a new pty in task t, whose /dev/ptmx leads to the devpts
// instance the restored tasks see, and gives it the saved queues and
// settings. The restorer keeps the master and a slave of its own; the
// lock comes last (lockTtys), once every slave is open.
func (rs *restorer) makePty(t *taskPlan, st *ttyState) error {
	lt := t.leader
	defer lt.Reset()
	addr, err := lt.PutString("/dev/ptmx")
	if err != nil {
		return err
	}
	fd, err := lt.Syscall(unix.SYS_OPENAT, atFdcwd, uintptr(addr), unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open /dev/ptmx: %w", err)
	}
	master, err := rs.copyFromTask(t, int(fd))
	_, _ = lt.Syscall(unix.SYS_CLOSE, fd)
	if err != nil {
		return err
	}
	st.master = master
	if err := pty.SetLock(master, false); err != nil {
		return err
	}
	if err := setSlaveAttr(master, st.attr); err != nil {
		return fmt.Errorf("pty %d: %w", st.rec.Index, err)
	}
	r := st.rec
	// A slave of our own, when there is something to give the pty through
	// it. Without one, no slave is opened: a pty whose slave was never
	// open stays so (see TTY Flags bit 3).
	if len(st.in) > 0 || len(st.out) > 0 || r.Flags&(image.TtyFlagExclusive|image.TtyFlagSlaveClosed) != 0 {
		if err := st.openSlave(); err != nil {
			return err
		}
	}
	ws := &unix.Winsize{Row: r.Rows, Col: r.Cols, Xpixel: r.Xpixel, Ypixel: r.Ypixel}
	if err := unix.IoctlSetWinsize(int(master.Fd()), unix.TIOCSWINSZ, ws); err != nil {
		return fmt.Errorf("TIOCSWINSZ: %w", err)
	}
	tio := unix.Termios(r.Termios)
	if st.slave != nil {
		if err := pty.Refill(master, st.slave, &tio, st.in, st.out); err != nil {
			return fmt.Errorf("queued data (%d bytes in, %d out): %w", len(st.in), len(st.out), err)
		}
	} else if err := unix.IoctlSetTermios(int(master.Fd()), unix.TCSETS2, &tio); err != nil {
		// The master's termios ioctls set the slave's.
		return fmt.Errorf("TCSETS2: %w", err)
	}
	if r.Flags&image.TtyFlagPacket != 0 {
		if err := unix.IoctlSetPointerInt(int(master.Fd()), unix.TIOCPKT, 1); err != nil {
			return fmt.Errorf("TIOCPKT: %w", err)
		}
	}
	if r.Flags&image.TtyFlagExclusive != 0 {
		if err := unix.IoctlSetInt(int(st.slave.Fd()), unix.TIOCEXCL, 0); err != nil {
			return fmt.Errorf("TIOCEXCL: %w", err)
		}
	}
	var idx uint32
	if idx, err = unix.IoctlGetUint32(int(master.Fd()), unix.TIOCGPTN); err == nil {
		rs.log.Debug("pty made", "pid", t.rec.Pid, "index", r.Index, "new index", idx)
	}
	return nil
}

// openSlave opens the restorer's own slave of the pty.
func (st *ttyState) openSlave() error {
	if st.slave != nil {
		return nil
	}
	s, err := pty.Peer(st.master, unix.O_RDWR)
	if err != nil {
		return fmt.Errorf("open the slave: %w", err)
	}
	st.slave = s
	return nil
}

// openTtyFile gives task t a description of a pty: the master (there is
// one per pty), or a new open of the slave with the saved flags. The
// restorer keeps it for the tasks that share it.
func (rs *restorer) openTtyFile(t *taskPlan, objref uint32, f *image.TtyFile, min int) (int, error) {
	st := rs.ttys[f.TtyID]
	if st.master == nil {
		if err := rs.makePty(t, st); err != nil {
			return -1, fmt.Errorf("pty %d: %w", st.rec.Index, err)
		}
	}
	if f.Side == image.TtyCtty {
		return rs.openDevTty(t, objref, f, min)
	}
	var file *os.File
	if f.Side == image.TtyMaster {
		fd, err := unix.FcntlInt(st.master.Fd(), unix.F_DUPFD_CLOEXEC, 0)
		if err != nil {
			return -1, err
		}
		file = os.NewFile(uintptr(fd), "pty-master")
		if _, err := unix.FcntlInt(file.Fd(), unix.F_SETFL, int(f.Flags&(unix.O_NONBLOCK|unix.O_APPEND))); err != nil {
			file.Close()
			return -1, fmt.Errorf("pty %d master flags %#o: %w", st.rec.Index, f.Flags, err)
		}
	} else {
		var err error
		if file, err = pty.Peer(st.master, int(f.Flags&reopenMask)); err != nil {
			return -1, fmt.Errorf("pty %d: open the slave: %w", st.rec.Index, err)
		}
	}
	rs.ctlFiles[objref] = file
	got, err := t.pull(file.Fd())
	if err != nil {
		return -1, fmt.Errorf("take pty %d's %s from the restorer: %w", st.rec.Index, image.TtySideName(f.Side), err)
	}
	return moveAbove(t.leader, got, min)
}

// openDevTty opens /dev/tty in task t, whose controlling terminal (set
// at birth) is the pty, and keeps a copy for the tasks that share it.
func (rs *restorer) openDevTty(t *taskPlan, objref uint32, f *image.TtyFile, min int) (int, error) {
	lt := t.leader
	defer lt.Reset()
	addr, err := lt.PutString("/dev/tty")
	if err != nil {
		return -1, err
	}
	fd, err := lt.Syscall(unix.SYS_OPENAT, atFdcwd, uintptr(addr), uintptr(f.Flags&reopenMask|unix.O_NOCTTY), 0)
	if err != nil {
		return -1, fmt.Errorf("open /dev/tty (pty %d): %w", rs.ttys[f.TtyID].rec.Index, err)
	}
	tmp, err := moveAbove(lt, fd, min)
	if err != nil {
		return -1, err
	}
	if err := rs.keepCopy(t, objref, tmp); err != nil {
		return -1, err
	}
	return tmp, nil
}

// takeCtty gives session leader t, just born and setsid, its controlling
// terminal, before its children are born: they inherit it.
func (rs *restorer) takeCtty(t *taskPlan) error {
	if t.rec.Sid != t.rec.Pid || t.zombie || t.helper != helperNone {
		return nil
	}
	for _, st := range rs.ttys {
		if st.rec.Sid != t.rec.Pid {
			continue
		}
		var term *os.File
		var steal uintptr
		switch st.rec.Kind {
		case image.TtyPty:
			if st.master == nil {
				if err := rs.makePty(t, st); err != nil {
					return fmt.Errorf("pty %d: %w", st.rec.Index, err)
				}
			}
			if err := st.openSlave(); err != nil {
				return fmt.Errorf("pty %d: %w", st.rec.Index, err)
			}
			term = st.slave
		case image.TtyExternal:
			var err error
			if term, err = rs.shellTerminal(); err != nil {
				return err
			}
			// It is our session's terminal: take it from us (the
			// kernel lets CAP_SYS_ADMIN do that).
			steal = 1
		}
		if err := rs.ttyIoctl(t, term, unix.TIOCSCTTY, steal, nil); err != nil {
			return fmt.Errorf("TIOCSCTTY: %w", err)
		}
	}
	return nil
}

// setForegrounds gives every controlling terminal its foreground process
// group, once every task is in its group: from the session leader, or
// from the restorer when the session is its own (a shell job).
func (rs *restorer) setForegrounds() error {
	for _, st := range rs.ttys {
		r := st.rec
		if r.Pgrp == 0 {
			continue
		}
		if leader := rs.byPid[r.Sid]; leader != nil && leader.rec.Sid == r.Sid && !leader.zombie {
			var term *os.File
			if r.Kind == image.TtyPty {
				if err := st.openSlave(); err != nil {
					return fmt.Errorf("pty %d: %w", r.Index, err)
				}
				term = st.slave
			} else {
				var err error
				if term, err = rs.shellTerminal(); err != nil {
					return err
				}
			}
			if err := rs.ttyIoctl(leader, term, unix.TIOCSPGRP, 0, binary.LittleEndian.AppendUint32(nil, uint32(r.Pgrp))); err != nil {
				return fmt.Errorf("task %d: foreground group %d: %w", r.Sid, r.Pgrp, err)
			}
			continue
		}
		term, err := rs.shellTerminal()
		if err != nil {
			return err
		}
		// We are in the session, maybe not in its foreground: a
		// background tcsetpgrp would stop us with SIGTTOU.
		signal.Ignore(unix.SIGTTOU)
		err = unix.IoctlSetPointerInt(int(term.Fd()), unix.TIOCSPGRP, int(r.Pgrp))
		signal.Reset(unix.SIGTTOU)
		if err != nil {
			return fmt.Errorf("foreground group %d of our terminal: %w", r.Pgrp, err)
		}
	}
	return nil
}

// ttyIoctl runs ioctl(req) in task t on a copy of the restorer's file
// term: with arg, or with the address of a copy of mem if mem is set.
func (rs *restorer) ttyIoctl(t *taskPlan, term *os.File, req uint, arg uintptr, mem []byte) error {
	lt := t.leader
	defer lt.Reset()
	fd, err := t.pull(term.Fd())
	if err != nil {
		return fmt.Errorf("take the terminal from the restorer: %w", err)
	}
	defer func() { _, _ = lt.Syscall(unix.SYS_CLOSE, fd) }()
	if mem != nil {
		addr, err := lt.Put(mem)
		if err != nil {
			return err
		}
		arg = uintptr(addr)
	}
	_, err = lt.Syscall(unix.SYS_IOCTL, fd, uintptr(req), arg)
	return err
}

// shellTerminal is the terminal the restorer runs on (its stdin), which
// --shell-job gives the tasks instead of the one they had.
func (rs *restorer) shellTerminal() (*os.File, error) {
	term, what := os.Stdin, "restore's stdin"
	if f := rs.adoptedStdio(0); f != nil {
		// A container's console is the one its runtime just gave it.
		term, what = f, "the container's stdin"
	}
	if _, err := unix.IoctlGetTermios(int(term.Fd()), unix.TCGETS); err != nil {
		return nil, fmt.Errorf("--shell-job: %s is not a terminal: %w", what, err)
	}
	return term, nil
}

// openShellTerminal opens the restorer's terminal again for an external
// terminal file of the image, with its flags.
func (rs *restorer) openShellTerminal(ext *image.ExtFile) (*os.File, error) {
	term, err := rs.shellTerminal()
	if err != nil {
		return nil, err
	}
	fd, err := unix.Open(fmt.Sprintf("/proc/self/fd/%d", term.Fd()), int(ext.Flags&reopenMask)|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open our terminal for %s: %w", ext.Key, err)
	}
	return os.NewFile(uintptr(fd), ext.Key), nil
}

// lockTtys locks the ptys that were locked, once every slave is open.
func (rs *restorer) lockTtys() error {
	for _, st := range rs.ttys {
		if st.master != nil && st.rec.Flags&image.TtyFlagLocked != 0 {
			if err := pty.SetLock(st.master, true); err != nil {
				return fmt.Errorf("pty %d: %w", st.rec.Index, err)
			}
		}
	}
	return nil
}

func (rs *restorer) closeTtys() {
	for _, st := range rs.ttys {
		for _, f := range []*os.File{st.master, st.slave} {
			if f != nil {
				f.Close()
			}
		}
	}
}

// setSlaveAttr gives a new pty's slave the owner and mode of TTY_ATTR,
// through an O_PATH descriptor of it (no terminal is opened).
func setSlaveAttr(master *os.File, a *image.TtyAttr) error {
	if a == nil {
		return nil
	}
	fd, err := kernel.PtyPeer(int(master.Fd()), unix.O_PATH|unix.O_NOCTTY|unix.O_CLOEXEC)
	if err != nil {
		return fmt.Errorf("TIOCGPTPEER (O_PATH): %w", err)
	}
	defer unix.Close(fd)
	// Owner first: a chown clears set-user-ID bits.
	if err := unix.Fchownat(fd, "", int(a.Uid), int(a.Gid), unix.AT_EMPTY_PATH); err != nil {
		return fmt.Errorf("slave owner %d:%d: %w", a.Uid, a.Gid, err)
	}
	// chmod(2) through /proc follows to the slave (an O_PATH fd takes no fchmod).
	if err := unix.Chmod(fmt.Sprintf("/proc/self/fd/%d", fd), a.Mode); err != nil {
		return fmt.Errorf("slave mode %#o: %w", a.Mode, err)
	}
	return nil
}
