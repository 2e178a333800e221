package proc

import (
	"fmt"
	"slices"

	"github.com/ckpt/ckpt/internal/kernel"
)

// ScanQuery selects pages for Scan, as struct pm_scan_arg does. A page
// with categories c matches when ((c^Inverted)&Mask) == Mask and, if AnyOf
// is not 0, (c^Inverted)&AnyOf != 0. Matching pages with equal
// categories&Return are reported as one region.
type ScanQuery struct {
	Flags                         uint64 // kernel.PM_SCAN_WP_MATCHING, kernel.PM_SCAN_CHECK_WPASYNC
	Inverted, Mask, AnyOf, Return uint64 // PAGE_IS_* bits
}

// presentQuery asks for the pages a dumper saves. Beyond PRESENT and SWAPPED it
// returns FILE and PFNZERO, which split runs where a dumper treats pages
// differently: page-cache pages of a private file mapping need not be
// saved, zero pages need not be read.
var presentQuery = ScanQuery{
	AnyOf:  kernel.PAGE_IS_PRESENT | kernel.PAGE_IS_SWAPPED,
	Return: kernel.PAGE_IS_PRESENT | kernel.PAGE_IS_SWAPPED | kernel.PAGE_IS_FILE | kernel.PAGE_IS_PFNZERO,
}

// minScanVec is the least free room handed to the kernel per ioctl; a
// range with more regions than the room takes several calls, and the room
// doubles each time.
const minScanVec = 256

// Scan appends to dst the regions of [start,end) that match q, merging
// adjacent regions with equal categories, walking the whole range.
func (p *Pagemap) Scan(start, end uint64, q ScanQuery, dst []kernel.PageRegion) ([]kernel.PageRegion, error) {
	return p.scan(start, end, q, dst, 0)
}

// scan does Scan. maxVec, when not 0, limits the regions per ioctl, so
// tests can make the kernel stop early.
func (p *Pagemap) scan(start, end uint64, q ScanQuery, dst []kernel.PageRegion, maxVec int) ([]kernel.PageRegion, error) {
	if err := p.checkRange(start, end); err != nil {
		return dst, err
	}
	end = min(end, taskSizeMax)
	base := len(dst) // regions before base are the caller's; never merge into them
	for cur := start; cur < end; {
		if cap(dst)-len(dst) < minScanVec {
			dst = slices.Grow(dst, max(minScanVec, len(dst)))
		}
		// The kernel writes into dst's spare capacity.
		free := dst[len(dst):cap(dst)]
		if maxVec > 0 {
			free = free[:min(len(free), maxVec)]
		}
		arg := kernel.PmScanArg{
			Size:              kernel.PmScanArgSize,
			Flags:             q.Flags,
			Start:             cur,
			End:               end,
			CategoryInverted:  q.Inverted,
			CategoryMask:      q.Mask,
			CategoryAnyofMask: q.AnyOf,
			ReturnMask:        q.Return,
		}
		n, err := kernel.PagemapScan(p.fd, &arg, free)
		if err != nil {
			return dst, fmt.Errorf("ioctl(PAGEMAP_SCAN) on /proc/%d/pagemap at %#x-%#x: %w",
				p.pid, cur, end, markGone(err))
		}
		if n > len(free) {
			return dst, fmt.Errorf("ioctl(PAGEMAP_SCAN) on /proc/%d/pagemap at %#x-%#x: %d regions for room for %d",
				p.pid, cur, end, n, len(free))
		}
		next := nextScanStart(arg.WalkEnd, end, free[:n], len(free))
		if next <= cur || next > end {
			return dst, fmt.Errorf("ioctl(PAGEMAP_SCAN) on /proc/%d/pagemap at %#x-%#x: walk end %#x after %d regions",
				p.pid, cur, end, arg.WalkEnd, n)
		}
		// A region cut by a full vector continues in the next call's
		// first region; join them, and anything else adjacent.
		for _, r := range free[:n] {
			if last := len(dst) - 1; last >= base && dst[last].End == r.Start && dst[last].Categories == r.Categories {
				dst[last].End = r.End
				continue
			}
			dst = append(dst, r)
		}
		cur = next
	}
	if start < end {
		if err := p.checkAlive(start); err != nil {
			return dst, err
		}
	}
	return dst, nil
}

// nextScanStart returns where the next PAGEMAP_SCAN call starts after one
// that returned regs into room for room regions.
//
// The kernel's walk_end cannot be taken as is. do_pagemap_scan() walks in
// steps of at most 512 regions (its bounce buffer) and sets walk_end only
// when a step stops early; when a later step then finishes the range,
// walk_end keeps the earlier step's value, behind regions already
// returned. Restarting there reports those regions twice (seen on 6.18
// with >512 regions in one call). The walk stops before end only when the
// vector is full, so a call that left room walked everything; otherwise
// the walk ended no earlier than the last region returned.
func nextScanStart(walkEnd, end uint64, regs []kernel.PageRegion, room int) uint64 {
	if len(regs) < room {
		return end
	}
	if n := len(regs); n > 0 && regs[n-1].End > walkEnd {
		return regs[n-1].End
	}
	return walkEnd
}

// checkAlive fails if the address space is gone. PAGEMAP_SCAN on a dead
// mm walks no VMAs and succeeds with no regions, which would read as "no
// pages"; a pagemap read after the walk tells the two apart, since an mm
// that is gone stays gone.
func (p *Pagemap) checkAlive(addr uint64) error {
	var ent [1]uint64
	_, err := p.Read(addr, addr+pageSize, ent[:])
	return err
}
