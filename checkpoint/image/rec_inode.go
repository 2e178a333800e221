package image

// TypeInodeAttr is INODE_ATTR's type number (in the files range).
const TypeInodeAttr Type = 370

var _ = registerType(typeInfo{typ: TypeInodeAttr, name: "INODE_ATTR", new: func() Record { return new(InodeAttr) }})

// InodeAttr (INODE_ATTR, type 370) is the owner, mode and times of the
// inode of an object restore makes anew: a SHMEM (a memfd, a deleted
// tmpfs file), a DELETED_FILE or a TTY (its slave). It follows the
// object's records (after its contents, whose writing would move the
// times); restore sets them last.
type InodeAttr struct {
	Object   uint32 `ckpt:"ref"` // the SHMEM, DELETED_FILE or TTY
	Mode     uint32 // permission bits (07777)
	Uid      uint32
	Gid      uint32
	AtimeNs  int64  // st_atim, nanoseconds since the epoch
	MtimeNs  int64  // st_mtim
	Flags    uint32 // InodeAttrTimes
	Reserved uint32
}

// InodeAttr.Flags bits.
const (
	// InodeAttrTimes: AtimeNs and MtimeNs are set (not for a TTY, whose
	// times move with every read and write).
	InodeAttrTimes uint32 = 1
)

func (*InodeAttr) Type() Type { return TypeInodeAttr }
