package ptrace

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// ErrTaskGone reports that the task exited (or is exiting) before or while
// we worked on it.
var ErrTaskGone = errors.New("task exited")

// ErrClosed is returned by requests sent to a Tracer after Close.
var ErrClosed = errors.New("tracer closed")

// SyscallError is an injected system call that returned -errno.
type SyscallError struct {
	Tid   int
	Nr    uintptr
	Errno unix.Errno
}

func (e *SyscallError) Error() string {
	return fmt.Sprintf("injected syscall %d in task %d: %v", e.Nr, e.Tid, e.Errno)
}

// Unwrap lets errors.Is(err, unix.EXXX) match the errno.
func (e *SyscallError) Unwrap() error { return e.Errno }

// ptraceErr names the request and the task in an error from ptrace(2).
func ptraceErr(req string, tid int, err error) error {
	return fmt.Errorf("task %d: %w", tid, os.NewSyscallError("ptrace("+req+")", err))
}

// goneErr marks err as a sign that tid has exited, keeping err's errno.
func goneErr(what string, tid int, err error) error {
	if err == nil {
		return fmt.Errorf("%s task %d: %w", what, tid, ErrTaskGone)
	}
	return fmt.Errorf("%s task %d: %w: %w", what, tid, ErrTaskGone, err)
}
