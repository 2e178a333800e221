package restore

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
	"github.com/ckpt/ckpt/internal/remote"
)

func init() {
	// The sockets are made all at once (makeUnixSockets), into ctlFiles.
	registerKind(kind{name: "unix socket", task: true,
		takes: []taker{on((*restorer).addUnixSk), on((*restorer).addUnixQueue), on((*restorer).addUnixBind)},
		close: (*restorer).closeUnix})
}

// Unix sockets are all made at once, before the first task takes its fds:
// a connection needs both of its ends, a pending one its listener, queued
// data its sender. The syscalls that record who made a socket (socketpair,
// listen, connect: SO_PEERCRED) and those that resolve a path (bind,
// connect) run inside the tasks; the restorer keeps a copy of every socket
// and does the rest from there (accept, refilling the queues, shutdown,
// options), and each task takes its sockets from the restorer like any
// other file.
// unixRestore is the state of the image's unix sockets.
type unixRestore struct {
	socks  map[uint32]*unixSock // by Ino
	order  []*unixSock          // image order
	queues map[uint32][]*image.UnixQueue
	// fixes are the socket files to chmod or remove once every
	// connection is made and every queue refilled (a removed one can no
	// longer be connected or sent to).
	fixes []func() error
	// inflight holds the restorer's copies of files in flight, sent
	// with the queued data, by objref.
	inflight map[uint32]*os.File
	// dirs is where sockets bound to a relative path were bound from
	// (UNIX_BIND), by Ino.
	dirs map[uint32]string
	// asides are files moved out of the way of sockets whose own file
	// was removed (files_unix_aside.go).
	asides []*asideFile
}

// unixSock is one socket of the image and, once made, the restorer's copy.
type unixSock struct {
	rec *image.UnixSk
	fd  int // the restorer's copy, -1 until made
	// tmpPeer is the restorer's end standing in for a peer closed before
	// the checkpoint: it sends the queued data, then is closed.
	tmpPeer int
	// refilled: its queue was refilled before the connections were made.
	refilled bool
	// gone: a sender of queued datagrams closed before the checkpoint,
	// not a socket of the image.
	gone bool
}

func (u *unixSock) String() string {
	s := fmt.Sprintf("unix socket %d", u.rec.Ino)
	if len(u.rec.Name) > 0 {
		s += " (" + showName(u.rec.Name) + ")"
	}
	return s
}

func showName(name []byte) string {
	if len(name) > 0 && name[0] == 0 {
		return "@" + string(name[1:])
	}
	return string(name)
}

// addUnixSk checks a UNIX_SK on its own as it is read.
func (rs *restorer) addUnixSk(x *image.UnixSk) error {
	u := &rs.ux
	if u.socks == nil {
		u.socks = map[uint32]*unixSock{}
		u.queues = map[uint32][]*image.UnixQueue{}
	}
	what := fmt.Sprintf("UNIX_SK %d (socket %d)", x.Objref, x.Ino)
	switch {
	case x.Ino == 0:
		return badImage("%s: Ino 0", what)
	case u.socks[x.Ino] != nil:
		return badImage("%s: a second socket with that Ino", what)
	case x.SockType != unix.SOCK_STREAM && x.SockType != unix.SOCK_DGRAM && x.SockType != unix.SOCK_SEQPACKET:
		return badImage("%s: socket type %d", what, x.SockType)
	case x.State != image.UnixConnected && x.State != image.UnixUnconnected && x.State != image.UnixListening:
		return badImage("%s: state %d", what, x.State)
	case x.Opts&^uint32(image.UnixOptsAll) != 0 || x.Shutdown&^uint32(image.UnixShutRcv|image.UnixShutSend) != 0:
		return badImage("%s: unknown Opts %#x or Shutdown %#x bits", what, x.Opts, x.Shutdown)
	case x.State == image.UnixListening && (x.SockType == unix.SOCK_DGRAM || x.Peer != 0 || x.Backlog == 0):
		return badImage("%s: a listener must be a stream or seqpacket socket with a backlog and no peer", what)
	case x.Opts&(image.UnixOptPending|image.UnixOptAccepted) != 0 && (x.State != image.UnixConnected || x.SockType == unix.SOCK_DGRAM):
		return badImage("%s: pending or accepted, but not a connected stream or seqpacket socket", what)
	case x.Opts&image.UnixOptAccepted != 0 && (len(x.Name) == 0 || x.Opts&image.UnixOptPending != 0):
		return badImage("%s: accepted, but unnamed or pending", what)
	case x.State != image.UnixConnected && x.Peer != 0:
		return badImage("%s: not connected, but has peer %d", what, x.Peer)
	case x.Flags&^uint32(unix.O_ACCMODE|unix.O_NONBLOCK|unix.O_ASYNC) != 0: // O_ASYNC: FILE_OWNER sets it
		return badImage("%s: open flags %#o", what, x.Flags)
	}
	if n := x.Name; len(n) > 0 {
		if len(n) > 108 {
			return badImage("%s: name of %d bytes (at most 108)", what, len(n))
		}
		if n[0] != 0 && (len(n) > 107 || bytesHasNul(n)) {
			return badImage("%s: path name %q does not fit sun_path", what, n)
		}
	}
	s := &unixSock{rec: x, fd: -1, tmpPeer: -1}
	u.socks[x.Ino] = s
	u.order = append(u.order, s)
	rs.objs[x.Objref] = x
	return nil
}

func bytesHasNul(b []byte) bool {
	for _, c := range b {
		if c == 0 {
			return true
		}
	}
	return false
}

// addUnixQueue takes queued data for a socket read before it.
func (rs *restorer) addUnixQueue(q *image.UnixQueue) error {
	s := rs.ux.socks[q.Ino]
	switch {
	case s == nil:
		return badImage("UNIX_QUEUE for socket %d, which no UNIX_SK before it describes", q.Ino)
	case s.rec.State == image.UnixListening || s.rec.Opts&image.UnixOptPending != 0:
		return badImage("UNIX_QUEUE for %v, which is a listener or a pending connection", s)
	case q.Flags&^uint32(image.UnixQueueCreds) != 0:
		return badImage("UNIX_QUEUE for %v: unknown Flags %#x", s, q.Flags)
	case s.rec.SockType == unix.SOCK_STREAM && len(q.Sender) > 0:
		return badImage("UNIX_QUEUE for stream %v has a sender address", s)
	case len(q.Sender) > 108:
		return badImage("UNIX_QUEUE for %v: sender address of %d bytes", s, len(q.Sender))
	case q.Flags&image.UnixQueueCreds != 0 && rs.byPid[q.CredPid] == nil:
		return badImage("UNIX_QUEUE for %v: credentials of pid %d, which is not a task of the image", s, q.CredPid)
	}
	for _, ref := range q.Fds {
		switch rs.objs[ref].(type) {
		case *image.RegFile, *image.ExtFile, *image.EventFd, *image.Pipe, *image.Fifo, *image.MemfdFile:
		default:
			return badImage("UNIX_QUEUE for %v: file in flight %d is not a file an earlier record defines", s, ref)
		}
	}
	rs.ux.queues[q.Ino] = append(rs.ux.queues[q.Ino], q)
	return nil
}

// inflightFile is the restorer's copy of the file objref, to send in
// flight: one it has, or one made in the root task and taken from there.
func (rs *restorer) inflightFile(objref uint32) (int, error) {
	if f, ok := rs.ctlFiles[objref]; ok {
		return int(f.Fd()), nil
	}
	if f, ok := rs.ux.inflight[objref]; ok {
		return int(f.Fd()), nil
	}
	t := rs.plans[0]
	tmp, err := rs.openFile(t, image.Fd{Fd: -1, File: objref}, 0)
	if err != nil {
		return -1, fmt.Errorf("file in flight %d: %w", objref, err)
	}
	f, err := rs.copyFromTask(t, tmp)
	_, _ = t.leader.Syscall(unix.SYS_CLOSE, uintptr(tmp))
	if err != nil {
		return -1, err
	}
	if rs.ux.inflight == nil {
		rs.ux.inflight = map[uint32]*os.File{}
	}
	rs.ux.inflight[objref] = f
	return int(f.Fd()), nil
}

// checkUnix checks what ties the sockets together, once the image is read:
// peers, listeners, senders.
func (rs *restorer) checkUnix() error {
	u := &rs.ux
	if err := rs.checkUnixBinds(); err != nil {
		return err
	}
	for _, s := range u.order {
		r := s.rec
		if r.Peer == 0 {
			continue
		}
		p := u.socks[r.Peer]
		if p == nil {
			return badImage("%v: peer %d is not a socket of the image", s, r.Peer)
		}
		if p.rec.SockType != r.SockType {
			return badImage("%v: peer %v is of another type", s, p)
		}
		switch {
		case r.Opts&image.UnixOptPending != 0:
			if p.rec.State != image.UnixListening || len(p.rec.Name) == 0 {
				return badImage("%v: pending on %v, which is not a bound listener", s, p)
			}
		case r.SockType == unix.SOCK_DGRAM:
			if p.rec.Peer != r.Ino && len(p.rec.Name) == 0 {
				return badImage("%v: connected to the unnamed %v, which is not connected back", s, p)
			}
		default:
			if p.rec.State != image.UnixConnected || p.rec.Peer != r.Ino || p.rec.Opts&image.UnixOptPending != 0 {
				return badImage("%v: peer %v is not connected back to it", s, p)
			}
			if r.Opts&p.rec.Opts&image.UnixOptAccepted != 0 {
				return badImage("%v and its peer %v are both accepted ends", s, p)
			}
		}
	}
	for ino, qs := range u.queues {
		s := u.socks[ino]
		for _, q := range qs {
			if _, err := rs.unixSender(s, q); err != nil {
				return err
			}
		}
	}
	return nil
}

// credTask is the task to run a socket syscall in so that the socket
// records the process pid, if it is a task of the image; else the root.
func (rs *restorer) credTask(pid int32) *taskPlan {
	if t := rs.byPid[pid]; t != nil && !t.zombie && t.shares&image.ShareVM == 0 {
		return t
	}
	return rs.plans[0]
}

// holder is the first task with a fd on the object objref (the root if
// none has).
func (rs *restorer) holder(objref uint32) *taskPlan {
	for _, t := range rs.plans {
		if t.zombie || t.shares&image.ShareVM != 0 {
			continue
		}
		for _, fd := range t.fds {
			if fd.File == objref {
				return t
			}
		}
	}
	return rs.plans[0]
}

// makeUnixSockets makes every socket of the image (see the top of the
// file). Called before any task restores its files.
func (rs *restorer) makeUnixSockets() error {
	u := &rs.ux
	if len(u.order) == 0 {
		return nil
	}
	if err := rs.checkUnix(); err != nil {
		return err
	}
	// Listeners first: connections need them.
	for _, s := range u.order {
		r := s.rec
		if r.State != image.UnixListening {
			continue
		}
		t := rs.credTask(r.PeerCred)
		fd, err := rs.newSocket(t, r, true)
		if err != nil {
			return err
		}
		s.fd = fd
		if _, err := rs.inTask(t, s.fd, func(lt *remote.Task, tfd uintptr) (uintptr, error) {
			return lt.Syscall(unix.SYS_LISTEN, tfd, uintptr(r.Backlog))
		}); err != nil {
			return fmt.Errorf("%v: listen(%d): %w", s, r.Backlog, err)
		}
	}
	// Unconnected sockets, and datagram sockets before any connects.
	for _, s := range u.order {
		r := s.rec
		if s.fd >= 0 || r.State == image.UnixListening || r.State == image.UnixConnected && r.SockType != unix.SOCK_DGRAM {
			continue
		}
		if r.SockType == unix.SOCK_DGRAM && r.State == image.UnixConnected && r.Peer == 0 {
			continue // connected to a closed socket: below
		}
		if r.SockType == unix.SOCK_DGRAM && r.State == image.UnixConnected && len(r.Name) == 0 {
			if p := u.socks[r.Peer]; p.rec.Peer == r.Ino && len(p.rec.Name) == 0 {
				continue // a socketpair: below
			}
		}
		fd, err := rs.newSocket(rs.credTask(r.PeerCred), r, true)
		if err != nil {
			return err
		}
		s.fd = fd
	}
	// Datagrams queued on a named socket before it connected to its peer
	// came from any socket: sent now, by name, while it takes them from
	// any (once connected it takes its peer's alone).
	for _, s := range u.order {
		if !s.refillEarly() {
			continue
		}
		for _, q := range u.queues[s.rec.Ino] {
			if err := rs.refillUnix(s, q, true); err != nil {
				return fmt.Errorf("%v: refill its queue: %w", s, err)
			}
		}
		s.refilled = true
	}
	// Connections.
	for _, s := range u.order {
		if s.fd >= 0 && s.rec.SockType != unix.SOCK_DGRAM || s.rec.State != image.UnixConnected || s.rec.Opts&image.UnixOptPending != 0 {
			continue
		}
		if err := rs.connectUnix(s); err != nil {
			return err
		}
	}
	// Connections waiting in a backlog, once every accepted one is out of
	// the way.
	for _, s := range u.order {
		if s.rec.Opts&image.UnixOptPending == 0 {
			continue
		}
		l := u.socks[s.rec.Peer]
		fd, err := rs.newSocket(rs.credTask(l.rec.PeerCred), s.rec, true)
		if err != nil {
			return err
		}
		s.fd = fd
		// What accept(2) will return gets the connecting process as its
		// SO_PEERCRED: the image does not say which it was, so it is the
		// task holding the socket.
		if err := rs.connectIn(rs.holder(s.rec.Objref), s, rs.addrOf(l)); err != nil {
			return err
		}
	}
	for _, s := range u.order {
		if s.fd < 0 {
			return fmt.Errorf("%v: not made (a bug)", s)
		}
	}
	for _, s := range u.order {
		if s.refilled {
			continue
		}
		for _, q := range u.queues[s.rec.Ino] {
			if err := rs.refillUnix(s, q, false); err != nil {
				return fmt.Errorf("%v: refill its queue: %w", s, err)
			}
		}
	}
	// Datagrams go to their receiver by name: socket files are removed
	// only now.
	for _, fix := range u.fixes {
		if err := fix(); err != nil {
			return err
		}
	}
	for _, s := range u.order {
		if err := rs.finishUnix(s); err != nil {
			return fmt.Errorf("%v: %w", s, err)
		}
		rs.ctlFiles[s.rec.Objref] = os.NewFile(uintptr(s.fd), s.String())
	}
	return nil
}

// connectUnix makes a connected socket with its peer.
func (rs *restorer) connectUnix(s *unixSock) error {
	u := &rs.ux
	r := s.rec
	var p *unixSock
	if r.Peer != 0 {
		p = u.socks[r.Peer]
	}
	if r.SockType == unix.SOCK_DGRAM {
		switch {
		case p == nil:
			// Its peer was closed: connect it to a socket closed again,
			// once it has sent what the closed one had queued (finishUnix).
			t := rs.credTask(r.PeerCred)
			a, b, err := rs.socketpair(t, r.SockType)
			if err != nil {
				return fmt.Errorf("%v: %w", s, err)
			}
			if err := rs.bindSocket(t, a, r); err != nil {
				unix.Close(a)
				unix.Close(b)
				return err
			}
			s.fd, s.tmpPeer = a, b
			return nil
		case s.fd < 0:
			// Both unnamed and connected to each other.
			a, b, err := rs.socketpair(rs.credTask(r.PeerCred), r.SockType)
			if err != nil {
				return fmt.Errorf("%v: %w", s, err)
			}
			s.fd, p.fd = a, b
			return nil
		case p.rec.Peer == r.Ino && len(p.rec.Name) == 0:
			return nil // its peer connects to it
		}
		return rs.connectIn(rs.credTask(r.PeerCred), s, rs.addrOf(p))
	}
	if s.fd >= 0 {
		return nil // made with its peer
	}
	if p != nil && p.rec.Opts&image.UnixOptAccepted != 0 {
		s, p = p, s // s is the accepted end
	}
	if r := s.rec; r.Opts&image.UnixOptAccepted == 0 {
		a, b, err := rs.socketpair(rs.credTask(r.PeerCred), r.SockType)
		if err != nil {
			return fmt.Errorf("%v: %w", s, err)
		}
		s.fd = a
		if p != nil {
			p.fd = b
		} else {
			s.tmpPeer = b
		}
		return nil
	}
	// s was accepted: connect a client to its listener and accept it. The
	// client's credentials are its listener's, the accepted end's its
	// client's.
	var l *unixSock
	for _, o := range u.order {
		if o.rec.State == image.UnixListening && o.rec.SockType == s.rec.SockType && string(o.rec.Name) == string(s.rec.Name) {
			l = o
		}
	}
	var lfd int
	cleanup := func() {}
	if l != nil {
		lfd = l.fd
	} else {
		var err error
		lt := s.rec.PeerCred
		if p != nil {
			lt = p.rec.PeerCred
		}
		if lfd, cleanup, err = rs.tempListener(rs.credTask(lt), s); err != nil {
			return err
		}
	}
	defer cleanup()
	ct := rs.credTask(s.rec.PeerCred)
	client := &image.UnixSk{SockType: s.rec.SockType}
	if p != nil {
		client = p.rec
	}
	cfd, err := rs.newSocket(ct, client, p != nil)
	if err != nil {
		return err
	}
	cs := &unixSock{rec: client, fd: cfd}
	if err := rs.connectIn(ct, cs, rs.addrOf(s)); err != nil {
		unix.Close(cfd)
		return err
	}
	afd, _, err := unix.Accept4(lfd, unix.SOCK_CLOEXEC)
	if err != nil {
		unix.Close(cfd)
		return fmt.Errorf("%v: accept: %w", s, err)
	}
	s.fd = afd
	if p != nil {
		p.fd = cfd
	} else {
		s.tmpPeer = cfd
	}
	return nil
}

// unixSender finds the socket that sends q back to s: its peer for a
// connection, else the socket of the image bound to the sender's address,
// else (unnamed sender) the peer s is connected to, or nil for a
// temporary socket.
func (rs *restorer) unixSender(s *unixSock, q *image.UnixQueue) (*unixSock, error) {
	r := s.rec
	if r.SockType != unix.SOCK_DGRAM {
		if r.Peer == 0 {
			return nil, nil // the stand-in for the closed peer
		}
		return rs.ux.socks[r.Peer], nil
	}
	if len(q.Sender) == 0 {
		if r.Peer == 0 && r.State == image.UnixConnected {
			// Connected to a socket closed since: the stand-in for it
			// sends, unnamed as any sender of a socketpair.
			return nil, nil
		}
		if r.Peer != 0 {
			if p := rs.ux.socks[r.Peer]; len(p.rec.Name) == 0 {
				return p, nil
			}
		}
		if r.Peer == 0 && len(r.Name) == 0 {
			return nil, badImage("%v: a queued datagram from an unnamed sender, and the socket has neither name nor peer to send it to", s)
		}
		return nil, nil
	}
	for _, o := range rs.ux.order {
		if o.rec.SockType == unix.SOCK_DGRAM && o.rec.Opts&image.UnixOptAccepted == 0 && string(o.rec.Name) == string(q.Sender) {
			if o.rec.Peer != r.Ino && len(r.Name) == 0 {
				return nil, badImage("%v: a datagram from %s, which is not connected to it, and it has no name", s, showName(q.Sender))
			}
			return o, nil
		}
	}
	if q.Sender[0] != 0 && q.Sender[0] != '/' {
		return nil, badImage("%v: a queued datagram from the relative path %s, which no socket of the image is bound to", s, showName(q.Sender))
	}
	if len(r.Name) == 0 {
		return nil, badImage("%v: a datagram from %s, which is not connected to it, and it has no name", s, showName(q.Sender))
	}
	// Its sender was closed since: bound to its name again for the time
	// of the send (tempSender).
	return &unixSock{rec: &image.UnixSk{SockType: unix.SOCK_DGRAM, Name: q.Sender}, fd: -1, tmpPeer: -1, gone: true}, nil
}

// refillEarly tells whether s's queue is refilled before the sockets
// connect: a named datagram socket connected to a peer, made unconnected
// (its peer connects it later).
func (s *unixSock) refillEarly() bool {
	r := s.rec
	return r.SockType == unix.SOCK_DGRAM && r.State == image.UnixConnected && r.Peer != 0 && len(r.Name) > 0 && s.fd >= 0
}

// refillUnix sends one queued message back to s; early, s is not
// connected yet and every message goes to its name.
func (rs *restorer) refillUnix(s *unixSock, q *image.UnixQueue, early bool) error {
	from, err := rs.unixSender(s, q)
	if err != nil {
		return err
	}
	var oob []byte
	if q.Flags&image.UnixQueueCreds != 0 {
		oob = unix.UnixCredentials(&unix.Ucred{Pid: int32(rs.byPid[q.CredPid].pid), Uid: q.CredUid, Gid: q.CredGid})
	}
	if len(q.Fds) > 0 {
		fds := make([]int, len(q.Fds))
		for i, ref := range q.Fds {
			if fds[i], err = rs.inflightFile(ref); err != nil {
				return err
			}
		}
		oob = append(oob, unix.UnixRights(fds...)...)
	}
	var fd int
	byName := false
	switch {
	case from != nil && from.gone:
		var done func()
		if fd, done, err = rs.tempSender(from.rec.Name); err != nil {
			return err
		}
		defer done()
		byName = true
	case from != nil:
		fd = from.fd
		byName = s.rec.SockType == unix.SOCK_DGRAM && (early || from.rec.Peer != s.rec.Ino)
	case s.rec.SockType != unix.SOCK_DGRAM, s.rec.State == image.UnixConnected && s.rec.Peer == 0:
		fd = s.tmpPeer
	case s.rec.Peer != 0 && !early:
		return fmt.Errorf("a datagram from an unnamed sender, but it only takes datagrams from its peer %d", s.rec.Peer)
	default:
		// From an unnamed socket made in the task, in its network namespace.
		if fd, err = rs.newSocket(rs.plans[0], &image.UnixSk{SockType: unix.SOCK_DGRAM}, false); err != nil {
			return err
		}
		defer unix.Close(fd)
		byName = true
	}
	if fd < 0 {
		return fmt.Errorf("no socket to send from (a bug)")
	}
	var to unix.Sockaddr
	if byName {
		sa, done, err := rs.sockaddr(rs.addrOf(s))
		if err != nil {
			return err
		}
		defer done()
		to = sa
	}
	// The data counts against the sender's send buffer until it is read:
	// make room for all of it (finishUnix sets the buffer as it was).
	if len(q.Data) > 0 {
		_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUFFORCE, image.MaxUnixQueue)
	}
	for data := q.Data; ; {
		n, err := unix.SendmsgN(fd, data, oob, to, unix.MSG_DONTWAIT|unix.MSG_NOSIGNAL)
		if err != nil {
			return fmt.Errorf("send %d bytes: %w", len(data), err)
		}
		if s.rec.SockType != unix.SOCK_STREAM || n == len(data) {
			return nil
		}
		data, oob = data[n:], nil
	}
}

// finishUnix closes a stand-in peer, replays shutdown(2) and sets the
// options and file status flags.
func (rs *restorer) finishUnix(s *unixSock) error {
	r := s.rec
	if s.tmpPeer >= 0 {
		unix.Close(s.tmpPeer)
		s.tmpPeer = -1
	}
	if r.Shutdown&image.UnixShutSend != 0 {
		if err := unix.Shutdown(s.fd, unix.SHUT_WR); err != nil && !errors.Is(err, unix.ENOTCONN) {
			return fmt.Errorf("shutdown(SHUT_WR): %w", err)
		}
	}
	if r.Shutdown&image.UnixShutRcv != 0 {
		if err := unix.Shutdown(s.fd, unix.SHUT_RD); err != nil && !errors.Is(err, unix.ENOTCONN) {
			return fmt.Errorf("shutdown(SHUT_RD): %w", err)
		}
	}
	if r.Opts&image.UnixOptPassCred != 0 {
		if err := unix.SetsockoptInt(s.fd, unix.SOL_SOCKET, unix.SO_PASSCRED, 1); err != nil {
			return fmt.Errorf("SO_PASSCRED: %w", err)
		}
	}
	// getsockopt reports twice what setsockopt was given.
	for _, o := range []struct {
		opt int
		v   uint32
	}{{unix.SO_RCVBUFFORCE, r.RcvBuf}, {unix.SO_SNDBUFFORCE, r.SndBuf}} {
		if o.v == 0 {
			continue
		}
		if err := unix.SetsockoptInt(s.fd, unix.SOL_SOCKET, o.opt, int(o.v/2)); err != nil {
			return fmt.Errorf("socket buffer size %d: %w", o.v, err)
		}
	}
	if err := setBufLock(s.fd, rs.inet.states[r.Objref]); err != nil {
		return err
	}
	for _, o := range []struct {
		opt int
		ns  int64
	}{{unix.SO_RCVTIMEO, r.RcvTimeo}, {unix.SO_SNDTIMEO, r.SndTimeo}} {
		if o.ns == 0 {
			continue
		}
		tv := unix.NsecToTimeval(o.ns)
		if err := unix.SetsockoptTimeval(s.fd, unix.SOL_SOCKET, o.opt, &tv); err != nil {
			return fmt.Errorf("socket timeout %d: %w", o.opt, err)
		}
	}
	if r.PeekOff >= 0 {
		if err := unix.SetsockoptInt(s.fd, unix.SOL_SOCKET, unix.SO_PEEK_OFF, int(r.PeekOff)); err != nil {
			return fmt.Errorf("SO_PEEK_OFF %d: %w", r.PeekOff, err)
		}
	}
	if _, err := unix.FcntlInt(uintptr(s.fd), unix.F_SETFL, int(r.Flags&unix.O_NONBLOCK)); err != nil {
		return fmt.Errorf("file status flags: %w", err)
	}
	return nil
}

// closeUnix closes what the restorer still holds of sockets not handed
// over (on failure).
func (rs *restorer) closeUnix() {
	for _, s := range rs.ux.order {
		if _, handed := rs.ctlFiles[s.rec.Objref]; !handed && s.fd >= 0 {
			unix.Close(s.fd)
			s.fd = -1
		}
		if s.tmpPeer >= 0 {
			unix.Close(s.tmpPeer)
			s.tmpPeer = -1
		}
	}
	for _, f := range rs.ux.inflight {
		f.Close()
	}
	rs.ux.inflight = nil
	rs.putBackAsides()
}
