package ptrace

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/internal/kernel"
)

// SeccompFilter returns the BPF program of tid's seccomp filter number
// index, 0 being the first installed (the oldest: kernel/seccomp.c:
// get_nth_filter() walks back count-index from the newest), as an array of struct
// sock_filter (kernel.SockFilterLen bytes each), and its
// SECCOMP_FILTER_FLAG_* flags. The kernel answers ENOENT past the newest.
// Needs CAP_SYS_ADMIN, and the tracer must not be under seccomp itself.
func (t *Tracer) SeccompFilter(tid, index int) (prog []byte, flags uint64, err error) {
	err = t.Do(func() error {
		// First the length (a NULL buffer), then the program.
		n, err := ptrace(unix.PTRACE_SECCOMP_GET_FILTER, tid, uintptr(index), 0)
		if err != nil {
			return ptraceErr(fmt.Sprintf("PTRACE_SECCOMP_GET_FILTER %d", index), tid, err)
		}
		if n == 0 || n > unix.BPF_MAXINSNS {
			return fmt.Errorf("seccomp filter %d of task %d has %d instructions", index, tid, n)
		}
		prog = make([]byte, int(n)*kernel.SockFilterLen)
		m, err := ptrace(unix.PTRACE_SECCOMP_GET_FILTER, tid, uintptr(index), uintptr(unsafe.Pointer(&prog[0])))
		runtime.KeepAlive(prog)
		if err != nil {
			return ptraceErr(fmt.Sprintf("PTRACE_SECCOMP_GET_FILTER %d", index), tid, err)
		}
		if m != n {
			return fmt.Errorf("seccomp filter %d of task %d changed length (%d, then %d instructions)", index, tid, n, m)
		}
		md := kernel.SeccompMetadata{FilterOff: uint64(index)}
		if _, err := ptrace(unix.PTRACE_SECCOMP_GET_METADATA, tid, unsafe.Sizeof(md), uintptr(unsafe.Pointer(&md))); err != nil {
			return ptraceErr(fmt.Sprintf("PTRACE_SECCOMP_GET_METADATA %d", index), tid, err)
		}
		flags = md.Flags
		return nil
	})
	return prog, flags, err
}

// SuspendSeccomp returns PTRACE_O_SUSPEND_SECCOMP if this process may use
// it, else 0. With it, a tracee's seccomp filters (or strict mode) do not
// apply while we trace it, so the syscalls we inject run whatever the
// filters say. The kernel allows it only to a tracer that has
// CAP_SYS_ADMIN and is not under seccomp itself (kernel/ptrace.c:
// ptrace_setoptions()).
func SuspendSeccomp() int {
	suspendOnce.Do(func() {
		mode, err := unix.PrctlRetInt(unix.PR_GET_SECCOMP, 0, 0, 0, 0)
		if err != nil || mode != 0 {
			return
		}
		hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3, Pid: int32(os.Getpid())}
		var data [2]unix.CapUserData
		if err := unix.Capget(&hdr, &data[0]); err != nil {
			return
		}
		if data[unix.CAP_SYS_ADMIN/32].Effective&(1<<(unix.CAP_SYS_ADMIN%32)) != 0 {
			suspendOpt = unix.PTRACE_O_SUSPEND_SECCOMP
		}
	})
	return suspendOpt
}

var (
	suspendOnce sync.Once
	suspendOpt  int
)

// ErrNoSuspendSeccomp explains why a task under seccomp cannot be handled.
var ErrNoSuspendSeccomp = errors.New("ckpt cannot suspend seccomp in its tracees (it needs CAP_SYS_ADMIN and must not run under seccomp itself), so the syscalls it injects would be filtered")
