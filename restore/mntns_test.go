package restore

import (
	"errors"
	"testing"

	"github.com/ckpt/ckpt/image"
)

func mntRestorer(flags uint32) *restorer {
	rs := &restorer{tree: true, byPid: map[int32]*taskPlan{}}
	t := newPlan(image.Task{Pid: 1, Flags: flags})
	rs.plans = append(rs.plans, t)
	rs.byPid[1] = t
	return rs
}

var (
	mRoot  = &image.Mount{ID: 10, ParentID: 1, Kind: image.MountInherited, MountPoint: "/", Root: "/", FsType: "ext4", Source: "/dev/vda"}
	mTmpfs = &image.Mount{ID: 11, ParentID: 10, Kind: image.MountTmpfs, MountPoint: "/t", Root: "/", FsType: "tmpfs"}
	mBind  = &image.Mount{ID: 12, ParentID: 10, Kind: image.MountBind, MountPoint: "/b", Root: "/t/d", FsType: "tmpfs", BindFrom: "/t/d"}
	mBind2 = &image.Mount{ID: 13, ParentID: 10, Kind: image.MountBind, MountPoint: "/c", Root: "/src", FsType: "ext4", BindFrom: "/src", Dev: 1, Ino: 2}
	mProc  = &image.Mount{ID: 14, ParentID: 10, Kind: image.MountProc, MountPoint: "/proc", Root: "/", FsType: "proc"}
	fRoot  = &image.TmpfsFile{Mount: 11, Mode: 0o40755, Path: "/"}
	fDir   = &image.TmpfsFile{Mount: 11, Mode: 0o40755, Path: "/d"}
	fFile  = &image.TmpfsFile{Mount: 11, Mode: 0o100644, Size: 10, Path: "/d/f"}
)

// feed hands recs to handleMount and returns the first error.
func feed(rs *restorer, recs ...image.Record) error {
	for _, r := range recs {
		ok, err := rs.handleMount(r)
		if !ok {
			return errors.New("not taken")
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func TestMountRecordsAccepted(t *testing.T) {
	rs := mntRestorer(image.TaskFlagMntns)
	err := feed(rs, mRoot, mTmpfs, fRoot, fDir, fFile,
		&image.TmpfsData{Mount: 11, Offset: 0, Data: []byte("0123")},
		&image.TmpfsData{Mount: 11, Offset: 6, Data: []byte("6789")},
		mBind, mBind2, mProc)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.mnt.close()
	for _, c := range []struct {
		path, host   string
		check, fails bool
	}{
		{"/usr/bin/x", "/usr/bin/x", true, false},
		{"/t/d/f", "", false, false}, // written by us
		{"/t/nope", "", false, true}, // not in the tmpfs content
		{"/b/f", "", false, false},   // bind of a tmpfs directory
		{"/c/x/y", "/src/x/y", true, false},
		{"/proc/self/maps", "", false, false},
		{"/tx", "/tx", true, false},
	} {
		host, check, err := rs.imagePath(c.path)
		if (err != nil) != c.fails || host != c.host || check != c.check {
			t.Errorf("imagePath(%q) = %q, %v, %v", c.path, host, check, err)
		}
	}
}

func TestMountRecordsRefused(t *testing.T) {
	data := func(off int64, n int) *image.TmpfsData {
		return &image.TmpfsData{Mount: 11, Offset: off, Data: make([]byte, n)}
	}
	for _, c := range []struct {
		name  string
		flags uint32
		recs  []image.Record
	}{
		{"no mount namespace", 0, []image.Record{mRoot}},
		{"bad path", image.TaskFlagMntns, []image.Record{&image.Mount{ID: 1, Kind: image.MountInherited, MountPoint: "/a/..", Root: "/", FsType: "x"}}},
		{"id twice", image.TaskFlagMntns, []image.Record{mRoot, mRoot}},
		{"unknown parent", image.TaskFlagMntns, []image.Record{mRoot, &image.Mount{ID: 20, ParentID: 99, Kind: image.MountProc, MountPoint: "/p", Root: "/", FsType: "proc"}}},
		{"inherited after made", image.TaskFlagMntns, []image.Record{mRoot, mProc, &image.Mount{ID: 20, ParentID: 10, Kind: image.MountInherited, MountPoint: "/x", Root: "/", FsType: "x"}}},
		{"file before mount", image.TaskFlagMntns, []image.Record{fRoot}},
		{"file of another mount", image.TaskFlagMntns, []image.Record{mRoot, mTmpfs, mProc, fRoot}},
		{"file not first root", image.TaskFlagMntns, []image.Record{mRoot, mTmpfs, fDir}},
		{"file without directory", image.TaskFlagMntns, []image.Record{mRoot, mTmpfs, fRoot, fFile}},
		{"file twice", image.TaskFlagMntns, []image.Record{mRoot, mTmpfs, fRoot, fDir, fDir}},
		{"hard link to nothing", image.TaskFlagMntns, []image.Record{mRoot, mTmpfs, fRoot,
			&image.TmpfsFile{Mount: 11, Mode: 0o100644, Flags: image.TmpfsHardLink, Path: "/h", Link: "/none"}}},
		{"data without file", image.TaskFlagMntns, []image.Record{mRoot, mTmpfs, fRoot, data(0, 1)}},
		{"data beyond size", image.TaskFlagMntns, []image.Record{mRoot, mTmpfs, fRoot, fDir, fFile, data(8, 4)}},
		{"data out of order", image.TaskFlagMntns, []image.Record{mRoot, mTmpfs, fRoot, fDir, fFile, data(4, 4), data(0, 2)}},
		{"tmpfs without content", image.TaskFlagMntns, []image.Record{mRoot, mTmpfs, mProc}},
		{"data after another record", image.TaskFlagMntns, []image.Record{mRoot, mTmpfs, fRoot, fDir, fFile, mProc, data(0, 2)}},
	} {
		rs := mntRestorer(c.flags)
		err := feed(rs, c.recs...)
		rs.mnt.close()
		if !errors.Is(err, ErrBadImage) {
			t.Errorf("%s: err = %v, want a bad image", c.name, err)
		}
	}
}
