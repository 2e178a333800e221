package image

import (
	"bytes"
	"errors"
	"runtime"
	"testing"
)

// processSample is a small image of a process as a checkpoint writes one:
// a PSTREE of two tasks (one a zombie), a task section with a thread, a
// pipe with queued data, fds and memory.
func processSample(t testing.TB) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := NewWriter(&buf)
	task := Task{Pid: 100, PPid: 1, Pgid: 100, Sid: 100, NrThreads: 1}
	copy(task.Comm[:], "sample")
	zombie := Task{Pid: 101, PPid: 100, Pgid: 100, Sid: 100, State: TaskZombie}
	recs := []Record{
		NewHeader(),
		&Pstree{Tasks: []Task{task, zombie}},
		&task,
		&Pipe{Objref: 1, PipeID: 9, Capacity: 1 << 16},
		&PipeData{PipeID: 9, Data: bytes.Repeat([]byte("q"), 1000)},
		&Pipe{Objref: 2, Flags: 1, PipeID: 9, Capacity: 1 << 16},
		&Fd{Fd: 3, File: 1},
		&Fd{Fd: 4, File: 2},
		&Vma{Start: 0x10000, End: 0x12000, Prot: 3, Flags: 0x22},
	}
	for _, r := range recs {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.WritePages(0x10000, make([]byte, 2*PageSize)); err != nil {
		t.Fatal(err)
	}
	if err := w.Write(&Thread{Tid: 100}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// FuzzDryRun mutates valid images and runs them through the validation
// `ckpt restore --dry-run` (and every restore) makes before anything is
// created: framing, payloads, objrefs, the bounds of queued data, the
// PSTREE, and the description printed. The digest is not checked on one
// pass, so that mutations reach the checks of the content instead of
// stopping at the digest, as a hostile image with a recomputed digest
// would. Nothing may panic, every refusal is a *FormatError, and memory is
// bounded by the input's size.
func FuzzDryRun(f *testing.F) {
	f.Add(processSample(f))
	f.Add(buildSample(f).bytes)
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, opt := range []Options{{NoDigest: true}, {}} {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			s, err := validate(NewReader(bytes.NewReader(data), opt))
			if err == nil {
				_ = s.Describe()
				_ = s.PidNs()
			}
			runtime.ReadMemStats(&after)
			if err != nil {
				var fe *FormatError
				if !errors.As(err, &fe) {
					t.Fatalf("error %v (%T) is not a *FormatError", err, err)
				}
			}
			if alloc, limit := after.TotalAlloc-before.TotalAlloc, uint64(2*len(data)+64<<20); alloc > limit {
				t.Fatalf("allocated %d bytes for a %d-byte input", alloc, len(data))
			}
		}
	})
}

// TestProcessSampleValid: the fuzz seed is a valid image, which the
// validation describes.
func TestProcessSampleValid(t *testing.T) {
	s, err := Validate(bytes.NewReader(processSample(t)))
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Tasks) != 2 || s.Threads != 1 || s.Files != 2 || s.Pages != 2 {
		t.Fatalf("summary %+v", s)
	}
	if d := s.Describe(); !bytes.Contains([]byte(d), []byte("would restore 2 tasks (1 zombies)")) {
		t.Fatalf("describe: %s", d)
	}
}
