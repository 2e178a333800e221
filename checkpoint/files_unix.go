package checkpoint

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
	"github.com/ckpt/ckpt/internal/kernel"
	"github.com/ckpt/ckpt/internal/proc"
)

func init() {
	// Unix sockets, and the inet sockets dumpSocket hands on to
	// dumpInetSocket (files_inet.go), with their TCP stream records.
	registerFileKind(fileKind{name: "socket", modes: []uint32{unix.S_IFSOCK}, fallback: true,
		dump: (*dumper).dumpSocket,
		extra: func(d *dumper, rec image.Record) []image.Record {
			if s, ok := rec.(*image.InetSocket); ok {
				return d.inetRecords(s)
			}
			return nil
		}})
}

// unixState is what a checkpoint knows of unix sockets: sock_diag's view
// of each network namespace, by the namespace's inode, and the sockets of
// the tree by inode and in the order found.
type unixState struct {
	diag  map[uint64]map[uint32]*kernel.UnixSock
	socks map[uint32]*unixSock
	order []*unixSock
	// carrier stands for ckpt itself as the holder of the files in
	// flight it took with MSG_PEEK (at fds of its own, kept open until
	// the checkpoint ends: kcmp compares later fds with them).
	carrier *process
}

// carriers is the carrier, if any file in flight was taken, for the
// passes over every holder of a file (resolvePipes).
func (u *unixState) carriers() []*process {
	if u.carrier == nil {
		return nil
	}
	return []*process{u.carrier}
}

// close closes the files in flight taken.
func (u *unixState) close() {
	if u.carrier != nil {
		for _, f := range u.carrier.held {
			unix.Close(f)
		}
	}
}

// unixSock is one AF_UNIX socket held by a task of the tree.
type unixSock struct {
	obj      *fileObj
	rec      *image.UnixSk
	diag     *kernel.UnixSock
	diagAll  map[uint32]*kernel.UnixSock // every unix socket of its network namespace
	pid, fd  int
	peerPid  int   // SO_PEERCRED, in our pid namespace
	held     []int // fds in flight taken, to close when the checkpoint ends
	queue    []*image.UnixQueue
	credPids []int   // for each queue entry with credentials, the sender in our pid namespace
	inflight [][]int // for each queue entry, the files in flight with it, at fds of ours
	bufLock  int     // SO_BUF_LOCK, saved in a SOCK_STATE when not 0
}

func (s *unixSock) what() string {
	return fmt.Sprintf("fd %d (socket:[%d]%s)", s.fd, s.rec.Ino, nameSuffix(s.rec.Name))
}

// nameSuffix shows a bound name in messages: a path, or @name if abstract.
func nameSuffix(name []byte) string {
	if len(name) == 0 {
		return ""
	}
	return ", bound to " + printName(name)
}

func printName(name []byte) string {
	if name[0] == 0 {
		return "@" + string(name[1:])
	}
	return string(name)
}

// rootStdio tells whether the socket with inode ino is at one of the
// tree root's fds 0, 1, 2.
func (d *dumper) rootStdio(ino uint64) bool {
	for fd := 0; fd <= 2; fd++ {
		var st unix.Stat_t
		if err := unix.Stat(fmt.Sprintf("/proc/%d/fd/%d", d.root, fd), &st); err == nil && st.Ino == ino && st.Mode&unix.S_IFMT == unix.S_IFSOCK {
			return true
		}
	}
	return false
}

// dumpSocket records a socket fd. Unix sockets are looked up with
// sock_diag in the task's network namespace; whether the peer is inside
// the tree is only known once every task is collected (resolveUnix). Other
// sockets at the root's fds 0, 1 and 2 (also where its children inherited
// them) lead to whoever started the tree and are external; any other is an
// inet socket (files_inet.go) or refused: a server's child with its
// connection at fds 0 and 1 (inetd-style, busybox httpd) holds a socket of
// the tree's, not its caller's.

func (d *dumper) dumpSocket(p *process, of *openFd, obj string) (image.Record, error) {
	nsPath := fmt.Sprintf("/proc/%d/ns/net", p.pid)
	var st unix.Stat_t
	if err := unix.Stat(nsPath, &st); err != nil {
		return nil, fmt.Errorf("task %d: its network namespace: %w", p.pid, err)
	}
	if d.ux.diag == nil {
		d.ux.diag = map[uint64]map[uint32]*kernel.UnixSock{}
		d.ux.socks = map[uint32]*unixSock{}
	}
	all, ok := d.ux.diag[st.Ino]
	if !ok {
		var err error
		if all, err = kernel.UnixSockets(nsPath); err != nil {
			return nil, fmt.Errorf("task %d: list unix sockets: %w", p.pid, err)
		}
		d.ux.diag[st.Ino] = all
	}
	ds := all[uint32(of.st.Ino)]
	if ds == nil {
		if of.fd <= 2 && d.rootStdio(of.st.Ino) {
			return extFile(of, image.ExtSocket), nil
		}
		return d.dumpInetSocket(p, of, obj)
	}
	s := &unixSock{diag: ds, diagAll: all, pid: p.pid, fd: of.fd}
	rec := &image.UnixSk{Flags: of.info.Flags & openFlagsMask, Ino: ds.Ino, SockType: uint32(ds.Type), State: uint32(ds.State),
		Peer: ds.Peer, Shutdown: uint32(ds.Shutdown), Name: ds.Name}
	s.rec = rec
	switch ds.Type {
	case unix.SOCK_STREAM, unix.SOCK_DGRAM, unix.SOCK_SEQPACKET:
	default:
		return nil, unsupported(p.pid, obj, "unix socket of type %d", ds.Type)
	}
	switch ds.State {
	case kernel.UnixStateListen:
		rec.Backlog = ds.WQueue
	case kernel.UnixStateEstablished, kernel.UnixStateClose:
	default:
		return nil, unsupported(p.pid, obj, "unix socket in state %d (connecting?)", ds.State)
	}
	if len(rec.Name) > 0 && rec.Name[0] != 0 {
		if i := bytes.IndexByte(rec.Name, 0); i >= 0 {
			rec.Name = rec.Name[:i]
		}
		if root, err := proc.Root(p.pid); err != nil || root != "/" {
			// Restore binds names before it chroots the task.
			return nil, unsupported(p.pid, obj, "bound to the path %q by a chrooted process (root %q): not supported yet", rec.Name, root)
		}
		// Mode 0 says the socket file is gone (removed after bind). A
		// relative name is looked up once every task's current directory
		// is known (bindDirs).
		if rec.Name[0] == '/' {
			if err := checkPathName(p, obj, rec, ds); err != nil {
				return nil, err
			}
		}
	}
	sfd, err := kernel.TakeFd(p.pid, of.fd)
	if err != nil {
		return nil, fmt.Errorf("task %d %s: %w", p.pid, obj, err)
	}
	defer unix.Close(sfd)
	if err := s.readOptions(sfd); err != nil {
		var ue *UnsupportedError
		if errors.As(err, &ue) {
			return nil, unsupported(p.pid, obj, "%s", ue.Reason)
		}
		return nil, fmt.Errorf("task %d %s: %w", p.pid, obj, err)
	}
	if ds.Type == unix.SOCK_DGRAM && ds.Peer == 0 && ds.State == kernel.UnixStateEstablished {
		// connect(2) marks the socket connected to as connected too, with
		// no peer. Only a socket whose own peer was closed still has a
		// peer address (a dead one) to show.
		if _, err := unix.Getpeername(sfd); errors.Is(err, unix.ENOTCONN) {
			rec.State = image.UnixUnconnected
		}
	}
	// A stream or seqpacket socket never connected has no queue (recvmsg
	// says EINVAL).
	if ds.State != kernel.UnixStateListen && (ds.Type == unix.SOCK_DGRAM || ds.State != kernel.UnixStateClose) {
		err := s.peekQueue(sfd)
		if d.ux.carrier == nil {
			d.ux.carrier = &process{pid: os.Getpid()}
		}
		d.ux.carrier.held = append(d.ux.carrier.held, s.held...)
		if err != nil {
			var ue *UnsupportedError
			if errors.As(err, &ue) {
				return nil, unsupported(p.pid, obj, "%s", ue.Reason)
			}
			return nil, fmt.Errorf("task %d %s: queued data: %w", p.pid, obj, err)
		}
		for i, fds := range s.inflight {
			for _, fd := range fds {
				f, err := d.inflightFile(p, obj, fd)
				if err != nil {
					return nil, err
				}
				s.queue[i].Fds = append(s.queue[i].Fds, f.objref)
			}
		}
	}
	d.ux.socks[ds.Ino] = s
	d.ux.order = append(d.ux.order, s)
	return rec, nil
}

// inflightFile collects a file in flight in the queue of socket obj of
// task p, which ckpt took at its own fd: like a fd of a task, but written
// in p's section.
func (d *dumper) inflightFile(p *process, obj string, fd int) (*fileObj, error) {
	c := d.ux.carrier
	of, err := readFd(c.pid, fd)
	if err != nil {
		return nil, fmt.Errorf("task %d %s: a file in flight: %w", p.pid, obj, err)
	}
	what := fmt.Sprintf("%s: a file in flight (%s)", obj, of.link)
	if of.st.Mode&unix.S_IFMT == unix.S_IFSOCK || of.link == "anon_inode:[eventpoll]" {
		return nil, unsupported(p.pid, what, "sockets and epoll instances in flight are not supported")
	}
	f, err := d.sharedFile(c, of)
	if err != nil || f != nil {
		return f, err
	}
	rec, err := d.dumpFile(c, of)
	if err != nil {
		var ue *UnsupportedError
		if errors.As(err, &ue) {
			return nil, unsupported(p.pid, what, "%s", ue.Reason)
		}
		return nil, fmt.Errorf("task %d %s: %w", p.pid, what, err)
	}
	f = &fileObj{objref: d.nextObjref(), rec: rec, dev: of.st.Dev, ino: of.st.Ino, pid: c.pid, fd: fd, link: of.link}
	image.SetObjref(rec, f.objref)
	p.files = append(p.files, f)
	if err := d.addFile(f); err != nil {
		return nil, err
	}
	if n := len(c.pipeFds); n > 0 && c.pipeFds[n-1].fd == fd {
		c.pipeFds[n-1].obj = f
	}
	return f, nil
}

// socketFamily names the address family of a socket, for refusals.
func socketFamily(pid, fd int) string {
	sfd, err := kernel.TakeFd(pid, fd)
	if err != nil {
		return "these"
	}
	defer unix.Close(sfd)
	fam, err := unix.GetsockoptInt(sfd, unix.SOL_SOCKET, unix.SO_DOMAIN)
	if err != nil {
		return "these"
	}
	switch fam {
	case unix.AF_INET:
		return "AF_INET"
	case unix.AF_INET6:
		return "AF_INET6"
	case unix.AF_NETLINK:
		return "AF_NETLINK"
	case unix.AF_PACKET:
		return "AF_PACKET"
	case unix.AF_UNIX:
		return "AF_UNIX (not in its network namespace's sock_diag list)"
	}
	return fmt.Sprintf("family %d", fam)
}

// readOptions reads the socket options a program may have set.
func (s *unixSock) readOptions(fd int) error {
	r := s.rec
	pc, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_PASSCRED)
	if err != nil {
		return fmt.Errorf("SO_PASSCRED: %w", err)
	}
	if pc != 0 {
		r.Opts |= image.UnixOptPassCred
	}
	rb, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF)
	if err != nil {
		return fmt.Errorf("SO_RCVBUF: %w", err)
	}
	sb, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF)
	if err != nil {
		return fmt.Errorf("SO_SNDBUF: %w", err)
	}
	r.RcvBuf, r.SndBuf = uint32(rb), uint32(sb)
	if s.bufLock, err = unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_BUF_LOCK); err != nil && !errors.Is(err, unix.ENOPROTOOPT) {
		return fmt.Errorf("SO_BUF_LOCK: %w", err)
	}
	po, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_PEEK_OFF)
	if err != nil {
		return fmt.Errorf("SO_PEEK_OFF: %w", err)
	}
	r.PeekOff = int32(po)
	// A filter or a device is not in UNIX_SK (SOCK_STATE is inet sockets'):
	// refused rather than lost.
	if n, err := kernel.SocketFilterLen(fd); err != nil {
		return fmt.Errorf("SO_GET_FILTER: %w", err)
	} else if n > 0 {
		return unsupported(s.pid, "", "a socket filter (SO_ATTACH_FILTER, %d instructions) on a unix socket: not supported yet", n)
	}
	if dev, err := unix.GetsockoptString(fd, unix.SOL_SOCKET, unix.SO_BINDTODEVICE); err != nil {
		return fmt.Errorf("SO_BINDTODEVICE: %w", err)
	} else if dev != "" {
		return unsupported(s.pid, "", "SO_BINDTODEVICE %q on a unix socket: not supported yet", dev)
	}
	if pp, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_PASSPIDFD); err == nil && pp != 0 {
		return unsupported(s.pid, "", "SO_PASSPIDFD is set: not supported yet")
	}
	for _, o := range []struct {
		opt int
		dst *int64
	}{{unix.SO_RCVTIMEO, &r.RcvTimeo}, {unix.SO_SNDTIMEO, &r.SndTimeo}} {
		tv, err := unix.GetsockoptTimeval(fd, unix.SOL_SOCKET, o.opt)
		if err != nil {
			return fmt.Errorf("socket timeout %d: %w", o.opt, err)
		}
		*o.dst = tv.Nano()
	}
	if s.diag.State == kernel.UnixStateListen || s.diag.Peer != 0 || s.diag.Type != unix.SOCK_DGRAM {
		if cred, err := unix.GetsockoptUcred(fd, unix.SOL_SOCKET, unix.SO_PEERCRED); err == nil {
			s.peerPid = int(cred.Pid)
		}
	}
	return nil
}

// unixPeekMax is the largest datagram the checkpoint takes.
const unixPeekMax = 4 << 20

// peekQueue reads what is queued on the socket without taking it: with
// SO_PEEK_OFF each MSG_PEEK starts where the last one stopped, message by
// message for datagrams and seqpackets, by runs of bytes for streams. The
// socket's own peek offset is put back after.
func (s *unixSock) peekQueue(fd int) (err error) {
	old := int(s.rec.PeekOff)
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_PEEK_OFF, 0); err != nil {
		return fmt.Errorf("set SO_PEEK_OFF: %w", err)
	}
	defer func() {
		// The task's next MSG_PEEK must start where it would have.
		if e := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_PEEK_OFF, old); e != nil && err == nil {
			err = fmt.Errorf("put SO_PEEK_OFF back to %d: %w", old, e)
		}
	}()
	stream := s.diag.Type == unix.SOCK_STREAM
	size := unixPeekMax
	if stream {
		size = image.UnixQueueChunk
	}
	buf := make([]byte, size)
	oob := make([]byte, unix.CmsgSpace(4*253)+unix.CmsgSpace(unix.SizeofUcred))
	for {
		n, oobn, flags, from, err := unix.Recvmsg(fd, buf, oob, unix.MSG_PEEK|unix.MSG_DONTWAIT|unix.MSG_CMSG_CLOEXEC)
		if errors.Is(err, unix.EAGAIN) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("recvmsg(MSG_PEEK): %w", err)
		}
		q := &image.UnixQueue{Ino: s.rec.Ino, Data: append([]byte(nil), buf[:n]...)}
		credPid := 0
		var inflight []int
		if oobn > 0 {
			cmsgs, err := unix.ParseSocketControlMessage(oob[:oobn])
			if err != nil {
				return fmt.Errorf("control message: %w", err)
			}
			for _, c := range cmsgs {
				if c.Header.Level != unix.SOL_SOCKET {
					continue
				}
				switch c.Header.Type {
				case unix.SCM_RIGHTS:
					fds, err := unix.ParseUnixRights(&c)
					if err != nil {
						return fmt.Errorf("SCM_RIGHTS: %w", err)
					}
					inflight = append(inflight, fds...)
					s.held = append(s.held, fds...)
				case unix.SCM_CREDENTIALS:
					cr, err := unix.ParseUnixCredentials(&c)
					if err != nil {
						return fmt.Errorf("SCM_CREDENTIALS: %w", err)
					}
					q.Flags |= image.UnixQueueCreds
					q.CredUid, q.CredGid, credPid = cr.Uid, cr.Gid, int(cr.Pid)
				}
			}
		}
		if flags&unix.MSG_TRUNC != 0 {
			return unsupported(s.pid, "", "a datagram over %d bytes is queued", unixPeekMax)
		}
		if flags&unix.MSG_CTRUNC != 0 {
			return unsupported(s.pid, "", "a queued message carries more control data than expected")
		}
		if n == 0 && len(inflight) == 0 {
			if stream || s.diag.Shutdown&image.UnixShutRcv != 0 && oobn == 0 {
				return nil // end of file: the peer or the socket shut down
			}
			// A zero-length datagram does not move the peek offset.
			return unsupported(s.pid, "", "a zero-length datagram is queued")
		}
		if sa, ok := from.(*unix.SockaddrUnix); ok && !stream && sa.Name != "" {
			q.Sender = []byte(sa.Name)
			if q.Sender[0] == '@' { // Go shows an abstract name with a leading @
				q.Sender[0] = 0
			}
		}
		s.queue = append(s.queue, q)
		s.credPids = append(s.credPids, credPid)
		s.inflight = append(s.inflight, inflight)
	}
}

// resolveUnix decides, once every task is collected, which sockets lead
// outside the tree, marks accepted ends and pending connections, and maps
// the pids of credentials into the image.
func (d *dumper) resolveUnix(t *tree) error {
	imagePid := func(pid int) int32 {
		if p := t.byPid[pid]; p != nil && !p.zombie {
			return p.task.Pid
		}
		return 0
	}
	objs := map[image.Record]*fileObj{}
	for _, f := range d.files {
		objs[f.rec] = f
	}
	for _, s := range d.ux.order {
		r := s.rec
		if s.obj = objs[r]; s.obj == nil {
			return fmt.Errorf("task %d %s: no open file description collected for it", s.pid, s.what())
		}
		r.PeerCred = imagePid(s.peerPid)
		if l := s.pendingOn(); l != nil {
			// Its peer is the embryo in the listener's backlog, which has
			// no inode: diag shows peer 0.
			if d.ux.socks[l.Ino] == nil {
				return unsupported(s.pid, s.what(), "it waits in the backlog of listener socket:[%d]%s, outside the checkpointed tree", l.Ino, nameSuffix(l.Name))
			}
			if s.diag.WQueue != 0 {
				return unsupported(s.pid, s.what(), "%d bytes were sent on its connection, which listener socket:[%d] has not accepted yet", s.diag.WQueue, l.Ino)
			}
			r.Opts |= image.UnixOptPending
			r.Peer = l.Ino
		} else if r.Peer != 0 && d.ux.socks[r.Peer] == nil {
			peer := fmt.Sprintf("socket:[%d]", r.Peer)
			if ps := s.diagAll[r.Peer]; ps != nil && len(ps.Name) > 0 {
				peer += " " + printName(ps.Name)
			}
			if pids := holders(peer[:strings.IndexByte(peer, ']')+1], t); len(pids) > 0 {
				peer += fmt.Sprintf(" (held by task %s)", strings.Trim(fmt.Sprint(pids), "[]"))
			}
			if s.fd > 2 && !d.opts.ExtUnixSk {
				return unsupported(s.pid, s.what(), "its peer %s is outside the checkpointed tree (external: allow with --ext-unix-sk and give it back at restore with --inherit-fd)", peer)
			}
			s.obj.rec = &image.ExtFile{Objref: s.obj.objref, Flags: r.Flags, Kind: image.ExtSocket, Key: s.obj.link}
			s.obj.extra = nil
			d.log.Debug("external unix socket", "task", s.pid, "fd", s.fd, "peer", peer)
			continue
		}
		if r.State == kernel.UnixStateListen {
			for _, c := range s.diag.Icons {
				if d.ux.socks[c] == nil {
					return unsupported(s.pid, s.what(), "a connection from outside the tree waits in its backlog")
				}
			}
		}
		if r.State == kernel.UnixStateEstablished && r.SockType != unix.SOCK_DGRAM && r.Opts&image.UnixOptPending == 0 && len(r.Name) > 0 {
			// The accepted end of a connection carries its listener's name;
			// a client has a name only if it bound one before connect.
			peer := d.ux.socks[r.Peer]
			if peer == nil || len(peer.rec.Name) == 0 || s.isListenerName() && !peer.isListenerName() {
				r.Opts |= image.UnixOptAccepted
			} else if !peer.isListenerName() || s.isListenerName() {
				return unsupported(s.pid, s.what(), "both ends of the connection are bound (to %s and %s): cannot tell which end was accepted",
					printName(r.Name), printName(peer.rec.Name))
			}
		}
		for i, q := range s.queue {
			if err := d.checkSender(s, q); err != nil {
				return err
			}
			if q.Flags&image.UnixQueueCreds != 0 {
				if q.CredPid = imagePid(s.credPids[i]); q.CredPid == 0 {
					return unsupported(s.pid, s.what(), "a queued message carries the credentials of process %d, outside the checkpointed tree", s.credPids[i])
				}
			}
			s.obj.extra = append(s.obj.extra, q)
		}
		// Restore sets the buffer sizes, which locks them: SO_BUF_LOCK
		// goes back to this (or to 0 without a SOCK_STATE).
		if s.bufLock != 0 && s.obj != nil {
			s.obj.extra = append(s.obj.extra, &image.SockState{Socket: s.obj.objref, BufLock: uint32(s.bufLock)})
		}
	}
	return d.bindDirs(t)
}

// holders lists the processes outside the tree with a fd on link.
func holders(link string, t *tree) []int {
	var pids []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || t.byPid[pid] != nil || pid == os.Getpid() {
			continue
		}
		fds, _ := os.ReadDir("/proc/" + e.Name() + "/fd")
		for _, fd := range fds {
			if l, err := os.Readlink("/proc/" + e.Name() + "/fd/" + fd.Name()); err == nil && l == link {
				pids = append(pids, pid)
				break
			}
		}
	}
	return pids
}

// pendingOn returns the listener (in the tree) whose backlog holds the
// connection s made, or nil.
func (s *unixSock) pendingOn() *kernel.UnixSock {
	for _, o := range s.diagAll {
		if o.State != kernel.UnixStateListen {
			continue
		}
		for _, c := range o.Icons {
			if c == s.rec.Ino {
				return o
			}
		}
	}
	return nil
}

// isListenerName tells whether a listening socket of the namespace is
// bound to the socket's name.
func (s *unixSock) isListenerName() bool {
	for _, o := range s.diagAll {
		if o.State == kernel.UnixStateListen && len(o.Name) > 0 && strings.TrimRight(string(o.Name), "\x00") == string(s.rec.Name) {
			return true
		}
	}
	return false
}
