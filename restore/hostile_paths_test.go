package restore

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
)

// A container's rootfs whose directories are symlinks to the host's
// (rootfs/tmp/V -> /host/V, absolute, as a process in the container
// plants it), and records naming paths through them, with "..", or
// absolute host paths: what restore makes before any task exists is made
// inside the rootfs or refused, never in the host's directory.

type hostileFS struct {
	rootfs, host string
	watch        int // inotify on host: nothing may happen there
}

func newHostileFS(t *testing.T) *hostileFS {
	t.Helper()
	base := t.TempDir()
	h := &hostileFS{rootfs: filepath.Join(base, "rootfs"), host: filepath.Join(base, "host")}
	for _, d := range []string{filepath.Join(h.rootfs, "tmp"), h.host, filepath.Join(h.rootfs, h.host)} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// /tmp/V in the container is the host's directory, by an absolute
	// symlink.
	if err := os.Symlink(h.host, filepath.Join(h.rootfs, "tmp", "V")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(h.host, "victim"), []byte("host"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mkfifo(filepath.Join(h.host, "fifo"), 0o600); err != nil {
		t.Fatal(err)
	}
	fd, err := unix.InotifyInit1(unix.IN_NONBLOCK | unix.IN_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	if _, err := unix.InotifyAddWatch(fd, h.host, unix.IN_ALL_EVENTS); err != nil {
		t.Fatal(err)
	}
	h.watch = fd
	return h
}

// untouched checks nothing happened in the host directory, not even a
// file made and removed again, and that it holds what it held.
func (h *hostileFS) untouched(t *testing.T) {
	t.Helper()
	buf := make([]byte, 4096)
	if n, err := unix.Read(h.watch, buf); err == nil && n > 0 {
		ev := (*unix.InotifyEvent)(unsafe.Pointer(&buf[0]))
		t.Fatalf("the host directory saw an event (mask %#x, %q)", ev.Mask, buf[unix.SizeofInotifyEvent:unix.SizeofInotifyEvent+ev.Len])
	}
	ents, err := os.ReadDir(h.host)
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != 2 {
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Fatalf("the host directory holds %v", names)
	}
	st, err := os.Lstat(filepath.Join(h.host, "victim"))
	if err != nil || st.Mode() != 0o644 {
		t.Fatalf("the host file: %v %v", st, err)
	}
	for { // our own ReadDir
		if _, err := unix.Read(h.watch, buf); err != nil {
			break
		}
	}
}

func (h *hostileFS) restorer() *restorer {
	rs := &restorer{opts: Options{Adopt: &Adopt{Rootfs: h.rootfs}}, objs: map[uint32]image.Record{}}
	rs.startKinds()
	return rs
}

func TestHostileDeletedFile(t *testing.T) {
	h := newHostileFS(t)
	for _, p := range []string{"/tmp/V/victim", "/tmp/V/new", "/tmp/../../../.." + h.host + "/new", h.host + "/victim"} {
		rs := h.restorer()
		// The reader refuses the ".." one outright.
		df := &image.DeletedFile{Objref: 1, Mode: unix.S_IFREG | 0o4777, Size: 3, Dev: 1, Ino: 2, Path: p}
		err := image.CheckPaths(df)
		if err == nil {
			err = rs.addDeletedFile(df)
		}
		t.Logf("DELETED_FILE %q: %v", p, err)
		rs.closeDeleted()
		h.untouched(t)
	}
	// A plain process's restore (the root is "/"): a symlink planted
	// since the checkpoint on the way to the file's directory (the
	// kernel printed a path with none) sends nothing to the host's.
	plain := filepath.Join(filepath.Dir(h.host), "plain")
	if err := os.Symlink(h.host, plain); err != nil {
		t.Fatal(err)
	}
	rs := &restorer{objs: map[uint32]image.Record{}}
	err := rs.addDeletedFile(&image.DeletedFile{Objref: 1, Mode: unix.S_IFREG | 0o4777, Size: 3, Ino: 2, Path: plain + "/victim"})
	t.Logf("plain process, DELETED_FILE through a symlink: %v", err)
	if err == nil {
		t.Errorf("a deleted file was re-created through a symlink")
	}
	rs.closeDeleted()
	h.untouched(t)

	// Made inside the rootfs (then unlinked): its directory there is
	// the container's h.host, which holds nothing after.
	rs = h.restorer()
	if err := rs.addDeletedFile(&image.DeletedFile{Objref: 1, Mode: unix.S_IFREG | 0o600, Size: 3, Ino: 2, Path: h.host + "/x"}); err != nil {
		t.Fatal(err)
	}
	g := rs.deleted.files[1]
	var st unix.Stat_t
	if err := unix.Fstat(int(g.f.Fd()), &st); err != nil || st.Nlink != 0 || st.Size != 3 {
		t.Fatalf("the re-created file: %+v %v", st, err)
	}
	rs.closeDeleted()
	if ents, _ := os.ReadDir(filepath.Join(h.rootfs, h.host)); len(ents) != 0 {
		t.Fatalf("the container's directory keeps %v", ents)
	}
	h.untouched(t)
}

func TestHostileShmemFile(t *testing.T) {
	h := newHostileFS(t)
	for _, p := range []string{"/tmp/V/victim", h.host + "/victim", "/tmp/V/new"} {
		rs := h.restorer()
		err := rs.makeShmem(&image.Shmem{Objref: 1, Kind: image.ShmemFile, Ino: 7, Size: 4096, Name: p})
		t.Logf("SHMEM file %q: %v", p, err)
		for _, f := range rs.shmFiles {
			f.Close()
		}
		h.untouched(t)
	}
}

func TestHostileFifo(t *testing.T) {
	h := newHostileFS(t)
	var st unix.Stat_t
	if err := unix.Stat(filepath.Join(h.host, "fifo"), &st); err != nil {
		t.Fatal(err)
	}
	// The host's FIFO, by its own dev and inode (an image can say them):
	// through the symlink and by its host path, it is not in the rootfs.
	for _, p := range []string{"/tmp/V/fifo", h.host + "/fifo"} {
		rs := h.restorer()
		err := rs.addFifo(&image.Fifo{Objref: 1, Flags: unix.O_RDWR, Dev: st.Dev, Ino: st.Ino, PipeID: 1, Capacity: 65536, Path: p})
		if err == nil {
			t.Errorf("FIFO %q of the host accepted", p)
		}
		h.untouched(t)
	}
}

func TestHostilePathRecords(t *testing.T) {
	// Every path-bearing record with ".." or a relative path is refused
	// before the restorer makes anything of it (run's first check).
	for _, r := range []image.Record{
		&image.DeletedFile{Path: "/../../etc/shadow"},
		&image.Fifo{Path: "/tmp/../../etc/fifo"},
		&image.InotifyWatch{Path: "etc"},
		&image.Shmem{Kind: image.ShmemFile, Name: "/dev/shm/../../../etc/x"},
		&image.RegFile{Path: "/proc/1/root/../../etc/passwd"},
		&image.UnixBind{Dir: []byte("/tmp/../../etc")},
		&image.Mount{MountPoint: "/a/../../b", Root: "/"},
	} {
		if err := image.CheckPaths(r); err == nil {
			t.Errorf("%T %+v accepted", r, r)
		} else if errors.Is(err, ErrBadImage) {
			t.Errorf("unexpected wrap")
		}
	}
}

// A saved tmpfs whose hard link names an earlier symlink to a host file,
// with a setuid mode of its own: the host file keeps its mode (nothing is
// ever applied through the symlink), and the record is refused as it is
// read.
func TestHostileTmpfsHardLink(t *testing.T) {
	h := newHostileFS(t)
	victim := filepath.Join(h.host, "victim")
	dir := t.TempDir()
	root, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(root)
	entries := []*tmpfsEntry{
		{rec: image.TmpfsFile{Mount: 1, Mode: unix.S_IFLNK | 0o777, Path: "/l", Link: victim}},
		{rec: image.TmpfsFile{Mount: 1, Mode: unix.S_IFREG | 0o4777, Flags: image.TmpfsHardLink, Path: "/h", Link: "/l"}},
	}
	if err := makeTmpfsEntry(root, entries[0]); err != nil {
		t.Fatal(err)
	}
	// A hard link only links: nothing is set through it.
	if err := makeTmpfsEntry(root, entries[1]); err != nil {
		t.Fatal(err)
	}
	h.untouched(t)
	// The file entries themselves never follow a symlink either.
	if err := chmodAt(root, "l", unix.S_IFREG, 0o4777); err == nil {
		t.Errorf("chmodAt went through a symlink")
	}
	h.untouched(t)

	m := &mntRestore{mounts: []*mountPlan{{rec: image.Mount{ID: 1, Kind: image.MountTmpfs, MountPoint: "/t", Root: "/", FsType: "tmpfs"},
		byPath: map[string]*tmpfsEntry{}}}}
	for _, f := range []*image.TmpfsFile{{Mount: 1, Mode: unix.S_IFDIR | 0o755, Path: "/"}, &entries[0].rec} {
		if err := m.addFile(f); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.addFile(&entries[1].rec); !errors.Is(err, ErrBadImage) {
		t.Fatalf("addFile of the hard link: %v", err)
	}
}
