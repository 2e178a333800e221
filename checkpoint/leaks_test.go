package checkpoint

import (
	"os"
	"os/exec"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
	"github.com/ckpt/ckpt/internal/kernel"
)

// TestKcmpIndex: with real processes, each with an mm of its own, a set
// sorted by kcmp finds exactly its members, and a task that is gone is no
// match.
func TestKcmpIndex(t *testing.T) {
	var in, out []int
	for i := range 6 {
		cmd := exec.Command("sleep", "60")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		if i%2 == 0 {
			in = append(in, cmd.Process.Pid)
		} else {
			out = append(out, cmd.Process.Pid)
		}
	}
	in = append(in, os.Getpid())
	var refs []taskRef
	for _, pid := range in {
		refs = append(refs, taskRef{pid: pid, tid: pid})
	}
	for _, typ := range []int{kernel.KCMP_VM, kernel.KCMP_FILES} {
		idx, err := newKcmpIndex(typ, refs)
		if err != nil {
			t.Fatal(err)
		}
		for _, pid := range in {
			if got, ok := idx.find(pid); !ok || got.pid != pid {
				t.Errorf("kcmp type %d: find(%d) = %v, %v; want itself", typ, pid, got, ok)
			}
		}
		for _, pid := range out {
			if got, ok := idx.find(pid); ok {
				t.Errorf("kcmp type %d: find(%d) = %v; want no match", typ, pid, got)
			}
		}
		if got, ok := idx.find(1 << 30); ok {
			t.Errorf("kcmp type %d: find of a pid that does not exist = %v", typ, got)
		}
	}
}

func TestStateless(t *testing.T) {
	for _, c := range []struct {
		rec  image.RegFile
		want bool
	}{
		{image.RegFile{Path: "/dev/null", Flags: unix.O_RDWR}, true},
		{image.RegFile{Path: "/var/log/x", Flags: unix.O_WRONLY | unix.O_APPEND}, true},
		{image.RegFile{Path: "/var/log/x", Flags: unix.O_RDWR | unix.O_APPEND}, false},
		{image.RegFile{Path: "/var/log/x", Flags: unix.O_WRONLY}, false},
		{image.RegFile{Path: "/etc/passwd", Flags: unix.O_RDONLY}, false},
	} {
		if got := stateless(&c.rec); got != c.want {
			t.Errorf("stateless(%q, flags %#o) = %v, want %v", c.rec.Path, c.rec.Flags, got, c.want)
		}
	}
}
