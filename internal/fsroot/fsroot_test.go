package fsroot

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// newTree makes root/ with a planted escape and outside/victim beside it:
// root/x -> <outside> (absolute, as a container would plant it),
// root/up -> ../../.., root/v/victim a file of the root's own.
func newTree(t *testing.T) (root, outside string) {
	t.Helper()
	base := t.TempDir()
	root, outside = filepath.Join(base, "root"), filepath.Join(base, "outside")
	for _, d := range []string{root, outside, filepath.Join(root, "v"), filepath.Join(root, outside)} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(outside, "victim"), []byte("host"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(root, "x")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../../../../..", filepath.Join(root, "up")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/proc/self/root", filepath.Join(root, "magic")); err != nil {
		t.Fatal(err)
	}
	return root, outside
}

func hostVictimIntact(t *testing.T, outside string) {
	t.Helper()
	st, err := os.Lstat(filepath.Join(outside, "victim"))
	if err != nil {
		t.Fatalf("the host file is gone: %v", err)
	}
	if st.Mode() != 0o644 {
		t.Fatalf("the host file's mode changed to %v", st.Mode())
	}
}

func TestLookupStaysInRoot(t *testing.T) {
	root, outside := newTree(t)
	r, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	// The escape through x lands in root/<outside>, which has no victim.
	for _, p := range []string{"/x/victim", "x/victim", "/up" + outside + "/victim", "/../../../.." + outside + "/victim"} {
		if _, err := r.Stat(p); !errors.Is(err, unix.ENOENT) {
			t.Errorf("Stat(%q): %v, want ENOENT (resolved inside the root)", p, err)
		}
	}
	if _, err := r.Stat("/magic/etc"); err == nil {
		t.Errorf("a magic link was followed")
	}
	if st, err := r.Stat("/up/v"); err != nil || st.Mode&unix.S_IFMT != unix.S_IFDIR {
		t.Errorf("Stat(/up/v): %v: .. stops at the root, /up/v is root/v", err)
	}
	if _, err := r.Stat("/a\x00b"); err == nil {
		t.Errorf("a NUL was accepted")
	}
}

func TestRemoveAndChmodStayInRoot(t *testing.T) {
	root, outside := newTree(t)
	r, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	// Even of the right type, a host file is out of reach.
	if done, err := r.RemoveIf("/x/victim", unix.S_IFREG); done || (err != nil && !errors.Is(err, unix.ENOENT)) {
		t.Errorf("RemoveIf: %v %v", done, err)
	}
	if err := r.ChmodIf("/x/victim", unix.S_IFREG, 0o4777); err == nil {
		t.Errorf("ChmodIf of /x/victim succeeded")
	}
	hostVictimIntact(t, outside)

	// The last name is never followed: a symlink to the host file named
	// as the file itself.
	if err := os.Symlink(filepath.Join(outside, "victim"), filepath.Join(root, "v", "link")); err != nil {
		t.Fatal(err)
	}
	if err := r.ChmodIf("/v/link", unix.S_IFREG, 0o4777); err == nil {
		t.Errorf("ChmodIf followed a symlink")
	}
	if done, _ := r.RemoveIf("/v/link", unix.S_IFREG); done {
		t.Errorf("RemoveIf removed a symlink as a regular file")
	}
	hostVictimIntact(t, outside)

	// Inside the root it works.
	if err := os.WriteFile(filepath.Join(root, "v", "own"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := r.ChmodIf("/v/own", unix.S_IFREG, 0o640); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(filepath.Join(root, "v", "own")); st.Mode() != 0o640 {
		t.Fatalf("mode %v after ChmodIf", st.Mode())
	}
	if done, err := r.RemoveIf("/up/../v/own", unix.S_IFREG); !done || err != nil {
		t.Fatalf("RemoveIf(/up/../v/own): %v %v", done, err)
	}
}

func TestCreateStaysInRoot(t *testing.T) {
	root, outside := newTree(t)
	r, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	d, err := r.Parent("/x/new")
	if !errors.Is(err, unix.ENOENT) {
		if err == nil {
			f, cerr := d.Create(unix.O_RDWR, 0o600)
			if cerr == nil {
				f.Close()
			}
			d.Close()
		}
	}
	if _, err := os.Lstat(filepath.Join(outside, "new")); err == nil {
		t.Fatalf("a file was created outside the root")
	}
	d, err = r.Parent("/v/link2")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := os.Symlink(filepath.Join(outside, "victim"), filepath.Join(root, "v", "link2")); err != nil {
		t.Fatal(err)
	}
	if f, err := d.Create(unix.O_RDWR|unix.O_TRUNC, 0o600); err == nil {
		f.Close()
		t.Fatalf("Create went through a symlink")
	}
	hostVictimIntact(t, outside)
	if b, _ := os.ReadFile(filepath.Join(outside, "victim")); string(b) != "host" {
		t.Fatalf("the host file was truncated")
	}
}

func TestOpenTask(t *testing.T) {
	r, err := OpenTask(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	f, err := r.OpenFile("/proc/self/status", unix.S_IFREG, unix.O_RDONLY)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if _, err := r.OpenFile("/tmp", 0, unix.O_RDONLY|unix.O_CREAT); err == nil {
		t.Fatal("OpenFile took O_CREAT")
	}
}

func TestParentNoSymlinks(t *testing.T) {
	root, outside := newTree(t)
	r, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for _, p := range []string{"/x/new", "/up/v/new", "/magic/new"} {
		if d, err := r.ParentNoSymlinks(p); err == nil {
			d.Close()
			t.Errorf("ParentNoSymlinks(%q) went through a symlink", p)
		}
	}
	d, err := r.ParentNoSymlinks("/v/new")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	f, err := d.Create(unix.O_RDWR, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if _, err := os.Stat(filepath.Join(root, "v", "new")); err != nil {
		t.Fatal(err)
	}
	hostVictimIntact(t, outside)
}
