// Package atomicfile creates files that appear at their final path whole
// or not at all: the data goes to an anonymous (O_TMPFILE) or freshly and
// exclusively created temporary file in the target's directory, which is
// fsynced, renamed over the target and followed by an fsync of the
// directory. Until Commit, whatever was at the target path is untouched,
// so a failed writer never destroys a file already there.
//
// Everything after the directory is opened is done relative to its fd, and
// the target is replaced by rename(2), never opened: a symlink planted at
// the target is replaced, not followed.
package atomicfile

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"golang.org/x/sys/unix"
)

// File is a file being written for path. Write to it, then Commit or
// Abort; Abort after Commit does nothing, so `defer f.Abort()` is safe.
type File struct {
	*os.File
	dir     *os.File
	path    string // the target, as given
	base    string // its name in dir
	tmpName string // the temporary name in dir, "" while anonymous
	done    bool
	// written is how much Write wrote, kicked how much of it was handed
	// to the writeback goroutine (Write); kick is its queue.
	written, kicked int64
	kick            chan [2]int64
	wbDone          sync.WaitGroup
}

// writeBehind is how much Write lets pile up before it has writeback
// started.
const writeBehind = 8 << 20

// Write writes b at the end of what was written so far and, every
// writeBehind bytes, has a goroutine start writeback of them
// (sync_file_range(2) with SYNC_FILE_RANGE_WRITE starts it and waits for
// nothing, but submits the I/O in its caller: on the other CPU, not the
// writer's). Commit's fsync then finds most of the file written already
// instead of starting all of it: for a 1 GiB image that fsync was 0.4 s
// of the checkpoint, with the disk idle until then. A range the goroutine
// has no room for waits for the next; writeback never started is
// Commit's, which waits for everything anyway.
func (f *File) Write(b []byte) (int, error) {
	n, err := f.File.Write(b)
	f.written += int64(n)
	if f.written-f.kicked >= writeBehind {
		if f.kick == nil {
			f.kick = make(chan [2]int64, 4)
			f.wbDone.Add(1)
			go f.writeback(int(f.Fd()))
		}
		select {
		case f.kick <- [2]int64{f.kicked, f.written - f.kicked}:
			f.kicked = f.written
		default:
		}
	}
	return n, err
}

func (f *File) writeback(fd int) {
	defer f.wbDone.Done()
	for r := range f.kick {
		_ = unix.SyncFileRange(fd, r[0], r[1], unix.SYNC_FILE_RANGE_WRITE)
	}
}

// stopWriteback waits for the writeback goroutine to end, before the
// file is synced or closed.
func (f *File) stopWriteback() {
	if f.kick != nil {
		close(f.kick)
		f.wbDone.Wait()
		f.kick = nil
	}
}

// Create starts a file that Commit puts at path with mode perm.
func Create(path string, perm os.FileMode) (*File, error) {
	dirPath, base := filepath.Split(path)
	if base == "" || base == "." || base == ".." {
		return nil, fmt.Errorf("create %s: not a file name", path)
	}
	if dirPath == "" {
		dirPath = "."
	}
	dir, err := os.OpenFile(dirPath, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	f := &File{dir: dir, path: path, base: base}
	fd, err := unix.Openat(int(dir.Fd()), ".", unix.O_TMPFILE|unix.O_RDWR|unix.O_CLOEXEC, uint32(perm.Perm()))
	if err != nil {
		// File systems without O_TMPFILE: a temporary name nobody else
		// can have made (O_EXCL) and that is not a link (O_NOFOLLOW).
		f.tmpName, err = tempName(base)
		if err == nil {
			fd, err = unix.Openat(int(dir.Fd()), f.tmpName, unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_RDWR|unix.O_CLOEXEC, uint32(perm.Perm()))
		}
		if err != nil {
			dir.Close()
			return nil, fmt.Errorf("create a temporary file for %s: %w", path, err)
		}
	}
	// O_TMPFILE and O_CREAT modes are filtered by the umask: the mode is
	// the caller's, exactly.
	if err := unix.Fchmod(fd, uint32(perm.Perm())); err != nil {
		unix.Close(fd)
		f.removeTemp()
		dir.Close()
		return nil, fmt.Errorf("create %s: chmod: %w", path, err)
	}
	f.File = os.NewFile(uintptr(fd), path)
	return f, nil
}

func tempName(base string) (string, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return "." + base + ".tmp-" + hex.EncodeToString(b[:]), nil
}

// Commit makes the data durable and puts it at the target path, replacing
// what was there, then makes the rename durable.
func (f *File) Commit() error {
	if f.done {
		return fmt.Errorf("commit %s: already committed or aborted", f.path)
	}
	f.stopWriteback()
	if err := f.Sync(); err != nil {
		f.Abort()
		return fmt.Errorf("commit %s: fsync: %w", f.path, err)
	}
	if f.tmpName == "" {
		// An anonymous file cannot be renamed, and linkat(2) does not
		// replace: give it a temporary name first.
		name, err := tempName(f.base)
		if err == nil {
			// AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH; the /proc link
			// works without it, where /proc is mounted.
			err = unix.Linkat(int(f.Fd()), "", int(f.dir.Fd()), name, unix.AT_EMPTY_PATH)
			if err != nil {
				err = unix.Linkat(unix.AT_FDCWD, fmt.Sprintf("/proc/self/fd/%d", f.Fd()), int(f.dir.Fd()), name, unix.AT_SYMLINK_FOLLOW)
			}
		}
		if err != nil {
			f.Abort()
			return fmt.Errorf("commit %s: link the temporary file: %w", f.path, err)
		}
		f.tmpName = name
	}
	if err := unix.Renameat(int(f.dir.Fd()), f.tmpName, int(f.dir.Fd()), f.base); err != nil {
		f.Abort()
		return fmt.Errorf("commit %s: rename: %w", f.path, err)
	}
	f.tmpName = ""
	f.done = true
	err := f.dir.Sync()
	f.Close()
	f.dir.Close()
	if err != nil {
		return fmt.Errorf("commit %s: fsync the directory: %w", f.path, err)
	}
	return nil
}

// Abort drops the file: the target path is left as it was.
func (f *File) Abort() error {
	if f.done {
		return nil
	}
	f.stopWriteback()
	f.done = true
	err := f.Close()
	f.removeTemp()
	f.dir.Close()
	return err
}

func (f *File) removeTemp() {
	if f.tmpName != "" {
		_ = unix.Unlinkat(int(f.dir.Fd()), f.tmpName, 0)
		f.tmpName = ""
	}
}

// WriteFile writes data to path atomically with mode perm (a pid file: a
// reader sees the whole pid or no file).
func WriteFile(path string, data []byte, perm os.FileMode) error {
	f, err := Create(path, perm)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Abort()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Commit()
}
