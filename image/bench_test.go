package image

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/cespare/xxhash/v2"
)

const benchChunk = MaxPagesPerRecord * PageSize // 64 MiB

// BenchmarkWritePages writes 1 GiB of page data per op to io.Discard, in
// 64 MiB calls: the cost is framing plus the digest.
func BenchmarkWritePages(b *testing.B) {
	data := bytes.Repeat([]byte{0xa5}, benchChunk)
	b.SetBytes(16 * benchChunk)
	b.ResetTimer()
	for range b.N {
		w := NewWriter(io.Discard)
		if err := w.Write(NewHeader()); err != nil {
			b.Fatal(err)
		}
		for i := range 16 {
			if err := w.WritePages(uint64(i)*benchChunk, data); err != nil {
				b.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

// benchImage is an image of 256 MiB of pages, built once.
var benchImage []byte

func buildBenchImage(b *testing.B) []byte {
	if benchImage != nil {
		return benchImage
	}
	chunk := bytes.Repeat([]byte{0x3c}, 1<<20)
	iov := make([][]byte, 256)
	for i := range iov {
		iov[i] = chunk
	}
	var buf bytes.Buffer
	buf.Grow(257 << 20)
	w := NewWriter(&buf)
	if err := w.Write(NewHeader()); err != nil {
		b.Fatal(err)
	}
	if err := w.WritePagesVec(0x10000000, iov); err != nil {
		b.Fatal(err)
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	benchImage = buf.Bytes()
	return benchImage
}

// BenchmarkReadPages reads a 256 MiB image per op from a bytes.Reader:
// "skip" lets Next consume (and hash) the data, "read" copies it out with
// ReadPageData, "nodigest" seeks over it.
func BenchmarkReadPages(b *testing.B) {
	img := buildBenchImage(b)
	dst := make([]byte, benchChunk)
	for _, bc := range []struct {
		name string
		opt  Options
		read bool
	}{{"skip", Options{}, false}, {"read", Options{}, true}, {"nodigest", Options{NoDigest: true}, false}} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(img)))
			for range b.N {
				r := NewReader(bytes.NewReader(img), bc.opt)
				for {
					rec, err := r.Next()
					if errors.Is(err, io.EOF) {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
					if p, ok := rec.(*Pages); ok && bc.read {
						if err := r.ReadPageData(dst[:int(p.NrPages)*PageSize]); err != nil {
							b.Fatal(err)
						}
					}
				}
			}
		})
	}
}

// BenchmarkXXH64 is the floor the two benchmarks above are measured against.
func BenchmarkXXH64(b *testing.B) {
	data := bytes.Repeat([]byte{0xa5}, benchChunk)
	b.SetBytes(benchChunk)
	for range b.N {
		_ = xxhash.Sum64(data)
	}
}
