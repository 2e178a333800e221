package image

import (
	"bytes"
	"errors"
	"io"
	"runtime"
	"testing"
)

// FuzzReader feeds arbitrary streams to the Reader and Validate: they must
// never panic, every error must be a *FormatError, and no pass may
// allocate more than twice the input plus 64 MiB.
func FuzzReader(f *testing.F) {
	s := buildSample(f)
	f.Add(s.bytes)
	var offs []int64
	r := NewReader(bytes.NewReader(s.bytes), Options{})
	for {
		if _, err := r.Next(); err != nil {
			break
		}
		offs = append(offs, r.RecordOffset())
	}
	for _, off := range offs {
		f.Add(s.bytes[:off])
		f.Add(s.bytes[:off+5])
		f.Add(s.bytes[:off+13])
	}
	f.Add([]byte{})
	page := make([]byte, PageSize)
	f.Fuzz(func(t *testing.T, data []byte) {
		passes := map[string]func() error{
			"validate": func() error { _, err := Validate(bytes.NewReader(data)); return err },
			"next":     func() error { return fuzzNext(data, Options{}, page) },
			"nodigest": func() error { return fuzzNext(data, Options{NoDigest: true}, page) },
		}
		for name, pass := range passes {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			err := pass()
			runtime.ReadMemStats(&after)
			if err != nil {
				var fe *FormatError
				if !errors.As(err, &fe) {
					t.Fatalf("%s: error %v (%T) is not a *FormatError", name, err, err)
				}
			}
			if alloc, limit := after.TotalAlloc-before.TotalAlloc, uint64(2*len(data)+64<<20); alloc > limit {
				t.Fatalf("%s: allocated %d bytes for a %d-byte input", name, alloc, len(data))
			}
		}
	})
}

// fuzzNext reads every record, and a page of data from every other PAGES
// record.
func fuzzNext(data []byte, opt Options, page []byte) error {
	r := NewReader(bytes.NewReader(data), opt)
	for i := 0; ; i++ {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if _, ok := rec.(*Pages); ok && i%2 == 0 {
			if err := r.ReadPageData(page); err != nil {
				return err
			}
		}
	}
}
