package checkpoint

import (
	"errors"
	"fmt"
)

// ErrUnsupported is wrapped by every refusal of state the engine cannot
// checkpoint faithfully.
var ErrUnsupported = errors.New("unsupported")

// UnsupportedError names the task, the object and why it cannot be
// checkpointed.
type UnsupportedError struct {
	Pid    int
	Object string // "fd 5", "vma 7f00..-7f01..", ...
	Reason string
}

func (e *UnsupportedError) Error() string {
	return fmt.Sprintf("task %d: %s: %s", e.Pid, e.Object, e.Reason)
}

func (e *UnsupportedError) Unwrap() error { return ErrUnsupported }

func unsupported(pid int, object, format string, args ...any) error {
	return &UnsupportedError{Pid: pid, Object: object, Reason: fmt.Sprintf(format, args...)}
}
