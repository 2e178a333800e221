package image

import (
	"fmt"
	"regexp"
	"strings"

	"golang.org/x/sys/unix"
)

// Mount (MOUNT, type 500) is one mount of the tree's private mount
// namespace, in /proc/PID/mountinfo order (parents before children). The
// MOUNT records follow the PSTREE (and the UTS record) when the first task
// has TaskFlagMntns. Restore makes the namespace as a copy of its own,
// keeps exactly the MountInherited mounts of that copy (unmounting the
// others) and then makes the other kinds, in order.
type Mount struct {
	ID         uint32 // mount id at checkpoint (mountinfo field 1)
	ParentID   uint32 // the ID of the mount this one is on; the namespace root's parent is outside the list
	Kind       uint32 // MountInherited, MountTmpfs, MountBind or MountProc
	Flags      uint32 // per-mount MS_* flags (MountFlagsMask)
	Dev        uint64 // MountBind: st_dev of the source; 0 with Ino 0: not checked (a source we re-create)
	Ino        uint64 // MountBind: st_ino of the source
	MountPoint string // where it is mounted, from the task's root
	Root       string // mountinfo root: the path inside its filesystem
	FsType     string
	Source     string // mountinfo source (e.g. the device)
	SuperOpts  string // superblock options as mountinfo shows them
	BindFrom   string // MountBind: the source path in the namespace, when this mount is made
}

// Mount.Kind values.
const (
	// MountInherited: a mount the namespace was copied with (identical in
	// mount point, root, fs type, source and superblock options to one of
	// the namespace it was copied from); restore finds it in its copy.
	MountInherited uint32 = 1
	// MountTmpfs: a tmpfs instance made in the namespace; its content
	// follows as TMPFS_FILE and TMPFS_DATA records.
	MountTmpfs uint32 = 2
	// MountBind: a bind mount of BindFrom, made in the namespace.
	MountBind uint32 = 3
	// MountProc: a proc instance of the tree's pid namespace.
	MountProc uint32 = 4
)

// MountFlagsMask is the per-mount flags a MOUNT may carry (the values
// are in docs/image-format.md).
const MountFlagsMask uint32 = unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC | unix.MS_NOSYMFOLLOW |
	unix.MS_NOATIME | unix.MS_NODIRATIME | unix.MS_RELATIME | unix.MS_STRICTATIME

var mountKindNames = map[uint32]string{MountInherited: "inherited", MountTmpfs: "tmpfs", MountBind: "bind", MountProc: "proc"}

// MountKindName returns the name of a Mount.Kind value, for inspect.
func MountKindName(k uint32) string {
	if s, ok := mountKindNames[k]; ok {
		return s
	}
	return fmt.Sprintf("kind(%d)", k)
}

// Check validates a MOUNT on its own: known kind and flags, clean absolute
// paths.
func (m *Mount) Check() error {
	if _, ok := mountKindNames[m.Kind]; !ok {
		return fmt.Errorf("MOUNT %d: unknown kind %d", m.ID, m.Kind)
	}
	if m.Flags&^MountFlagsMask != 0 {
		return fmt.Errorf("MOUNT %d: unknown flags %#x", m.ID, m.Flags&^MountFlagsMask)
	}
	if err := CheckPath(m.MountPoint); err != nil {
		return fmt.Errorf("MOUNT %d: mount point: %w", m.ID, err)
	}
	if err := m.checkRoot(); err != nil {
		return fmt.Errorf("MOUNT %d: root: %w", m.ID, err)
	}
	if m.FsType == "" {
		return fmt.Errorf("MOUNT %d: no fs type", m.ID)
	}
	switch m.Kind {
	case MountBind:
		if err := CheckPath(m.BindFrom); err != nil {
			return fmt.Errorf("MOUNT %d: bind source: %w", m.ID, err)
		}
	case MountTmpfs:
		if m.FsType != "tmpfs" || m.Root != "/" {
			return fmt.Errorf("MOUNT %d: a tmpfs kind with fs type %q and root %q", m.ID, m.FsType, m.Root)
		}
	case MountProc:
		if m.FsType != "proc" || m.Root != "/" {
			return fmt.Errorf("MOUNT %d: a proc kind with fs type %q and root %q", m.ID, m.FsType, m.Root)
		}
	}
	if m.Kind != MountBind && (m.BindFrom != "" || m.Dev != 0 || m.Ino != 0) {
		return fmt.Errorf("MOUNT %d: bind fields set on a %s mount", m.ID, MountKindName(m.Kind))
	}
	return nil
}

// nsfsRoot is how mountinfo shows the root of a namespace file bind-mounted
// somewhere (ip netns add, a runtime's /run/netns/...): fs/nsfs.c's
// ns_dname(), "net:[4026531840]", not a path.
var nsfsRoot = regexp.MustCompile(`^[a-z_]+:\[[0-9]+\]$`)

// checkRoot: a path, except for an inherited namespace file's mount, which
// restore only finds again in its copy of the mounts (it never follows the
// root).
func (m *Mount) checkRoot() error {
	if m.FsType == "nsfs" && m.Kind == MountInherited {
		if !nsfsRoot.MatchString(m.Root) {
			return fmt.Errorf("%q is not a namespace file's name", m.Root)
		}
		return nil
	}
	return CheckPath(m.Root)
}

// CheckPath accepts an absolute path with no empty, "." or ".." component
// and no NUL, at most PATH_MAX long: a path a restorer may follow from a
// root without leaving it.
func CheckPath(p string) error {
	if len(p) == 0 || p[0] != '/' {
		return fmt.Errorf("path %q is not absolute", p)
	}
	if len(p) >= 4096 || strings.IndexByte(p, 0) >= 0 {
		return fmt.Errorf("path %q is too long or holds a NUL", p)
	}
	if p == "/" {
		return nil
	}
	for _, c := range strings.Split(p[1:], "/") {
		if c == "" || c == "." || c == ".." {
			return fmt.Errorf("path %q has an empty, \".\" or \"..\" component", p)
		}
	}
	return nil
}

// TmpfsFile (TMPFS_FILE, type 501) is one name in a MountTmpfs mount:
// a directory, regular file, symlink, device node or FIFO, or a hard link
// to an earlier name. Records of one mount follow its MOUNT, the root
// directory ("/") first and every directory before what it holds. A
// regular file's data follow it as TMPFS_DATA records.
type TmpfsFile struct {
	Mount uint32 // the ID of the MOUNT
	Mode  uint32 // st_mode: type and permission bits
	Uid   uint32
	Gid   uint32
	Flags uint32 // TmpfsHardLink
	Nlink uint32 // st_nlink at checkpoint, for inspect
	Rdev  uint64 // device nodes
	Size  int64  // regular files: st_size (holes included)
	Atime int64  // ns since the epoch
	Mtime int64  // ns since the epoch
	Path  string // from the mount's root; "/" is the root
	Link  string // symlinks: the target; hard links: the earlier name (a Path)
}

// TmpfsFile.Flags bits.
const (
	// TmpfsHardLink: Path is another name of the file named Link; the
	// other fields repeat that file's.
	TmpfsHardLink uint32 = 1
)

// Check validates a TMPFS_FILE on its own.
func (f *TmpfsFile) Check() error {
	if err := CheckPath(f.Path); err != nil {
		return fmt.Errorf("TMPFS_FILE of mount %d: %w", f.Mount, err)
	}
	if f.Flags&^TmpfsHardLink != 0 {
		return fmt.Errorf("TMPFS_FILE %q: unknown flags %#x", f.Path, f.Flags)
	}
	if f.Size < 0 || (f.Size != 0 && f.Mode&unix.S_IFMT != unix.S_IFREG) {
		return fmt.Errorf("TMPFS_FILE %q: size %d for mode %#o", f.Path, f.Size, f.Mode)
	}
	if f.Flags&TmpfsHardLink != 0 {
		if f.Path == "/" || f.Mode&unix.S_IFMT == unix.S_IFDIR {
			return fmt.Errorf("TMPFS_FILE %q: a hard link to a directory", f.Path)
		}
		return CheckPath(f.Link)
	}
	switch f.Mode & unix.S_IFMT {
	case unix.S_IFREG, unix.S_IFDIR, unix.S_IFCHR, unix.S_IFBLK, unix.S_IFIFO:
		if f.Link != "" {
			return fmt.Errorf("TMPFS_FILE %q: a link target on mode %#o", f.Path, f.Mode)
		}
	case unix.S_IFLNK:
		if f.Link == "" || len(f.Link) >= 4096 || strings.IndexByte(f.Link, 0) >= 0 {
			return fmt.Errorf("TMPFS_FILE %q: bad symlink target %q", f.Path, f.Link)
		}
	default:
		return fmt.Errorf("TMPFS_FILE %q: unsupported file type in mode %#o", f.Path, f.Mode)
	}
	if f.Path == "/" && f.Mode&unix.S_IFMT != unix.S_IFDIR {
		return fmt.Errorf("TMPFS_FILE: the root of mount %d is not a directory (mode %#o)", f.Mount, f.Mode)
	}
	return nil
}

// TmpfsData (TMPFS_DATA, type 502) is a run of bytes of the regular file
// of the TMPFS_FILE before it. Runs are in ascending order without overlap
// and inside the file's Size; what no run covers is a hole (reads as
// zeros).
type TmpfsData struct {
	Mount  uint32 // the ID of the MOUNT, as in the TMPFS_FILE
	Offset int64
	Data   []byte // at most TmpfsDataChunk bytes
}

// TmpfsDataChunk is the most data one TMPFS_DATA record holds.
const TmpfsDataChunk = 256 << 10

func (*Mount) Type() Type     { return TypeMount }
func (*TmpfsFile) Type() Type { return TypeTmpfsFile }
func (*TmpfsData) Type() Type { return TypeTmpfsData }
