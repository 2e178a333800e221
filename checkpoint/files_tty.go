package checkpoint

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
	"github.com/ckpt/ckpt/internal/kernel"
	"github.com/ckpt/ckpt/internal/pty"
)

// Terminals. A pseudo-terminal whose master (/dev/ptmx) a task holds is
// inside the checkpoint: its settings and queued data are saved (TTY,
// TTY_DATA) and every description of either side is a TTY_FILE. A slave
// whose master is outside (a terminal emulator, tmux, sshd), or any other
// terminal, belongs to the user who started the tasks: it is refused
// unless the caller says --shell-job, and then it is an EXT_FILE that
// restore connects to its own terminal. The same goes for controlling
// terminals: a session's pty inside is saved with its foreground group,
// one outside is a TTY of kind external with --shell-job.

// ttyIDExternal numbers the external terminals' TTY records, above every
// pty's (index + 1).
const ttyIDExternal = 0x80000000

// ttys is what the checkpoint knows of terminals once resolveTtys ran.
type ttys struct {
	recs []image.Record // TTY records, each followed by its TTY_DATA
}

// dumpTty records a description of a terminal. Whether a pty slave's
// master is inside too is only known once every task is collected:
// resolveTtys turns the slaves of outside masters into external files.
func (d *dumper) dumpTty(p *process, of *openFd, obj string) (image.Record, error) {
	flags := of.info.Flags & openFlagsMask
	switch {
	case kernel.IsPtmx(of.st.Rdev):
		idx, err := strconv.ParseUint(of.info.Extra["tty-index"], 10, 32)
		if err != nil {
			return nil, unsupported(p.pid, obj, "a pty master without a tty-index in fdinfo")
		}
		if flags&unix.O_ACCMODE != unix.O_RDWR {
			return nil, unsupported(p.pid, obj, "a pty master not open for reading and writing")
		}
		return &image.TtyFile{Flags: flags, TtyID: uint32(idx) + 1, Side: image.TtyMaster}, nil
	case kernel.IsPtySlave(of.st.Rdev):
		return &image.TtyFile{Flags: flags, TtyID: kernel.PtySlaveIndex(of.st.Rdev) + 1, Side: image.TtySlave}, nil
	case kernel.IsDevTty(of.st.Rdev):
		// /dev/tty led to the task's controlling terminal when it was
		// opened; the task still has it (a session keeps its terminal).
		if ctty := kernel.TtyNrDev(p.stat.TtyNr); p.stat.TtyNr != 0 && kernel.IsPtySlave(ctty) {
			return &image.TtyFile{Flags: flags, TtyID: kernel.PtySlaveIndex(ctty) + 1, Side: image.TtyCtty}, nil
		}
	}
	if !d.opts.ShellJob {
		return nil, unsupported(p.pid, obj, "terminal %d:%d is outside the checkpoint: checkpoint with --shell-job to have restore attach the tasks to its own terminal",
			unix.Major(of.st.Rdev), unix.Minor(of.st.Rdev))
	}
	return extFile(of, image.ExtTty), nil
}

// resolveTtys saves every pty whose master is inside, makes the slaves of
// the others external, and finds each session's controlling terminal.
//
// Preconditions:
//   - every task is collected and treeIds ran (the image's pids);
//   - checkTaskLeaks ran (it lists the outsiders).
func (d *dumper) resolveTtys(t *tree) error {
	masters := map[uint32]*fileObj{} // by TtyID
	slaves := map[uint32]*fileObj{}  // a slave a task inside holds open
	for _, f := range d.files {
		if r, ok := f.rec.(*image.TtyFile); ok && r.Side == image.TtyMaster {
			masters[r.TtyID] = f
		} else if ok {
			slaves[r.TtyID] = f
		}
	}
	for _, f := range d.files {
		r, ok := f.rec.(*image.TtyFile)
		if !ok || r.Side == image.TtyMaster || masters[r.TtyID] != nil {
			continue
		}
		if !d.opts.ShellJob {
			return unsupported(f.pid, fmt.Sprintf("fd %d (%s)", f.fd, f.link),
				"the terminal's master is outside the checkpoint (a terminal emulator, tmux, sshd): checkpoint with --shell-job to have restore attach the tasks to its own terminal")
		}
		f.rec = &image.ExtFile{Objref: f.objref, Flags: r.Flags, Kind: image.ExtTty, Key: f.link}
	}
	ids := make([]uint32, 0, len(masters))
	for id := range masters {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	d.ttys = &ttys{}
	ptys := map[uint32]*image.Tty{}
	for _, id := range ids {
		m := masters[id]
		obj := fmt.Sprintf("pty %d (fd %d)", id-1, m.fd)
		tty, data, err := d.dumpPty(t, m, id, slaves[id] != nil)
		if err != nil {
			return fmt.Errorf("task %d: %s: %w", m.pid, obj, err)
		}
		ptys[id] = tty
		d.ttys.recs = append(d.ttys.recs, tty)
		d.ttys.recs = append(d.ttys.recs, data...)
		if err := d.ptyLeaks(m, id-1, slaves[id]); err != nil {
			return err
		}
	}
	return d.controllingTtys(t, ptys)
}

// dumpPty reads the settings and the queued data of the pty whose master
// m is, through a copy of the master and, when a task holds the slave
// open, a slave of our own (opening one when no slave is open would
// change the pty: see pty.DrainMaster).
func (d *dumper) dumpPty(t *tree, m *fileObj, id uint32, slaveOpen bool) (*image.Tty, []image.Record, error) {
	master, err := takeFd(m.pid, m.fd)
	if err != nil {
		return nil, nil, err
	}
	defer master.Close()
	mfd := int(master.Fd())
	rec := &image.Tty{TtyID: id, Kind: image.TtyPty, Index: id - 1}
	attr, err := slaveAttr(mfd, id)
	if err != nil {
		return nil, nil, err
	}
	tio, err := unix.IoctlGetTermios(mfd, unix.TCGETS2) // the slave's: a master's termios ioctls reach its peer
	if err != nil {
		return nil, nil, fmt.Errorf("TCGETS2: %w", err)
	}
	rec.Termios = image.Termios(*tio)
	ws, err := unix.IoctlGetWinsize(mfd, unix.TIOCGWINSZ)
	if err != nil {
		return nil, nil, fmt.Errorf("TIOCGWINSZ: %w", err)
	}
	rec.Rows, rec.Cols, rec.Xpixel, rec.Ypixel = ws.Row, ws.Col, ws.Xpixel, ws.Ypixel
	for _, b := range []struct {
		req  uint
		flag uint32
		name string
	}{{unix.TIOCGPKT, image.TtyFlagPacket, "TIOCGPKT"}, {unix.TIOCGPTLCK, image.TtyFlagLocked, "TIOCGPTLCK"}} {
		v, err := unix.IoctlGetInt(mfd, b.req)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", b.name, err)
		}
		if v != 0 {
			rec.Flags |= b.flag
		}
	}
	var slave *os.File
	if slaveOpen {
		if slave, err = pty.Peer(master, unix.O_RDWR); err != nil {
			return nil, nil, err
		}
		defer slave.Close()
		excl, err := unix.IoctlGetInt(int(slave.Fd()), unix.TIOCGEXCL)
		if err != nil {
			return nil, nil, fmt.Errorf("TIOCGEXCL: %w", err)
		}
		if excl != 0 {
			rec.Flags |= image.TtyFlagExclusive
		}
	}
	// The session and foreground group, asked through the master: the
	// slave answers only to the session it is the terminal of.
	if sid, err := unix.IoctlGetInt(mfd, unix.TIOCGSID); err == nil {
		p := t.byPid[sid]
		if p == nil || p.zombie {
			return nil, nil, unsupported(m.pid, fmt.Sprintf("pty %d", id-1),
				"it is the controlling terminal of session %d, whose leader is not a live task of the checkpoint", sid)
		}
		rec.Sid = p.task.Pid
		pgrp, err := unix.IoctlGetInt(mfd, unix.TIOCGPGRP)
		if err != nil {
			return nil, nil, fmt.Errorf("TIOCGPGRP: %w", err)
		}
		rec.Pgrp = imagePgid(t, pgrp)
	} else if !errors.Is(err, unix.ENOTTY) {
		return nil, nil, fmt.Errorf("TIOCGSID: %w", err)
	}
	// Reading the queues takes them: give them straight back, the tasks
	// may run on (--leave-running, or a checkpoint that fails later).
	var in, out []byte
	if slaveOpen {
		if in, out, err = pty.Drain(master, slave); err != nil {
			return nil, nil, err
		}
	} else {
		var closed bool
		if out, closed, err = pty.DrainMaster(master); err != nil {
			return nil, nil, err
		}
		if closed {
			rec.Flags |= image.TtyFlagSlaveClosed
		}
		if len(out) > 0 {
			// There was a slave to write it: closing ours leaves the
			// pty as closed as it was.
			if slave, err = pty.Peer(master, unix.O_RDWR); err != nil {
				return nil, nil, err
			}
			defer slave.Close()
		}
	}
	if slave != nil {
		if err := pty.Refill(master, slave, tio, in, out); err != nil {
			return nil, nil, fmt.Errorf("give the queued data back (%d bytes in, %d out): %w", len(in), len(out), err)
		}
	}
	var data []image.Record
	for _, q := range []struct {
		dir  uint32
		data []byte
	}{{image.TtyDataInput, in}, {image.TtyDataOutput, out}} {
		for b := q.data; len(b) > 0; {
			n := min(len(b), image.TtyDataChunk)
			data = append(data, &image.TtyData{TtyID: id, Dir: q.dir, Data: b[:n]})
			b = b[n:]
		}
	}
	return rec, append(data, attr), nil
}

// slaveAttr reads the owner and mode of the slave of the pty master mfd
// through an O_PATH descriptor of it, which opens no terminal: opening the
// slave when no task has it open would change the pty.
func slaveAttr(mfd int, id uint32) (*image.TtyAttr, error) {
	fd, err := kernel.PtyPeer(mfd, unix.O_PATH|unix.O_NOCTTY|unix.O_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("TIOCGPTPEER (O_PATH): %w", err)
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, fmt.Errorf("stat the slave: %w", err)
	}
	return &image.TtyAttr{TtyID: id, Mode: st.Mode & 0o7777, Uid: st.Uid, Gid: st.Gid}, nil
}

// imagePgid is the image's name of the process group pgrp (in our pid
// namespace), or 0 if no live task of the tree is in it.
func imagePgid(t *tree, pgrp int) int32 {
	for _, p := range t.live() {
		if p.stat.Pgrp == pgrp {
			return p.task.Pgid
		}
	}
	return 0
}

// controllingTtys checks each task's controlling terminal: a pty inside
// must be its session's, which dumpPty found; one outside is refused
// without --shell-job, and with it its session gets an external TTY.
func (d *dumper) controllingTtys(t *tree, ptys map[uint32]*image.Tty) error {
	ext := map[int]bool{} // sessions (our pids) with an external TTY
	for _, p := range t.live() {
		if p.stat.TtyNr == 0 {
			continue
		}
		dev := kernel.TtyNrDev(p.stat.TtyNr)
		if kernel.IsPtySlave(dev) {
			if tty := ptys[kernel.PtySlaveIndex(dev)+1]; tty != nil {
				if tty.Sid != p.task.Sid {
					return unsupported(p.pid, fmt.Sprintf("controlling terminal pty %d", tty.Index),
						"the task is in session %d, the terminal is session %d's", p.task.Sid, tty.Sid)
				}
				continue
			}
		}
		name := fmt.Sprintf("controlling terminal %d:%d", unix.Major(dev), unix.Minor(dev))
		if kernel.IsPtySlave(dev) {
			name = fmt.Sprintf("controlling terminal /dev/pts/%d", kernel.PtySlaveIndex(dev))
		}
		if !d.opts.ShellJob {
			return unsupported(p.pid, name, "the terminal is outside the checkpoint: checkpoint with --shell-job to have restore attach the tasks to its own terminal")
		}
		if ext[p.stat.Session] {
			continue
		}
		ext[p.stat.Session] = true
		// A session outside (a shell's job) has a Sid no task of the
		// image has: restore keeps the tasks in its own session.
		sid := p.task.Sid
		d.ttys.recs = append(d.ttys.recs, &image.Tty{
			TtyID: ttyIDExternal + uint32(len(ext)), Kind: image.TtyExternal,
			Sid: sid, Pgrp: imagePgid(t, p.stat.Tpgid),
		})
	}
	return nil
}

// ptyLeaks refuses a pty inside whose slave a process outside has open:
// restore makes a new pty, and that process would keep the old one.
func (d *dumper) ptyLeaks(m *fileObj, index uint32, slave *fileObj) error {
	for _, o := range d.outsiders {
		dir := "/proc/" + strconv.Itoa(o.pid) + "/fd/"
		ents, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, e := range ents {
			l, err := os.Readlink(dir + e.Name())
			if err != nil || !strings.Contains(l, "/pts/") {
				continue
			}
			var st unix.Stat_t
			if unix.Stat(dir+e.Name(), &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFCHR ||
				!kernel.IsPtySlave(st.Rdev) || kernel.PtySlaveIndex(st.Rdev) != index {
				continue
			}
			// The same number in another devpts instance (a container's
			// own /dev/pts, the host's) is another pty.
			if same, err := samePty(m, slave, st.Dev); err != nil || !same {
				if err != nil {
					return fmt.Errorf("pty %d (master fd %d): %w", index, m.fd, err)
				}
				continue
			}
			return &LeakError{Pid: m.pid, Object: fmt.Sprintf("pty %d (master fd %d)", index, m.fd), Verb: "held by",
				Outside: o.pid, Where: "fd " + e.Name() + ", its slave " + l,
				Reason: "restore makes a new pty, and the outside task would keep the old one"}
		}
	}
	return nil
}

// samePty tells whether the pty whose master m is lives in the devpts
// instance dev: from a slave of the tree when there is one, else from a
// slave opened through a copy of the master (TIOCGPTPEER), which only
// happens when a task outside holds a slave of that number, and so the
// pty is not left without one meanwhile if it is the same.
func samePty(m, slave *fileObj, dev uint64) (bool, error) {
	if slave != nil {
		return slave.dev == dev, nil
	}
	master, err := takeFd(m.pid, m.fd)
	if err != nil {
		return false, err
	}
	defer master.Close()
	peer, err := pty.Peer(master, unix.O_RDONLY|unix.O_NONBLOCK)
	if err != nil {
		return false, err
	}
	defer peer.Close()
	var st unix.Stat_t
	if err := unix.Fstat(int(peer.Fd()), &st); err != nil {
		return false, err
	}
	return st.Dev == dev, nil
}
