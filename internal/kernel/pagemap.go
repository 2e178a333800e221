package kernel

import (
	"runtime"
	"structs"
	"unsafe"

	"golang.org/x/sys/unix"
)

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

// PmScanArgSize is sizeof(struct pm_scan_arg), which the kernel checks.
const PmScanArgSize = 96

// From include/uapi/linux/fs.h (struct pm_scan_arg). Addresses are u64 in
// the caller's address space; walk_end is written back by the kernel.
type PmScanArg struct {
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

// PagemapScan issues PAGEMAP_SCAN on fd (an open /proc/PID/pagemap) with
// vec as the output array and returns the number of regions the kernel
// filled. arg.Vec and arg.VecLen are set from vec.
func PagemapScan(fd int, arg *PmScanArg, vec []PageRegion) (int, error) {
	if len(vec) > 0 {
		arg.Vec = uint64(uintptr(unsafe.Pointer(&vec[0])))
	}
	arg.VecLen = uint64(len(vec))
	for {
		r, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), PAGEMAP_SCAN, uintptr(unsafe.Pointer(arg)))
		runtime.KeepAlive(vec)
		runtime.KeepAlive(arg)
		if errno == unix.EINTR {
			continue
		}
		if errno != 0 {
			return 0, errno
		}
		return int(r), nil
	}
}
