package image

import (
	"encoding/binary"
	"fmt"
)

// WritePages writes len(data)/PageSize pages of memory at vaddr as PAGES
// records of at most MaxPagesPerRecord pages each. vaddr and len(data)
// must be multiples of PageSize; no data writes nothing.
func (w *Writer) WritePages(vaddr uint64, data []byte) error {
	return w.WritePagesVec(vaddr, [][]byte{data})
}

// WritePagesVec is WritePages with the data given as consecutive chunks,
// each a multiple of PageSize, so callers holding pages in several buffers
// need not copy them together.
func (w *Writer) WritePagesVec(vaddr uint64, iov [][]byte) error {
	if err := w.usable(); err != nil {
		return err
	}
	fail := func(format string, args ...any) error {
		return fmt.Errorf("image: write PAGES %#x at offset %d: %w: %s", vaddr, w.off, ErrBadPayload, fmt.Sprintf(format, args...))
	}
	if !w.started {
		return fail("the first record must be a HEADER")
	}
	if vaddr%PageSize != 0 {
		return fail("address is not page-aligned")
	}
	var total uint64
	for i, b := range iov {
		if len(b)%PageSize != 0 {
			return fail("chunk %d is %d bytes, not a multiple of %d", i, len(b), PageSize)
		}
		total += uint64(len(b))
	}
	if vaddr+total < vaddr {
		return fail("%d bytes from here wrap around the address space", total)
	}
	ci, co := 0, 0 // position in iov
	for total > 0 {
		n := min(total/PageSize, MaxPagesPerRecord)
		if err := w.pagesHeader(vaddr, uint32(n)); err != nil {
			return err
		}
		for left := int(n * PageSize); left > 0; {
			chunk := iov[ci][co:]
			if len(chunk) == 0 {
				ci, co = ci+1, 0
				continue
			}
			k := min(len(chunk), left)
			if err := w.putData(chunk[:k]); err != nil {
				return err
			}
			co += k
			left -= k
		}
		w.records++
		vaddr += n * PageSize
		total -= n * PageSize
	}
	return nil
}

// pagesHeader writes the prefix, the fields and the alignment padding of
// a PAGES record of n pages starting at the current offset.
func (w *Writer) pagesHeader(vaddr uint64, n uint32) error {
	off := w.off
	fieldsEnd := off + recordHeaderLen + pagesFieldsLen
	dataStart := alignUp(fieldsEnd, PageSize)
	ln := dataStart - off + int64(n)*PageSize
	b := w.scratch[:0]
	b = binary.LittleEndian.AppendUint32(b, uint32(TypePages))
	b = binary.LittleEndian.AppendUint32(b, uint32(ln))
	b = binary.LittleEndian.AppendUint64(b, vaddr)
	b = binary.LittleEndian.AppendUint32(b, n)
	b = binary.LittleEndian.AppendUint32(b, 0) // Flags
	b = append(b, zeroPad[:dataStart-fieldsEnd]...)
	w.scratch = b
	return w.put(b)
}

func (w *Writer) putData(b []byte) error {
	if len(b) >= directWriteMin {
		return w.putDirect(b)
	}
	return w.put(b)
}
