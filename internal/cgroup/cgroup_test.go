package cgroup

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestParse(t *testing.T) {
	ms, err := Parse([]byte("9:name=systemd:/\n4:memory:/a/b\n2:cpu,cpuacct:/\n0::/x\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := []Membership{{"name=systemd", "/"}, {"memory", "/a/b"}, {"cpu,cpuacct", "/"}, {"", "/x"}}
	if !slices.Equal(ms, want) {
		t.Errorf("Parse = %v, want %v", ms, want)
	}
	for _, bad := range []string{"4:memory\n", "0:memory:/\n", "3::/\n", "4:memory:rel\n"} {
		if _, err := Parse([]byte(bad)); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
}

func TestRel(t *testing.T) {
	for _, c := range []struct {
		base, p, rel string
		ok           bool
	}{
		{"/", "/", "", true}, {"/", "/a/b", "a/b", true}, {"/a", "/a", "", true}, {"/a", "/a/b", "b", true},
		{"/a", "/ab", "", false}, {"/a/b", "/a", "", false}, {"/a", "/", "", false},
	} {
		if rel, ok := Rel(c.base, c.p); rel != c.rel || ok != c.ok {
			t.Errorf("Rel(%q, %q) = %q, %v; want %q, %v", c.base, c.p, rel, ok, c.rel, c.ok)
		}
	}
}

// TestBaseOpen: cgroups below a base are made one plain component at a
// time; a path that climbs out or a symlink is refused (any directory
// stands in for a cgroup file system here).
func TestBaseOpen(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "base"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(dir, filepath.Join(dir, "base", "link")); err != nil {
		t.Fatal(err)
	}
	b, err := OpenBase(filepath.Join(dir, "base"))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	c, made, err := b.Open("a/b", true)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(made, []string{"a", "a/b"}) {
		t.Errorf("made %v, want [a a/b]", made)
	}
	if err := c.WriteFile("pids.max", "1"); err == nil {
		t.Error("WriteFile made a file that was not there")
	}
	c.Close()
	if _, made, err := b.Open("a/b", true); err != nil || len(made) != 0 {
		t.Errorf("second Open: made %v, %v", made, err)
	}
	for _, bad := range []string{"..", "../x", "a/../../x", "/abs", "a//b", "link", "link/x"} {
		if c, _, err := b.Open(bad, true); err == nil {
			c.Close()
			t.Errorf("Open(%q) accepted", bad)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "x")); err == nil {
		t.Error("a directory was made outside the base")
	}
	if err := b.Remove("a/b"); err != nil {
		t.Error(err)
	}
}

func TestHierarchyDir(t *testing.T) {
	h := Hierarchy{Controllers: "pids", MountPoint: "/sys/fs/cgroup/pids", Root: "/"}
	if d, err := h.Dir("/a/b"); err != nil || d != "/sys/fs/cgroup/pids/a/b" {
		t.Errorf("Dir(/a/b) = %q, %v", d, err)
	}
	for _, bad := range []string{"a", "/a/../../x", "/a/", "/a//b"} {
		if d, err := h.Dir(bad); err == nil {
			t.Errorf("Dir(%q) = %q, accepted", bad, d)
		}
	}
	h.Root = "/x"
	if _, err := h.Dir("/y"); err == nil {
		t.Error("a cgroup outside the mounted root accepted")
	}
}
