package proc

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestGoneErrors(t *testing.T) {
	for _, errno := range []unix.Errno{unix.ESRCH, unix.ENOENT} {
		err := readErr("/proc/1/status", errno)
		if !IsGone(err) || !errors.Is(err, fs.ErrNotExist) || !errors.Is(err, errno) {
			t.Errorf("%v: IsGone %v, errors.Is(%v) %v", err, IsGone(err), errno, errors.Is(err, errno))
		}
		if want := "read /proc/1/status: " + errno.Error(); err.Error() != want {
			t.Errorf("message %q, want %q", err, want)
		}
	}
	if err := readErr("/proc/1/status", unix.EACCES); IsGone(err) {
		t.Errorf("EACCES counted as gone: %v", err)
	}
}

func TestForEachLine(t *testing.T) {
	// A line longer than a chunk, an empty line, and a last line with no
	// newline.
	long := strings.Repeat("x", lineChunk+100)
	path := filepath.Join(t.TempDir(), "lines")
	if err := os.WriteFile(path, []byte("a\n"+long+"\n\nlast"), 0o600); err != nil {
		t.Fatal(err)
	}
	var got []string
	err := forEachLine(path, func(line []byte) error {
		got = append(got, string(line))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"a", long, "", "last"}; !slices.Equal(got, want) {
		t.Errorf("got %d lines, want %d, or they differ", len(got), len(want))
	}
	stop := errors.New("stop")
	if err := forEachLine(path, func([]byte) error { return stop }); !errors.Is(err, stop) {
		t.Errorf("fn's error not returned: %v", err)
	}
	if err := forEachLine(path+".none", func([]byte) error { return nil }); !IsGone(err) {
		t.Errorf("missing file: %v", err)
	}
}
