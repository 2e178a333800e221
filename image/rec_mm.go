package image

// Mm (MM, type 400, object) is an address space, possibly shared by
// several tasks (CLONE_VM). NrVmas VMA records follow it, then the PAGES
// records of its memory.
type Mm struct {
	Objref     uint32 `ckpt:"objref"`
	NrVmas     uint32
	StartCode  uint64
	EndCode    uint64
	StartData  uint64
	EndData    uint64
	StartBrk   uint64
	Brk        uint64
	StartStack uint64
	ArgStart   uint64
	ArgEnd     uint64
	EnvStart   uint64
	EnvEnd     uint64
	ExeDev     uint64
	ExeIno     uint64
	ExePath    string
	Auxv       []uint64 // /proc/PID/auxv as u64 words, at most Header.Consts.AuxvMax
}

// Vma (VMA, type 401) is one mapping of the Mm before it.
type Vma struct {
	Start    uint64
	End      uint64
	Pgoff    uint64 // file offset in bytes
	Prot     uint32 // PROT_* bits
	Flags    uint32 // MAP_PRIVATE or MAP_SHARED, | MAP_ANONYMOUS, | MAP_GROWSDOWN
	Kind     uint32 // Vma* kind value
	Reserved uint32
	Madv     uint64 // VmaMadv* bits
	Dev      uint64
	Ino      uint64
	Path     string
}

// Vma.Kind values.
const (
	VmaAnon       uint32 = 1
	VmaFile       uint32 = 2
	VmaStack      uint32 = 3
	VmaHeap       uint32 = 4
	VmaVdso       uint32 = 5
	VmaVvar       uint32 = 6
	VmaVvarVclock uint32 = 7
	VmaVsyscall   uint32 = 8
	VmaShmem      uint32 = 9  // maps the SHMEM object with the same Ino
	VmaSysvShm    uint32 = 10 // attaches the IPC_SHM segment whose Id is Ino
	VmaDeleted    uint32 = 11 // maps the DELETED_FILE with the same Dev and Ino
)

// Vma.Madv bits: the madvise(2) state restore replays.
const (
	VmaMadvDontFork   uint64 = 1
	VmaMadvWipeOnFork uint64 = 2
	VmaMadvHugePage   uint64 = 4
	VmaMadvNoHugePage uint64 = 8
	VmaMadvDontDump   uint64 = 16
	VmaMadvLocked     uint64 = 32
	// Since 3.0:
	VmaMadvLockOnFault uint64 = 64   // mlock2(MLOCK_ONFAULT), with VmaMadvLocked
	VmaMadvMergeable   uint64 = 128  // MADV_MERGEABLE (KSM)
	VmaMadvSequential  uint64 = 256  // MADV_SEQUENTIAL
	VmaMadvRandom      uint64 = 512  // MADV_RANDOM
	VmaMadvSealed      uint64 = 1024 // mseal(2)
	VmaMadvAll                = 2047 // every bit defined
)

// Pages (PAGES, type 402) carries NrPages pages of memory in one or more
// runs of consecutive pages. After the encoded fields, zero padding brings
// the page data to a stream offset that is a multiple of PageSize; len
// counts that padding and the data: the pages of every run, run after run.
// The data is not part of the struct: see Reader.ReadPageData. Gaps between
// runs (pages never touched, zero pages) cost nothing, and a restorer fills
// a whole record with one vectored read or write.
type Pages struct {
	NrPages uint32
	Flags   uint32 // none defined (must be 0)
	Runs    []PageRun
	// Not encoded, set by the Reader: the first run's address and the
	// stream offset of the first data byte.
	Vaddr      uint64 `ckpt:"-" json:"vaddr"`
	DataOffset int64  `ckpt:"-" json:"data_offset"`
}

// PageRun is Pages consecutive pages at Vaddr.
type PageRun struct {
	Vaddr    uint64
	Pages    uint32
	Reserved uint32
}

// pagesFieldsLen is the encoded size of Pages' fields with n runs.
func pagesFieldsLen(n int) int64 { return 12 + 16*int64(n) }

// MaxRunsPerRecord bounds the runs of one PAGES record: IOV_MAX, so that a
// restorer can fill a record with one preadv(2) or process_vm_writev(2).
const MaxRunsPerRecord = 1024

// Shmem (SHMEM, type 403, object) is shared memory that tasks map: an
// anonymous shared mapping inherited across fork, or a memfd. The PAGES
// records that follow it, up to the next other record, hold its pages,
// their addresses being offsets in the object. VMAs of kind VmaShmem map it
// by Ino.
type Shmem struct {
	Objref   uint32 `ckpt:"objref"`
	Kind     uint32 // ShmemAnon or ShmemMemfd
	Ino      uint64 // the object's inode at checkpoint: the key VMAs use
	Size     uint64 // bytes
	Seals    uint32 // memfd seals (F_GET_SEALS)
	Reserved uint32
	Name     string // memfd name, as in /memfd:NAME
}

// Shmem.Kind values.
const (
	ShmemAnon  uint32 = 1
	ShmemMemfd uint32 = 2
	// ShmemFile is a tmpfs file deleted while mapped (a POSIX semaphore
	// or shm_open object after shm_unlink): Name is its path.
	ShmemFile uint32 = 3
)

func (*Shmem) Type() Type { return TypeShmem }
func (*Mm) Type() Type    { return TypeMm }
func (*Vma) Type() Type   { return TypeVma }
func (*Pages) Type() Type { return TypePages }

// TakesPages reports whether PAGES records may fall inside v: private
// memory the process owns. Shared file mappings live in their file; the
// vDSO, vvar and vsyscall are the kernel's.
func (v *Vma) TakesPages() bool {
	switch v.Kind {
	case VmaAnon, VmaStack, VmaHeap:
		return true
	case VmaFile, VmaDeleted, VmaShmem:
		// Mapped private: the pages written over the file's are the
		// task's own (a VmaShmem is private only for a memfd, format 3.1).
		return v.Flags&mapShared == 0
	}
	return false
}

// mapShared is MAP_SHARED from include/uapi/linux/mman.h.
const mapShared = 0x01
