package image

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/internal/atomicfile"
	"github.com/ckpt/ckpt/internal/lockfile"
)

// FileName is the image file inside an image directory (the OCI
// runtime's --image-path, a containerd checkpoint layer).
const FileName = "image.ckpt"

// Image is an image that has been validated whole (framing, payloads,
// objrefs, bounds, digest, nothing after the TAIL): the one way in to an
// image for restore, the OCI runtime and the containerd shim. Its bytes
// are in a regular file: the image's own, or, for a stream, an unlinked
// temporary copy made while validating.
type Image struct {
	Summary *Summary
	// Container is the CONTAINER record following the HEADER, nil in a
	// process's image.
	Container *Container

	f     *os.File
	owned bool // f was opened (or spooled) here and is closed by Close
}

// Open opens and validates the image file at path, which must be a
// regular file. A path may come from an image (a pre-copy child names its
// parent), so a FIFO or a device there is refused, never read: the open
// does not wait for a FIFO's writer, and nothing is read before the type is
// checked.
func Open(path string) (*Image, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|unix.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		f.Close()
		if err == nil {
			err = fmt.Errorf("image %s: not a regular file (%s)", path, fi.Mode().Type())
		}
		return nil, err
	}
	im, err := OpenReader(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	if !im.owned {
		im.owned = true // a regular file, used in place: ours to close
	}
	return im, nil
}

// OpenReader validates the image read from r. A regular *os.File is
// validated in place and stays the caller's to close. Anything else (a
// pipe, a socket) is copied into an unlinked temporary file while it is
// validated, and the copy stops with the first error: data past the TAIL
// or a stream that never ends costs at most a read buffer beyond the
// image's own size, in a file, never in memory.
func OpenReader(r io.Reader) (*Image, error) {
	if f, ok := r.(*os.File); ok {
		// In place only from the file's start: the restored tasks read
		// their pages at the image's own offsets.
		start, serr := f.Seek(0, io.SeekCurrent)
		if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() && serr == nil && start == 0 {
			im := &Image{f: f}
			if im.Summary, err = Validate(f); err != nil {
				return nil, err
			}
			im.Container = im.Summary.Container
			return im, nil
		}
	}
	spool, err := spoolFile()
	if err != nil {
		return nil, err
	}
	s, err := Validate(io.TeeReader(r, spool))
	if err != nil {
		spool.Close()
		return nil, err
	}
	// The tee may have copied a read buffer's worth of bytes past the
	// TAIL before the stream ended: the image is the first s.Bytes.
	if err := spool.Truncate(int64(s.Bytes)); err != nil {
		spool.Close()
		return nil, fmt.Errorf("spool image: %w", err)
	}
	return &Image{Summary: s, Container: s.Container, f: spool, owned: true}, nil
}

// spoolFile is an unlinked file in the temporary directory: O_TMPFILE,
// or a name removed at once where the file system lacks it.
func spoolFile() (*os.File, error) {
	dir := os.TempDir()
	fd, err := unix.Open(dir, unix.O_TMPFILE|unix.O_RDWR|unix.O_CLOEXEC, 0o600)
	if err == nil {
		return os.NewFile(uintptr(fd), filepath.Join(dir, "ckpt-spool")), nil
	}
	f, err := os.CreateTemp(dir, "ckpt-spool-")
	if err != nil {
		return nil, fmt.Errorf("spool image: %w", err)
	}
	if err := os.Remove(f.Name()); err != nil {
		f.Close()
		return nil, fmt.Errorf("spool image: %w", err)
	}
	return f, nil
}

// File is the regular file holding the validated image (its offset is
// not meaningful: read it with ReadAt, or through Reader).
func (im *Image) File() *os.File { return im.f }

// Reader returns a Reader from the image's first record. The digest is not
// computed again; every other check is made as the records are read, and
// PAGES data left unread is skipped with Seek.
func (im *Image) Reader() (*Reader, error) {
	if _, err := im.f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	return NewReader(im.f, Options{NoDigest: true}), nil
}

// Close closes the file if Open or OpenReader opened it (or made it).
func (im *Image) Close() error {
	if im == nil || !im.owned || im.f == nil {
		return nil
	}
	err := im.f.Close()
	im.f = nil
	return err
}

// NewFile is an image file being written for path: mode 0600, in a
// temporary file of path's directory until Commit puts it at path (see
// internal/atomicfile). It holds a lock on path meanwhile, so that two
// checkpoints cannot write one image at once: the second fails at once,
// wrapping ErrBusy, and touches nothing.
type NewFile struct {
	*atomicfile.File
	lock *lockfile.Lock
}

// ErrBusy is wrapped when another ckpt holds a lock this one needs.
var ErrBusy = lockfile.ErrBusy

// Create starts the image file for path.
func Create(path string) (*NewFile, error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	var st unix.Stat_t
	if err := unix.Stat(dir, &st); err != nil {
		return nil, fmt.Errorf("image %s: %w", path, err)
	}
	// The lock is named after the directory's identity, not its path
	// (which may be spelled in many ways), and the file's name.
	name := fmt.Sprintf("image-%x-%x-%s", st.Dev, st.Ino, lockName(base))
	lk, err := lockfile.Acquire(name, "image "+path)
	if err != nil {
		return nil, err
	}
	f, err := atomicfile.Create(path, 0o600)
	if err != nil {
		lk.Release()
		return nil, err
	}
	return &NewFile{File: f, lock: lk}, nil
}

// lockName keeps a file name usable as part of a lock name.
func lockName(base string) string {
	b := []byte(base)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_') {
			b[i] = '_'
		}
	}
	if len(b) > 200 {
		b = b[:200]
	}
	return string(b)
}

// Commit puts the image at its path, durably, and releases the lock.
func (f *NewFile) Commit() error {
	defer f.lock.Release()
	return f.File.Commit()
}

// Abort drops the image being written (the path keeps what it had) and
// releases the lock. It does nothing after Commit.
func (f *NewFile) Abort() error {
	defer f.lock.Release()
	return f.File.Abort()
}
