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

// TypeTtyAttr is TTY_ATTR's type number (in the files range).
const TypeTtyAttr Type = 372

var _ = registerType(typeInfo{typ: TypeTtyAttr, name: "TTY_ATTR", new: func() Record { return new(TtyAttr) }})

// TtyAttr (TTY_ATTR, type 372) is the owner and mode of a pty's slave
// (/dev/pts/N: grantpt(3), or a login program's fchown and fchmod), which
// the new pty restore makes gets back. It follows its TTY and TTY_DATA
// records.
type TtyAttr struct {
	TtyID uint32 // the TTY (a pty)
	Mode  uint32 // permission bits (07777)
	Uid   uint32
	Gid   uint32
}

func (*TtyAttr) Type() Type { return TypeTtyAttr }
