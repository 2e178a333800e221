package image

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

type strangeRecord struct{}

func (*strangeRecord) Type() Type { return TypeFs }

func TestWriterRefuses(t *testing.T) {
	started := func() *Writer {
		w := NewWriter(io.Discard)
		if err := w.Write(NewHeader()); err != nil {
			t.Fatal(err)
		}
		return w
	}
	badHeader := NewHeader()
	badHeader.Flags = 1
	cases := []struct {
		name string
		do   func() error
		want error
		text string
	}{
		{"record before header", func() error { return NewWriter(io.Discard).Write(&Task{}) }, ErrBadMagic, "first record"},
		{"pages before header", func() error { return NewWriter(io.Discard).WritePages(0, make([]byte, PageSize)) }, ErrBadPayload, "first record"},
		{"second header", func() error { return started().Write(NewHeader()) }, ErrBadPayload, "only the first"},
		{"header with flags", func() error { return NewWriter(io.Discard).Write(badHeader) }, ErrVersion, "flags"},
		{"tail", func() error { return started().Write(&Tail{}) }, ErrBadPayload, "Close"},
		{"error", func() error { return started().Write(&Error{}) }, ErrBadPayload, "Abort"},
		{"pages", func() error { return started().Write(&Pages{}) }, ErrBadPayload, "WritePages"},
		{"foreign type", func() error { return started().Write(&strangeRecord{}) }, ErrUnknownType, "strangeRecord"},
		{"nil", func() error { return started().Write(nil) }, nil, "nil record"},
		{"nil pointer", func() error { return started().Write((*Vma)(nil)) }, nil, "nil *image.Vma"},
		{"too large", func() error { return started().Write(&Creds{Groups: make([]uint32, 300000)}) }, ErrBadLength, "limit"},
		{"unaligned vaddr", func() error { return started().WritePages(100, make([]byte, PageSize)) }, ErrBadPayload, "page-aligned"},
		{"partial page", func() error { return started().WritePagesVec(0, [][]byte{make([]byte, PageSize), make([]byte, 10)}) }, ErrBadPayload, "chunk 1"},
		{"wrap", func() error { return started().WritePages(1<<64-PageSize, make([]byte, 2*PageSize)) }, ErrBadPayload, "wrap"},
		{"close without header", func() error { return NewWriter(io.Discard).Close() }, ErrBadMagic, "no HEADER"},
		{"write after close", func() error {
			w := started()
			if err := w.Close(); err != nil {
				return err
			}
			return w.Write(&Task{})
		}, nil, "closed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.do()
			if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) || !strings.Contains(err.Error(), tc.text) {
				t.Fatalf("got %v, want %v containing %q", err, tc.want, tc.text)
			}
		})
	}
}

func TestWriterEmptyPagesAndCounters(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	if err := w.Write(NewHeader()); err != nil {
		t.Fatal(err)
	}
	off := w.Offset()
	if err := w.WritePages(0x1000, nil); err != nil || w.Offset() != off || w.Records() != 1 {
		t.Fatalf("empty WritePages: %v, offset %d -> %d, %d records", err, off, w.Offset(), w.Records())
	}
	if err := w.WritePages(0x1000, make([]byte, 2*PageSize)); err != nil {
		t.Fatal(err)
	}
	// The header ends before 4096, so the data starts at 4096 and the
	// record ends at 3*4096.
	if w.Offset() != 3*PageSize || w.Records() != 2 {
		t.Fatalf("after one PAGES record: offset %d, %d records", w.Offset(), w.Records())
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if w.Offset() != int64(buf.Len()) || w.Records() != 3 {
		t.Fatalf("after Close: offset %d (stream %d), %d records", w.Offset(), buf.Len(), w.Records())
	}
}

type failingWriter struct{ after int }

var errDiskFull = errors.New("disk full")

func (f *failingWriter) Write(p []byte) (int, error) {
	if len(p) > f.after {
		n := f.after
		f.after = 0
		return n, errDiskFull
	}
	f.after -= len(p)
	return len(p), nil
}

// TestWriterErrorSticks: after the destination fails, every call reports
// that failure.
func TestWriterErrorSticks(t *testing.T) {
	w := NewWriter(&failingWriter{after: 5000})
	if err := w.Write(NewHeader()); err != nil {
		t.Fatal(err) // still buffered
	}
	err := w.WritePages(0, make([]byte, 128*PageSize)) // direct write: fails
	if !errors.Is(err, errDiskFull) {
		t.Fatalf("WritePages: %v", err)
	}
	for _, err2 := range []error{w.Write(&Task{}), w.Close(), w.Abort("x")} {
		if !errors.Is(err2, errDiskFull) {
			t.Fatalf("after the failure: %v", err2)
		}
	}
}

func TestAbortTruncatesMessage(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	long := strings.Repeat("x", 2*maxErrorMessage)
	if err := w.Abort(long); err != nil {
		t.Fatal(err)
	}
	_, err := Validate(bytes.NewReader(buf.Bytes()))
	checkFormatError(t, err, ErrCheckpointFailed)
	if n := strings.Count(err.Error(), "x"); n != maxErrorMessage {
		t.Fatalf("message kept %d bytes, want %d", n, maxErrorMessage)
	}
}
