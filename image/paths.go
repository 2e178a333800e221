package image

import (
	"bytes"
	"fmt"
	"strings"
)

// CheckPaths checks the path fields of a decoded record; the restorer
// calls it on every record as it reads it, so that a malformed path is
// refused before anything is created. (The Reader does not: it decodes
// what the format can carry, and inspect shows it.) Two rules, by where
// the path comes from (see docs/security-paths.md):
//
//   - Paths the kernel printed (d_path: /proc/PID/fd links, maps, exe, cwd,
//     mountinfo, an inotify watch's file): CheckPath. Absolute, no empty,
//     "." or ".." component, no NUL, shorter than PATH_MAX. The kernel
//     never prints anything else, so anything else is a made-up image.
//   - A unix socket's bound name, as the program gave it to bind(2):
//     the kernel keeps it verbatim, so "/a/../b" or "/a//b" are real
//     names. It must be NUL-free (unless abstract) and fit sun_path; a
//     relative one is bound from the directory its UNIX_BIND names (a
//     kernel-printed path, checked as such). Its ".." components are harmless: the name is bound by
//     the restored task itself and looked at by the restorer only inside
//     the task's root with RESOLVE_IN_ROOT, where ".." stops at the root.
//
// The restorer resolves every path inside a root (internal/fsroot) either
// way: these checks refuse nonsense early, they are not what keeps a path
// inside the root.

// sunPathMax is sizeof(struct sockaddr_un.sun_path), include/uapi/linux/un.h.
const sunPathMax = 108

// CheckPaths returns an error saying which path field of rec is
// malformed and why, or nil.
func CheckPaths(rec Record) error {
	if msg := checkRecordPaths(rec); msg != "" {
		return fmt.Errorf("%v: %s", rec.Type(), msg)
	}
	return nil
}

// checkRecordPaths returns why rec's path fields are malformed, or "".
func checkRecordPaths(rec Record) string {
	bad := func(what string, err error) string { return fmt.Sprintf("%s: %v", what, err) }
	switch x := rec.(type) {
	case *RegFile:
		if err := checkPathShort(x.Path); err != nil {
			return bad("REG_FILE path", err)
		}
	case *Fs:
		if err := checkPathShort(x.Cwd); err != nil {
			return bad("FS cwd", err)
		}
		if err := checkPathShort(x.Root); err != nil {
			return bad("FS root", err)
		}
	case *Fifo:
		if err := checkPathShort(x.Path); err != nil {
			return bad("FIFO path", err)
		}
	case *DeletedFile:
		if err := checkPathShort(x.Path); err != nil || x.Path == "/" {
			return bad("DELETED_FILE path", nonRoot(x.Path, err))
		}
	case *InotifyWatch:
		if err := checkPathShort(x.Path); err != nil {
			return bad("INOTIFY_WATCH path", err)
		}
	case *Mm:
		if x.ExePath != "" {
			if err := checkPathShort(x.ExePath); err != nil {
				return bad("MM exe path", err)
			}
		}
	case *Vma:
		if x.Kind == VmaFile || x.Kind == VmaDeleted {
			if err := checkPathShort(x.Path); err != nil {
				return bad(fmt.Sprintf("VMA %#x-%#x path", x.Start, x.End), err)
			}
		} else if len(x.Path) >= pathMax || strings.IndexByte(x.Path, 0) >= 0 {
			return fmt.Sprintf("VMA %#x-%#x: name of %d bytes or with a NUL", x.Start, x.End, len(x.Path))
		}
	case *Shmem:
		if x.Kind == ShmemFile {
			if err := checkPathShort(x.Name); err != nil || x.Name == "/" {
				return bad("SHMEM file path", nonRoot(x.Name, err))
			}
		}
	case *Mount:
		if err := checkPathShort(x.MountPoint); err != nil {
			return bad(fmt.Sprintf("MOUNT %d mount point", x.ID), err)
		}
		if err := x.checkRoot(); err != nil {
			return bad(fmt.Sprintf("MOUNT %d root", x.ID), err)
		}
		if x.Kind == MountBind {
			if err := checkPathShort(x.BindFrom); err != nil {
				return bad(fmt.Sprintf("MOUNT %d bind source", x.ID), err)
			}
		}
	case *TmpfsFile:
		if err := checkPathShort(x.Path); err != nil {
			return bad(fmt.Sprintf("TMPFS_FILE of mount %d", x.Mount), err)
		}
		if x.Flags&TmpfsHardLink != 0 {
			if err := checkPathShort(x.Link); err != nil {
				return bad(fmt.Sprintf("TMPFS_FILE %q hard link", x.Path), err)
			}
		} else if len(x.Link) >= pathMax || strings.IndexByte(x.Link, 0) >= 0 {
			// A symlink's target is the container's business: it is
			// only ever followed inside the root.
			return fmt.Sprintf("TMPFS_FILE %q: symlink target of %d bytes or with a NUL", x.Path, len(x.Link))
		}
	case *UnixBind:
		if err := checkPathShort(string(x.Dir)); err != nil {
			return bad(fmt.Sprintf("UNIX_BIND %d directory", x.Ino), err)
		}
	case *UnixSk:
		if msg := checkSunName(x.Name); msg != "" {
			return fmt.Sprintf("UNIX_SK %d: name %s", x.Ino, msg)
		}
	case *CgroupDir:
		if err := CheckCgroupPath(x.Path); err != nil {
			return bad(fmt.Sprintf("CGROUP_DIR %d path", x.ID), err)
		}
		if len(x.Controllers) > 255 || strings.ContainsAny(x.Controllers, "/:\x00") {
			return fmt.Sprintf("CGROUP_DIR %d: controllers %q are not a hierarchy's name", x.ID, x.Controllers)
		}
	case *CgroupProp:
		if err := CheckCgroupFileName(x.Name); err != nil {
			return bad(fmt.Sprintf("CGROUP_PROP of cgroup %d", x.Dir), err)
		}
		if len(x.Value) >= pathMax {
			return fmt.Sprintf("CGROUP_PROP %s: value of %d bytes", x.Name, len(x.Value))
		}
	case *UnixQueue:
		// A sender outside the tree may have bound a relative name;
		// the restorer never resolves it, it only matches it.
		if len(x.Sender) > sunPathMax {
			return fmt.Sprintf("UNIX_QUEUE: sender address of %d bytes, more than sun_path holds (%d)", len(x.Sender), sunPathMax)
		}
	}
	return ""
}

// pathMax is PATH_MAX, include/uapi/linux/limits.h.
const pathMax = 4096

// checkPathShort is CheckPath with a bounded message: an image may hold
// a path of 60000 bytes.
func checkPathShort(p string) error {
	if len(p) >= pathMax {
		return fmt.Errorf("path of %d bytes, PATH_MAX is %d", len(p), pathMax)
	}
	return CheckPath(p)
}

func nonRoot(p string, err error) error {
	if err != nil {
		return err
	}
	return fmt.Errorf("path %q names the root directory, not a file", p)
}

// checkSunName checks a unix socket address as UNIX_SK and UNIX_QUEUE
// carry it: empty (unnamed), abstract (a leading NUL, then any bytes), or
// a path without a NUL (absolute, or relative: UNIX_BIND says from
// where); at most sun_path long.
func checkSunName(n []byte) string {
	switch {
	case len(n) == 0:
		return ""
	case len(n) > sunPathMax:
		return fmt.Sprintf("of %d bytes, more than sun_path holds (%d)", len(n), sunPathMax)
	case n[0] == 0:
		return ""
	case bytes.IndexByte(n, 0) >= 0:
		return fmt.Sprintf("%q holds a NUL", n)
	case len(n) >= sunPathMax:
		return fmt.Sprintf("%q leaves no room for its NUL in sun_path", n)
	}
	return ""
}
