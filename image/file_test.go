package image

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

func containerSample(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := NewWriter(&buf)
	for _, r := range []Record{NewHeader(), &Container{ID: "c1", Bundle: "/b", Rootfs: "/b/rootfs"}, &Pstree{Tasks: []Task{{Pid: 1, Flags: TaskFlagPidnsInit, NrThreads: 1}}}} {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestOpen: a file is validated in place and gives its CONTAINER record
// and a Reader from the start.
func TestOpen(t *testing.T) {
	b := containerSample(t)
	path := filepath.Join(t.TempDir(), FileName)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	im, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer im.Close()
	if im.Container == nil || im.Container.ID != "c1" || !im.Summary.PidNs() {
		t.Fatalf("container %+v, summary %+v", im.Container, im.Summary)
	}
	rd, err := im.Reader()
	if err != nil {
		t.Fatal(err)
	}
	if rec, err := rd.Next(); err != nil || rec.Type() != TypeHeader {
		t.Fatalf("first record %v, %v", rec, err)
	}
}

// TestOpenStream: a stream is spooled while validated; the spool holds
// exactly the image; data after the TAIL is refused.
func TestOpenStream(t *testing.T) {
	b := containerSample(t)
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(func() error { _, err := pw.Write(b); return err }()) }()
	im, err := OpenReader(pr)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := im.File().Stat()
	if err != nil || fi.Size() != int64(len(b)) {
		t.Fatalf("spool of %d bytes: %v %v", len(b), fi.Size(), err)
	}
	im.Close()

	pr, pw = io.Pipe()
	go func() {
		_, _ = pw.Write(b)
		_, _ = pw.Write(make([]byte, 1<<20))
		pw.Close()
	}()
	if _, err := OpenReader(pr); !errors.Is(err, ErrBadLength) {
		t.Fatalf("an image and 1 MiB after its TAIL: %v, want %v", err, ErrBadLength)
	}
}

// TestCreate: the image appears at its path only on Commit; a second
// Create of the same path meanwhile is busy; Abort leaves the path as it
// was.
func TestCreate(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, FileName)
	if err := os.WriteFile(path, []byte("before"), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := Create(path)
	if err != nil {
		if errors.Is(err, os.ErrPermission) {
			t.Skip("needs the lock directory:", err)
		}
		t.Fatal(err)
	}
	if _, err := Create(path); !errors.Is(err, ErrBusy) {
		t.Fatalf("second Create: %v, want %v", err, ErrBusy)
	}
	if _, err := f.Write(containerSample(t)); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "before" {
		t.Fatalf("before Commit the path holds %q", b)
	}
	if err := f.Commit(); err != nil {
		t.Fatal(err)
	}
	if _, err := Validate(mustOpen(t, path)); err != nil {
		t.Fatal(err)
	}
	g, err := Create(path)
	if err != nil {
		t.Fatalf("Create after Commit: %v", err)
	}
	g.Abort()
	if _, err := Validate(mustOpen(t, path)); err != nil {
		t.Fatalf("after an aborted Create: %v", err)
	}
}

func mustOpen(t *testing.T, path string) *os.File {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// TestOpenOnlyRegular: Open refuses a FIFO (without waiting for a writer)
// and a device (without reading it): a pre-copy child's PARENT path is the
// image's to choose.
func TestOpenOnlyRegular(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{fifo, "/dev/zero", t.TempDir()} {
		if _, err := Open(p); err == nil {
			t.Errorf("Open(%s) accepted it", p)
		}
	}
}
