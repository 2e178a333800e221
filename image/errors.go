package image

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinels for the ways an image can be wrong. Every error the Reader
// returns is a *FormatError wrapping one of these (or, for a failed read
// of the underlying stream, the I/O error itself).
var (
	// ErrTruncated: the stream ends inside a record (header, payload,
	// padding or page data), or holds no record at all.
	ErrTruncated = errors.New("truncated")
	// ErrBadMagic: HEADER or TAIL magic is wrong, or the first record is
	// not a HEADER.
	ErrBadMagic = errors.New("bad magic")
	// ErrBadLength: a record's len is out of bounds or inconsistent with
	// its type, or data follows the TAIL.
	ErrBadLength = errors.New("bad record length")
	// ErrVersion: the image was written by an incompatible format
	// version, for another architecture or page size, or with header
	// flags this reader does not know.
	ErrVersion = errors.New("unsupported image version")
	// ErrUnknownType: a record type this reader does not know, outside the
	// skippable range.
	ErrUnknownType = errors.New("unknown record type")
	// ErrDigest: the TAIL digest does not match the bytes before it.
	ErrDigest = errors.New("digest mismatch")
	// ErrMissingTail: the stream ends cleanly between records but no TAIL
	// was read.
	ErrMissingTail = errors.New("missing tail")
	// ErrCheckpointFailed: the image holds an ERROR record; the checkpoint
	// that wrote it failed.
	ErrCheckpointFailed = errors.New("checkpoint failed")
	// ErrBadPayload: a payload does not decode (trailing bytes, a count
	// larger than the record, non-zero padding, a reserved field set).
	ErrBadPayload = errors.New("bad payload")
	// ErrBadObjref: an objref defined twice or as 0, or a reference to an
	// object not defined earlier in the image.
	ErrBadObjref = errors.New("bad objref")
	// ErrOverCapacity: queued data beyond what its object can hold (a
	// pipe's or FIFO's PIPE_DATA beyond its capacity).
	ErrOverCapacity = errors.New("data beyond its object's capacity")
)

// FormatError locates a problem in an image: the stream offset of the
// record (or of the byte) at fault and the record type, when known.
type FormatError struct {
	Offset int64
	Type   Type // 0 when the record type is not known (e.g. a cut record header)
	Err    error
	Detail string
}

func (e *FormatError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "image: offset %d: ", e.Offset)
	if e.Type != 0 {
		fmt.Fprintf(&b, "record %s: ", e.Type)
	}
	if e.Err != nil {
		b.WriteString(e.Err.Error())
	}
	if e.Detail != "" {
		b.WriteString(": ")
		b.WriteString(e.Detail)
	}
	return b.String()
}

func (e *FormatError) Unwrap() error { return e.Err }

func formatErr(off int64, t Type, err error, format string, args ...any) *FormatError {
	return &FormatError{Offset: off, Type: t, Err: err, Detail: fmt.Sprintf(format, args...)}
}
