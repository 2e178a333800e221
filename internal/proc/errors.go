package proc

import (
	"errors"
	"fmt"
	"io/fs"

	"golang.org/x/sys/unix"
)

// goneError marks an ESRCH (or an address space that ended early) so that
// one test, errors.Is(err, fs.ErrNotExist), covers every way the kernel
// says a task has gone away. ENOENT already matches fs.ErrNotExist.
type goneError struct{ err error }

func (e goneError) Error() string { return e.err.Error() }
func (e goneError) Unwrap() error { return e.err }

func (e goneError) Is(target error) bool { return target == fs.ErrNotExist }

// IsGone reports whether err says the process, thread or fd it was about
// no longer exists.
func IsGone(err error) bool { return errors.Is(err, fs.ErrNotExist) }

// markGone wraps ESRCH so that it matches fs.ErrNotExist.
func markGone(err error) error {
	if errors.Is(err, unix.ESRCH) {
		return goneError{err}
	}
	return err
}

// readErr adds the file name to an error from reading or parsing it.
func readErr(path string, err error) error {
	return fmt.Errorf("read %s: %w", path, markGone(err))
}

// errSyntax is wrapped by every parse error, with the offending line.
var errSyntax = errors.New("unexpected format")

func syntaxErr(what string, line []byte) error {
	const maxShown = 120
	if len(line) > maxShown {
		line = line[:maxShown]
	}
	return fmt.Errorf("%w: %s in %q", errSyntax, what, line)
}
