package proc

import (
	"fmt"
	"slices"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/internal/kernel"
)

// regionsFromEntries derives what a Scan with presentQuery should report from plain
// pagemap entries.
func regionsFromEntries(start uint64, ents []uint64, zpfn uint64) []kernel.PageRegion {
	var out []kernel.PageRegion
	for i, raw := range ents {
		e := PME(raw)
		var c uint64
		if e.Present() {
			c |= kernel.PAGE_IS_PRESENT
			if e.PFN() == zpfn {
				c |= kernel.PAGE_IS_PFNZERO
			}
		}
		if e.Swapped() {
			c |= kernel.PAGE_IS_SWAPPED
		}
		if c != 0 && e.FileOrSharedAnon() {
			c |= kernel.PAGE_IS_FILE
		}
		if c == 0 {
			continue
		}
		addr := start + uint64(i)*pageSize
		if n := len(out); n > 0 && out[n-1].End == addr && out[n-1].Categories == c {
			out[n-1].End += pageSize
			continue
		}
		out = append(out, kernel.PageRegion{Start: addr, End: addr + pageSize, Categories: c})
	}
	return out
}

// fmtRegions formats up to 8 regions.
func fmtRegions(rs []kernel.PageRegion) string {
	s := fmt.Sprintf("%d regions:", len(rs))
	for _, r := range rs[:min(len(rs), 8)] {
		s += fmt.Sprintf(" %#x-%#x/%#x", r.Start, r.End, r.Categories)
	}
	return s
}

// firstDiff returns the index of the first region where a and b differ,
// or -1.
func firstDiff(a, b []kernel.PageRegion) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	if len(a) != len(b) {
		return min(len(a), len(b))
	}
	return -1
}

// TestScanPresentChild checks PAGEMAP_SCAN on another process's pagemap
// fd against plain pagemap reads of the same pages, and against what the
// child did to them.
func TestScanPresentChild(t *testing.T) {
	zpfn, err := ZeroPFN()
	if err != nil {
		t.Fatal(err)
	}
	h := startHelper(t, "mem", "", nil)
	pm, err := OpenPagemap(h.pid)
	if err != nil {
		t.Fatal(err)
	}
	defer pm.Close()

	anon := h.addr(t, "anon")
	file := h.addr(t, "file")
	for _, r := range []struct {
		name       string
		start, end uint64
	}{
		{"anon", anon, anon + memPages*pageSize},
		{"file", file, file + 16*pageSize},
		// Unmapped pages before and after the anonymous mapping.
		{"around anon", anon - 64*pageSize, anon + (memPages+64)*pageSize},
	} {
		ents, err := pm.Read(r.start, r.end, nil)
		if err != nil {
			t.Fatal(err)
		}
		want := regionsFromEntries(r.start, ents, zpfn)
		got, err := pm.Scan(r.start, r.end, presentQuery, nil)
		if err != nil {
			t.Fatal(err)
		}
		if i := firstDiff(got, want); i >= 0 {
			t.Errorf("%s: Scan from region %d: %s\nfrom pagemap reads: %s", r.name, i, fmtRegions(got[i:]), fmtRegions(want[i:]))
		}
		// With room for 1 or 3 regions per ioctl the loop must still walk
		// the whole range, and join regions that calls cut apart.
		for _, vec := range []int{1, 3} {
			small, err := pm.scan(r.start, r.end, presentQuery, nil, vec)
			if err != nil {
				t.Fatal(err)
			}
			if i := firstDiff(small, want); i >= 0 {
				t.Errorf("%s, %d regions per call, from region %d: %s\nwant: %s", r.name, vec, i, fmtRegions(small[i:]), fmtRegions(want[i:]))
			}
		}
	}

	// The anonymous mapping against what the child did: written pages
	// present, read-only ones the zero page, the others absent.
	got, err := pm.Scan(anon, anon+memPages*pageSize, presentQuery, nil)
	if err != nil {
		t.Fatal(err)
	}
	cats := make([]uint64, memPages)
	for _, r := range got {
		for a := r.Start; a < r.End; a += pageSize {
			cats[(a-anon)/pageSize] = r.Categories
		}
	}
	for i, c := range cats {
		var want uint64
		switch {
		case memWritten(i):
			want = kernel.PAGE_IS_PRESENT
		case memRead(i):
			want = kernel.PAGE_IS_PRESENT | kernel.PAGE_IS_PFNZERO
		}
		if c != want {
			t.Fatalf("anon page %d: categories %#x, want %#x", i, c, want)
		}
	}
	// In the private file mapping, page 0 was read (page cache) and page
	// 2 written (a private anonymous copy).
	got, err = pm.Scan(file, file+16*pageSize, presentQuery, nil)
	if err != nil {
		t.Fatal(err)
	}
	catAt := func(addr uint64) uint64 {
		for _, r := range got {
			if addr >= r.Start && addr < r.End {
				return r.Categories
			}
		}
		return 0
	}
	if c := catAt(file); c != kernel.PAGE_IS_PRESENT|kernel.PAGE_IS_FILE {
		t.Errorf("file page 0: categories %#x", c)
	}
	if c := catAt(file + 2*pageSize); c != kernel.PAGE_IS_PRESENT {
		t.Errorf("file page 2 (written): categories %#x", c)
	}
}

func TestScanQuery(t *testing.T) {
	h := startHelper(t, "mem", "", nil)
	pm, err := OpenPagemap(h.pid)
	if err != nil {
		t.Fatal(err)
	}
	defer pm.Close()
	anon := h.addr(t, "anon")
	end := anon + memPages*pageSize
	// Only zero pages, reported with no categories.
	got, err := pm.Scan(anon, end, ScanQuery{Mask: kernel.PAGE_IS_PFNZERO}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var want []kernel.PageRegion
	for i := range memPages {
		if memRead(i) {
			a := anon + uint64(i)*pageSize
			want = append(want, kernel.PageRegion{Start: a, End: a + pageSize, Categories: 0})
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("zero pages:%s\nwant:%s", fmtRegions(got), fmtRegions(want))
	}
	// Scan appends after what dst holds and never merges into it.
	prefix := []kernel.PageRegion{{Start: 0, End: anon, Categories: 0}}
	got, err = pm.Scan(anon, end, ScanQuery{Inverted: kernel.PAGE_IS_PRESENT, Mask: kernel.PAGE_IS_PRESENT}, prefix)
	if err != nil {
		t.Fatal(err)
	}
	// Pages 0 (written) and 1 (read) are present, page 2 is the first
	// absent one.
	if len(got) < 2 || got[0] != prefix[0] || got[1].Start != anon+2*pageSize || got[1].End != anon+3*pageSize {
		t.Errorf("absent pages after a prefix:%s", fmtRegions(got[:min(len(got), 3)]))
	}
	// An unknown category is the kernel's to refuse.
	if _, err := pm.Scan(anon, end, ScanQuery{Mask: 1 << 40}, nil); err == nil {
		t.Error("unknown category accepted")
	}
}

// TestScanPresentOneCall has one ioctl return more regions than the
// kernel's 512-region bounce buffer holds, the case where its walk_end
// falls behind the regions it returned.
func TestScanPresentOneCall(t *testing.T) {
	const n = 4000
	mem, addr := mmapAnon(t, n*pageSize, unix.PROT_READ|unix.PROT_WRITE)
	if err := unix.Madvise(mem, unix.MADV_NOHUGEPAGE); err != nil {
		t.Fatal(err)
	}
	var want []kernel.PageRegion
	for i := 0; i < n; i += 2 {
		mem[i*pageSize] = 1
		a := addr + uint64(i)*pageSize
		want = append(want, kernel.PageRegion{Start: a, End: a + pageSize, Categories: kernel.PAGE_IS_PRESENT})
	}
	pm := openSelfPagemap(t)
	got, err := pm.Scan(addr, addr+n*pageSize, presentQuery, make([]kernel.PageRegion, 0, n))
	if err != nil {
		t.Fatal(err)
	}
	if i := firstDiff(got, want); i >= 0 {
		t.Errorf("from region %d: %s\nwant: %s", i, fmtRegions(got[i:]), fmtRegions(want[i:]))
	}
}
