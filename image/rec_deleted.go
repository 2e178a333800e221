package image

// DeletedFile (DELETED_FILE, type 316, object) is a regular file that was
// deleted while still open or mapped: restore re-creates it, unlinked, in
// the directory it was in, with the contents of the DELETED_DATA records
// that follow it. Open descriptions of it are DELETED_OPENs; mappings of
// it are VMAs of kind VmaDeleted with its Dev and Ino.
type DeletedFile struct {
	Objref uint32 `ckpt:"objref"`
	Mode   uint32 // st_mode (type and permission bits)
	Uid    uint32
	Gid    uint32
	Size   int64  // st_size; bytes beyond the DELETED_DATA are a hole
	Dev    uint64 // st_dev at checkpoint: with Ino, what VMAs name it by
	Ino    uint64 // st_ino at checkpoint
	Path   string // where it was, without " (deleted)", as its task saw it
}

// DeletedData (DELETED_DATA, type 317) is one run of a DELETED_FILE's
// data; the runs of a file follow it in ascending, non-overlapping order,
// each at most DeletedDataChunk bytes. What no run covers is a hole.
type DeletedData struct {
	File     uint32 `ckpt:"ref"` // the DELETED_FILE
	Reserved uint32
	Offset   int64
	Data     []byte
}

// DeletedDataChunk is the most data one DELETED_DATA record holds.
const DeletedDataChunk = 256 << 10

// DeletedOpen (DELETED_OPEN, type 318, object) is an open file description
// of a DELETED_FILE.
type DeletedOpen struct {
	Objref   uint32 `ckpt:"objref"`
	Flags    uint32 // open(2) flags as in /proc/PID/fdinfo
	Pos      int64
	File     uint32 `ckpt:"ref"` // the DELETED_FILE
	Reserved uint32
}

func (*DeletedFile) Type() Type { return TypeDeletedFile }
func (*DeletedData) Type() Type { return TypeDeletedData }
func (*DeletedOpen) Type() Type { return TypeDeletedOpen }
