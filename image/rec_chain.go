package image

// Record types of pre-copy chains (format 2.6): an image that holds only
// the pages written since an earlier image of the same processes, its
// parent, and takes the others from it.
const (
	TypeParent      Type = 420
	TypeParentPages Type = 421
	TypeDirtyTrack  Type = 422
)

var (
	_ = registerType(typeInfo{typ: TypeParent, name: "PARENT", new: func() Record { return new(Parent) }})
	_ = registerType(typeInfo{typ: TypeParentPages, name: "PARENT_PAGES", new: func() Record { return new(ParentPages) }})
	_ = registerType(typeInfo{typ: TypeDirtyTrack, name: "DIRTY_TRACK", new: func() Record { return new(DirtyTrack) }})
)

// Parent (PARENT, type 420) says the image is the child of another image:
// the PARENT_PAGES records of its tasks name memory whose content is the
// parent's. It comes right after the HEADER (after the CONTAINER, if any),
// once. The parent is identified by its TAIL: Bytes, Records and Digest
// must all equal the parent image's, so a missing, rewritten or unrelated
// parent is refused before anything is restored. Path is where the parent
// was at checkpoint (as given; relative paths are relative to the
// directory of the child image), a hint for the restorer.
type Parent struct {
	Bytes   uint64 // the parent's TAIL.Bytes
	Records uint64 // the parent's TAIL.Records
	Digest  uint64 // the parent's TAIL.Digest
	Path    string
}

// ParentPages (PARENT_PAGES, type 421) belongs to the MM before it (after
// its VMAs, before its PAGES) in an image with a PARENT: the runs of pages
// whose content is the one the parent image gives the same task (by pid)
// at the same addresses: its PAGES there, or its own PARENT_PAGES, down
// the chain. Pages of a run that no image of the chain holds are zero
// (or, in a private file mapping, the file's). Runs are in ascending
// address order, without overlap, inside VMAs that take pages, and never
// overlap the PAGES of the same image. An MM may have several.
type ParentPages struct {
	Runs []PageRun
}

// DirtyTrack (DIRTY_TRACK, type 422) belongs to the MM before it: at the
// checkpoint (ckpt checkpoint --pre-dump) the task was left holding a
// userfaultfd at Fd, inode Ino, registered for asynchronous write
// protection, which records the pages written since. The next checkpoint
// of the chain finds it there, reads which pages changed and closes it.
// The fd is not among the task's FD records; a restorer ignores this
// record.
type DirtyTrack struct {
	Fd       int32
	Reserved uint32
	Ino      uint64
}

func (*Parent) Type() Type      { return TypeParent }
func (*ParentPages) Type() Type { return TypeParentPages }
func (*DirtyTrack) Type() Type  { return TypeDirtyTrack }

// MaxParentRunsPerRecord keeps a PARENT_PAGES record well under
// MaxPlainRecordLen.
const MaxParentRunsPerRecord = 32768
