package image

import (
	"encoding/binary"
	"fmt"
)

// WritePages writes len(data)/PageSize pages of memory at vaddr. vaddr and
// len(data) must be multiples of PageSize; no data writes nothing.
func (w *Writer) WritePages(vaddr uint64, data []byte) error {
	return w.WritePagesVec(vaddr, [][]byte{data})
}

// WritePagesVec is WritePages with the data given as consecutive chunks,
// each a multiple of PageSize, so callers holding pages in several buffers
// need not copy them together.
func (w *Writer) WritePagesVec(vaddr uint64, iov [][]byte) error {
	var total int
	for _, b := range iov {
		total += len(b)
	}
	if total == 0 {
		return nil
	}
	return w.WritePageRuns([]PageRun{{Vaddr: vaddr, Pages: uint32(total / PageSize)}}, iov)
}

// WritePageRuns writes the pages of several runs, in ascending address
// order without overlap, as PAGES records of at most MaxPagesPerRecord
// pages and MaxRunsPerRecord runs. data holds the pages of every run, run
// after run, in chunks that are multiples of PageSize.
func (w *Writer) WritePageRuns(runs []PageRun, data [][]byte) error {
	if err := w.usable(); err != nil {
		return err
	}
	fail := func(format string, args ...any) error {
		return fmt.Errorf("image: write PAGES at offset %d: %w: %s", w.off, ErrBadPayload, fmt.Sprintf(format, args...))
	}
	if !w.started {
		return fail("the first record must be a HEADER")
	}
	var total, bytes uint64
	for i, r := range runs {
		if r.Vaddr%PageSize != 0 || r.Pages == 0 {
			return fail("run %d (%#x, %d pages): not page-aligned, or empty", i, r.Vaddr, r.Pages)
		}
		end := r.Vaddr + uint64(r.Pages)*PageSize
		if end <= r.Vaddr {
			return fail("run %d at %#x wraps around the address space", i, r.Vaddr)
		}
		if i > 0 && r.Vaddr < runs[i-1].Vaddr+uint64(runs[i-1].Pages)*PageSize {
			return fail("run %d at %#x overlaps or precedes the one before", i, r.Vaddr)
		}
		total += uint64(r.Pages)
	}
	for i, b := range data {
		if len(b)%PageSize != 0 {
			return fail("chunk %d is %d bytes, not a multiple of %d", i, len(b), PageSize)
		}
		bytes += uint64(len(b))
	}
	if bytes != total*PageSize {
		return fail("%d bytes of data for %d pages", bytes, total)
	}
	d := dataCursor{iov: data}
	for len(runs) > 0 {
		// Fill one record: whole runs while they fit, then part of one.
		var rec []PageRun
		var n uint32
		for len(runs) > 0 && len(rec) < MaxRunsPerRecord && n < MaxPagesPerRecord {
			r := runs[0]
			take := min(r.Pages, MaxPagesPerRecord-n)
			rec = append(rec, PageRun{Vaddr: r.Vaddr, Pages: take})
			n += take
			if take == r.Pages {
				runs = runs[1:]
			} else {
				runs[0] = PageRun{Vaddr: r.Vaddr + uint64(take)*PageSize, Pages: r.Pages - take}
				runs = append([]PageRun{runs[0]}, runs[1:]...)
			}
		}
		if err := w.pagesHeader(rec, n); err != nil {
			return err
		}
		if err := d.write(w, int(n)*PageSize); err != nil {
			return err
		}
		w.records++
	}
	return nil
}

// dataCursor walks page data given as chunks.
type dataCursor struct {
	iov    [][]byte
	ci, co int
}

func (d *dataCursor) write(w *Writer, left int) error {
	for left > 0 {
		chunk := d.iov[d.ci][d.co:]
		if len(chunk) == 0 {
			d.ci, d.co = d.ci+1, 0
			continue
		}
		k := min(len(chunk), left)
		if err := w.putData(chunk[:k]); err != nil {
			return err
		}
		d.co += k
		left -= k
	}
	return nil
}

// pagesHeader writes the prefix, the fields and the alignment padding of
// a PAGES record of n pages in runs, starting at the current offset.
func (w *Writer) pagesHeader(runs []PageRun, n uint32) error {
	off := w.off
	fieldsEnd := off + recordHeaderLen + pagesFieldsLen(len(runs))
	dataStart := alignUp(fieldsEnd, PageSize)
	ln := dataStart - off + int64(n)*PageSize
	b := w.scratch[:0]
	b = binary.LittleEndian.AppendUint32(b, uint32(TypePages))
	b = binary.LittleEndian.AppendUint32(b, uint32(ln))
	b = binary.LittleEndian.AppendUint32(b, n)
	b = binary.LittleEndian.AppendUint32(b, 0) // Flags
	b = binary.LittleEndian.AppendUint32(b, uint32(len(runs)))
	for _, r := range runs {
		b = binary.LittleEndian.AppendUint64(b, r.Vaddr)
		b = binary.LittleEndian.AppendUint32(b, r.Pages)
		b = binary.LittleEndian.AppendUint32(b, 0)
	}
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
