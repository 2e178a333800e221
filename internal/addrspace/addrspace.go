// Package addrspace answers questions about a process address space
// described as a list of ranges: where is there room for a temporary
// mapping that collides with nothing.
package addrspace

import (
	"cmp"
	"slices"
)

// PageSize is the x86_64 base page size.
const PageSize = 4096

// Range is a half-open address range [Start, End).
type Range struct{ Start, End uint64 }

const (
	// minAddr is vm.mmap_min_addr's default; nothing may be mapped below.
	minAddr = 0x10000
	// userTop is the end of the 47-bit x86_64 user address space.
	userTop = 0x7ffffffff000
	// guard keeps temporary mappings away from everything else: a
	// mapping right next to another may merge with it, and one within the
	// stack guard gap (1 MiB by default) would block stack growth.
	guard = 1 << 20
)

// FindGap returns the lowest address of a size-byte hole that is at least
// guard bytes away from every range in every one of the given lists.
// It returns 0 if there is none.
func FindGap(size uint64, lists ...[]Range) uint64 {
	var all []Range
	for _, l := range lists {
		all = append(all, l...)
	}
	slices.SortFunc(all, func(a, b Range) int { return cmp.Compare(a.Start, b.Start) })
	cursor := uint64(minAddr)
	for _, r := range all {
		if r.Start >= cursor+guard && r.Start-guard-cursor >= size {
			return cursor
		}
		if end := r.End + guard; end > cursor {
			cursor = end
		}
	}
	if cursor+size <= userTop {
		return cursor
	}
	return 0
}

// Overlaps reports whether a and b share an address.
func Overlaps(a, b Range) bool { return a.Start < b.End && b.Start < a.End }
