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

func init() {
	roundTripCases = append(roundTripCases, []struct {
		name string
		rec  Record
	}{
		{"sock_state/empty", &SockState{}},
		{"sock_state/extremes", &SockState{Socket: u32max, BufLock: u32max, Shutdown: u32max, FilterLocked: u32max,
			BindDev: "0123456789abcdef", Filter: make([]byte, 8*SockStateMaxFilter)}},
	}...)
}

func init() {
	roundTripCases = append(roundTripCases, []struct {
		name string
		rec  Record
	}{
		{"tty_attr/empty", &TtyAttr{}},
		{"tty_attr/extremes", &TtyAttr{TtyID: u32max, Mode: u32max, Uid: u32max, Gid: u32max}},
	}...)
}

func init() {
	roundTripCases = append(roundTripCases, []struct {
		name string
		rec  Record
	}{
		{"unix_bind/empty", &UnixBind{}},
		{"unix_bind/extremes", &UnixBind{Ino: u32max, Flags: u32max, Dir: make([]byte, 4096)}},
	}...)
}

func init() {
	roundTripCases = append(roundTripCases, []struct {
		name string
		rec  Record
	}{
		{"tmpfile/empty", &Tmpfile{}},
		{"tmpfile/extremes", &Tmpfile{Dev: math.MaxUint64, Ino: math.MaxUint64, Flags: u32max, Reserved: u32max}},
	}...)
}
