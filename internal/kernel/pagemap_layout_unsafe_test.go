package kernel

import (
	"testing"
	"unsafe"
)

// The structs PAGEMAP_SCAN reads and writes must match
// include/uapi/linux/fs.h byte for byte.
func TestScanABILayout(t *testing.T) {
	var a PmScanArg
	for _, c := range []struct {
		name      string
		got, want uintptr
	}{
		{"sizeof(pm_scan_arg)", unsafe.Sizeof(a), PmScanArgSize},
		{"walk_end", unsafe.Offsetof(a.WalkEnd), 32},
		{"vec", unsafe.Offsetof(a.Vec), 40},
		{"max_pages", unsafe.Offsetof(a.MaxPages), 56},
		{"return_mask", unsafe.Offsetof(a.ReturnMask), 88},
		{"sizeof(page_region)", unsafe.Sizeof(PageRegion{}), 24},
		{"categories", unsafe.Offsetof(PageRegion{}.Categories), 16},
	} {
		if c.got != c.want {
			t.Errorf("%s = %d, want %d", c.name, c.got, c.want)
		}
	}
	// _IOWR('f', 16, struct pm_scan_arg): dir 3 << 30 | size << 16 | 'f' << 8 | 16.
	if want := uintptr(3<<30 | PmScanArgSize<<16 | 'f'<<8 | 16); PAGEMAP_SCAN != want {
		t.Errorf("PAGEMAP_SCAN = %#x, want %#x", PAGEMAP_SCAN, want)
	}
}
