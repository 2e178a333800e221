package image

import "math"

func init() {
	roundTripCases = append(roundTripCases, []struct {
		name string
		rec  Record
	}{
		{"inode_attr/empty", &InodeAttr{}},
		{"inode_attr/extremes", &InodeAttr{Object: u32max, Mode: u32max, Uid: u32max, Gid: u32max,
			AtimeNs: math.MinInt64, MtimeNs: math.MaxInt64, Flags: u32max, Reserved: u32max}},
	}...)
}
