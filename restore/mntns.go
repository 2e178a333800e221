package restore

import (
	"fmt"
	"os"
	"path"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
	"github.com/ckpt/ckpt/internal/fsroot"
	"github.com/ckpt/ckpt/internal/proc"
)

func init() {
	registerKind(kind{name: "mount",
		takes: all((*restorer).handleMount, image.TypeMount, image.TypeTmpfsFile, image.TypeTmpfsData),
		follow: func(rs *restorer, _ *image.Reader, rec image.Record) (bool, error) {
			return false, rs.endTmpfsRun(rec)
		},
		close: func(rs *restorer) { rs.mnt.close() }})
}

// mntRestore is the private mount namespace of the image: its MOUNT
// records in order, and the content of its tmpfs mounts, staged in memfds
// until the namespace exists (the records come long before the first task
// is created).
type mntRestore struct {
	mounts []*mountPlan
	byID   map[uint32]*mountPlan
	made   bool        // a MOUNT of a kind other than inherited was seen
	file   *tmpfsEntry // the TMPFS_FILE the next TMPFS_DATA belongs to
}

type mountPlan struct {
	rec    image.Mount
	files  []*tmpfsEntry
	byPath map[string]*tmpfsEntry
}

type tmpfsEntry struct {
	rec  image.TmpfsFile
	data *os.File // the staged content of a regular file (nil: all hole)
	next int64    // where the next TMPFS_DATA may start
}

// handleMount takes the MOUNT, TMPFS_FILE and TMPFS_DATA records. It
// returns false for any other record.
func (rs *restorer) handleMount(rec image.Record) (bool, error) {
	if err := rs.endTmpfsRun(rec); err != nil {
		return true, err
	}
	m := rs.mnt
	switch x := rec.(type) {
	case *image.Mount:
		return true, rs.addMount(x)
	case *image.TmpfsFile:
		if m == nil || len(m.mounts) == 0 {
			return true, badImage("TMPFS_FILE %q before any MOUNT", x.Path)
		}
		return true, m.addFile(x)
	case *image.TmpfsData:
		if m == nil || m.file == nil || m.file.rec.Mount != x.Mount {
			return true, badImage("TMPFS_DATA of mount %d does not follow a TMPFS_FILE of that mount", x.Mount)
		}
		return true, m.addData(x)
	}
	return false, nil
}

// endTmpfsRun sees every record: one that is not a TMPFS_FILE or
// TMPFS_DATA ends the run of the last tmpfs MOUNT, which must have had
// its files.
func (rs *restorer) endTmpfsRun(rec image.Record) error {
	m := rs.mnt
	if m == nil {
		return nil
	}
	_, data := rec.(*image.TmpfsData)
	_, file := rec.(*image.TmpfsFile)
	if !data && !file {
		m.file = nil // data follows its file directly
		if last := m.mounts[len(m.mounts)-1]; last.rec.Kind == image.MountTmpfs && len(last.files) == 0 {
			return badImage("tmpfs MOUNT %d on %q has no TMPFS_FILE records", last.rec.ID, last.rec.MountPoint)
		}
	}
	return nil
}

func (rs *restorer) addMount(x *image.Mount) error {
	if !rs.tree || rs.cur != nil || rs.plans[0].rec.Flags&image.TaskFlagMntns == 0 {
		return badImage("MOUNT %d out of place: MOUNT records follow the PSTREE of a first task with TaskFlagMntns", x.ID)
	}
	if err := x.Check(); err != nil {
		return badImage("%v", err)
	}
	if rs.mnt == nil {
		rs.mnt = &mntRestore{byID: map[uint32]*mountPlan{}}
	}
	m := rs.mnt
	if m.byID[x.ID] != nil {
		return badImage("MOUNT id %d twice", x.ID)
	}
	if rs.container != nil && x.Kind != image.MountTmpfs {
		return badImage("MOUNT %d on %q of a container image is not a tmpfs", x.ID, x.MountPoint)
	}
	if rs.container == nil && len(m.mounts) > 0 && m.byID[x.ParentID] == nil {
		return badImage("MOUNT %d on %q: its parent %d is not an earlier MOUNT", x.ID, x.MountPoint, x.ParentID)
	}
	if x.Kind == image.MountInherited && m.made {
		return badImage("MOUNT %d on %q: an inherited mount after a mount made in the namespace", x.ID, x.MountPoint)
	}
	m.made = m.made || x.Kind != image.MountInherited
	p := &mountPlan{rec: *x, byPath: map[string]*tmpfsEntry{}}
	m.mounts = append(m.mounts, p)
	m.byID[x.ID] = p
	return nil
}

func (m *mntRestore) addFile(x *image.TmpfsFile) error {
	mp := m.mounts[len(m.mounts)-1]
	if mp.rec.ID != x.Mount || mp.rec.Kind != image.MountTmpfs {
		return badImage("TMPFS_FILE %q of mount %d does not follow that tmpfs MOUNT", x.Path, x.Mount)
	}
	if err := x.Check(); err != nil {
		return badImage("%v", err)
	}
	if mp.byPath[x.Path] != nil {
		return badImage("TMPFS_FILE %q twice in mount %d", x.Path, x.Mount)
	}
	if (len(mp.files) == 0) != (x.Path == "/") {
		return badImage("TMPFS_FILE %q: the root of mount %d comes first, once", x.Path, x.Mount)
	}
	if x.Path != "/" {
		if dir := mp.byPath[path.Dir(x.Path)]; dir == nil || dir.rec.Mode&unix.S_IFMT != unix.S_IFDIR || dir.rec.Flags != 0 {
			return badImage("TMPFS_FILE %q: its directory is not an earlier TMPFS_FILE", x.Path)
		}
	}
	if x.Flags&image.TmpfsHardLink != 0 {
		if first := mp.byPath[x.Link]; first == nil || first.rec.Flags != 0 || first.rec.Mode&unix.S_IFMT == unix.S_IFDIR {
			return badImage("TMPFS_FILE %q: a hard link to %q, which is not an earlier file", x.Path, x.Link)
		} else if first.rec.Mode&unix.S_IFMT != x.Mode&unix.S_IFMT {
			// Its mode is set on the file linked to (a symlink's
			// would be set on what it points to).
			return badImage("TMPFS_FILE %q: a hard link of mode %#o to %q of mode %#o", x.Path, x.Mode, x.Link, first.rec.Mode)
		}
	}
	e := &tmpfsEntry{rec: *x}
	mp.files = append(mp.files, e)
	mp.byPath[x.Path] = e
	m.file = nil
	if x.Mode&unix.S_IFMT == unix.S_IFREG && x.Flags == 0 {
		m.file = e
	}
	return nil
}

// addData stages a run of a tmpfs file in a memfd: memory the kernel
// holds, not the restorer's heap, and sparse like the file.
func (m *mntRestore) addData(x *image.TmpfsData) error {
	e := m.file
	if x.Offset < e.next || len(x.Data) > image.TmpfsDataChunk || x.Offset > e.rec.Size-int64(len(x.Data)) {
		return badImage("TMPFS_DATA of %q: %d bytes at %d, out of order or beyond its size %d", e.rec.Path, len(x.Data), x.Offset, e.rec.Size)
	}
	if e.data == nil {
		fd, err := unix.MemfdCreate("ckpt-tmpfs", unix.MFD_CLOEXEC)
		if err != nil {
			return fmt.Errorf("memfd for tmpfs file %q: %w", e.rec.Path, err)
		}
		e.data = os.NewFile(uintptr(fd), "ckpt-tmpfs")
	}
	if _, err := e.data.WriteAt(x.Data, x.Offset); err != nil {
		return fmt.Errorf("stage tmpfs file %q: %w", e.rec.Path, err)
	}
	e.next = x.Offset + int64(len(x.Data))
	return nil
}

// close releases the staged content.
func (m *mntRestore) close() {
	if m == nil {
		return
	}
	for _, mp := range m.mounts {
		for _, e := range mp.files {
			if e.data != nil {
				e.data.Close()
				e.data = nil
			}
		}
	}
}

// setupMntns finishes the root's new mount namespace: no mount events
// flow back to ours; then, from the MOUNT records, the mounts it had.
// Images without MOUNT records (format 2.2, 2.3) get a fresh /proc there
// if the task had one.
func (rs *restorer) setupMntns(t *taskPlan) error {
	if t.rec.Flags&image.TaskFlagMntns == 0 {
		if rs.mnt != nil {
			return badImage("MOUNT records, but the first task has no mount namespace of its own")
		}
		return nil
	}
	if _, err := rs.mountIn(t, "", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make / private: %w", err)
	}
	if rs.mnt != nil {
		defer rs.mnt.close()
		return rs.buildMounts(t)
	}
	if t.rec.Flags&image.TaskFlagProcMount == 0 {
		return nil
	}
	if _, err := rs.mountIn(t, "proc", "/proc", "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		return fmt.Errorf("mount proc on /proc: %w", err)
	}
	return nil
}

// mountIn runs mount(2) in the task: in its mount namespace, with paths
// resolved from its root, and, for proc, its pid namespace.
func (rs *restorer) mountIn(t *taskPlan, src, target, fstype string, flags uintptr, data string) (uintptr, error) {
	lt := t.leader
	defer lt.Reset()
	var args [4]uintptr
	for i, s := range []string{src, target, fstype, data} {
		if s == "" {
			continue
		}
		a, err := lt.PutString(s)
		if err != nil {
			return 0, err
		}
		args[i] = uintptr(a)
	}
	return lt.Syscall(unix.SYS_MOUNT, args[0], args[1], args[2], flags, args[3])
}

func (rs *restorer) umountIn(t *taskPlan, target string) error {
	lt := t.leader
	defer lt.Reset()
	a, err := lt.PutString(target)
	if err != nil {
		return err
	}
	_, err = lt.Syscall(unix.SYS_UMOUNT2, uintptr(a), unix.MNT_DETACH)
	return err
}

func mountKey(mp, root, fstype, source, superOpts string) string {
	return strings.Join([]string{mp, root, fstype, source, superOpts}, "\x00")
}

func (p *mountPlan) key() string {
	r := &p.rec
	return mountKey(r.MountPoint, r.Root, r.FsType, r.Source, r.SuperOpts)
}

func infoKey(m *proc.MountInfo) string {
	return mountKey(m.MountPoint, m.Root, m.FsType, m.Source, m.SuperOpts)
}

// buildMounts turns the copy of our namespace the task was given into the
// saved one: it keeps the inherited mounts (unmounting every other one),
// gives them their saved flags, and makes the other mounts in order.
func (rs *restorer) buildMounts(t *taskPlan) error {
	cur, err := proc.MountInfos(t.pid)
	if err != nil {
		return err
	}
	used := make([]bool, len(cur))
	var inherited []*mountPlan
	matched := map[*mountPlan]*proc.MountInfo{}
	for _, mp := range rs.mnt.mounts {
		if mp.rec.Kind != image.MountInherited {
			continue
		}
		inherited = append(inherited, mp)
		k := mp.key()
		for i := range cur {
			if !used[i] && infoKey(&cur[i]) == k {
				used[i], matched[mp] = true, &cur[i]
				break
			}
		}
		if matched[mp] == nil {
			return fmt.Errorf("mount %d: %s on %q (root %q, source %q, options %q) is not in the restorer's mount namespace",
				mp.rec.ID, mp.rec.FsType, mp.rec.MountPoint, mp.rec.Root, mp.rec.Source, mp.rec.SuperOpts)
		}
	}
	if err := rs.umountExtra(t, cur, used); err != nil {
		return err
	}
	for _, mp := range inherited {
		have, err := proc.MountFlags(matched[mp].Opts)
		if err != nil {
			return fmt.Errorf("mount %q: %w", mp.rec.MountPoint, err)
		}
		if have != mp.rec.Flags {
			if err := rs.remountIn(t, mp, matched[mp].ID); err != nil {
				return err
			}
		}
	}
	for _, mp := range rs.mnt.mounts {
		if mp.rec.Kind == image.MountInherited {
			continue
		}
		if err := rs.makeMount(t, mp); err != nil {
			return fmt.Errorf("mount %d: %s on %q: %w", mp.rec.ID, image.MountKindName(mp.rec.Kind), mp.rec.MountPoint, err)
		}
	}
	return rs.checkMounts(t)
}

// umountExtra unmounts the mounts of the copy that the saved namespace did
// not have, deepest first; none of them may hold a mount that stays.
func (rs *restorer) umountExtra(t *taskPlan, cur []proc.MountInfo, used []bool) error {
	byID := map[int]int{}
	for i := range cur {
		byID[cur[i].ID] = i
	}
	for i := range cur {
		if !used[i] {
			continue
		}
		for p, ok := byID[cur[i].Parent]; ok && p != i; p, ok = byID[cur[p].Parent] {
			if !used[p] {
				return fmt.Errorf("mount %q of the image is on %q, which the image does not have", cur[i].MountPoint, cur[p].MountPoint)
			}
			if cur[p].Parent == cur[p].ID {
				break
			}
		}
	}
	for i := len(cur) - 1; i >= 0; i-- {
		if used[i] {
			continue
		}
		if err := rs.umountIn(t, cur[i].MountPoint); err != nil {
			return fmt.Errorf("unmount %s on %q, which the image does not have: %w", cur[i].FsType, cur[i].MountPoint, err)
		}
	}
	return nil
}

// remountIn gives a mount its saved per-mount flags. The mount must be the
// one its path leads to.
func (rs *restorer) remountIn(t *taskPlan, mp *mountPlan, id int) error {
	if id > 0 {
		fd, err := openInTaskRoot(t.pid, mp.rec.MountPoint, unix.O_PATH)
		if err != nil {
			return err
		}
		var st unix.Statx_t
		err = unix.Statx(fd, "", unix.AT_EMPTY_PATH, unix.STATX_MNT_ID, &st)
		unix.Close(fd)
		if err != nil || st.Mnt_id != uint64(id) {
			return fmt.Errorf("remount %q: the path leads to mount %d, not %d (%w)", mp.rec.MountPoint, st.Mnt_id, id, err)
		}
	}
	if _, err := rs.mountIn(t, "", mp.rec.MountPoint, "", unix.MS_REMOUNT|unix.MS_BIND|uintptr(mp.rec.Flags), ""); err != nil {
		return fmt.Errorf("remount %q with flags %#x: %w", mp.rec.MountPoint, mp.rec.Flags, err)
	}
	return nil
}

// mountData is what mount(2) takes as data for a new instance: the
// superblock options but the read-only bit, which is set afterwards.
func mountData(superOpts string) (data string, ro bool) {
	var keep []string
	for _, o := range strings.Split(superOpts, ",") {
		switch o {
		case "ro":
			ro = true
		case "rw", "":
		default:
			keep = append(keep, o)
		}
	}
	return strings.Join(keep, ","), ro
}

// makeMount makes one mount of the namespace: the mount itself, writable,
// then its content, then its read-only bits.
func (rs *restorer) makeMount(t *taskPlan, mp *mountPlan) error {
	r := &mp.rec
	data, sbRO := mountData(r.SuperOpts)
	flags := uintptr(r.Flags &^ unix.MS_RDONLY)
	switch r.Kind {
	case image.MountTmpfs:
		if _, err := rs.mountIn(t, r.Source, r.MountPoint, "tmpfs", flags, data); err != nil {
			return fmt.Errorf("mount tmpfs (%q): %w", data, err)
		}
		if err := fillTmpfs(t.pid, mp); err != nil {
			return err
		}
	case image.MountProc:
		if _, err := rs.mountIn(t, r.Source, r.MountPoint, "proc", flags, data); err != nil {
			return fmt.Errorf("mount proc (%q): %w", data, err)
		}
	case image.MountBind:
		if err := checkBindSource(t.pid, r); err != nil {
			return err
		}
		if _, err := rs.mountIn(t, r.BindFrom, r.MountPoint, "", unix.MS_BIND, ""); err != nil {
			return fmt.Errorf("bind %q: %w", r.BindFrom, err)
		}
		return rs.remountIn(t, mp, 0)
	default:
		return badImage("mount kind %d", r.Kind)
	}
	if r.Flags&unix.MS_RDONLY != 0 {
		if err := rs.remountIn(t, mp, 0); err != nil {
			return err
		}
	}
	if sbRO {
		if _, err := rs.mountIn(t, "", r.MountPoint, "", unix.MS_REMOUNT|unix.MS_RDONLY|uintptr(r.Flags), data); err != nil {
			return fmt.Errorf("make the file system read-only: %w", err)
		}
	}
	return nil
}

// checkBindSource makes sure a bind mount's source is the file it was,
// as REG_FILE paths are checked.
func checkBindSource(pid int, r *image.Mount) error {
	if r.Dev == 0 && r.Ino == 0 {
		return nil
	}
	fd, err := openInTaskRoot(pid, r.BindFrom, unix.O_PATH)
	if err != nil {
		return fmt.Errorf("bind source: %w", err)
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return fmt.Errorf("bind source %q: %w", r.BindFrom, err)
	}
	if st.Dev != r.Dev || st.Ino != r.Ino {
		return fmt.Errorf("bind source %q was replaced since the checkpoint (inode %d on %#x, image has %d on %#x)",
			r.BindFrom, st.Ino, st.Dev, r.Ino, r.Dev)
	}
	return nil
}

// checkMounts compares the namespace made with the image, mount by mount
// and in order: anything the kernel did otherwise is an error, not a
// silently different namespace.
func (rs *restorer) checkMounts(t *taskPlan) error {
	got, err := proc.MountInfos(t.pid)
	if err != nil {
		return err
	}
	want := rs.mnt.mounts
	if len(got) != len(want) {
		return fmt.Errorf("the restored namespace has %d mounts, the image %d", len(got), len(want))
	}
	for i, mp := range want {
		g := &got[i]
		flags, err := proc.MountFlags(g.Opts)
		if err != nil || infoKey(g) != mp.key() || flags != mp.rec.Flags || !g.Private() {
			return fmt.Errorf("restored mount %d is %s on %q (root %q, source %q, %q, %q %v), the image has %s on %q (root %q, source %q, flags %#x, %q)",
				i, g.FsType, g.MountPoint, g.Root, g.Source, g.Opts, g.SuperOpts, g.Optional,
				mp.rec.FsType, mp.rec.MountPoint, mp.rec.Root, mp.rec.Source, mp.rec.Flags, mp.rec.SuperOpts)
		}
	}
	return nil
}

// openInTaskRoot opens path as the task sees it, symlinks resolved inside
// its root (internal/fsroot); flags other than O_PATH open a directory.
func openInTaskRoot(pid int, p string, flags int) (int, error) {
	root, err := fsroot.OpenTask(pid)
	if err != nil {
		return -1, err
	}
	defer root.Close()
	var f *os.File
	if flags == unix.O_PATH {
		f, err = root.Lookup(p)
	} else {
		f, err = root.OpenFile(p, unix.S_IFDIR, flags)
	}
	if err != nil {
		return -1, err
	}
	defer f.Close()
	return unix.FcntlInt(f.Fd(), unix.F_DUPFD_CLOEXEC, 0)
}

// imagePath maps a path of the image's namespace to where the restorer
// can check it now, before the namespace exists: a path under a mount the
// restore makes leads into the bind mount's source, or is a file of a
// tmpfs we write ourselves (which is then looked up in the image), or is
// in a proc instance (not checked). check is false when no identity check
// applies. The result is a path inside rs.pathRoot(), to be resolved
// there (paths.go), never a host path.
func (rs *restorer) imagePath(p string) (where string, check bool, err error) {
	if rs.opts.Adopt != nil {
		return rs.adoptedPath(p)
	}
	if rs.mnt == nil {
		return p, true, nil
	}
	return rs.mnt.resolve(p, len(rs.mnt.mounts))
}

func (m *mntRestore) resolve(p string, upto int) (string, bool, error) {
	var best *mountPlan
	bi := -1
	for i, mp := range m.mounts[:upto] {
		if mp.rec.Kind == image.MountInherited || !pathUnder(p, mp.rec.MountPoint) {
			continue
		}
		best, bi = mp, i // a later mount covers an earlier one

	}
	if best == nil {
		return p, true, nil
	}
	rest := strings.TrimPrefix(p, best.rec.MountPoint)
	if best.rec.MountPoint == "/" {
		rest = p
	}
	switch best.rec.Kind {
	case image.MountTmpfs:
		if rest == "" {
			rest = "/"
		}
		if best.byPath[rest] == nil {
			return "", false, fmt.Errorf("%q is not in the content of the tmpfs on %q in the image", p, best.rec.MountPoint)
		}
		return "", false, nil
	case image.MountBind:
		return m.resolve(best.rec.BindFrom+rest, bi)
	}
	return "", false, nil
}

func pathUnder(p, dir string) bool {
	return dir == "/" || p == dir || strings.HasPrefix(p, dir+"/")
}
