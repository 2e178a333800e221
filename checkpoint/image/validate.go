package image

import (
	"errors"
	"io"
)

// Summary describes a valid image.
type Summary struct {
	Records uint64            // every record, HEADER and TAIL included
	Bytes   uint64            // stream length, TAIL included
	Pages   uint64            // pages in PAGES records
	Counts  map[string]uint64 // records by type name; skipped unknown types as UNKNOWN(0x...)
	Header  *Header
}

// Validate reads a whole image, checking framing, record decoding, objrefs,
// path fields (CheckPaths) and the tail digest, and that nothing follows
// the TAIL. Errors are
// *FormatError, as from Reader.Next.
func Validate(r io.Reader) (*Summary, error) {
	rd := NewReader(r, Options{})
	s := &Summary{Counts: map[string]uint64{}}
	rd.onSkip = func(t Type) { s.Counts[t.String()]++ }
	for {
		rec, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if msg := checkRecordPaths(rec); msg != "" {
			return nil, formatErr(rd.recOff, rec.Type(), ErrBadPayload, "%s", msg)
		}
		s.Counts[rec.Type().String()]++
		if p, ok := rec.(*Pages); ok {
			s.Pages += uint64(p.NrPages)
		}
	}
	if _, err := rd.br.ReadByte(); err == nil {
		return nil, formatErr(rd.off, 0, ErrBadLength, "data follows the TAIL")
	} else if !errors.Is(err, io.EOF) {
		return nil, formatErr(rd.off, 0, err, "reading after the TAIL")
	}
	s.Records, s.Bytes, s.Header = rd.records, uint64(rd.off), rd.hdr
	return s, nil
}
