package image

// Inotify (INOTIFY, type 313, object) is an inotify instance. Exactly
// NrWatches INOTIFY_WATCH records follow it. Events queued and not yet
// read are not saved.
type Inotify struct {
	Objref    uint32 `ckpt:"objref"`
	Flags     uint32 // open(2) flags as in /proc/PID/fdinfo
	NrWatches uint32
	Reserved  uint32
}

// InotifyWatch (INOTIFY_WATCH, type 314) is one watch of the INOTIFY before
// it, in ascending Wd order.
type InotifyWatch struct {
	Wd          int32
	Mask        uint32 // as inotify_add_watch(2) was given it (IN_* events and flags)
	IgnoredMask uint32 // as in fdinfo; not restored, see the format document
	Reserved    uint32
	Dev         uint64 // st_dev of the watched inode, to check Path still names it
	Ino         uint64 // st_ino, likewise
	Path        string // the watched inode's path, as the owner task sees it
}

func (*Inotify) Type() Type      { return TypeInotify }
func (*InotifyWatch) Type() Type { return TypeInotifyWatch }
