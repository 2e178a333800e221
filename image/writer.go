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

const (
	writeBufSize = 1 << 20
	// directWriteMin: page data chunks at least this long skip the bufio
	// copy and go straight to the destination after a flush.
	directWriteMin = 256 << 10
	// maxErrorMessage caps an ERROR message so the record stays far below
	// MaxPlainRecordLen.
	maxErrorMessage = 64 << 10
)

var errClosed = errors.New("image: writer already closed")

// zeroPad is the source of every padding byte.
var zeroPad [PageSize]byte

// Writer writes an image to any io.Writer, strictly sequentially (pipes
// and sockets work). It checks what it writes against the rules a Reader
// enforces, so a bug in the checkpointing code fails the checkpoint rather
// than a later restore. Not safe for concurrent use.
type Writer struct {
	dst     io.Writer
	bw      *bufio.Writer
	digest  *xxhash.Digest
	off     int64
	records uint64
	started bool  // HEADER written
	closed  bool  // TAIL or ERROR written
	err     error // first write error of dst; the stream is unusable after it
	scratch []byte
	objs    objTable
}

// NewWriter returns a Writer writing to w through a 1 MiB buffer. Close
// or Abort flushes it; neither closes w.
func NewWriter(w io.Writer) *Writer {
	return &Writer{dst: w, bw: bufio.NewWriterSize(w, writeBufSize), digest: xxhash.New()}
}

// Offset returns the number of stream bytes written so far (buffered ones
// included).
func (w *Writer) Offset() int64 { return w.off }

// Records returns the number of records written so far, including the
// TAIL or ERROR once Close or Abort has written it.
func (w *Writer) Records() uint64 { return w.records }

func (w *Writer) usable() error {
	if w.err != nil {
		return w.err
	}
	if w.closed {
		return errClosed
	}
	return nil
}

// Write encodes r as one record. The first record must be the *Header;
// TAIL, ERROR and PAGES records have their own methods (Close, Abort,
// WritePages).
func (w *Writer) Write(r Record) error {
	if err := w.usable(); err != nil {
		return err
	}
	if r == nil {
		return errors.New("image: write of a nil record")
	}
	rv := reflect.ValueOf(r)
	c := byGoType[rv.Type()]
	if c == nil {
		return fmt.Errorf("image: write %T at offset %d: %w", r, w.off, ErrUnknownType)
	}
	if rv.IsNil() {
		return fmt.Errorf("image: write of a nil %T", r)
	}
	t := c.typ
	fail := func(err error, format string, args ...any) error {
		return fmt.Errorf("image: write %s at offset %d: %w: %s", t, w.off, err, fmt.Sprintf(format, args...))
	}
	switch {
	case t == TypeTail:
		return fail(ErrBadPayload, "the TAIL is written by Close")
	case t == TypeError:
		return fail(ErrBadPayload, "an ERROR is written by Abort")
	case t == TypePages:
		return fail(ErrBadPayload, "PAGES are written by WritePages")
	case t == TypeHeader && w.started:
		return fail(ErrBadPayload, "only the first record may be a HEADER")
	case t != TypeHeader && !w.started:
		return fail(ErrBadMagic, "the first record must be a HEADER")
	}
	v := rv.Elem()
	if t == TypeHeader {
		if detail, err := checkHeader(r.(*Header)); err != nil {
			return fail(err, "%s", detail)
		}
	}
	size := recordHeaderLen + c.root.encodedLen(v)
	if size > MaxPlainRecordLen {
		return fail(ErrBadLength, "%d bytes, the limit is %d", size, MaxPlainRecordLen)
	}
	if detail := w.objs.check(c, v, w.off); detail != "" {
		return fail(ErrBadObjref, "%s", detail)
	}
	b := append(w.scratch[:0], zeroPad[:recordHeaderLen]...)
	b = c.encodePayload(b, v)
	b = finishRecord(b, t)
	w.scratch = b
	if err := w.put(b); err != nil {
		return err
	}
	w.records++
	w.started = true
	return nil
}

// finishRecord fills in the {type, len} prefix of the record in b and
// appends the zero padding to the next 8-byte boundary.
func finishRecord(b []byte, t Type) []byte {
	binary.LittleEndian.PutUint32(b[0:], uint32(t))
	binary.LittleEndian.PutUint32(b[4:], uint32(len(b)))
	for len(b)%recordAlign != 0 {
		b = append(b, 0)
	}
	return b
}

// put hands b to the buffer; every stream byte except the TAIL's passes
// through put or putDirect, so the digest sees exactly the stream.
func (w *Writer) put(b []byte) error {
	_, _ = w.digest.Write(b)
	if _, err := w.bw.Write(b); err != nil {
		w.err = fmt.Errorf("image: write at offset %d: %w", w.off, err)
		return w.err
	}
	w.off += int64(len(b))
	return nil
}

// putDirect writes b to the destination without copying it into the
// buffer (after flushing what the buffer holds, to keep the order).
func (w *Writer) putDirect(b []byte) error {
	if err := w.bw.Flush(); err != nil {
		w.err = fmt.Errorf("image: write at offset %d: %w", w.off-int64(w.bw.Buffered()), err)
		return w.err
	}
	_, _ = w.digest.Write(b)
	if _, err := w.dst.Write(b); err != nil {
		w.err = fmt.Errorf("image: write at offset %d: %w", w.off, err)
		return w.err
	}
	w.off += int64(len(b))
	return nil
}

// Close writes the TAIL and flushes. It is an error to close an image
// without a HEADER.
func (w *Writer) Close() error {
	if err := w.usable(); err != nil {
		return err
	}
	if !w.started {
		return fmt.Errorf("image: close at offset %d: %w: no HEADER was written", w.off, ErrBadMagic)
	}
	tail := &Tail{Magic: MagicTail, Records: w.records, Bytes: uint64(w.off), Digest: w.digest.Sum64()}
	if err := w.writeFinal(tail); err != nil {
		return err
	}
	return nil
}

// Abort ends a failed checkpoint: it writes an ERROR record carrying msg
// (the first 64 KiB of it) and flushes, and writes no TAIL. It works
// before the HEADER too.
func (w *Writer) Abort(msg string) error {
	if err := w.usable(); err != nil {
		return err
	}
	if len(msg) > maxErrorMessage {
		msg = msg[:maxErrorMessage]
	}
	return w.writeFinal(&Error{Message: msg})
}

// writeFinal writes the last record (TAIL or ERROR) and flushes.
func (w *Writer) writeFinal(r Record) error {
	c := byGoType[reflect.TypeOf(r)]
	b := append(w.scratch[:0], zeroPad[:recordHeaderLen]...)
	b = finishRecord(c.encodePayload(b, reflect.ValueOf(r).Elem()), c.typ)
	if err := w.put(b); err != nil {
		return err
	}
	w.records++
	w.closed = true
	if err := w.bw.Flush(); err != nil {
		w.err = fmt.Errorf("image: flush at offset %d: %w", w.off, err)
		return w.err
	}
	return nil
}

func alignUp(x, a int64) int64 { return (x + a - 1) &^ (a - 1) }

// AppendRecord appends rec, encoded as one framed and padded record, to b,
// without the checks a Writer makes across records (objrefs, order,
// limits): for tests and tools that build images by hand, such as the
// hostile images of image/imagetest. PAGES records carry data and are
// not encoded here. Images are written with a Writer.
func AppendRecord(b []byte, rec Record) ([]byte, error) {
	c := byGoType[reflect.TypeOf(rec)]
	if c == nil || c.typ == TypePages {
		return nil, fmt.Errorf("image: encode %T: %w", rec, ErrUnknownType)
	}
	start := len(b)
	b = append(b, zeroPad[:recordHeaderLen]...)
	b = c.encodePayload(b, reflect.ValueOf(rec).Elem())
	return append(b[:start], finishRecord(b[start:], c.typ)...), nil
}
