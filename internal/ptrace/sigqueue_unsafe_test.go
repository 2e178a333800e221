package ptrace

import (
	"encoding/binary"
	"os"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/internal/kernel"
)

var siQueue int32 = -1 // SI_QUEUE, include/uapi/asm-generic/siginfo.h

// sigqueue queues sig with value for the thread group of pid (tid == 0) or
// for thread tid alone, as sigqueue(3) / pthread_sigqueue(3) do.
func sigqueue(t *testing.T, pid, tid int, sig unix.Signal, value uint64) {
	t.Helper()
	var si kernel.Siginfo
	binary.NativeEndian.PutUint32(si[0:], uint32(sig))
	binary.NativeEndian.PutUint32(si[8:], uint32(siQueue))
	binary.NativeEndian.PutUint32(si[16:], uint32(os.Getpid()))
	binary.NativeEndian.PutUint32(si[20:], uint32(os.Getuid()))
	binary.NativeEndian.PutUint64(si[24:], value)
	var e unix.Errno
	if tid == 0 {
		_, _, e = unix.Syscall(unix.SYS_RT_SIGQUEUEINFO, uintptr(pid), uintptr(sig), uintptr(unsafe.Pointer(&si)))
	} else {
		_, _, e = unix.Syscall6(unix.SYS_RT_TGSIGQUEUEINFO, uintptr(pid), uintptr(tid), uintptr(sig), uintptr(unsafe.Pointer(&si)), 0, 0)
	}
	if e != 0 {
		t.Fatalf("queue signal %d for %d/%d: %v", sig, pid, tid, e)
	}
}
