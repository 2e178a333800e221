package proc

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

func mmapAnon(t testing.TB, size int, prot int) ([]byte, uint64) {
	t.Helper()
	mem, err := unix.Mmap(-1, 0, size, prot, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_NORESERVE)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Munmap(mem) })
	return mem, uint64(uintptr(readFaultAddr(mem)))
}

func openSelfPagemap(t testing.TB) *Pagemap {
	t.Helper()
	pm, err := OpenPagemap(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pm.Close() })
	return pm
}

func TestPagemapAnon(t *testing.T) {
	zpfn, err := ZeroPFN()
	if err != nil {
		t.Fatal(err)
	}
	const n = 16
	mem, addr := mmapAnon(t, n*pageSize, unix.PROT_READ|unix.PROT_WRITE)
	written := map[int]bool{0: true, 2: true, 5: true, 15: true}
	for i := range written {
		mem[i*pageSize] = 1
	}
	const readOnly = 7
	readFault(mem[readOnly*pageSize:])
	pm := openSelfPagemap(t)
	ents, err := pm.Read(addr, addr+n*pageSize, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != n {
		t.Fatalf("%d entries for %d pages", len(ents), n)
	}
	pfns := map[uint64]bool{}
	for i, raw := range ents {
		e := PME(raw)
		switch {
		case written[i]:
			if !e.Present() || e.Swapped() || !e.Exclusive() || e.FileOrSharedAnon() || e.PFN() == 0 || e.PFN() == zpfn || pfns[e.PFN()] {
				t.Errorf("written page %d: entry %#x", i, raw)
			}
			pfns[e.PFN()] = true
		case i == readOnly:
			// Reading untouched private memory maps the shared zero page.
			if !e.Present() || e.Exclusive() || e.PFN() != zpfn {
				t.Errorf("read-only page: entry %#x, zero pfn %#x", raw, zpfn)
			}
		default:
			if raw != 0 {
				t.Errorf("untouched page %d: entry %#x", i, raw)
			}
		}
		if e.SoftDirty() || e.UffdWP() || e.Guard() {
			t.Errorf("page %d: unexpected bits in %#x", i, raw)
		}
	}

	// A read of a subrange reuses dst and agrees.
	dst := make([]uint64, 0, n)
	got, err := pm.Read(addr+2*pageSize, addr+8*pageSize, dst)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 6 || &got[0] != &dst[:1][0] {
		t.Errorf("dst not reused: len %d", len(got))
	}
	for i, e := range got {
		if e != ents[i+2] {
			t.Errorf("subrange entry %d: %#x, full read had %#x", i, e, ents[i+2])
		}
	}
	if got, err := pm.Read(addr, addr, dst); err != nil || len(got) != 0 {
		t.Errorf("empty range: %v, %v", got, err)
	}
	for _, r := range [][2]uint64{{addr + 1, addr + pageSize}, {addr, addr + 10}, {addr + pageSize, addr}} {
		if _, err := pm.Read(r[0], r[1], nil); err == nil {
			t.Errorf("range %#x-%#x accepted", r[0], r[1])
		}
	}
}

func TestZeroPFNStable(t *testing.T) {
	// Another mapping, read the same way, gets the same page.
	zpfn, err := ZeroPFN()
	if err != nil {
		t.Fatal(err)
	}
	mem, addr := mmapAnon(t, 4*pageSize, unix.PROT_READ)
	readFault(mem[3*pageSize:])
	ents, err := openSelfPagemap(t).Read(addr+3*pageSize, addr+4*pageSize, nil)
	if err != nil {
		t.Fatal(err)
	}
	if PME(ents[0]).PFN() != zpfn {
		t.Errorf("entry %#x, zero pfn %#x", ents[0], zpfn)
	}
}

func TestPagemapFileAndSpecial(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	mem, _ := mapFile(t, path, 4, 0, 4, unix.PROT_READ, unix.MAP_SHARED)
	addr := uint64(uintptr(readFaultAddr(mem)))
	readFault(mem[pageSize:])
	pm := openSelfPagemap(t)
	ents, err := pm.Read(addr+pageSize, addr+2*pageSize, nil)
	if err != nil {
		t.Fatal(err)
	}
	if e := PME(ents[0]); !e.Present() || !e.FileOrSharedAnon() {
		t.Errorf("shared file page: entry %#x", ents[0])
	}
	// [vsyscall] lies above the user address space: it reads as absent.
	vmas, err := Maps(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, v := range vmas {
		if v.Path != "[vsyscall]" {
			continue
		}
		found = true
		ents, err := pm.Read(v.Start, v.End, []uint64{^uint64(0)})
		if err != nil || len(ents) != 1 || ents[0] != 0 {
			t.Errorf("[vsyscall]: %x, %v", ents, err)
		}
		regs, err := pm.Scan(v.Start, v.End, presentQuery, nil)
		if err != nil || len(regs) != 0 {
			t.Errorf("[vsyscall] scan: %v, %v", regs, err)
		}
	}
	if !found {
		t.Error("no [vsyscall] in maps")
	}
}

func TestPagemapGone(t *testing.T) {
	h := startHelper(t, "mem", "", nil)
	anon := h.addr(t, "anon")
	pm, err := OpenPagemap(h.pid)
	if err != nil {
		t.Fatal(err)
	}
	defer pm.Close()
	if regs, err := pm.Scan(anon, anon+memPages*pageSize, presentQuery, nil); err != nil || len(regs) == 0 {
		t.Fatalf("live child: %v, %v", regs, err)
	}
	h.stop()
	if _, err := pm.Read(anon, anon+pageSize, nil); !IsGone(err) {
		t.Errorf("Read after exit: %v", err)
	}
	if _, err := pm.Scan(anon, anon+memPages*pageSize, presentQuery, nil); !IsGone(err) {
		t.Errorf("Scan after exit: %v", err)
	}
	if err := pm.Close(); err != nil {
		t.Error(err)
	}
	if err := pm.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := pm.Read(anon, anon+pageSize, nil); err == nil {
		t.Error("Read after Close succeeded")
	}
}
