package restore

import (
	"errors"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
)

func TestTmpfileRefuses(t *testing.T) {
	for name, f := range map[string]uint32{
		"no O_TMPFILE": unix.O_RDWR,
		"read only":    unix.O_TMPFILE,
		"O_CREAT":      unix.O_TMPFILE | unix.O_RDWR | unix.O_CREAT,
		"O_PATH":       unix.O_TMPFILE | unix.O_RDWR | unix.O_PATH,
	} {
		rs := &restorer{}
		if err := rs.addTmpfile(&image.Tmpfile{Ino: 1, Flags: f}); !errors.Is(err, ErrBadImage) {
			t.Errorf("%s: %v, want ErrBadImage", name, err)
		}
	}
	rs := &restorer{}
	if err := rs.addTmpfile(&image.Tmpfile{Ino: 1, Flags: unix.O_TMPFILE | unix.O_WRONLY}); err != nil {
		t.Fatal(err)
	}
	if err := rs.addTmpfile(&image.Tmpfile{Ino: 2, Flags: unix.O_TMPFILE | unix.O_WRONLY}); !errors.Is(err, ErrBadImage) {
		t.Errorf("a second TMPFILE with no DELETED_FILE between: %v, want ErrBadImage", err)
	}
	if err := rs.addDeletedFile(&image.DeletedFile{Objref: 3, Mode: unix.S_IFREG, Path: "/tmp/#2", Ino: 2}); !errors.Is(err, ErrBadImage) {
		t.Errorf("a DELETED_FILE of another inode after a TMPFILE: %v, want ErrBadImage", err)
	}
}
