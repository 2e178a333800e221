// Package lockfile holds exclusive, non-blocking locks on named objects
// (a process tree, a container, an image file) between ckpt processes:
// flock(2) on a file under Dir. The kernel drops a flock with the last fd
// of its description, so a ckpt that dies, however it dies, releases its
// locks.
package lockfile

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// Dir holds the lock files: root's (0700, in /run, where only root
// makes entries), so another user can neither hold a lock to keep ckpt
// from checkpointing nor replace a lock file. Not under the runtime's
// state root (/run/ckpt), whose directories are containers.
var Dir = "/run/ckpt-locks"

// ErrBusy is wrapped by Lock when another process holds the lock.
var ErrBusy = errors.New("busy")

// Lock is a held lock.
type Lock struct {
	f    *os.File
	path string
}

// Acquire takes the lock called name (a file name: letters, digits and
// "-_.:" only), or fails at once wrapping ErrBusy; what names the locked
// object in that error ("process 1234", "image /x/image.ckpt").
func Acquire(name, what string) (*Lock, error) {
	if name == "" || strings.ContainsAny(name, "/\x00") || name == "." || name == ".." {
		return nil, fmt.Errorf("lock %q: not a lock name", name)
	}
	if err := os.MkdirAll(Dir, 0o700); err != nil {
		return nil, fmt.Errorf("lock %s: %w", what, err)
	}
	path := filepath.Join(Dir, name+".lock")
	for {
		fd, err := unix.Open(path, unix.O_RDWR|unix.O_CREAT|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
		if err != nil {
			return nil, fmt.Errorf("lock %s: %w", what, err)
		}
		if err := unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB); err != nil {
			unix.Close(fd)
			if err == unix.EWOULDBLOCK {
				return nil, fmt.Errorf("%s is %w: another ckpt is checkpointing it (lock %s)", what, ErrBusy, path)
			}
			return nil, fmt.Errorf("lock %s: flock %s: %w", what, path, err)
		}
		// Release unlinks the file while holding the lock: the file
		// locked may have been unlinked between our open and flock, and
		// a lock on it guards nothing. Retry on the current one.
		var held, cur unix.Stat_t
		if err := unix.Fstat(fd, &held); err == nil && unix.Stat(path, &cur) == nil && held.Dev == cur.Dev && held.Ino == cur.Ino {
			return &Lock{f: os.NewFile(uintptr(fd), path), path: path}, nil
		}
		unix.Close(fd)
	}
}

// Release drops the lock and its file. A nil Lock is fine.
func (l *Lock) Release() {
	if l == nil || l.f == nil {
		return
	}
	_ = os.Remove(l.path)
	l.f.Close()
	l.f = nil
}
