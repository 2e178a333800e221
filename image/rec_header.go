package image

import (
	"bytes"
	"time"

	"golang.org/x/sys/unix"
)

// Header (HEADER, type 1) is the first record of every image. A reader
// refuses an image whose Magic, Major, Arch, PageShift or Flags it does
// not know; Consts and XFeatures are for the restorer to compare with the
// machine it runs on.
type Header struct {
	Magic     uint64 // MagicHead
	Major     uint16 // VersionMajor of the writer; must equal the reader's
	Minor     uint16 // VersionMinor of the writer; may be newer than the reader's
	Arch      uint16 // ArchAMD64
	PageShift uint16 // 12
	Flags     uint32 // HeaderFlag* bits; none defined in v1 (must be 0)
	Reserved  uint32 // must be 0
	TimeNs    int64  // when the checkpoint started, unix nanoseconds
	Consts    KernelConsts
	XFeatures uint64 // XCR0 of the CPU the image was taken on (XSAVE sw_reserved bytes)
	Release   string // uname -r
	Version   string // uname -v
	Machine   string // uname -m
	Hostname  string // uname -n at checkpoint
}

// KernelConsts records the kernel sizes the image's fixed arrays depend
// on, so a restorer can refuse an image whose shapes it would misread.
type KernelConsts struct {
	TaskCommLen uint16 // TASK_COMM_LEN, 16
	NSig        uint16 // _NSIG, 64
	SiginfoLen  uint16 // sizeof(siginfo_t), 128
	NRlimits    uint16 // RLIM_NLIMITS, 16
	UserRegsLen uint16 // sizeof(struct user_regs_struct) on x86_64, 216
	AuxvMax     uint16 // most u64 words Mm.Auxv may hold
	XStateLen   uint32 // size of the XSAVE area (NT_X86_XSTATE regset) on the checkpointing CPU
}

// Values of KernelConsts for x86_64 and format v1.
const (
	TaskCommLen = 16  // include/linux/sched.h TASK_COMM_LEN
	NSig        = 64  // arch/x86/include/uapi/asm/signal.h _NSIG
	SiginfoLen  = 128 // include/uapi/asm-generic/siginfo.h SI_MAX_SIZE
	NRlimits    = 16  // include/uapi/asm-generic/resource.h RLIM_NLIMITS
	UserRegsLen = 216 // arch/x86/include/asm/user_64.h sizeof(struct user_regs_struct)
	// AuxvMax bounds Mm.Auxv. The kernel keeps at most AT_VECTOR_SIZE
	// (2*(AT_VECTOR_SIZE_ARCH+AT_VECTOR_SIZE_BASE+1), 52 words on x86_64
	// in 6.x) in mm->saved_auxv; 128 leaves room for growth.
	AuxvMax = 128
	// UserRegsWords is the number of u64 registers in Thread.Regs.
	UserRegsWords = UserRegsLen / 8
)

// NewHeader returns a HEADER for an image written now on this machine.
// Consts.XStateLen and XFeatures are left 0: the caller knows them from
// the first thread's XSAVE area.
func NewHeader() *Header {
	h := &Header{
		Magic:     MagicHead,
		Major:     VersionMajor,
		Minor:     VersionMinor,
		Arch:      ArchAMD64,
		PageShift: PageShift,
		TimeNs:    time.Now().UnixNano(),
		Consts: KernelConsts{
			TaskCommLen: TaskCommLen,
			NSig:        NSig,
			SiginfoLen:  SiginfoLen,
			NRlimits:    NRlimits,
			UserRegsLen: UserRegsLen,
			AuxvMax:     AuxvMax,
		},
	}
	var u unix.Utsname
	if err := unix.Uname(&u); err == nil {
		h.Release = cString(u.Release[:])
		h.Version = cString(u.Version[:])
		h.Machine = cString(u.Machine[:])
		h.Hostname = cString(u.Nodename[:])
	}
	return h
}

func cString(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

// Tail (TAIL, type 2) is the last record of a complete image. A stream
// that ends without one is a failed or cut checkpoint.
type Tail struct {
	Magic   uint64 // MagicTail
	Records uint64 // records before the TAIL, HEADER included
	Bytes   uint64 // stream bytes before the TAIL (its offset)
	Digest  uint64 // XXH64, seed 0, of those bytes
}

// Error (ERROR, type 3) is written instead of a TAIL by a checkpoint that
// failed after it started writing.
type Error struct {
	Pid     int32 // task the failure concerns, 0 if none
	Errno   int32 // errno of the failure, 0 if none
	Message string
}

// Stats (STATS, type 0x80000001, skippable) tells how the checkpoint went,
// for people and tools: how long the tasks were stopped, how long the
// whole checkpoint took until this record. It comes right before the TAIL.
// A restorer does not need it.
type Stats struct {
	FreezeNs uint64 // the tasks were stopped (or frozen) this long
	TotalNs  uint64 // from the start of the checkpoint to this record
	Tasks    uint32
	Threads  uint32
	Pages    uint64 // pages of memory in the image
}

func (*Stats) Type() Type  { return TypeStats }
func (*Header) Type() Type { return TypeHeader }
func (*Tail) Type() Type   { return TypeTail }
func (*Error) Type() Type  { return TypeError }
