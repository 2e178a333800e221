package proc

import "structs"

// From include/uapi/linux/fs.h (PAGEMAP_SCAN, kernel 6.7+): the ioctl
// number, _IOWR('f', 16, struct pm_scan_arg), and its flags and page
// categories. bookworm's linux-libc-dev predates them, and x/sys/unix has
// none.
const (
	PAGEMAP_SCAN = 0xc0606610

	PM_SCAN_WP_MATCHING   = 1 << 0 // write-protect the pages matched
	PM_SCAN_CHECK_WPASYNC = 1 << 1 // fail on a VMA not registered for WP_ASYNC

	PAGE_IS_WPALLOWED  = 1 << 0
	PAGE_IS_WRITTEN    = 1 << 1
	PAGE_IS_FILE       = 1 << 2
	PAGE_IS_PRESENT    = 1 << 3
	PAGE_IS_SWAPPED    = 1 << 4
	PAGE_IS_PFNZERO    = 1 << 5
	PAGE_IS_HUGE       = 1 << 6
	PAGE_IS_SOFT_DIRTY = 1 << 7
	PAGE_IS_GUARD      = 1 << 8 // a guard region (MADV_GUARD_INSTALL), kernel 6.15+
)

// pmScanArgSize is sizeof(struct pm_scan_arg), which the kernel checks.
const pmScanArgSize = 96

// From include/uapi/linux/fs.h (struct pm_scan_arg). Addresses are u64 in
// the caller's address space; walk_end is written back by the kernel.
type pmScanArg struct {
	_                 structs.HostLayout
	Size              uint64 // sizeof(struct pm_scan_arg), 96
	Flags             uint64
	Start             uint64
	End               uint64
	WalkEnd           uint64
	Vec               uint64 // address of a struct page_region array
	VecLen            uint64
	MaxPages          uint64 // 0: no limit
	CategoryInverted  uint64
	CategoryMask      uint64
	CategoryAnyofMask uint64
	ReturnMask        uint64
}

// PageRegion is a run of pages with the same categories. Its layout is
// struct page_region from include/uapi/linux/fs.h, so the kernel writes
// results straight into a []PageRegion.
type PageRegion struct {
	Start, End uint64 // [Start, End)
	Categories uint64 // PAGE_IS_* bits, limited to the scan's return mask
}
