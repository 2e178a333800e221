package image

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
)

// layout is where things are in the sample image.
type layout struct {
	offs  []int64  // record offsets, TAIL included
	lens  []uint32 // record lens
	types []Type
	pages []*Pages
}

func sampleLayout(t *testing.T, img []byte) *layout {
	t.Helper()
	l := &layout{}
	r := NewReader(bytes.NewReader(img), Options{})
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			return l
		}
		if err != nil {
			t.Fatal(err)
		}
		l.offs = append(l.offs, r.RecordOffset())
		l.lens = append(l.lens, r.RecordLen())
		l.types = append(l.types, rec.Type())
		if p, ok := rec.(*Pages); ok {
			l.pages = append(l.pages, p)
		}
	}
}

func (l *layout) first(t *testing.T, typ Type) (off int64, ln uint32) {
	t.Helper()
	for i, ty := range l.types {
		if ty == typ {
			return l.offs[i], l.lens[i]
		}
	}
	t.Fatalf("no %s record in the sample", typ)
	return 0, 0
}

// checkFormatError fails unless err is a *FormatError wrapping want.
func checkFormatError(t *testing.T, err error, want ...error) *FormatError {
	t.Helper()
	var fe *FormatError
	if !errors.As(err, &fe) {
		t.Fatalf("error %v (%T) is not a *FormatError", err, err)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("error %v wraps an EOF", err)
	}
	for _, w := range want {
		if errors.Is(err, w) {
			return fe
		}
	}
	t.Fatalf("error %q wraps none of %v", err, want)
	return nil
}

// cutReaders reads a cut image in every way a caller can: Validate, Next
// with page data read, and Next with NoDigest seeking over page data.
func cutReaders(img []byte) map[string]func() error {
	next := func(opt Options, readData, hideSeek bool) func() error {
		return func() error {
			var src io.Reader = bytes.NewReader(img)
			if hideSeek {
				src = io.MultiReader(src)
			}
			r := NewReader(src, opt)
			for {
				rec, err := r.Next()
				if err != nil {
					return err
				}
				if p, ok := rec.(*Pages); ok && readData {
					if err := r.ReadPageData(make([]byte, int(p.NrPages)*PageSize)); err != nil {
						return err
					}
				}
			}
		}
	}
	return map[string]func() error{
		"validate":        func() error { _, err := Validate(bytes.NewReader(img)); return err },
		"read data":       next(Options{}, true, false),
		"nodigest seek":   next(Options{NoDigest: true}, false, false),
		"nodigest noseek": next(Options{NoDigest: true}, false, true),
		"nodigest read":   next(Options{NoDigest: true}, true, false),
	}
}

// TestTruncation cuts the sample at every record boundary and inside every
// part of a record: each cut must be reported as truncation or a missing
// tail, naming the offset where the stream ends.
func TestTruncation(t *testing.T) {
	s := buildSample(t)
	l := sampleLayout(t, s.bytes)
	cuts := map[int64]string{}
	for i, off := range l.offs {
		name := l.types[i].String()
		cuts[off] = "boundary before " + name
		cuts[off+3] = "inside the header of " + name
		cuts[off+recordHeaderLen+1] = "inside the payload of " + name
		if end := off + int64(l.lens[i]); alignUp(end, recordAlign)-end >= 2 {
			cuts[end+1] = "inside the padding of " + name
		}
		if l.types[i] == TypePages {
			cuts[off+recordHeaderLen+pagesFieldsLen(1)+1] = "inside the fields or padding of PAGES"
		}
	}
	for _, p := range l.pages {
		cuts[p.DataOffset-1] = "at the end of the alignment padding of PAGES"
		cuts[p.DataOffset+100] = "inside page data"
		cuts[p.DataOffset+int64(p.NrPages)*PageSize-1] = "at the last byte of page data"
	}
	cuts[int64(len(s.bytes))-1] = "inside the TAIL"
	for cut, where := range cuts {
		if cut < 0 || cut >= int64(len(s.bytes)) {
			continue
		}
		img := s.bytes[:cut]
		for how, read := range cutReaders(img) {
			err := read()
			fe := checkFormatError(t, err, ErrTruncated, ErrMissingTail)
			if !strings.Contains(err.Error(), fmt.Sprintf("offset %d", cut)) {
				t.Errorf("cut at %d (%s), %s: %q does not name offset %d", cut, where, how, err, cut)
			}
			if cut == 0 && !errors.Is(err, ErrTruncated) {
				t.Errorf("empty image: %v, want ErrTruncated", err)
			}
			if strings.HasPrefix(where, "boundary") && cut > 0 && !errors.Is(fe, ErrMissingTail) {
				t.Errorf("cut at %d (%s), %s: %v, want ErrMissingTail", cut, where, how, err)
			}
		}
	}
	// A pipe cannot seek: NoDigest must fall back to reading.
	pr, pw := io.Pipe()
	go func() {
		_, _ = pw.Write(s.bytes[:l.pages[0].DataOffset+10])
		_ = pw.Close()
	}()
	r := NewReader(pr, Options{NoDigest: true})
	var err error
	for err == nil {
		_, err = r.Next()
	}
	checkFormatError(t, err, ErrTruncated)
	if want := fmt.Sprintf("offset %d", l.pages[0].DataOffset+10); !strings.Contains(err.Error(), want) {
		t.Errorf("pipe cut: %q does not name %s", err, want)
	}
}

func flipped(img []byte, off int64, mask byte) []byte {
	b := bytes.Clone(img)
	b[off] ^= mask
	return b
}

// TestCorruption changes single fields of the sample and checks the error.
func TestCorruption(t *testing.T) {
	s := buildSample(t)
	l := sampleLayout(t, s.bytes)
	vmaOff, vmaLen := l.first(t, TypeVma)
	tailOff := l.offs[len(l.offs)-1]
	setLen := func(off int64, ln uint32) []byte {
		b := bytes.Clone(s.bytes)
		binary.LittleEndian.PutUint32(b[off+4:], ln)
		return b
	}
	setType := func(off int64, typ Type) []byte {
		b := bytes.Clone(s.bytes)
		binary.LittleEndian.PutUint32(b[off:], uint32(typ))
		return b
	}
	padOff := int64(-1)
	for i, off := range l.offs {
		if l.lens[i]%recordAlign != 0 {
			padOff = off + int64(l.lens[i])
			break
		}
	}
	if padOff < 0 {
		t.Fatal("no record with padding in the sample")
	}
	p := l.pages[1]
	cases := []struct {
		name string
		img  []byte
		want error
		text string
	}{
		{"len high byte", flipped(s.bytes, vmaOff+7, 0x10), ErrBadLength, "exceeds the limit"},
		{"len below header", setLen(vmaOff, 7), ErrBadLength, "shorter than the record header"},
		{"len too long by 8", setLen(vmaOff, vmaLen+8), ErrBadPayload, "8 trailing bytes"},
		{"len too short by 8", setLen(vmaOff, vmaLen-8), ErrBadPayload, "Path"},
		{"pages len", setLen(l.offs[slicesIndex(l.types, TypePages)], l.lens[slicesIndex(l.types, TypePages)]+PageSize), ErrBadLength, "want"},
		{"type unknown", setType(vmaOff, 499), ErrUnknownType, "type 499"},
		{"type of another record", setType(vmaOff, TypeFd), ErrBadPayload, "trailing bytes"},
		{"type byte flipped", flipped(s.bytes, vmaOff+3, 0x01), ErrUnknownType, ""},
		{"head magic", flipped(s.bytes, 8, 0x01), ErrBadMagic, "header magic"},
		{"first record not header", setType(0, TypeTask), ErrBadMagic, "first record"},
		{"tail magic", flipped(s.bytes, tailOff+8, 0x80), ErrBadMagic, "tail magic"},
		{"tail record count", flipped(s.bytes, tailOff+16, 0x01), ErrBadPayload, "records"},
		{"tail offset", flipped(s.bytes, tailOff+24, 0x08), ErrBadPayload, "offset"},
		{"major version", flipped(s.bytes, 8+8, 0x04), ErrVersion, "format version 7."},
		{"minor version (newer minor is accepted, digest is not)", flipped(s.bytes, 8+10, 0x01), ErrDigest, ""},
		{"arch", flipped(s.bytes, 8+12, 0x02), ErrVersion, "arch"},
		{"header flags", flipped(s.bytes, 8+16, 0x01), ErrVersion, "flags"},
		{"page data byte", flipped(s.bytes, p.DataOffset+PageSize/2, 0x40), ErrDigest, "hash to"},
		{"record padding byte", flipped(s.bytes, padOff, 0x01), ErrBadPayload, "padding byte"},
		{"pages alignment padding byte", flipped(s.bytes, p.DataOffset-1, 0x01), ErrBadPayload, "padding byte"},
		{"pages flags", flipped(s.bytes, l.offs[slicesIndex(l.types, TypePages)]+12, 0x01), ErrBadPayload, "flags"},
		{"pages count zero", setPagesCount(s.bytes, l, 0), ErrBadPayload, "NrPages 0"},
		{"data after tail", append(bytes.Clone(s.bytes), 0), ErrBadLength, "follows the TAIL"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Validate(bytes.NewReader(tc.img))
			checkFormatError(t, err, tc.want)
			if !strings.Contains(err.Error(), tc.text) {
				t.Fatalf("%q lacks %q", err, tc.text)
			}
		})
	}
}

func slicesIndex(ts []Type, t Type) int {
	for i, x := range ts {
		if x == t {
			return i
		}
	}
	return -1
}

func setPagesCount(img []byte, l *layout, n uint32) []byte {
	b := bytes.Clone(img)
	binary.LittleEndian.PutUint32(b[l.offs[slicesIndex(l.types, TypePages)]+8:], n)
	return b
}

// TestEveryByteMatters flips bytes spread over the whole sample: the digest
// (or a structural check) must catch each.
func TestEveryByteMatters(t *testing.T) {
	s := buildSample(t)
	for off := int64(0); off < int64(len(s.bytes)); off += 61 {
		_, err := Validate(bytes.NewReader(flipped(s.bytes, off, 0x04)))
		if err == nil {
			t.Fatalf("flipping bit 2 of byte %d went unnoticed", off)
		}
		checkFormatError(t, err, ErrDigest, ErrBadPayload, ErrBadLength, ErrBadMagic, ErrVersion,
			ErrUnknownType, ErrBadObjref, ErrTruncated, ErrMissingTail)
	}
}

// writeRaw appends a record with any type and payload, bypassing Write's
// checks, to build images the Writer refuses to write.
func writeRaw(t *testing.T, w *Writer, typ Type, payload []byte) {
	t.Helper()
	b := finishRecord(append(make([]byte, recordHeaderLen), payload...), typ)
	if err := w.put(b); err != nil {
		t.Fatal(err)
	}
	w.records++
}

func payloadOf(r Record) []byte {
	c := byGoType[reflect.TypeOf(r)]
	return c.encodePayload(nil, reflect.ValueOf(r).Elem())
}

// rawImage writes a HEADER, then calls body, then the TAIL.
func rawImage(t *testing.T, body func(w *Writer)) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := NewWriter(&buf)
	if err := w.Write(NewHeader()); err != nil {
		t.Fatal(err)
	}
	body(w)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestSkippableAndUnknownTypes(t *testing.T) {
	img := rawImage(t, func(w *Writer) {
		writeRaw(t, w, SkippableTypes+0x7ff0, []byte("thirteen byte"))
		writeRaw(t, w, 0xffffffff, bytes.Repeat([]byte{7}, 70000))
		if err := w.Write(&Fs{Objref: 1, Cwd: "/", Root: "/"}); err != nil {
			t.Fatal(err)
		}
	})
	sum, err := Validate(bytes.NewReader(img))
	if err != nil {
		t.Fatal(err)
	}
	if sum.Counts["UNKNOWN(0x80007ff0)"] != 1 || sum.Counts["UNKNOWN(0xffffffff)"] != 1 || sum.Counts["FS"] != 1 || sum.Records != 5 {
		t.Fatalf("summary %+v", sum)
	}
	r := NewReader(bytes.NewReader(img), Options{NoDigest: true})
	recs, _, err := readAll(r)
	if err != nil || len(recs) != 3 || recs[1].Type() != TypeFs {
		t.Fatalf("records %v, %v", recs, err)
	}

	img = rawImage(t, func(w *Writer) { writeRaw(t, w, SkippableTypes-1, nil) })
	_, err = Validate(bytes.NewReader(img))
	checkFormatError(t, err, ErrUnknownType)
	if !strings.Contains(err.Error(), "UNKNOWN(0x7fffffff)") {
		t.Fatalf("%q does not name the type", err)
	}
}

func TestErrorRecord(t *testing.T) {
	const msg = "seize task 1234: operation not permitted"
	var buf bytes.Buffer
	w := NewWriter(&buf)
	if err := w.Write(NewHeader()); err != nil {
		t.Fatal(err)
	}
	if err := w.Write(&Task{Pid: 1234}); err != nil {
		t.Fatal(err)
	}
	if err := w.Abort(msg); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err == nil {
		t.Fatal("Close after Abort succeeded")
	}
	r := NewReader(bytes.NewReader(buf.Bytes()), Options{})
	recs, _, err := readAll(r)
	fe := checkFormatError(t, err, ErrCheckpointFailed)
	if len(recs) != 2 || fe.Type != TypeError || !strings.Contains(err.Error(), msg) {
		t.Fatalf("%d records, then %q", len(recs), err)
	}

	// A checkpoint may fail before its HEADER.
	buf.Reset()
	if err := NewWriter(&buf).Abort(msg); err != nil {
		t.Fatal(err)
	}
	_, err = Validate(bytes.NewReader(buf.Bytes()))
	checkFormatError(t, err, ErrCheckpointFailed)
	if !strings.Contains(err.Error(), msg) {
		t.Fatalf("%q lacks the message", err)
	}
}

func TestObjrefErrors(t *testing.T) {
	cases := []struct {
		name string
		recs []Record
		text string
	}{
		{"defined twice", []Record{&Fs{Objref: 2, Cwd: "/", Root: "/"}, &Files{Objref: 2}}, "objref 2 defined twice"},
		{"zero", []Record{&Fs{Objref: 0}}, "objref 0"},
		{"unknown ref", []Record{&Fs{Objref: 2, Cwd: "/", Root: "/"}, &Fd{Fd: 1, File: 3}}, "refers to objref 3"},
		{"forward ref", []Record{&TaskObjs{Fs: 5}, &Fs{Objref: 5}}, "field Fs refers to objref 5"},
		{"ref to nothing", []Record{&TaskObjs{Mm: 1, Files: 1}}, "field Mm refers to objref 1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// The Writer refuses the bad record...
			w := NewWriter(io.Discard)
			if err := w.Write(NewHeader()); err != nil {
				t.Fatal(err)
			}
			var werr error
			for _, r := range tc.recs {
				if werr = w.Write(r); werr != nil {
					break
				}
			}
			if !errors.Is(werr, ErrBadObjref) || !strings.Contains(werr.Error(), tc.text) {
				t.Fatalf("writer: %v", werr)
			}
			// ... and the Reader refuses an image that has it anyway.
			img := rawImage(t, func(w *Writer) {
				for _, r := range tc.recs {
					writeRaw(t, w, r.Type(), payloadOf(r))
				}
			})
			_, err := Validate(bytes.NewReader(img))
			checkFormatError(t, err, ErrBadObjref)
			if !strings.Contains(err.Error(), tc.text) {
				t.Fatalf("reader: %q lacks %q", err, tc.text)
			}
		})
	}
}

func TestFormatErrorText(t *testing.T) {
	e := &FormatError{Offset: 4096, Type: TypeVma, Err: ErrTruncated, Detail: "want 120 bytes, have 37"}
	if got, want := e.Error(), "image: offset 4096: record VMA: truncated: want 120 bytes, have 37"; got != want {
		t.Fatalf("%q, want %q", got, want)
	}
	if !errors.Is(e, ErrTruncated) {
		t.Fatal("errors.Is does not see through FormatError")
	}
}

func TestValidateSummary(t *testing.T) {
	s := buildSample(t)
	sum, err := Validate(bytes.NewReader(s.bytes))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]uint64{"HEADER": 1, "TASK": 1, "CREDS": 1, "TASK_MISC": 1, "RLIMITS": 1, "SIGHAND": 1,
		"SIGPENDING": 1, "FS": 1, "REG_FILE": 1, "EXT_FILE": 1, "FILES": 1, "FD": 3, "MM": 1, "VMA": 3,
		"PAGES": 3, "TASK_OBJS": 1, "THREAD": 2, "TAIL": 1}
	if !reflect.DeepEqual(sum.Counts, want) {
		t.Fatalf("counts %v\nwant %v", sum.Counts, want)
	}
	if sum.Records != uint64(len(s.recs)+1) || sum.Bytes != uint64(len(s.bytes)) || sum.Pages != 9 {
		t.Fatalf("summary %+v, want %d records, %d bytes, 9 pages", sum, len(s.recs)+1, len(s.bytes))
	}
	if !reflect.DeepEqual(sum.Header, s.recs[0]) {
		t.Fatalf("header %+v", sum.Header)
	}
}

// TestOlderMajor: a 3.x reader reads 2.x images (3.0 only gave existing
// fields new values), and refuses 1.x and 4.x ones.
func TestOlderMajor(t *testing.T) {
	for _, c := range []struct {
		major uint16
		ok    bool
	}{{1, false}, {OldestMajor, true}, {VersionMajor, true}, {VersionMajor + 1, false}} {
		h := NewHeader()
		h.Major, h.Minor = c.major, 5
		b, err := AppendRecord(nil, h)
		if err != nil {
			t.Fatal(err)
		}
		_, err = NewReader(bytes.NewReader(b), Options{}).Next()
		if c.ok && err != nil {
			t.Errorf("major %d: %v", c.major, err)
		}
		if !c.ok && !errors.Is(err, ErrVersion) {
			t.Errorf("major %d: %v, want %v", c.major, err, ErrVersion)
		}
	}
}
