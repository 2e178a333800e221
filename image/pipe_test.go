package image

import (
	"bytes"
	"errors"
	"io"
	"os"
	"reflect"
	"testing"
)

// TestPipe writes the sample into an os.Pipe while another goroutine reads
// it, reading part of the page data and letting Next consume the rest.
func TestPipe(t *testing.T) {
	for _, opt := range []Options{{}, {NoDigest: true}} {
		pr, pw, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		script := sampleScript()
		done := make(chan error, 1)
		go func() {
			err := writeScript(NewWriter(pw), script)
			_ = pw.Close()
			done <- err
		}()
		want := buildSample(t)
		r := NewReader(pr, opt)
		for i := 0; ; i++ {
			rec, err := r.Next()
			if errors.Is(err, io.EOF) {
				if i != len(want.recs)+1 {
					t.Fatalf("EOF after %d records", i)
				}
				break
			}
			if err != nil {
				t.Fatalf("record %d: %v", i, err)
			}
			if p, ok := rec.(*Pages); ok {
				half := make([]byte, int(p.NrPages)*PageSize/2)
				if err := r.ReadPageData(half); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(half, want.data[i][:len(half)]) {
					t.Fatalf("record %d: page data differs", i)
				}
				p.DataOffset = 0
			}
			if i < len(want.recs) && !reflect.DeepEqual(rec, want.recs[i]) {
				t.Fatalf("record %d: %+v, want %+v", i, rec, want.recs[i])
			}
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		_ = pr.Close()
	}
}

// TestPagesSplit writes more than MaxPagesPerRecord pages, given as chunks
// that do not line up with the record split, through a pipe, and checks
// the records and their data.
func TestPagesSplit(t *testing.T) {
	const chunkPages = 256
	shared := bytes.Repeat([]byte{0x5a}, chunkPages*PageSize)
	tail := randBytes(newRand(), 300*PageSize) // crosses the first record's end
	var iov [][]byte
	for i := 0; i < MaxPagesPerRecord/chunkPages-1; i++ {
		iov = append(iov, shared)
	}
	iov = append(iov, tail)
	const vaddr = 0x7f0000000000
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	done := make(chan error, 1)
	go func() {
		w := NewWriter(pw)
		err := w.Write(NewHeader())
		if err == nil {
			err = w.WritePagesVec(vaddr, iov)
		}
		if err == nil {
			err = w.Close()
		}
		_ = pw.Close()
		done <- err
	}()
	r := NewReader(pr, Options{})
	if _, err := r.Next(); err != nil {
		t.Fatal(err)
	}
	type got struct {
		vaddr uint64
		n     uint32
	}
	var recs []got
	buf := make([]byte, MaxPagesPerRecord*PageSize)
	var last []byte
	for {
		rec, err := r.Next()
		if err != nil {
			t.Fatal(err)
		}
		p, ok := rec.(*Pages)
		if !ok {
			break
		}
		recs = append(recs, got{p.Vaddr, p.NrPages})
		data := buf[:int(p.NrPages)*PageSize]
		if err := r.ReadPageData(data); err != nil {
			t.Fatal(err)
		}
		if len(recs) == 1 {
			if !bytes.Equal(data[len(data)-chunkPages*PageSize:], tail[:chunkPages*PageSize]) ||
				!bytes.Equal(data[:len(shared)], shared) {
				t.Fatal("first PAGES record holds the wrong data")
			}
		}
		last = bytes.Clone(data)
	}
	want := []got{{vaddr, MaxPagesPerRecord}, {vaddr + MaxPagesPerRecord*PageSize, 300 - chunkPages}}
	if !reflect.DeepEqual(recs, want) {
		t.Fatalf("records %+v, want %+v", recs, want)
	}
	if !bytes.Equal(last, tail[chunkPages*PageSize:]) {
		t.Fatal("second PAGES record holds the wrong data")
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
