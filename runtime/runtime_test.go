package runtime

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/runc/libcontainer/configs"
	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
)

func TestParseSignal(t *testing.T) {
	for in, want := range map[string]unix.Signal{"": unix.SIGTERM, "KILL": unix.SIGKILL, "sigusr1": unix.SIGUSR1, "SIGHUP": unix.SIGHUP, "9": unix.SIGKILL, "0": 0} {
		if got, err := ParseSignal(in); err != nil || got != want {
			t.Errorf("ParseSignal(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"NOPE", "65", "-1", "9x"} {
		if _, err := ParseSignal(in); err == nil {
			t.Errorf("ParseSignal(%q) succeeded", in)
		}
	}
}

func TestTmpfsMounts(t *testing.T) {
	cfg := &configs.Config{Mounts: []*configs.Mount{
		{Destination: "/proc", Device: "proc"}, {Destination: "/dev", Device: "tmpfs"},
		{Destination: "/dev/shm", Device: "tmpfs"}, {Destination: "/run", Device: "tmpfs"}, {Destination: "/data", Device: "bind"},
	}}
	if got := strings.Join(tmpfsMounts(cfg), " "); got != "/dev/shm /run" {
		t.Fatalf("tmpfsMounts = %q", got)
	}
}

func TestCheckBundle(t *testing.T) {
	dir := t.TempDir()
	rootfs, other := filepath.Join(dir, "rootfs"), filepath.Join(dir, "other")
	os.Mkdir(rootfs, 0o755)
	os.Mkdir(other, 0o755)
	var st unix.Stat_t
	if err := unix.Stat(rootfs, &st); err != nil {
		t.Fatal(err)
	}
	rec := &image.Container{Rootfs: rootfs, RootfsDev: st.Dev, RootfsIno: st.Ino, Mounts: "/proc\n/run"}
	cfg := func(root string, mounts ...string) *configs.Config {
		c := &configs.Config{Rootfs: root}
		for _, m := range mounts {
			c.Mounts = append(c.Mounts, &configs.Mount{Destination: m})
		}
		return c
	}
	r := &Runtime{}
	if copy, err := r.checkBundle(rec, cfg(rootfs, "/proc", "/run", "/extra"), false); err != nil || copy {
		t.Fatalf("a bundle with the same rootfs and more mounts: copy %v, %v", copy, err)
	}
	if copy, err := r.checkBundle(rec, cfg(rootfs, "/proc", "/run"), true); err != nil || copy {
		t.Fatalf("the same rootfs marked as a copy keeps the identity checks: copy %v, %v", copy, err)
	}
	// Another directory is a copy: its files are checked by path.
	if copy, err := r.checkBundle(rec, cfg(other, "/proc", "/run"), false); err != nil || !copy {
		t.Fatalf("another rootfs: copy %v, %v", copy, err)
	}
	file := filepath.Join(dir, "file")
	os.WriteFile(file, nil, 0o644)
	if _, err := r.checkBundle(rec, cfg(file, "/proc", "/run"), false); err == nil || !strings.Contains(err.Error(), "is not a directory") {
		t.Fatalf("a rootfs that is a file: %v", err)
	}
	if _, err := r.checkBundle(rec, cfg(rootfs, "/proc"), false); err == nil || !strings.Contains(err.Error(), "lacks mounts the checkpointed container had: /run") {
		t.Fatalf("a missing mount: %v", err)
	}
	if err := NotSupported("x --y"); !errors.Is(err, ErrNotSupported) || err.Error() != "not supported: x --y" {
		t.Fatalf("NotSupported: %v", err)
	}
}
