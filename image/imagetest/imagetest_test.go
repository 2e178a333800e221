package imagetest

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/ckpt/ckpt/image"
)

// small writes an image with one pipe holding some data.
func small(t *testing.T) string {
	t.Helper()
	var buf bytes.Buffer
	w := image.NewWriter(&buf)
	for _, r := range []image.Record{image.NewHeader(), &image.Pipe{Objref: 1, PipeID: 7, Capacity: 1 << 16}, &image.PipeData{PipeID: 7, Data: []byte("queued")}} {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "image.ckpt")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func validate(t *testing.T, im *Image) error {
	t.Helper()
	b, err := im.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	_, err = image.Validate(bytes.NewReader(b))
	return err
}

// TestRoundTrip: an image loaded and written back unchanged is valid and
// the same bytes.
func TestRoundTrip(t *testing.T) {
	path := small(t)
	im, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := validate(t, im); err != nil {
		t.Fatal(err)
	}
}

// TestOverfullPipe: a pipe's data beyond its capacity, with a valid digest,
// is refused by validation.
func TestOverfullPipe(t *testing.T) {
	im, err := Load(small(t))
	if err != nil {
		t.Fatal(err)
	}
	i := im.Find(image.TypePipeData)[0]
	var recs []image.Record
	for n := 0; n < (1<<20)/image.PipeDataChunk; n++ {
		recs = append(recs, &image.PipeData{PipeID: 7, Data: make([]byte, image.PipeDataChunk)})
	}
	if err := im.Insert(i+1, recs...); err != nil {
		t.Fatal(err)
	}
	if err := validate(t, im); !errors.Is(err, image.ErrOverCapacity) {
		t.Fatalf("1 MiB in a 64 KiB pipe: %v, want %v", err, image.ErrOverCapacity)
	}
}

// TestHugeCount: a count beyond the record is refused.
func TestHugeCount(t *testing.T) {
	im, err := Load(small(t))
	if err != nil {
		t.Fatal(err)
	}
	i := im.Find(image.TypePipeData)[0]
	if err := im.SetCount(i, 4, 0xffffffff); err != nil {
		t.Fatal(err)
	}
	if err := validate(t, im); !errors.Is(err, image.ErrBadPayload) {
		t.Fatalf("count 2^32-1: %v, want %v", err, image.ErrBadPayload)
	}
}

// TestBogusObjref: a reference to an object defined nowhere is refused.
func TestBogusObjref(t *testing.T) {
	im, err := Load(small(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := im.Insert(len(im.Items), &image.Fd{Fd: 3, File: 99}); err != nil {
		t.Fatal(err)
	}
	if err := validate(t, im); !errors.Is(err, image.ErrBadObjref) {
		t.Fatalf("FD of objref 99: %v, want %v", err, image.ErrBadObjref)
	}
}

// TestMovedPages: a record inserted before a PAGES record moves it; its data
// still starts on a page boundary, so the image stays valid and the pages
// read back the same.
func TestMovedPages(t *testing.T) {
	var buf bytes.Buffer
	w := image.NewWriter(&buf)
	if err := w.Write(image.NewHeader()); err != nil {
		t.Fatal(err)
	}
	page := bytes.Repeat([]byte{0xa5}, image.PageSize)
	if err := w.WritePages(0x10000, page); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "image.ckpt")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	im, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	i := im.Find(image.TypePages)[0]
	if err := im.Insert(i, &image.Stats{Tasks: 1}); err != nil {
		t.Fatal(err)
	}
	b, err := im.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	rd := image.NewReader(bytes.NewReader(b), image.Options{})
	for {
		rec, err := rd.Next()
		if err != nil {
			t.Fatalf("the rewritten image: %v", err)
		}
		if _, ok := rec.(*image.Pages); ok {
			got := make([]byte, image.PageSize)
			if err := rd.ReadPageData(got); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, page) {
				t.Fatal("the moved page reads back different")
			}
			return
		}
	}
}
