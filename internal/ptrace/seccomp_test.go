package ptrace

import (
	"errors"
	"os"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/internal/kernel"
)

// TestSeccompFilters reads the helper's two filters back, oldest first,
// and injects into it, with PTRACE_O_SUSPEND_SECCOMP, the very syscall its
// first filter kills the process for.
func TestSeccompFilters(t *testing.T) {
	opt := SuspendSeccomp()
	if opt == 0 {
		t.Skip("this process may not suspend seccomp in its tracees (no CAP_SYS_ADMIN, or under seccomp)")
	}
	tr := newTracer(t)
	c, s := seized(t, tr, seizeOpts|opt, -1, helperPath, "seccomp")
	if got := statusField(t, c.pid, "Seccomp_filters"); got != "2" {
		t.Fatalf("Seccomp_filters = %s, want 2", got)
	}
	for i, want := range []struct {
		insns int
		flags uint64
	}{{4, 0}, {1, unix.SECCOMP_FILTER_FLAG_LOG}} {
		prog, flags, err := tr.SeccompFilter(c.pid, i)
		if err != nil {
			t.Fatalf("filter %d: %v", i, err)
		}
		if len(prog) != want.insns*kernel.SockFilterLen || flags != want.flags {
			t.Errorf("filter %d: %d bytes, flags %#x; want %d instructions, flags %#x", i, len(prog), flags, want.insns, want.flags)
		}
	}
	if _, _, err := tr.SeccompFilter(c.pid, 2); !errors.Is(err, unix.ENOENT) {
		t.Errorf("filter 2 (there are two): %v, want ENOENT", err)
	}
	ppid, err := s.Syscall(unix.SYS_GETPPID)
	if err != nil || int(ppid) != os.Getpid() {
		t.Errorf("injected getppid = %d, %v; want %d (the filter suspended)", ppid, err, os.Getpid())
	}
	closeDetach(t, tr, s, c.pid)
}
