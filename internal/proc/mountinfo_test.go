package proc

import (
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

func TestParseMountInfo(t *testing.T) {
	const text = "27 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw,discard\n" +
		"88 27 0:51 /a\\040b /mnt/with\\040space\\134x ro,nosuid,nodev master:3 propagate_from:2 - tmpfs my\\011src rw,size=4k\n" +
		"89 27 0:52 / /p rw,noatime - proc proc rw\n"
	ms, err := ParseMountInfo(text)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 3 {
		t.Fatalf("%d mounts, want 3", len(ms))
	}
	m := ms[1]
	if m.ID != 88 || m.Parent != 27 || m.Major != 0 || m.Minor != 51 || m.Root != "/a b" ||
		m.MountPoint != `/mnt/with space\x` || m.Opts != "ro,nosuid,nodev" || m.FsType != "tmpfs" ||
		m.Source != "my\tsrc" || m.SuperOpts != "rw,size=4k" || len(m.Optional) != 2 || m.Private() {
		t.Errorf("parsed %+v", m)
	}
	if ms[0].Private() || !ms[2].Private() {
		t.Errorf("propagation: %v %v", ms[0].Optional, ms[2].Optional)
	}
	for _, bad := range []string{"1 2 3:4 / /", "x 1 0:1 / / rw - proc proc rw", "1 1 01 / / rw - proc proc rw"} {
		if _, err := ParseMountInfo(bad + "\n"); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestMountFlags(t *testing.T) {
	for _, c := range []struct {
		opts string
		want uint32
	}{
		{"rw,relatime", unix.MS_RELATIME},
		{"ro,nosuid,nodev,noexec,relatime", unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC | unix.MS_RELATIME},
		{"rw,noatime,nodiratime", unix.MS_NOATIME | unix.MS_NODIRATIME},
		{"rw", unix.MS_STRICTATIME},
		{"rw,nosymfollow,relatime", unix.MS_NOSYMFOLLOW | unix.MS_RELATIME},
	} {
		got, err := MountFlags(c.opts)
		if err != nil || got != c.want {
			t.Errorf("MountFlags(%q) = %#x, %v; want %#x", c.opts, got, err, c.want)
		}
	}
	if _, err := MountFlags("rw,idmapped"); err == nil {
		t.Error("an unknown option was accepted")
	}
}

func TestMountInfosSelf(t *testing.T) {
	ms, err := MountInfos(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if _, err := MountFlags(m.Opts); err != nil {
			t.Errorf("mount %d on %q: %v", m.ID, m.MountPoint, err)
		}
		if m.MountPoint == "/" {
			return
		}
	}
	t.Errorf("no mount on / in %d mounts", len(ms))
}

func TestMountInfosGone(t *testing.T) {
	if _, err := MountInfos(1 << 30); !IsGone(err) {
		t.Errorf("err = %v, want a gone error", err)
	}
}
