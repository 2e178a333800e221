package checkpoint

import (
	"fmt"
	"os"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
	"github.com/ckpt/ckpt/internal/kernel"
	"github.com/ckpt/ckpt/internal/proc"
	"github.com/ckpt/ckpt/internal/remote"
)

// mntns is the tree's private mount namespace: its mounts as MOUNT
// records, and the content of the tmpfs instances made in it.
type mntns struct {
	mounts []image.Mount
	tmpfs  map[uint32]*tmpfsTree // by mount ID
}

// collectMntns looks at the mount namespaces of the tree. Its first task
// may have one of its own (a container's); restore then makes a new one,
// a copy of the restorer's, and turns it into this one. The namespace is
// compared with the one it was copied from (its parent's, or ours when the
// parent cannot be read): every mount of the namespace is saved as one
// restore finds in its copy (inherited), or re-creates (tmpfs with its
// content, proc, bind mounts of paths the namespace sees), or it is
// refused. Inherited mounts the namespace no longer has are unmounted by
// restore, which keeps exactly the saved ones. A task whose mount
// namespace differs from the first task's is refused.
func (d *dumper) collectMntns(t *tree) error {
	if d.opts.Container != nil {
		return d.collectContainerMounts(t)
	}
	root := t.procs[0]
	rootNs := mntnsOf(root.pid)
	base := int(root.stat.PPid)
	baseNs := mntnsOf(base)
	if baseNs == "" {
		base, baseNs = os.Getpid(), mntnsOf(os.Getpid())
	}
	for _, p := range t.live()[1:] {
		if mntnsOf(p.pid) != rootNs {
			return unsupported(p.pid, "mount namespace", "it differs from the one of task %d: nested mount namespaces are not supported yet", root.pid)
		}
	}
	if rootNs == "" || baseNs == "" || rootNs == baseNs {
		return nil
	}
	root.task.Flags |= image.TaskFlagMntns
	baseMounts, err := proc.MountInfos(base)
	if err != nil {
		return fmt.Errorf("mount namespace of task %d's parent: %w", root.pid, err)
	}
	mounts, err := proc.MountInfos(root.pid)
	if err != nil {
		return fmt.Errorf("task %d: %w", root.pid, err)
	}
	d.mnt = &mntns{tmpfs: map[uint32]*tmpfsTree{}}
	return d.mnt.collect(d, root, baseMounts, mounts)
}

func mntnsOf(pid int) string { return nsLink(pid, "mnt") }

// mountKey is what a mount and its copy in another namespace have in
// common (mount ids and per-mount flags may differ).
func mountKey(m *proc.MountInfo) string {
	return strings.Join([]string{m.MountPoint, m.Root, m.FsType, m.Source, m.SuperOpts}, "\x00")
}

// collect classifies each mount of the namespace (mountinfo order).
// Copies of the mounts of the namespace it was copied from come first (a
// copy made by unshare or clone gets its mounts before anything mounted in
// it later); from the first mount that is not such a copy on, every mount
// is one made in the namespace.
func (n *mntns) collect(d *dumper, root *process, base, mounts []proc.MountInfo) error {
	pid := root.pid
	avail := map[string]int{}
	for i := range base {
		avail[mountKey(&base[i])]++
	}
	kinds := map[int]uint32{} // mount id -> kind, for bind sources
	made := false
	for i := range mounts {
		m := &mounts[i]
		obj := fmt.Sprintf("mount %d on %q (%s)", m.ID, m.MountPoint, m.FsType)
		if !m.Private() {
			return unsupported(pid, obj, "propagation %s: only private mounts are supported (restore makes every mount private)", strings.Join(m.Optional, " "))
		}
		flags, err := proc.MountFlags(m.Opts)
		if err != nil {
			return unsupported(pid, obj, "%v", err)
		}
		rec := image.Mount{
			ID: uint32(m.ID), ParentID: uint32(m.Parent), Flags: flags,
			MountPoint: m.MountPoint, Root: m.Root, FsType: m.FsType, Source: m.Source, SuperOpts: m.SuperOpts,
		}
		if k := mountKey(m); !made && avail[k] > 0 {
			avail[k]--
			rec.Kind = image.MountInherited
		} else {
			made = true
			if err := n.made(d, root, obj, &rec, mounts, i, base, kinds); err != nil {
				return err
			}
		}
		if err := rec.Check(); err != nil {
			return unsupported(pid, obj, "%v", err)
		}
		kinds[m.ID] = rec.Kind
		n.mounts = append(n.mounts, rec)
	}
	return nil
}

// made fills rec for a mount made in the namespace: a new tmpfs or proc
// instance, or a bind mount of a path of an earlier mount of the list.
func (n *mntns) made(d *dumper, root *process, obj string, rec *image.Mount, mounts []proc.MountInfo, i int,
	base []proc.MountInfo, kinds map[int]uint32) error {
	pid, m, earlier := root.pid, &mounts[i], mounts[:i]
	var src *proc.MountInfo
	for i := range earlier {
		e := &earlier[i]
		if e.Major == m.Major && e.Minor == m.Minor && pathWithin(m.Root, e.Root) &&
			(src == nil || len(e.Root) >= len(src.Root)) {
			src = e
		}
	}
	if src == nil {
		for i := range base {
			if base[i].Major == m.Major && base[i].Minor == m.Minor {
				return unsupported(pid, obj, "a bind mount of %q of a file system the namespace does not have mounted: its source is not visible in the namespace", m.Root)
			}
		}
		switch {
		case m.FsType == "tmpfs" && m.Root == "/":
			rec.Kind = image.MountTmpfs
			rootFd, err := d.tmpfsRoot(root, mounts, i)
			if err != nil {
				return unsupported(pid, obj, "%v", err)
			}
			tree, err := walkTmpfs(pid, obj, rec.ID, rootFd, d.opts.LeaveRunning)
			unix.Close(rootFd)
			if err != nil {
				return err
			}
			n.tmpfs[rec.ID] = tree
			return nil
		case m.FsType == "proc" && m.Root == "/":
			rec.Kind = image.MountProc
			return checkProcMount(pid, obj, m)
		}
		return unsupported(pid, obj, "a %s file system made in the namespace is not supported (only tmpfs, proc and bind mounts are)", m.FsType)
	}
	rec.Kind = image.MountBind
	rootFd, err := openMountRoot(pid, m)
	if err != nil {
		return unsupported(pid, obj, "%v", err)
	}
	defer unix.Close(rootFd)
	rec.BindFrom = joinPath(src.MountPoint, strings.TrimPrefix(m.Root, strings.TrimSuffix(src.Root, "/")))
	if src.Root == "/" {
		rec.BindFrom = joinPath(src.MountPoint, m.Root)
	}
	// When this mount is made, BindFrom must lead into src: the last
	// mount before it on a prefix of that path is src.
	var last *proc.MountInfo
	for i := range earlier {
		if pathWithin(rec.BindFrom, earlier[i].MountPoint) {
			last = &earlier[i]
		}
	}
	if last == nil || last.ID != src.ID {
		return unsupported(pid, obj, "bind mount of %q: that path of mount %d is covered by another mount", rec.BindFrom, src.ID)
	}
	var want, got unix.Statx_t
	if err := unix.Statx(rootFd, "", unix.AT_EMPTY_PATH, unix.STATX_INO|unix.STATX_MNT_ID, &want); err != nil {
		return unsupported(pid, obj, "statx: %v", err)
	}
	srcFd, err := openInRoot(pid, rec.BindFrom, unix.O_PATH)
	if err == nil {
		err = unix.Statx(srcFd, "", unix.AT_EMPTY_PATH, unix.STATX_INO|unix.STATX_MNT_ID, &got)
		unix.Close(srcFd)
	}
	// Now the path may lead to a mount made since (this one, when a
	// directory is bound onto itself); if it still leads to src, it must
	// be the same file.
	if err == nil && got.Mnt_id == uint64(src.ID) && (got.Ino != want.Ino ||
		got.Dev_major != want.Dev_major || got.Dev_minor != want.Dev_minor) {
		err = fmt.Errorf("inode %d, the mount's root is %d", got.Ino, want.Ino)
	}
	if err != nil {
		return unsupported(pid, obj, "bind mount of %q: that path no longer leads to its source in mount %d: %v", rec.BindFrom, src.ID, err)
	}
	if kinds[src.ID] == image.MountInherited {
		// Restore makes the same bind from the same file: check it is.
		rec.Dev, rec.Ino = unix.Mkdev(want.Dev_major, want.Dev_minor), want.Ino
	}
	return nil
}

// checkProcMount accepts a proc mount of the task's own pid namespace,
// the only one restore can mount again (from the restored task).
func checkProcMount(pid int, obj string, m *proc.MountInfo) error {
	own, err1 := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", pid))
	its, err := readlinkInTask(pid, joinPath(m.MountPoint, "/1/ns/pid"))
	if err1 != nil || err != nil || its != own {
		return unsupported(pid, obj, "a proc mount of another pid namespace (%q, the task's is %q; %v %v)", its, own, err1, err)
	}
	return nil
}

// tmpfsRoot opens the root of the tmpfs mounts[i] for reading it all. When
// other mounts sit on it or in it, they hide part of it: then the task
// makes a private copy of the tmpfs mount alone (open_tree(2) with
// OPEN_TREE_CLONE, which only a task of the namespace may do) and we read
// that copy, through which every name of the tmpfs shows.
func (d *dumper) tmpfsRoot(root *process, mounts []proc.MountInfo, i int) (int, error) {
	m := &mounts[i]
	covered := false
	for _, o := range mounts[i+1:] {
		covered = covered || pathWithin(o.MountPoint, m.MountPoint)
	}
	if !covered {
		return openMountRoot(root.pid, m)
	}
	fd, err := d.cloneMount(root, m.MountPoint)
	if err != nil {
		return -1, fmt.Errorf("copy the tmpfs mount, which other mounts cover: %w", err)
	}
	var st unix.Statx_t
	if err := unix.Statx(fd, "", unix.AT_EMPTY_PATH, unix.STATX_MNT_ID, &st); err != nil || st.Dev_major != m.Major || st.Dev_minor != m.Minor {
		unix.Close(fd)
		return -1, fmt.Errorf("the copy of the mount on %q is of device %d:%d, not %d:%d (%w)", m.MountPoint, st.Dev_major, st.Dev_minor, m.Major, m.Minor, err)
	}
	return fd, nil
}

// cloneMount runs open_tree(mp, OPEN_TREE_CLONE) in the task and takes
// the file it got (a detached copy of that one mount, no submounts) into
// our fd table, closing the task's.
func (d *dumper) cloneMount(p *process, mp string) (fd int, err error) {
	fd = -1
	err = d.inject(p, func(rt *remote.Task, _, _ uint64) error {
		var err error
		fd, err = openTreeIn(p, rt, mp)
		return err
	})
	if err != nil && fd >= 0 {
		unix.Close(fd)
		fd = -1
	}
	return fd, err
}

// openTreeIn is cloneMount's work in the task.
func openTreeIn(p *process, rt *remote.Task, mp string) (int, error) {
	path, err := rt.PutString(mp)
	if err != nil {
		return -1, err
	}
	tfd, err := rt.Syscall(unix.SYS_OPEN_TREE, ^uintptr(99), uintptr(path), unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC)
	if err != nil {
		return -1, fmt.Errorf("open_tree(%q) in task %d: %w", mp, p.pid, err)
	}
	fd, err := kernel.TakeFd(p.pid, int(tfd))
	if _, cerr := rt.Syscall(unix.SYS_CLOSE, tfd); cerr != nil && err == nil {
		err = fmt.Errorf("close fd %d in task %d: %w", tfd, p.pid, cerr)
	}
	if err != nil {
		if fd >= 0 {
			unix.Close(fd)
		}
		return -1, fmt.Errorf("take the copy of the mount on %q: %w", mp, err)
	}
	return fd, nil
}

// openMountRoot opens the root of mount m through the task's root, and
// makes sure it is that mount there (no other mount covers it).
func openMountRoot(pid int, m *proc.MountInfo) (int, error) {
	fd, err := openInRoot(pid, m.MountPoint, unix.O_RDONLY|unix.O_NOATIME)
	if err != nil {
		return -1, err
	}
	var st unix.Statx_t
	if err := unix.Statx(fd, "", unix.AT_EMPTY_PATH, unix.STATX_MNT_ID, &st); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("statx %q: %w", m.MountPoint, err)
	}
	if st.Mnt_id != uint64(m.ID) {
		unix.Close(fd)
		return -1, fmt.Errorf("it is covered by mount %d on the same path", st.Mnt_id)
	}
	return fd, nil
}

// pathWithin reports whether p is dir or below it.
func pathWithin(p, dir string) bool {
	return dir == "/" || p == dir || strings.HasPrefix(p, dir+"/")
}

func joinPath(dir, rest string) string {
	if rest == "" || rest == "/" {
		return dir
	}
	if dir == "/" {
		return rest
	}
	return dir + rest
}

// writeMounts writes the MOUNT records, each tmpfs followed by its
// content.
func (n *mntns) write(w *image.Writer, pid int) error {
	for i := range n.mounts {
		m := &n.mounts[i]
		if err := w.Write(m); err != nil {
			return fmt.Errorf("mount %d on %q: %w", m.ID, m.MountPoint, err)
		}
		if tree := n.tmpfs[m.ID]; tree != nil {
			if err := tree.write(w, pid); err != nil {
				return fmt.Errorf("tmpfs %d on %q: %w", m.ID, m.MountPoint, err)
			}
		}
	}
	return nil
}

// close releases what collect kept open.
func (n *mntns) close() {
	if n == nil {
		return
	}
	for _, t := range n.tmpfs {
		t.close()
	}
}
