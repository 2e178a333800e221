package image

import (
	"bytes"
	"encoding/binary"
	"errors"
	"reflect"
	"runtime"
	"testing"
)

// TestCountsBoundedByRecord: for every record type with a variable-length
// field, a record whose counts claim 2^32-1 elements is refused as a bad
// payload, and reading it allocates about the record's size, not what the
// counts claim: no count makes the decoder allocate beyond the record
// that carries it.
func TestCountsBoundedByRecord(t *testing.T) {
	for typ, ti := range byType {
		if typ == TypePages || typ == TypeHeader || typ == TypeTail || ti.retired {
			continue
		}
		c := byGoType[reflect.TypeOf(ti.new())]
		var payload []byte
		variable := false
		for _, f := range c.root.fields {
			if f.node.variable() {
				variable = true
				payload = binary.LittleEndian.AppendUint32(payload, 0xffffffff)
				payload = append(payload, make([]byte, 64)...) // some bytes, far fewer than claimed
				continue
			}
			payload = append(payload, make([]byte, f.node.size)...)
		}
		if !variable {
			continue
		}
		t.Run(typ.String(), func(t *testing.T) {
			hdr, err := AppendRecord(nil, NewHeader())
			if err != nil {
				t.Fatal(err)
			}
			rec := finishRecord(append(make([]byte, recordHeaderLen), payload...), typ)
			stream := append(hdr, rec...)
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err = Validate(bytes.NewReader(stream))
			runtime.ReadMemStats(&after)
			if !errors.Is(err, ErrBadPayload) {
				t.Fatalf("counts of 2^32-1: %v, want %v", err, ErrBadPayload)
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 4*readBufSize {
				t.Fatalf("allocated %d bytes for a %d-byte record", alloc, len(rec))
			}
		})
	}
}
