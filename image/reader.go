package image

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"reflect"

	"github.com/cespare/xxhash/v2"
)

const readBufSize = 1 << 20

// Options tune a Reader.
type Options struct {
	// NoDigest skips the digest check (used after a separate Validate
	// pass). PAGES data not read is then skipped with Seek when the
	// source is an io.Seeker, instead of being read.
	NoDigest bool
}

// Reader reads an image record by record, checking framing, payloads,
// objrefs and (unless Options.NoDigest) the TAIL digest as it goes. Every
// error it returns is a *FormatError, and it sticks: later calls return it
// again. io.EOF is returned only after a valid TAIL.
type Reader struct {
	src     io.Reader
	br      *bufio.Reader
	opt     Options
	digest  *xxhash.Digest
	off     int64  // stream offset of the next unread byte
	records uint64 // records read, skipped ones included
	hdr     *Header
	done    bool // a valid TAIL was read
	err     error

	recOff  int64  // offset of the record last returned
	recLen  uint32 // its len
	pending int64  // page data of the last PAGES record not yet consumed

	payload []byte
	objs    objTable
	seek    seekState
	onSkip  func(Type) // Validate counts skipped records through this
}

// NewReader returns a Reader of the image in r. Stream offset 0 is r's
// current position.
func NewReader(r io.Reader, opt Options) *Reader {
	return &Reader{src: r, br: bufio.NewReaderSize(r, readBufSize), opt: opt, digest: xxhash.New()}
}

// Header returns the image's HEADER once Next has returned it, else nil.
func (r *Reader) Header() *Header { return r.hdr }

// Offset returns the stream offset of the next unread byte.
func (r *Reader) Offset() int64 { return r.off }

// RecordOffset returns the stream offset of the record Next last returned.
func (r *Reader) RecordOffset() int64 { return r.recOff }

// RecordLen returns the len field of the record Next last returned.
func (r *Reader) RecordLen() uint32 { return r.recLen }

// Next returns the next record. The TAIL is returned as a *Tail; the call
// after it returns io.EOF. A *Pages record's data may be read with
// ReadPageData before the next call; whatever is left is consumed here.
func (r *Reader) Next() (Record, error) {
	if r.err != nil {
		return nil, r.err
	}
	if r.done {
		return nil, io.EOF
	}
	rec, err := r.next()
	if err != nil {
		r.err = err
		return nil, err
	}
	return rec, nil
}

func (r *Reader) next() (Record, error) {
	if r.pending > 0 {
		if err := r.consume(r.pending, r.recOff, TypePages, "page data"); err != nil {
			return nil, err
		}
		r.pending = 0
	}
	for {
		off := r.off
		var h [recordHeaderLen]byte
		n, err := io.ReadFull(r.br, h[:])
		r.off += int64(n)
		if errors.Is(err, io.EOF) {
			if r.records == 0 {
				return nil, formatErr(off, 0, ErrTruncated, "the stream is empty")
			}
			return nil, formatErr(off, 0, ErrMissingTail, "the stream ends after %d records without a TAIL", r.records)
		}
		if err != nil {
			return nil, r.readErr(off, 0, "record header", off, recordHeaderLen, err)
		}
		typ := Type(binary.LittleEndian.Uint32(h[0:]))
		ln := binary.LittleEndian.Uint32(h[4:])
		var tailSum uint64
		if typ == TypeTail {
			// The TAIL's digest covers every byte before the TAIL record.
			tailSum = r.digest.Sum64()
		}
		r.hash(h[:])
		if err := checkLen(off, typ, ln); err != nil {
			return nil, err
		}
		ti := byType[typ]
		if ti == nil || ti.retired {
			if !typ.Skippable() {
				return nil, formatErr(off, typ, ErrUnknownType, "type %d is below the skippable range (%#x)", uint32(typ), uint32(SkippableTypes))
			}
			if r.records == 0 {
				return nil, formatErr(off, typ, ErrBadMagic, "the first record must be a HEADER")
			}
			if err := r.consume(int64(ln)-recordHeaderLen, off, typ, "payload"); err != nil {
				return nil, err
			}
			if err := r.readPadding(off, typ, ln); err != nil {
				return nil, err
			}
			r.records++
			if r.onSkip != nil {
				r.onSkip(typ)
			}
			continue
		}
		switch {
		case r.records == 0 && typ != TypeHeader && typ != TypeError:
			return nil, formatErr(off, typ, ErrBadMagic, "the first record must be a HEADER")
		case r.records > 0 && typ == TypeHeader:
			return nil, formatErr(off, typ, ErrBadPayload, "only the first record may be a HEADER")
		}
		var rec Record
		if typ == TypePages {
			rec, err = r.readPages(off, ln)
		} else {
			rec, err = r.readRecord(off, typ, ln, tailSum)
		}
		if err != nil {
			return nil, err
		}
		r.records++
		r.recOff, r.recLen = off, ln
		return rec, nil
	}
}

// checkLen applies the length limits that hold before the type is known.
func checkLen(off int64, typ Type, ln uint32) error {
	switch {
	case ln < recordHeaderLen:
		return formatErr(off, typ, ErrBadLength, "len %d is shorter than the record header", ln)
	case ln > MaxRecordLen:
		return formatErr(off, typ, ErrBadLength, "len %d exceeds the limit of %d", ln, MaxRecordLen)
	case typ != TypePages && ln > MaxPlainRecordLen:
		return formatErr(off, typ, ErrBadLength, "len %d exceeds the limit of %d for records other than PAGES", ln, MaxPlainRecordLen)
	}
	return nil
}

func (r *Reader) hash(p []byte) {
	if !r.opt.NoDigest {
		_, _ = r.digest.Write(p)
	}
}

// readFull reads len(p) bytes, hashing and counting what it got.
func (r *Reader) readFull(p []byte) error {
	n, err := io.ReadFull(r.br, p)
	r.hash(p[:n])
	r.off += int64(n)
	return err
}

// readErr turns a failed read of want bytes at offset at, inside the
// record at recOff, into a FormatError.
func (r *Reader) readErr(recOff int64, t Type, what string, at int64, want int64, err error) *FormatError {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return formatErr(recOff, t, ErrTruncated, "%s: want %d bytes at offset %d, the stream ends at offset %d", what, want, at, r.off)
	}
	return formatErr(r.off, t, err, "reading %s", what)
}

// readRecord reads and decodes a record other than PAGES.
func (r *Reader) readRecord(off int64, typ Type, ln uint32, tailSum uint64) (Record, error) {
	size := int(ln) - recordHeaderLen
	if cap(r.payload) < size {
		r.payload = make([]byte, size)
	}
	buf := r.payload[:size]
	if err := r.readFull(buf); err != nil {
		return nil, r.readErr(off, typ, "payload", off+recordHeaderLen, int64(size), err)
	}
	rec := byType[typ].new()
	c := byGoType[reflect.TypeOf(rec)]
	v := reflect.ValueOf(rec).Elem()
	trailing, msg := c.decodePayload(buf, v)
	if msg != "" {
		return nil, formatErr(off, typ, ErrBadPayload, "%s", msg)
	}
	if trailing > 0 {
		return nil, formatErr(off, typ, ErrBadPayload, "%d trailing bytes", trailing)
	}
	if err := r.readPadding(off, typ, ln); err != nil {
		return nil, err
	}
	switch x := rec.(type) {
	case *Header:
		if detail, err := checkHeader(x); err != nil {
			return nil, formatErr(off, typ, err, "%s", detail)
		}
		r.hdr = x
	case *Tail:
		if err := r.checkTail(off, x, tailSum); err != nil {
			return nil, err
		}
		r.done = true
	case *Error:
		if x.Pid == 0 && x.Errno == 0 {
			return nil, formatErr(off, typ, ErrCheckpointFailed, "%s", x.Message)
		}
		return nil, formatErr(off, typ, ErrCheckpointFailed, "pid %d errno %d: %s", x.Pid, x.Errno, x.Message)
	}
	if detail := r.objs.check(c, v, off); detail != "" {
		return nil, formatErr(off, typ, ErrBadObjref, "%s", detail)
	}
	return rec, nil
}

func (r *Reader) checkTail(off int64, t *Tail, sum uint64) error {
	switch {
	case t.Magic != MagicTail:
		return formatErr(off, TypeTail, ErrBadMagic, "tail magic %#x, want %#x", t.Magic, MagicTail)
	case t.Records != r.records:
		return formatErr(off, TypeTail, ErrBadPayload, "the TAIL counts %d records before it, the stream has %d", t.Records, r.records)
	case t.Bytes != uint64(off):
		return formatErr(off, TypeTail, ErrBadPayload, "the TAIL says it is at offset %d", t.Bytes)
	case !r.opt.NoDigest && t.Digest != sum:
		return formatErr(off, TypeTail, ErrDigest, "the bytes before the TAIL hash to %#x, the TAIL says %#x", sum, t.Digest)
	}
	return nil
}

// checkHeader returns the sentinel and detail for a HEADER this package
// cannot read (or must not write), or nil.
func checkHeader(h *Header) (detail string, err error) {
	switch {
	case h.Magic != MagicHead:
		return fmt.Sprintf("header magic %#x, want %#x", h.Magic, MagicHead), ErrBadMagic
	case h.Major < OldestMajor || h.Major > VersionMajor:
		return fmt.Sprintf("format version %d.%d, this reader reads %d.x to %d.x", h.Major, h.Minor, OldestMajor, VersionMajor), ErrVersion
	case h.Arch != ArchAMD64:
		return fmt.Sprintf("arch %d, this reader reads only amd64 (%d)", h.Arch, ArchAMD64), ErrVersion
	case h.PageShift != PageShift:
		return fmt.Sprintf("page shift %d, this reader reads only %d", h.PageShift, PageShift), ErrVersion
	case h.Flags != 0:
		return fmt.Sprintf("unknown header flags %#x", h.Flags), ErrVersion
	case h.Reserved != 0:
		return fmt.Sprintf("reserved field is %#x, must be 0", h.Reserved), ErrBadPayload
	}
	return "", nil
}

// readPadding reads the zero padding after a record of length ln.
func (r *Reader) readPadding(off int64, typ Type, ln uint32) error {
	pad := int((recordAlign - ln%recordAlign) % recordAlign)
	if pad == 0 {
		return nil
	}
	return r.readZeros(off, typ, int64(off)+int64(ln), pad)
}

// readZeros reads n bytes at stream offset at that must all be zero.
func (r *Reader) readZeros(off int64, typ Type, at int64, n int) error {
	var buf [PageSize]byte
	p := buf[:n]
	if err := r.readFull(p); err != nil {
		return r.readErr(off, typ, "padding", at, int64(n), err)
	}
	for i, b := range p {
		if b != 0 {
			return formatErr(off, typ, ErrBadPayload, "padding byte at offset %d is %#x, must be 0", at+int64(i), b)
		}
	}
	return nil
}
