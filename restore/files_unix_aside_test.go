package restore

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// TestUndoAside is the guardian's undo for a ckpt that died with a file
// moved aside and a socket bound at its name: the socket file goes, the
// file gets its name back, the same inode.
func TestUndoAside(t *testing.T) {
	dir := t.TempDir()
	name, tmp := filepath.Join(dir, "x"), ".ckpt-aside-1-2"
	if err := unix.Mkfifo(name, 0o600); err != nil {
		t.Fatal(err)
	}
	var before unix.Stat_t
	if err := unix.Lstat(name, &before); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(name, filepath.Join(dir, tmp)); err != nil {
		t.Fatal(err)
	}
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	if err := unix.Bind(fd, &unix.SockaddrUnix{Name: name}); err != nil {
		t.Fatal(err)
	}
	if err := undoAside([]string{dir, "x", tmp}); err != nil {
		t.Fatal(err)
	}
	var after unix.Stat_t
	if err := unix.Lstat(name, &after); err != nil || after.Ino != before.Ino || after.Mode&unix.S_IFMT != unix.S_IFIFO {
		t.Errorf("after the undo %s is %+v (%v), want the FIFO, inode %d", name, after, err, before.Ino)
	}
	if _, err := os.Lstat(filepath.Join(dir, tmp)); !os.IsNotExist(err) {
		t.Errorf("the aside name is still there: %v", err)
	}
	// Nothing aside: nothing to do.
	if err := undoAside([]string{dir, "x", tmp}); err != nil {
		t.Errorf("a second undo: %v", err)
	}
}
