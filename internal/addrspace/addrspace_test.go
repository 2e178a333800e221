package addrspace

import "testing"

func TestFindGap(t *testing.T) {
	mb := uint64(guard)
	tests := []struct {
		name  string
		size  uint64
		lists [][]Range
		want  uint64
	}{
		{"empty", PageSize, nil, minAddr},
		{"below first", PageSize, [][]Range{{{0x400000, 0x500000}}}, minAddr},
		{"first too low", PageSize, [][]Range{{{minAddr, minAddr + PageSize}}}, minAddr + PageSize + mb},
		{"between lists", 2 * PageSize,
			[][]Range{{{minAddr, 0x100000}}, {{0x100000 + mb + 2*PageSize + mb, 0x900000}}},
			0x100000 + mb},
		{"hole too small", PageSize,
			[][]Range{{{minAddr, 0x100000}, {0x100000 + mb + PageSize, 0x200000}}},
			0x200000 + mb},
		{"full", PageSize, [][]Range{{{0, userTop}}}, 0},
	}
	for _, tt := range tests {
		if got := FindGap(tt.size, tt.lists...); got != tt.want {
			t.Errorf("%s: FindGap = %#x, want %#x", tt.name, got, tt.want)
		}
	}
}
