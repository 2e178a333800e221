package ptrace

import (
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/internal/kernel"
)

// The raw requests below pass pointers into our memory and run on the tracer
// thread. ptrace(2) never returns EINTR, so nothing is retried.

// ptrace issues one request and returns the kernel's return value.
// The go:uintptrescapes directive moves every pointer converted to uintptr in a call to
// ptrace to the heap and keeps it alive for the call, the guarantee
// unix.Syscall6 alone gives only to conversions written in its own call
// (a stack can move under a plain uintptr).
// Preconditions:
//   - must run on the tracer thread.
//
//go:uintptrescapes
func ptrace(req int, tid int, addr, data uintptr) (uintptr, error) {
	r, _, e := unix.Syscall6(unix.SYS_PTRACE, uintptr(req), uintptr(tid), addr, data, 0, 0)
	if e != 0 {
		return r, e
	}
	return r, nil
}

func getRegs(tid int) (kernel.Regs, error) {
	var r kernel.Regs
	_, err := ptrace(unix.PTRACE_GETREGS, tid, 0, uintptr(unsafe.Pointer(&r)))
	if err != nil {
		return r, ptraceErr("PTRACE_GETREGS", tid, err)
	}
	return r, nil
}

func setRegs(tid int, r *kernel.Regs) error {
	_, err := ptrace(unix.PTRACE_SETREGS, tid, 0, uintptr(unsafe.Pointer(r)))
	runtime.KeepAlive(r)
	if err != nil {
		return ptraceErr("PTRACE_SETREGS", tid, err)
	}
	return nil
}

// getRegset reads regset nt into b and returns how many bytes the kernel filled.
func getRegset(tid int, nt int, b []byte) (int, error) {
	iov := unix.Iovec{Base: &b[0]}
	iov.SetLen(len(b))
	_, err := ptrace(unix.PTRACE_GETREGSET, tid, uintptr(nt), uintptr(unsafe.Pointer(&iov)))
	runtime.KeepAlive(b)
	if err != nil {
		return 0, err
	}
	return int(iov.Len), nil
}

func setRegset(tid int, nt int, b []byte) error {
	iov := unix.Iovec{Base: &b[0]}
	iov.SetLen(len(b))
	_, err := ptrace(unix.PTRACE_SETREGSET, tid, uintptr(nt), uintptr(unsafe.Pointer(&iov)))
	runtime.KeepAlive(b)
	return err
}

func getSigmask(tid int) (uint64, error) {
	var m uint64
	_, err := ptrace(unix.PTRACE_GETSIGMASK, tid, unsafe.Sizeof(m), uintptr(unsafe.Pointer(&m)))
	if err != nil {
		return 0, ptraceErr("PTRACE_GETSIGMASK", tid, err)
	}
	return m, nil
}

func setSigmask(tid int, m uint64) error {
	_, err := ptrace(unix.PTRACE_SETSIGMASK, tid, unsafe.Sizeof(m), uintptr(unsafe.Pointer(&m)))
	if err != nil {
		return ptraceErr("PTRACE_SETSIGMASK", tid, err)
	}
	return nil
}

func getSiginfo(tid int) (kernel.Siginfo, error) {
	var si kernel.Siginfo
	_, err := ptrace(unix.PTRACE_GETSIGINFO, tid, 0, uintptr(unsafe.Pointer(&si)))
	if err != nil {
		return si, ptraceErr("PTRACE_GETSIGINFO", tid, err)
	}
	return si, nil
}

func setSiginfo(tid int, si *kernel.Siginfo) error {
	_, err := ptrace(unix.PTRACE_SETSIGINFO, tid, 0, uintptr(unsafe.Pointer(si)))
	runtime.KeepAlive(si)
	if err != nil {
		return ptraceErr("PTRACE_SETSIGINFO", tid, err)
	}
	return nil
}

func peekSiginfo(tid int, args *kernel.PeekSiginfoArgs, buf []kernel.Siginfo) (int, error) {
	n, err := ptrace(unix.PTRACE_PEEKSIGINFO, tid, uintptr(unsafe.Pointer(args)), uintptr(unsafe.Pointer(&buf[0])))
	runtime.KeepAlive(args)
	runtime.KeepAlive(buf)
	if err != nil {
		return 0, ptraceErr("PTRACE_PEEKSIGINFO", tid, err)
	}
	return int(n), nil
}

func rseqConfig(tid int) (kernel.RseqConfig, error) {
	var c kernel.RseqConfig
	_, err := ptrace(unix.PTRACE_GET_RSEQ_CONFIGURATION, tid, unsafe.Sizeof(c), uintptr(unsafe.Pointer(&c)))
	if err != nil {
		return c, ptraceErr("PTRACE_GET_RSEQ_CONFIGURATION", tid, err)
	}
	return c, nil
}

func getEventMsg(tid int) (uint64, error) {
	var m uint64
	_, err := ptrace(unix.PTRACE_GETEVENTMSG, tid, 0, uintptr(unsafe.Pointer(&m)))
	if err != nil {
		return 0, ptraceErr("PTRACE_GETEVENTMSG", tid, err)
	}
	return m, nil
}

// wait4 waits for any state change of tid, traced or child, retrying EINTR.
func wait4(tid int) (unix.WaitStatus, error) {
	var ws unix.WaitStatus
	waits.Add(1)
	for {
		_, err := unix.Wait4(tid, &ws, unix.WALL, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return ws, err
		}
		return ws, nil
	}
}
