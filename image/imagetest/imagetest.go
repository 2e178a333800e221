// Package imagetest rewrites real images into hostile ones for tests: load
// an image a real checkpoint wrote, change, insert or remove records, and
// write it back with a fresh TAIL whose digest is valid, so that only the
// checks of the content (bounds, objrefs, privileges, paths) stand between
// the image and a restore. Records are re-encoded with image.AppendRecord,
// which skips the Writer's checks: a test can write what the Writer never
// would (a reference to no object, a count beyond the data).
//
//	im, _ := imagetest.Load(path)
//	i := im.Find(image.TypePipe)[0]
//	p := im.Items[i].Rec.(*image.Pipe)
//	p.Capacity = 1 << 16
//	_ = im.Replace(i, p)
//	_ = im.WriteFile(hostilePath)
package imagetest

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/cespare/xxhash/v2"

	"github.com/ckpt/ckpt/image"
)

// Item is one record of the image: Rec decoded (a *image.Pages without
// its data), Raw its bytes in the stream, padding (and PAGES data)
// included. Replace and Insert keep the two in step; a test may also set
// Raw to any bytes at all.
type Item struct {
	Rec image.Record
	Raw []byte
}

// Image is an image's records before its TAIL.
type Image struct {
	Items []Item
}

// Load reads a valid image (the TAIL is dropped: Bytes writes a new one).
func Load(path string) (*Image, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	rd := image.NewReader(bytes.NewReader(b), image.Options{})
	im := &Image{}
	var prev *Item
	var prevOff int64
	for {
		rec, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("load %s: %w", path, err)
		}
		off := rd.RecordOffset()
		if prev != nil {
			prev.Raw = b[prevOff:off]
		}
		if _, ok := rec.(*image.Tail); ok {
			break
		}
		im.Items = append(im.Items, Item{Rec: rec})
		prev, prevOff = &im.Items[len(im.Items)-1], off
	}
	return im, nil
}

// Find returns the indexes of the records of type t.
func (im *Image) Find(t image.Type) []int {
	var out []int
	for i, it := range im.Items {
		if it.Rec != nil && it.Rec.Type() == t {
			out = append(out, i)
		}
	}
	return out
}

// Replace puts rec in place of record i.
func (im *Image) Replace(i int, rec image.Record) error {
	raw, err := image.AppendRecord(nil, rec)
	if err != nil {
		return err
	}
	im.Items[i] = Item{Rec: rec, Raw: raw}
	return nil
}

// Insert puts recs before record i.
func (im *Image) Insert(i int, recs ...image.Record) error {
	var items []Item
	for _, rec := range recs {
		raw, err := image.AppendRecord(nil, rec)
		if err != nil {
			return err
		}
		items = append(items, Item{Rec: rec, Raw: raw})
	}
	im.Items = append(im.Items[:i], append(items, im.Items[i:]...)...)
	return nil
}

// Bytes is the image with a TAIL that counts and hashes what precedes it.
// A PAGES record's data starts on a page boundary of the file: records
// before it that changed size move it, so its padding is laid out anew.
func (im *Image) Bytes() ([]byte, error) {
	var b []byte
	for _, it := range im.Items {
		if _, ok := it.Rec.(*image.Pages); ok {
			b = appendPages(b, it.Raw)
			continue
		}
		b = append(b, it.Raw...)
	}
	tail := &image.Tail{Magic: image.MagicTail, Records: uint64(len(im.Items)), Bytes: uint64(len(b)), Digest: xxhash.Sum64(b)}
	return image.AppendRecord(b, tail)
}

// WriteFile writes Bytes to path, mode 0600.
func (im *Image) WriteFile(path string) error {
	b, err := im.Bytes()
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o600)
}

// SetCount overwrites the u32 count at byte offset off of record i's
// payload (after its 8-byte record header) with n, leaving everything
// else as it was: a count no record could carry, for the decoder to
// refuse. Rec is left as it was decoded.
func (im *Image) SetCount(i, off int, n uint32) error {
	raw := im.Items[i].Raw
	if off < 0 || 8+off+4 > len(raw) {
		return fmt.Errorf("record %d: offset %d is outside its %d bytes", i, off, len(raw))
	}
	raw = append([]byte(nil), raw...)
	binary.LittleEndian.PutUint32(raw[8+off:], n)
	im.Items[i].Raw = raw
	return nil
}

// Rewrite copies the image at in to out (mode 0600, its directory made if
// missing), every record but PAGES passed through edit and re-encoded, with
// a valid TAIL: only the content is hostile. edit changes the record it is
// given, or returns another one to put in its place.
func Rewrite(in, out string, edit func(image.Record) image.Record) error {
	im, err := Load(in)
	if err != nil {
		return err
	}
	for i, it := range im.Items {
		if _, pages := it.Rec.(*image.Pages); pages || it.Rec == nil {
			continue
		}
		rec := edit(it.Rec)
		if rec == nil {
			rec = it.Rec
		}
		if err := im.Replace(i, rec); err != nil {
			return fmt.Errorf("record %d (%s): %w", i, rec.Type(), err)
		}
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o700); err != nil {
		return err
	}
	return im.WriteFile(out)
}

// appendPages appends the PAGES record raw (as it stood somewhere else in a
// stream) at the end of b, its padding redone so that its data starts on a
// page boundary. The layout is docs/image-format.md's: the 8-byte record
// header, nr_pages, flags, nr_runs and 16 bytes a run, zeros up to the
// boundary, the pages.
func appendPages(b, raw []byte) []byte {
	le := binary.LittleEndian
	if len(raw) < 20 {
		return append(b, raw...)
	}
	n := int(le.Uint32(raw[8:]))
	fields := 12 + 16*int(le.Uint32(raw[16:]))
	if 8+fields > len(raw) || n*image.PageSize > len(raw) {
		return append(b, raw...) // not a PAGES record a test can move: keep it as it is
	}
	off := len(b)
	dataStart := (off + 8 + fields + image.PageSize - 1) &^ (image.PageSize - 1)
	b = append(b, raw[:8+fields]...)
	le.PutUint32(b[off+4:], uint32(dataStart-off+n*image.PageSize))
	b = append(b, make([]byte, dataStart-len(b))...)
	return append(b, raw[len(raw)-n*image.PageSize:]...)
}
