package image

import (
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestCheckPath(t *testing.T) {
	for _, p := range []string{"/", "/a", "/a/b c/..d", "/.x"} {
		if err := CheckPath(p); err != nil {
			t.Errorf("CheckPath(%q): %v", p, err)
		}
	}
	for _, p := range []string{"", "a", "/a/", "//a", "/a/../b", "/a/./b", "/..", "/a\x00b", "/" + strings.Repeat("x", 4096)} {
		if err := CheckPath(p); err == nil {
			t.Errorf("CheckPath(%q) accepted it", p)
		}
	}
}

func TestMountCheck(t *testing.T) {
	good := []Mount{
		{ID: 1, Kind: MountInherited, Flags: 0x200000, MountPoint: "/", Root: "/", FsType: "ext4"},
		{ID: 2, Kind: MountTmpfs, Flags: 0x6, MountPoint: "/t", Root: "/", FsType: "tmpfs", SuperOpts: "rw,size=4k"},
		{ID: 3, Kind: MountProc, MountPoint: "/proc", Root: "/", FsType: "proc"},
		{ID: 4, Kind: MountBind, Flags: 1, MountPoint: "/b", Root: "/x", FsType: "ext4", BindFrom: "/x", Dev: 1, Ino: 2},
		// A network namespace bind-mounted on the host (ip netns add)
		// and inherited: mountinfo names its root, it is no path.
		{ID: 5, Kind: MountInherited, MountPoint: "/run/netns/a", Root: "net:[4026531840]", FsType: "nsfs"},
	}
	for _, m := range good {
		if err := m.Check(); err != nil {
			t.Errorf("%+v: %v", m, err)
		}
		if msg := checkRecordPaths(&m); msg != "" {
			t.Errorf("%+v: %s", m, msg)
		}
	}
	bad := []Mount{
		{ID: 1, Kind: 9, MountPoint: "/", Root: "/", FsType: "ext4"},
		{ID: 1, Kind: MountInherited, Flags: 0x40, MountPoint: "/", Root: "/", FsType: "ext4"},
		{ID: 1, Kind: MountInherited, MountPoint: "/../etc", Root: "/", FsType: "ext4"},
		{ID: 1, Kind: MountInherited, MountPoint: "/", Root: "/", FsType: ""},
		{ID: 2, Kind: MountTmpfs, MountPoint: "/t", Root: "/sub", FsType: "tmpfs"},
		{ID: 5, Kind: MountInherited, MountPoint: "/n", Root: "net:[1]/../x", FsType: "nsfs"},
		{ID: 5, Kind: MountBind, MountPoint: "/n", Root: "net:[1]", FsType: "nsfs", BindFrom: "/x"},
		{ID: 2, Kind: MountTmpfs, MountPoint: "/t", Root: "/", FsType: "ext4"},
		{ID: 3, Kind: MountProc, MountPoint: "/proc", Root: "/", FsType: "sysfs"},
		{ID: 4, Kind: MountBind, MountPoint: "/b", Root: "/x", FsType: "ext4", BindFrom: "x"},
		{ID: 5, Kind: MountInherited, MountPoint: "/", Root: "/", FsType: "ext4", BindFrom: "/x"},
	}
	for _, m := range bad {
		if err := m.Check(); err == nil {
			t.Errorf("%+v accepted", m)
		}
	}
}

func TestTmpfsFileCheck(t *testing.T) {
	good := []TmpfsFile{
		{Mode: unix.S_IFDIR | 0o755, Path: "/"},
		{Mode: unix.S_IFREG | 0o644, Size: 10, Path: "/f"},
		{Mode: unix.S_IFLNK | 0o777, Path: "/l", Link: "../anything"},
		{Mode: unix.S_IFCHR | 0o666, Rdev: 0x103, Path: "/null"},
		{Mode: unix.S_IFIFO | 0o600, Path: "/p"},
		{Mode: unix.S_IFREG | 0o644, Flags: TmpfsHardLink, Path: "/h", Link: "/f"},
	}
	for _, f := range good {
		if err := f.Check(); err != nil {
			t.Errorf("%+v: %v", f, err)
		}
	}
	bad := []TmpfsFile{
		{Mode: unix.S_IFREG | 0o644, Path: "/"},
		{Mode: unix.S_IFREG | 0o644, Path: "f"},
		{Mode: unix.S_IFREG | 0o644, Path: "/a/../b"},
		{Mode: unix.S_IFREG | 0o644, Size: -1, Path: "/f"},
		{Mode: unix.S_IFDIR | 0o755, Size: 1, Path: "/d"},
		{Mode: unix.S_IFLNK | 0o777, Path: "/l"},
		{Mode: 0o140000 | 0o777, Path: "/sock"},
		{Mode: unix.S_IFREG, Path: "/f", Link: "x"},
		{Mode: unix.S_IFREG, Flags: TmpfsHardLink, Path: "/h", Link: "f"},
		{Mode: unix.S_IFDIR, Flags: TmpfsHardLink, Path: "/h", Link: "/d"},
		{Mode: unix.S_IFREG, Flags: 2, Path: "/f"},
	}
	for _, f := range bad {
		if err := f.Check(); err == nil {
			t.Errorf("%+v accepted", f)
		}
	}
}
