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

// LeakError refuses a kernel object that a task of the checkpoint shares
// with a task outside it: a restore would split it in two.
type LeakError struct {
	Pid     int    // the task inside, as ckpt sees it
	NsPid   int    // its pid in its own pid namespace, if it has one
	Object  string // "its mm (address space)", "pipe:[5678] (fd 4)", ...
	Verb    string // "used by", "held by", "mapped by"
	Outside int    // the task outside
	Where   string // where the outside task holds it ("fd 7"), or ""
	Reason  string
}

func (e *LeakError) Error() string {
	ns, where := "", ""
	if e.NsPid != 0 && e.NsPid != e.Pid {
		ns = fmt.Sprintf(" (pid %d in its namespace)", e.NsPid)
	}
	if e.Where != "" {
		where = " (" + e.Where + ")"
	}
	return fmt.Sprintf("task %d%s: %s is also %s task %d outside the checkpoint%s: %s",
		e.Pid, ns, e.Object, e.Verb, e.Outside, where, e.Reason)
}

func (e *LeakError) Unwrap() error { return ErrUnsupported }
