package checkpoint

import (
	"bytes"
	"fmt"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/checkpoint/image"
	"github.com/ckpt/ckpt/internal/proc"
	"github.com/ckpt/ckpt/internal/ptrace"
)

func (d *dumper) collectMm(p *process) error {
	exe, err := proc.Exe(p.pid)
	if err != nil {
		return err
	}
	if strings.HasSuffix(exe, " (deleted)") {
		return unsupported(p.pid, "exe", "the executable %q was deleted", exe)
	}
	var st unix.Stat_t
	if err := unix.Stat(exe, &st); err != nil {
		return unsupported(p.pid, "exe", "executable %q not reachable: %v", exe, err)
	}
	auxv, err := proc.Auxv(p.pid)
	if err != nil {
		return err
	}
	s := p.stat
	m := &p.mm
	m.Objref = d.nextObjref()
	m.NrVmas = uint32(len(p.imgVmas))
	m.StartCode, m.EndCode, m.StartData, m.EndData = s.StartCode, s.EndCode, s.StartData, s.EndData
	m.StartBrk, m.StartStack = s.StartBrk, s.StartStack
	m.ArgStart, m.ArgEnd, m.EnvStart, m.EnvEnd = s.ArgStart, s.ArgEnd, s.EnvStart, s.EnvEnd
	m.ExePath, m.ExeDev, m.ExeIno = exe, st.Dev, st.Ino
	m.Auxv = auxv
	return nil
}

// dumpChunk is how much of a VMA's pagemap and memory is handled at once.
const dumpChunk = 4096 // pages (16 MiB)

var zeroPage = make([]byte, image.PageSize)

// pageDumper writes the pages of one process that carry information: those
// present or swapped, private to the process (not page cache of a file
// mapping, which restore re-reads from the file) and not all zeroes.
type pageDumper struct {
	pid     int
	pm      *proc.Pagemap
	zeroPFN uint64
	ents    []uint64
	buf     []byte
	pages   uint64
}

func newPageDumper(pid int) (*pageDumper, error) {
	pm, err := proc.OpenPagemap(pid)
	if err != nil {
		return nil, err
	}
	zpfn, err := proc.ZeroPFN()
	if err != nil {
		zpfn = ^uint64(0) // unknown: zero pages are still caught by content
	}
	return &pageDumper{pid: pid, pm: pm, zeroPFN: zpfn, buf: make([]byte, dumpChunk*image.PageSize)}, nil
}

func (pd *pageDumper) close() { pd.pm.Close() }

// wantsPages reports whether a VMA's contents belong in the image at all.
func wantsPages(v *image.Vma) bool {
	switch v.Kind {
	case image.VmaAnon, image.VmaStack, image.VmaHeap:
		return true
	case image.VmaFile:
		return v.Flags&unix.MAP_SHARED == 0 // shared file pages live in the file
	}
	return false // vdso, vvar, vsyscall: the kernel provides them
}

func (pd *pageDumper) dumpVma(w *image.Writer, v *image.Vma) error {
	if !wantsPages(v) {
		return nil
	}
	// A zero page of an anonymous mapping restores as a fresh page; in a
	// private file mapping it was written over the file's data and must be
	// kept.
	skipZero := v.Kind != image.VmaFile
	for start := v.Start; start < v.End; start += dumpChunk * image.PageSize {
		end := min(v.End, start+dumpChunk*image.PageSize)
		if err := pd.dumpRange(w, start, end, skipZero); err != nil {
			return fmt.Errorf("pages %#x-%#x: %w", start, end, err)
		}
	}
	return nil
}

func (pd *pageDumper) dumpRange(w *image.Writer, start, end uint64, skipZero bool) error {
	ents, err := pd.pm.Read(start, end, pd.ents)
	if err != nil {
		return err
	}
	pd.ents = ents
	n := len(ents)
	for i := 0; i < n; {
		if !pd.wanted(proc.PME(ents[i])) {
			i++
			continue
		}
		j := i + 1
		for j < n && pd.wanted(proc.PME(ents[j])) {
			j++
		}
		addr := start + uint64(i)*image.PageSize
		data := pd.buf[:(j-i)*image.PageSize]
		if err := ptrace.ReadMem(pd.pid, addr, data); err != nil {
			return fmt.Errorf("read %#x+%d pages: %w", addr, j-i, err)
		}
		if !skipZero {
			if err := w.WritePages(addr, data); err != nil {
				return err
			}
			pd.pages += uint64(j - i)
		} else if err := pd.writeNonZero(w, addr, data); err != nil {
			return err
		}
		i = j
	}
	return nil
}

func (pd *pageDumper) wanted(e proc.PME) bool {
	if e.Swapped() {
		return true
	}
	return e.Present() && !e.FileOrSharedAnon() && e.PFN() != pd.zeroPFN
}

// writeNonZero writes the runs of non-zero pages of data: a zero page
// costs nothing in the image and restores as a fresh anonymous page.
func (pd *pageDumper) writeNonZero(w *image.Writer, addr uint64, data []byte) error {
	const ps = image.PageSize
	n := len(data) / ps
	for i := 0; i < n; {
		if bytes.Equal(data[i*ps:(i+1)*ps], zeroPage) {
			i++
			continue
		}
		j := i + 1
		for j < n && !bytes.Equal(data[j*ps:(j+1)*ps], zeroPage) {
			j++
		}
		if err := w.WritePages(addr+uint64(i*ps), data[i*ps:j*ps]); err != nil {
			return err
		}
		pd.pages += uint64(j - i)
		i = j
	}
	return nil
}
