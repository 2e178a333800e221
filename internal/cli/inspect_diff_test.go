package cli

import (
	"bytes"
	"hash/maphash"
	"strings"
	"testing"

	"github.com/ckpt/ckpt/image"
)

// memImage writes an image of one task (pid 7) with a heap at 0x10000
// (8 pages) and an anonymous mapping at 0x40000 (2 pages), holding pages
// whose content is given by fill (nil: the page is not in the image).
func memImage(t *testing.T, seed *maphash.Seed, fill func(va uint64) []byte) *model {
	t.Helper()
	var buf bytes.Buffer
	w := image.NewWriter(&buf)
	var comm [image.TaskCommLen]byte
	copy(comm[:], "app")
	vmas := []image.Vma{{Start: 0x10000, End: 0x18000, Path: "[heap]"}, {Start: 0x40000, End: 0x42000}}
	for _, r := range []image.Record{
		image.NewHeader(), &image.Pstree{Tasks: []image.Task{{Pid: 7, Comm: comm}}}, &image.Task{Pid: 7, Comm: comm},
		&image.Mm{Objref: 1, NrVmas: 2}, &vmas[0], &vmas[1],
	} {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	for _, v := range vmas {
		for va := v.Start; va < v.End; va += image.PageSize {
			if p := fill(va); p != nil {
				if err := w.WritePages(va, p); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	if err := w.Write(&image.TaskObjs{Mm: 1}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	m, _, err := buildModel(&buf, buildOpts{hashes: seed})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestDiffMemory: pages whose content differs are counted and listed as
// address ranges per mapping, pages present in one image only too; equal
// pages are not reported.
func TestDiffMemory(t *testing.T) {
	page := func(b byte) []byte { return bytes.Repeat([]byte{b}, image.PageSize) }
	seed := maphash.MakeSeed() // one seed for both, as inspectDiff has
	build := func(fill func(va uint64) []byte) *model { return memImage(t, &seed, fill) }
	a := build(func(va uint64) []byte {
		if va == 0x41000 {
			return nil
		}
		return page(1)
	})
	b := build(func(va uint64) []byte {
		switch va {
		case 0x11000, 0x12000, 0x15000: // changed: two runs in the heap
			return page(2)
		case 0x17000: // gone
			return nil
		}
		return page(1) // 0x41000: new
	})
	var out strings.Builder
	diffModels(&out, a, b)
	got := out.String()
	for _, want := range []string{
		"~ task 7 memory 0x10000-0x18000 [heap]: 3 pages differ (0x11000-0x13000, 0x15000-0x16000)",
		"- task 7 memory 0x10000-0x18000 [heap]: 1 page only in the first (0x17000-0x18000)",
		"+ task 7 memory 0x40000-0x42000 anon: 1 page only in the second (0x41000-0x42000)",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("diff lacks %q:\n%s", want, got)
		}
	}
	var same strings.Builder
	diffModels(&same, a, a)
	if same.String() != "" {
		t.Errorf("an image compared with itself: %q", same.String())
	}
}
