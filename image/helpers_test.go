package image

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"
)

// sample is a realistic image: the records written (PAGES with their data)
// and the encoded bytes.
type sample struct {
	recs  []Record
	data  map[int][]byte // index in recs of a *Pages -> its data
	bytes []byte
}

// pagesWrite stands for one WritePages call in a sample script.
type pagesWrite struct {
	vaddr uint64
	data  []byte
}

func (*pagesWrite) Type() Type { return TypePages }

func newRand() *rand.Rand { return rand.New(rand.NewPCG(3, 4)) }

func randBytes(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

func comm(s string) (c [TaskCommLen]byte) {
	copy(c[:], s)
	return c
}

// sampleScript returns the records of a small but complete process image.
func sampleScript() []Record {
	rng := rand.New(rand.NewPCG(1, 2))
	hdr := NewHeader()
	hdr.TimeNs = 1700000000123456789
	hdr.Consts.XStateLen = 2432
	hdr.XFeatures = 0xe7
	thread := func(tid int32) *Thread {
		t := &Thread{Tid: tid, Sigmask: 1 << 9, TidAddress: 0x7f0000001000, RseqAddr: 0x7f0000002000,
			RseqLen: 32, RseqSig: 0x53053053, AltstackFlags: 2, Comm: comm("worker"), XState: randBytes(rng, 2432)}
		for i := range t.Regs {
			t.Regs[i] = rng.Uint64()
		}
		return t
	}
	acts := make([]Sigaction, NSig)
	for i := range acts {
		acts[i] = Sigaction{Handler: uint64(i), Flags: 0x04000000, Restorer: 0x7f00deadbeef, Mask: uint64(i) << 3}
	}
	var si Siginfo
	copy(si[:], randBytes(rng, SiginfoLen))
	return []Record{
		hdr,
		&Task{Pid: 1, PPid: 0, Pgid: 1, Sid: 1, Flags: TaskFlagPidnsInit, NrThreads: 2, Comm: comm("sleeper")},
		&Creds{Uid: 1000, Euid: 1000, Suid: 1000, Fsuid: 1000, Gid: 100, Egid: 100, Sgid: 100, Fsgid: 100,
			CapBnd: 1<<41 - 1, Groups: []uint32{100, 27, 4}},
		&TaskMisc{Umask: 0o22, Dumpable: 1, Itimers: [3]Itimer{{IntervalSec: 1, ValueUsec: 5}}},
		&Rlimits{Limits: make([]Rlimit, NRlimits)},
		&Sighand{Objref: 1, Actions: acts},
		&SigPending{Tid: 0, Infos: []Siginfo{si}},
		&Fs{Objref: 2, Cwd: "/tmp", Root: "/"},
		&RegFile{Objref: 3, Flags: 0o2, Pos: 12, Mode: 0o100644, Dev: 0x803, Ino: 42, Size: 100, Path: "/tmp/log.txt"},
		&ExtFile{Objref: 4, Flags: 0o2, Kind: ExtTty, Key: "/dev/pts/3"},
		&Files{Objref: 5, NrFds: 3},
		&Fd{Fd: 0, File: 4},
		&Fd{Fd: 1, File: 4},
		&Fd{Fd: 3, Flags: FdFlagCloexec, File: 3},
		&Mm{Objref: 6, NrVmas: 3, StartCode: 0x400000, EndCode: 0x401000, StartBrk: 0x600000, Brk: 0x621000,
			ExeDev: 0x803, ExeIno: 7, ExePath: "/usr/bin/sleeper", Auxv: []uint64{6, 4096, 0, 0}},
		&Vma{Start: 0x400000, End: 0x401000, Prot: 5, Flags: 2, Kind: VmaFile, Dev: 0x803, Ino: 7, Path: "/usr/bin/sleeper"},
		&Vma{Start: 0x600000, End: 0x621000, Prot: 3, Flags: 0x22, Kind: VmaHeap, Path: "[heap]"},
		&Vma{Start: 0x7ffff000000, End: 0x7ffff021000, Prot: 3, Flags: 0x122, Kind: VmaStack, Madv: VmaMadvDontDump, Path: "[stack]"},
		&pagesWrite{vaddr: 0x600000, data: randBytes(rng, 3*PageSize)},
		&pagesWrite{vaddr: 0x608000, data: randBytes(rng, PageSize)},
		&pagesWrite{vaddr: 0x7ffff010000, data: randBytes(rng, 5*PageSize)},
		&TaskObjs{Mm: 6, Files: 5, Fs: 2, Sighand: 1},
		thread(1),
		thread(2),
	}
}

// writeScript writes script with w, ending with Close.
func writeScript(w *Writer, script []Record) error {
	for _, r := range script {
		var err error
		if p, ok := r.(*pagesWrite); ok {
			err = w.WritePages(p.vaddr, p.data)
		} else {
			err = w.Write(r)
		}
		if err != nil {
			return fmt.Errorf("write %v: %w", r.Type(), err)
		}
	}
	return w.Close()
}

func buildSample(t testing.TB) *sample {
	t.Helper()
	var buf bytes.Buffer
	script := sampleScript()
	if err := writeScript(NewWriter(&buf), script); err != nil {
		t.Fatal(err)
	}
	s := &sample{data: map[int][]byte{}, bytes: buf.Bytes()}
	for _, r := range script {
		if p, ok := r.(*pagesWrite); ok {
			s.data[len(s.recs)] = p.data
			n := uint32(len(p.data) / PageSize)
			r = &Pages{NrPages: n, Runs: []PageRun{{Vaddr: p.vaddr, Pages: n}}, Vaddr: p.vaddr}
		}
		s.recs = append(s.recs, r)
	}
	return s
}

// readAll reads an image to the end, returning its records and the
// offsets of the records.
func readAll(r *Reader) ([]Record, []int64, error) {
	var recs []Record
	var offs []int64
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			return recs, offs, nil
		}
		if err != nil {
			return recs, offs, err
		}
		recs = append(recs, rec)
		offs = append(offs, r.RecordOffset())
	}
}
