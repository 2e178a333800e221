package image

// MemfdFile (MEMFD_FILE, type 310, object) is an open file description of
// a memfd, whose name, size, seals and contents are in the SHMEM record it
// refers to.
type MemfdFile struct {
	Objref   uint32 `ckpt:"objref"`
	Flags    uint32 // open(2) flags as in /proc/PID/fdinfo
	Pos      int64
	Shmem    uint32 `ckpt:"ref"` // the SHMEM (kind memfd) this is a description of
	Reserved uint32
}

func (*MemfdFile) Type() Type { return TypeMemfdFile }
