package checkpoint

import (
	"testing"

	"golang.org/x/sys/unix"
)

// TestFileKindOf: each fd goes to the row of its kind, whatever order the
// rows were registered in; what no row takes is left to dumpFile's
// refusals.
func TestFileKindOf(t *testing.T) {
	for _, c := range []struct {
		mode uint32
		link string
		want string // "" = none
	}{
		{unix.S_IFREG, "/etc/passwd", "regular file"},
		{unix.S_IFDIR, "/tmp", "regular file"},
		{unix.S_IFREG, "/memfd:x (deleted)", "memfd"},
		{unix.S_IFREG, "/tmp/x (deleted)", "deleted file"},
		{unix.S_IFDIR, "/tmp/d (deleted)", "regular file"},
		{unix.S_IFCHR, "/dev/null", "character device"},
		{unix.S_IFIFO, "pipe:[123]", "pipe"},
		{unix.S_IFIFO, "/tmp/fifo", "FIFO"},
		{unix.S_IFSOCK, "socket:[5]", "socket"},
		{0, "anon_inode:[eventfd]", "eventfd"},
		{0, "anon_inode:[eventpoll]", "epoll"},
		{0, "anon_inode:[timerfd]", "timerfd"},
		{0, "anon_inode:[signalfd]", "signalfd"},
		{0, "anon_inode:inotify", "inotify"},
		{0, "anon_inode:[pidfd]", "pidfd"},
		{0, "anon_inode:[io_uring]", ""},
		{unix.S_IFBLK, "/dev/sda", ""},
	} {
		of := &openFd{fd: 3, link: c.link}
		of.st.Mode = c.mode | 0o600
		got := ""
		if k := fileKindOf(&process{pid: -1}, of); k != nil {
			got = k.name
		}
		if got != c.want {
			t.Errorf("mode %#o %q: kind %q, want %q", c.mode, c.link, got, c.want)
		}
	}
}
