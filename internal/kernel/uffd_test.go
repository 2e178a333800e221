package kernel

import "testing"

// The ioctl numbers as <linux/userfaultfd.h> computes them (printed by a C
// program on this kernel's headers; UFFDIO_POISON is not in bookworm's).
func TestUffdIoctlNumbers(t *testing.T) {
	for _, c := range []struct {
		name      string
		got, want uintptr
	}{
		{"UFFDIO_API", UffdioAPI, 0xc018aa3f},
		{"UFFDIO_REGISTER", UffdioRegister, 0xc020aa00},
		{"UFFDIO_WAKE", UffdioWake, 0x8010aa02},
		{"UFFDIO_COPY", UffdioCopy, 0xc028aa03},
		{"UFFDIO_ZEROPAGE", UffdioZeropage, 0xc020aa04},
		{"UFFDIO_POISON", UffdioPoison, 0xc020aa08},
	} {
		if c.got != c.want {
			t.Errorf("%s = %#x, want %#x", c.name, c.got, c.want)
		}
	}
}
