package image

import "fmt"

// Fs (FS, type 300, object) is a task's root and working directory,
// possibly shared (CLONE_FS).
type Fs struct {
	Objref uint32 `ckpt:"objref"`
	Cwd    string
	Root   string
}

// Files (FILES, type 301, object) is an fd table, possibly shared
// (CLONE_FILES). Exactly NrFds FD records follow it.
type Files struct {
	Objref uint32 `ckpt:"objref"`
	NrFds  uint32
}

// Fd (FD, type 302) is one slot of the fd table before it.
type Fd struct {
	Fd    int32
	Flags uint32 // FdFlagCloexec
	File  uint32 `ckpt:"ref"` // the REG_FILE or EXT_FILE open in this slot
}

// Fd.Flags bits.
const (
	FdFlagCloexec uint32 = 1 // FD_CLOEXEC
)

// RegFile (REG_FILE, type 303, object) is an open file description that
// restore reopens by path: a regular file, a directory or a character
// device. Two fds share it when they share the description (dup, fork).
type RegFile struct {
	Objref   uint32 `ckpt:"objref"`
	Flags    uint32 // open(2) flags as in /proc/PID/fdinfo
	Pos      int64
	Mode     uint32 // st_mode
	Reserved uint32
	Dev      uint64
	Ino      uint64
	Rdev     uint64
	Size     int64 // st_size at checkpoint (regular files)
	Path     string
}

// ExtFile (EXT_FILE, type 304, object) is an open file leading outside the
// checkpointed set (a terminal, a pipe to the parent, a socket); restore
// takes it from the caller, matched by Key.
type ExtFile struct {
	Objref   uint32 `ckpt:"objref"`
	Flags    uint32 // open(2) flags as in /proc/PID/fdinfo
	Kind     uint32 // Ext* value
	Reserved uint32
	Key      string // e.g. "pipe:[1234]" or "/dev/pts/3"
}

// ExtFile.Kind values.
const (
	ExtPipe   uint32 = 1
	ExtTty    uint32 = 2
	ExtSocket uint32 = 3
	ExtOther  uint32 = 4
)

var extKindNames = map[uint32]string{ExtPipe: "pipe", ExtTty: "tty", ExtSocket: "socket", ExtOther: "other"}

// ExtKindName returns the name of an ExtFile.Kind value, for inspect.
func ExtKindName(k uint32) string {
	if s, ok := extKindNames[k]; ok {
		return s
	}
	return fmt.Sprintf("kind(%d)", k)
}

func (*Fs) Type() Type      { return TypeFs }
func (*Files) Type() Type   { return TypeFiles }
func (*Fd) Type() Type      { return TypeFd }
func (*RegFile) Type() Type { return TypeRegFile }
func (*ExtFile) Type() Type { return TypeExtFile }

// Pipe (PIPE, type 307, object) is one end of a pipe whose two ends are
// both inside the image (an end whose other end is outside is an EXT_FILE).
// The two ends are two objects with the same PipeID.
type Pipe struct {
	Objref   uint32 `ckpt:"objref"`
	Flags    uint32 // open(2) flags: O_RDONLY or O_WRONLY, O_NONBLOCK
	PipeID   uint32 // the same for both ends of one pipe
	Capacity uint32 // F_GETPIPE_SZ
}

// PipeData (PIPE_DATA, type 308) holds what was written to a pipe and not
// yet read. It follows the first PIPE record of its pipe; data longer than
// PipeDataChunk is split over several records, in order.
type PipeData struct {
	PipeID uint32
	Data   []byte
}

// PipeDataChunk is the most data one PIPE_DATA record holds.
const PipeDataChunk = 256 << 10

func (*Pipe) Type() Type     { return TypePipe }
func (*PipeData) Type() Type { return TypePipeData }
