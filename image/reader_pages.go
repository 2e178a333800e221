package image

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
)

// readPages reads the fields and the alignment padding of a PAGES record;
// its data is left for ReadPageData or the next call to Next.
func (r *Reader) readPages(off int64, ln uint32) (Record, error) {
	if ln < recordHeaderLen+uint32(pagesFieldsLen(0)) {
		return nil, formatErr(off, TypePages, ErrBadLength, "len %d is too short for the PAGES fields", ln)
	}
	var f [12]byte
	if err := r.readFull(f[:]); err != nil {
		return nil, r.readErr(off, TypePages, "fields", off+recordHeaderLen, 12, err)
	}
	p := &Pages{
		NrPages: binary.LittleEndian.Uint32(f[0:]),
		Flags:   binary.LittleEndian.Uint32(f[4:]),
	}
	nruns := binary.LittleEndian.Uint32(f[8:])
	switch {
	case p.NrPages == 0 || p.NrPages > MaxPagesPerRecord:
		return nil, formatErr(off, TypePages, ErrBadPayload, "NrPages %d is outside 1..%d", p.NrPages, MaxPagesPerRecord)
	case nruns == 0 || nruns > MaxRunsPerRecord || nruns > p.NrPages:
		return nil, formatErr(off, TypePages, ErrBadPayload, "%d runs for %d pages (1..%d allowed)", nruns, p.NrPages, MaxRunsPerRecord)
	case p.Flags != 0:
		return nil, formatErr(off, TypePages, ErrBadPayload, "unknown flags %#x", p.Flags)
	case int64(ln) < recordHeaderLen+pagesFieldsLen(int(nruns)):
		return nil, formatErr(off, TypePages, ErrBadLength, "len %d is too short for %d runs", ln, nruns)
	}
	rb := make([]byte, 16*nruns)
	if err := r.readFull(rb); err != nil {
		return nil, r.readErr(off, TypePages, "runs", off+recordHeaderLen+12, int64(len(rb)), err)
	}
	var sum uint64
	var prevEnd uint64
	for i := uint32(0); i < nruns; i++ {
		run := PageRun{
			Vaddr:    binary.LittleEndian.Uint64(rb[16*i:]),
			Pages:    binary.LittleEndian.Uint32(rb[16*i+8:]),
			Reserved: binary.LittleEndian.Uint32(rb[16*i+12:]),
		}
		size := uint64(run.Pages) * PageSize
		switch {
		case run.Pages == 0 || run.Reserved != 0:
			return nil, formatErr(off, TypePages, ErrBadPayload, "run %d: %d pages, reserved %#x", i, run.Pages, run.Reserved)
		case run.Vaddr%PageSize != 0:
			return nil, formatErr(off, TypePages, ErrBadPayload, "run %d: address %#x is not page-aligned", i, run.Vaddr)
		case run.Vaddr > math.MaxUint64-size+1:
			return nil, formatErr(off, TypePages, ErrBadPayload, "run %d: %d pages at %#x wrap around the address space", i, run.Pages, run.Vaddr)
		case i > 0 && run.Vaddr < prevEnd:
			return nil, formatErr(off, TypePages, ErrBadPayload, "run %d at %#x overlaps or precedes the run before", i, run.Vaddr)
		}
		prevEnd = run.Vaddr + size
		sum += uint64(run.Pages)
		p.Runs = append(p.Runs, run)
	}
	if sum != uint64(p.NrPages) {
		return nil, formatErr(off, TypePages, ErrBadPayload, "runs hold %d pages, NrPages says %d", sum, p.NrPages)
	}
	fieldsEnd := off + recordHeaderLen + pagesFieldsLen(int(nruns))
	dataStart := alignUp(fieldsEnd, PageSize)
	size := uint64(p.NrPages) * PageSize
	if int64(ln) != dataStart-off+int64(size) {
		return nil, formatErr(off, TypePages, ErrBadLength, "len %d, want %d for %d pages with data at offset %d",
			ln, dataStart-off+int64(size), p.NrPages, dataStart)
	}
	if err := r.readZeros(off, TypePages, fieldsEnd, int(dataStart-fieldsEnd)); err != nil {
		return nil, err
	}
	p.Vaddr = p.Runs[0].Vaddr
	p.DataOffset = dataStart
	r.pending = int64(size)
	return p, nil
}

// ReadPageData reads the next len(dst) bytes of the data of the PAGES
// record Next last returned. Several calls read consecutive data; asking
// for more than is left is an error (not a *FormatError: it is the
// caller's mistake, and the Reader stays usable).
func (r *Reader) ReadPageData(dst []byte) error {
	if r.err != nil {
		return r.err
	}
	if int64(len(dst)) > r.pending {
		return fmt.Errorf("image: ReadPageData of %d bytes: %d bytes of page data are left in the record at offset %d",
			len(dst), r.pending, r.recOff)
	}
	at := r.off
	err := r.readFull(dst)
	r.pending -= r.off - at
	if err != nil {
		r.err = r.readErr(r.recOff, TypePages, "page data", at, int64(len(dst)), err)
		return r.err
	}
	return nil
}

// consume reads (and hashes) n bytes nobody wants, without copying them
// out of the buffer; with NoDigest it seeks over them when it can.
func (r *Reader) consume(n int64, recOff int64, typ Type, what string) error {
	if done, err := r.seekOver(n, recOff, typ, what); done {
		return err
	}
	at, want := r.off, n
	for n > 0 {
		b, err := r.br.Peek(int(min(n, int64(r.br.Size()))))
		r.hash(b)
		_, _ = r.br.Discard(len(b))
		r.off += int64(len(b))
		n -= int64(len(b))
		if err != nil && n > 0 {
			return r.readErr(recOff, typ, what, at, want, err)
		}
	}
	return nil
}

// seekState remembers whether the source can seek, probed on first use.
type seekState struct {
	probed bool
	s      io.Seeker // nil if the source cannot seek
	end    int64     // stream offset of the end of the source
}

// seekOver skips n bytes with Seek if the digest is off and the source
// seeks. done reports whether it handled the skip (successfully or not).
func (r *Reader) seekOver(n int64, recOff int64, typ Type, what string) (done bool, err error) {
	if !r.opt.NoDigest {
		return false, nil
	}
	if !r.seek.probed {
		r.seek.probed = true
		r.seek.s, r.seek.end = r.probeSeek()
	}
	s := r.seek.s
	if s == nil {
		return false, nil
	}
	at := r.off
	if at+n > r.seek.end {
		return true, formatErr(recOff, typ, ErrTruncated, "%s: want %d bytes at offset %d, the stream ends at offset %d",
			what, n, at, r.seek.end)
	}
	buffered := int64(r.br.Buffered())
	if n <= buffered {
		_, _ = r.br.Discard(int(n))
		r.off += n
		return true, nil
	}
	_, _ = r.br.Discard(int(buffered))
	if _, err := s.Seek(n-buffered, io.SeekCurrent); err != nil {
		return true, formatErr(at+buffered, typ, err, "seeking over %s", what)
	}
	r.off += n
	return true, nil
}

// probeSeek returns the source as a Seeker and the stream offset of its
// end, or nil if it cannot seek (a pipe is an *os.File, but its Seek
// fails). The source's position is left where it was.
func (r *Reader) probeSeek() (io.Seeker, int64) {
	s, ok := r.src.(io.Seeker)
	if !ok {
		return nil, 0
	}
	cur, err := s.Seek(0, io.SeekCurrent)
	if err != nil {
		return nil, 0
	}
	end, err := s.Seek(0, io.SeekEnd)
	if _, err2 := s.Seek(cur, io.SeekStart); err != nil || err2 != nil {
		return nil, 0
	}
	// The source is at cur, which is r.off plus what the buffer holds.
	return s, end - cur + r.off + int64(r.br.Buffered())
}
