package image

// UnixSk (UNIX_SK, type 320, object) is an open file description of an
// AF_UNIX socket. Sockets refer to each other by Ino, the inode number the
// socket had at checkpoint time, unique within the image.
type UnixSk struct {
	Objref   uint32 `ckpt:"objref"`
	Flags    uint32 // open(2) flags: O_RDWR, O_NONBLOCK
	Ino      uint32 // names the socket within the image; not 0
	SockType uint32 // SOCK_STREAM (1), SOCK_DGRAM (2) or SOCK_SEQPACKET (5)
	State    uint32 // UnixConnected (1), UnixUnconnected (7) or UnixListening (10)
	Peer     uint32 // Ino of the peer (for a pending connection: of the listener), 0 if none
	Backlog  uint32 // listen(2) backlog of a listener
	Shutdown uint32 // UnixShutRcv | UnixShutSend
	Opts     uint32 // UnixOpt* bits
	PeerCred int32  // pid (in the image) SO_PEERCRED names, 0 if none or outside the image
	RcvBuf   uint32 // SO_RCVBUF as getsockopt(2) reports it
	SndBuf   uint32 // SO_SNDBUF, likewise
	RcvTimeo int64  // SO_RCVTIMEO in nanoseconds, 0 for none
	SndTimeo int64  // SO_SNDTIMEO, likewise
	Mode     uint32 // permission bits of the socket file of a path name
	PeekOff  int32  // SO_PEEK_OFF, -1 if not set
	Name     []byte // bound name: empty if unbound, a leading NUL for an abstract name, else an absolute path
}

// UnixQueue (UNIX_QUEUE, type 321) is data queued on a socket and not read
// yet: one message of a datagram or seqpacket socket, or a run of bytes of
// a stream socket, oldest first.
type UnixQueue struct {
	Ino      uint32 // the receiving socket, as in UNIX_SK
	Flags    uint32 // UnixQueueCreds if the Cred fields hold SCM_CREDENTIALS
	CredPid  int32  // sender's pid, in the image
	CredUid  uint32 // sender's uid
	CredGid  uint32 // sender's gid
	Reserved uint32
	Sender   []byte   // a datagram's sender address (bound name), empty if unnamed
	Fds      []uint32 // objrefs of the files in flight with it (SCM_RIGHTS), in order
	Data     []byte
}

// UNIX_SK State values (the kernel's, as unix_diag reports them).
const (
	UnixConnected   = 1
	UnixUnconnected = 7
	UnixListening   = 10
)

// UNIX_SK Shutdown bits.
const (
	UnixShutRcv  = 1
	UnixShutSend = 2
)

// UNIX_SK Opts bits.
const (
	UnixOptPassCred = 1 << 0 // SO_PASSCRED is set
	UnixOptPending  = 1 << 1 // connected to the listener Peer, not accepted yet
	UnixOptAccepted = 1 << 2 // the end accept(2) returned: its Name is the listener's
	UnixOptsAll     = UnixOptPassCred | UnixOptPending | UnixOptAccepted
)

// UNIX_QUEUE Flags bits.
const UnixQueueCreds = 1 << 0

// UnixQueueChunk is the most data one UNIX_QUEUE of a stream socket holds.
const UnixQueueChunk = 256 << 10

func (*UnixSk) Type() Type    { return TypeUnixSk }
func (*UnixQueue) Type() Type { return TypeUnixQueue }
