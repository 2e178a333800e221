package image

import (
	"bytes"
	"errors"
	"testing"
)

// TestBounds: queued data beyond its object's capacity is refused by
// Validate with ErrOverCapacity; data within it is not.
func TestBounds(t *testing.T) {
	chunk := func(n int) []byte { return make([]byte, n) }
	cases := []struct {
		name string
		recs []Record
		ok   bool
	}{
		{"pipe-full", []Record{&Pipe{Objref: 1, PipeID: 5, Capacity: 4096}, &PipeData{PipeID: 5, Data: chunk(4096)}}, true},
		{"pipe-over", []Record{&Pipe{Objref: 1, PipeID: 5, Capacity: 4096}, &PipeData{PipeID: 5, Data: chunk(4000)}, &PipeData{PipeID: 5, Data: chunk(97)}}, false},
		{"pipe-default-capacity", []Record{&Pipe{Objref: 1, PipeID: 5}, &PipeData{PipeID: 5, Data: chunk(DefaultPipeCapacity + 1)}}, false},
		{"pipe-data-first", []Record{&PipeData{PipeID: 5, Data: chunk(1)}, &Pipe{Objref: 1, PipeID: 5, Capacity: 4096}}, false},
		{"pipe-capacity-beyond-kernel", []Record{&Pipe{Objref: 1, PipeID: 5, Capacity: MaxPipeCapacity + 1}}, false},
		{"fifo-over", []Record{&Fifo{Objref: 1, PipeID: 6, Capacity: 4096, Path: "/f"}, &PipeData{PipeID: 6, Data: chunk(4097)}}, false},
		{"tty-over", []Record{&TtyData{TtyID: 1, Dir: TtyDataInput, Data: chunk(TtyDataChunk)}, &TtyData{TtyID: 1, Dir: TtyDataInput, Data: chunk(TtyDataChunk)},
			&TtyData{TtyID: 1, Dir: TtyDataInput, Data: chunk(1)}}, false},
		{"tty-both-directions", []Record{&TtyData{TtyID: 1, Dir: TtyDataInput, Data: chunk(TtyDataChunk)}, &TtyData{TtyID: 1, Dir: TtyDataOutput, Data: chunk(TtyDataChunk)}}, true},
		{"tcp-within", []Record{&InetSocket{Objref: 1}, &TcpStream{Socket: 1, RecvLen: 10, SendLen: 5}, &TcpQueue{Socket: 1, Queue: TcpRecvQueue, Data: chunk(10)},
			&TcpQueue{Socket: 1, Queue: TcpSendQueue, Data: chunk(5)}}, true},
		{"tcp-beyond-declared", []Record{&InetSocket{Objref: 1}, &TcpStream{Socket: 1, RecvLen: 10}, &TcpQueue{Socket: 1, Queue: TcpRecvQueue, Data: chunk(11)}}, false},
		{"tcp-queue-without-stream", []Record{&InetSocket{Objref: 1}, &TcpQueue{Socket: 1, Queue: TcpSendQueue, Data: chunk(1)}}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var buf bytes.Buffer
			w := NewWriter(&buf)
			for _, r := range append([]Record{NewHeader()}, c.recs...) {
				if err := w.Write(r); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			_, err := Validate(bytes.NewReader(buf.Bytes()))
			switch {
			case c.ok && err != nil:
				t.Fatalf("refused: %v", err)
			case !c.ok && !errors.Is(err, ErrOverCapacity):
				t.Fatalf("got %v, want %v", err, ErrOverCapacity)
			}
		})
	}
}
