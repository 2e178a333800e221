package proc

import (
	"errors"
	"reflect"
	"testing"

	"golang.org/x/sys/unix"
)

// Parser tests on fixed text cover the spellings a live process cannot be
// made to show on demand; the other tests read real processes.

func TestParseVmaHeader(t *testing.T) {
	tests := []struct {
		line string
		want Vma
	}{{
		"7f4f7a3c1000-7f4f7a3e7000 r-xp 00026000 fe:00 1574 /usr/lib/x86_64-linux-gnu/libc.so.6",
		Vma{Start: 0x7f4f7a3c1000, End: 0x7f4f7a3e7000, Prot: unix.PROT_READ | unix.PROT_EXEC,
			Offset: 0x26000, Dev: unix.Mkdev(0xfe, 0), Inode: 1574, Path: "/usr/lib/x86_64-linux-gnu/libc.so.6"},
	}, {
		"7f0000000000-7f0000001000 rw-s 00000000 00:01 2050                       /memfd:ring buf (deleted)",
		Vma{Start: 0x7f0000000000, End: 0x7f0000001000, Prot: unix.PROT_READ | unix.PROT_WRITE, Shared: true,
			Dev: unix.Mkdev(0, 1), Inode: 2050, Path: "/memfd:ring buf", Deleted: true},
	}, {
		"ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]",
		Vma{Start: 0xffffffffff600000, End: 0xffffffffff601000, Prot: unix.PROT_EXEC, Path: "[vsyscall]"},
	}, {
		"10000-11000 ---p 00000000 00:00 0 ",
		Vma{Start: 0x10000, End: 0x11000},
	}, {
		"10000-11000 rw-p 00000000 103:1ffff 18446744073709551615 /a file/with  two spaces ",
		Vma{Start: 0x10000, End: 0x11000, Prot: unix.PROT_READ | unix.PROT_WRITE,
			Dev: unix.Mkdev(0x103, 0x1ffff), Inode: 1<<64 - 1, Path: "/a file/with  two spaces "},
	}}
	for _, tc := range tests {
		var v Vma
		var pc pathCache
		if err := parseVmaHeader([]byte(tc.line), &v, &pc); err != nil {
			t.Errorf("%q: %v", tc.line, err)
			continue
		}
		if v != tc.want {
			t.Errorf("%q:\n got %+v\nwant %+v", tc.line, v, tc.want)
		}
	}
	for _, bad := range []string{
		"", "7f00 r-xp 0 fe:00 1", "1-2 r-x 0 fe:00 1 /x", "1-2 r-xp zz fe:00 1", "1-2 r-xp 0 fe00 1",
		"1-2 r-xp 0 fe:00 -1", "g-2 r-xp 0 fe:00 1", "1-2 r-xp 0 1000:00 1",
	} {
		var v Vma
		var pc pathCache
		if err := parseVmaHeader([]byte(bad), &v, &pc); !errors.Is(err, errSyntax) {
			t.Errorf("%q: err = %v, want a syntax error", bad, err)
		}
	}
}

func TestIsSpecial(t *testing.T) {
	for path, want := range map[string]bool{
		"[vdso]": true, "[vvar]": true, "[vvar_vclock]": true, "[vsyscall]": true, "[uprobes]": true,
		"[heap]": false, "[stack]": false, "[anon:jit]": false, "[anon_shmem:x]": false,
		"": false, "/usr/bin/x": false, "/odd[name]": false, "[": false,
	} {
		if got := (Vma{Path: path}).IsSpecial(); got != want {
			t.Errorf("IsSpecial(%q) = %v, want %v", path, got, want)
		}
	}
}

func TestVmFlags(t *testing.T) {
	f := parseVmFlags([]byte(" rd wr mr mw me gd ac sd zz ss \n"))
	for _, c := range []string{"rd", "wr", "mr", "mw", "me", "gd", "ac", "sd", "ss"} {
		if !f.Has(c) {
			t.Errorf("Has(%q) = false in %v", c, f)
		}
	}
	for _, c := range []string{"ex", "sh", "ms", "zz", "", "r", "rdd", "RD"} {
		if f.Has(c) {
			t.Errorf("Has(%q) = true in %v", c, f)
		}
	}
	if f&VmUnknown == 0 {
		t.Errorf("unknown code zz did not set VmUnknown: %v", f)
	}
	if got, want := f.String(), "rd wr mr mw me gd ac sd ss ??"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	// Every code has its own bit, and the named constants match the table.
	seen := VmFlags(0)
	for _, c := range vmFlagCodes {
		b := parseVmFlags([]byte(c))
		if b == 0 || b&(b-1) != 0 || b&seen != 0 || b == VmUnknown {
			t.Errorf("code %q maps to %#x", c, uint64(b))
		}
		seen |= b
	}
	if parseVmFlags([]byte("sh")) != VmSh || parseVmFlags([]byte("mp")) != VmMp || parseVmFlags([]byte("uw")) != VmUw {
		t.Error("constants and code table disagree")
	}
}

func TestParseStat(t *testing.T) {
	// comm holds spaces, both parentheses and a newline; 52 fields.
	line := "4242 (a) (b\n) c) S 1 4242 4242 34816 4242 4194560 10 0 0 0 7 3 0 0 20 0 1 0 123456 2289664 " +
		"230 18446744073709551615 94000000000000 94000000020000 140730000000000 0 0 0 4096 1 65536 0 0 0 17 1 0 0 0 0 0 " +
		"94000000030000 94000000031000 94000001000000 140730000001000 140730000001020 140730000001020 140730000001100 0\n"
	var s Stat
	if err := s.parse([]byte(line)); err != nil {
		t.Fatal(err)
	}
	want := Stat{
		Pid: 4242, Comm: "a) (b\n) c", State: 'S', PPid: 1, Pgrp: 4242, Session: 4242, TtyNr: 34816, Tpgid: 4242,
		Flags: 4194560, Utime: 7, Stime: 3, Priority: 20, Nice: 0, NumThreads: 1, StartTime: 123456,
		Vsize: 2289664, Rss: 230, StartCode: 94000000000000, EndCode: 94000000020000, StartStack: 140730000000000,
		Signal: 0, Blocked: 4096, SigIgnore: 1, SigCatch: 65536, ExitSignal: 17, Processor: 1,
		StartData: 94000000030000, EndData: 94000000031000, StartBrk: 94000001000000,
		ArgStart: 140730000001000, ArgEnd: 140730000001020, EnvStart: 140730000001020, EnvEnd: 140730000001100,
	}
	if s != want {
		t.Errorf("got  %+v\nwant %+v", s, want)
	}
	for _, bad := range []string{"", "1 (x S", "1 x) S 1", "1 (x) S 1 2 3", "1 (x) S " + repeat("1 ", 48) + "z"} {
		if err := new(Stat).parse([]byte(bad)); !errors.Is(err, errSyntax) {
			t.Errorf("%q: err = %v, want a syntax error", bad, err)
		}
	}
}

func repeat(s string, n int) string {
	out := ""
	for range n {
		out += s
	}
	return out
}

func TestParseStatus(t *testing.T) {
	text := "Name:\ta\\\\b\\nc \t\nUmask:\t0027\nState:\tt (tracing stop)\nTgid:\t7\nNgid:\t0\nPid:\t8\nPPid:\t1\nTracerPid:\t5\n" +
		"Uid:\t1\t2\t3\t4\nGid:\t5\t6\t7\t4294967295\nFDSize:\t64\nGroups:\t10 20 \nNStgid:\t7\t1\nNSpid:\t8\t2\nNSpgid:\t7\t1\nNSsid:\t7\t1\n" +
		"Threads:\t2\nSigQ:\t0/1\nSigPnd:\t0000000000000100\nShdPnd:\t8000000000000000\nSigBlk:\t0000000000000800\nSigIgn:\t0000000000001000\n" +
		"SigCgt:\tfffffffe7ffbfeff\nCapInh:\t0000000000000000\nCapPrm:\t000001fffeffffff\nCapEff:\t000001fffeffffff\n" +
		"CapBnd:\t000001ffffffffff\nCapAmb:\t0000000000000001\nNoNewPrivs:\t1\nSeccomp:\t2\nSeccomp_filters:\t3\nCpus_allowed_list:\t0-1,3\n"
	var s Status
	if err := s.parse([]byte(text)); err != nil {
		t.Fatal(err)
	}
	want := Status{
		Name: "a\\b\nc \t", Umask: 0o27, State: 't', Tgid: 7, Pid: 8, PPid: 1, TracerPid: 5,
		Uid: [4]uint32{1, 2, 3, 4}, Gid: [4]uint32{5, 6, 7, 1<<32 - 1}, Groups: []uint32{10, 20},
		NStgid: []int{7, 1}, NSpid: []int{8, 2}, NSpgid: []int{7, 1}, NSsid: []int{7, 1}, Threads: 2,
		SigPnd: 0x100, ShdPnd: 1 << 63, SigBlk: 0x800, SigIgn: 0x1000, SigCgt: 0xfffffffe7ffbfeff,
		CapPrm: 0x1fffeffffff, CapEff: 0x1fffeffffff, CapBnd: 0x1ffffffffff, CapAmb: 1,
		NoNewPrivs: 1, Seccomp: 2, SeccompFilters: 3, CpusAllowedList: "0-1,3",
	}
	if !reflect.DeepEqual(s, want) {
		t.Errorf("got  %+v\nwant %+v", s, want)
	}
	for _, bad := range []string{"Name:\tx\n", "Pid:\tx\n", "Pid:\t1\nUid:\t1 2 3\n", "Pid:\t1\nSigBlk:\tzz\n", "Pid:\t1\nUmask:\t9\n"} {
		if err := new(Status).parse([]byte(bad)); !errors.Is(err, errSyntax) {
			t.Errorf("%q: err = %v, want a syntax error", bad, err)
		}
	}
}

func TestParseFdInfo(t *testing.T) {
	text := "pos:\t-1\nflags:\t02004002\nmnt_id:\t15\nino:\t1057\ntfd:        5 events:       19 data: 5  pos:0 ino:2d sdev:f\n" +
		"tfd:        6 events:       19 data: 6  pos:0 ino:2e sdev:f\nsettime flags:\t01\nlock:\t1: FLOCK  ADVISORY  WRITE 4242 00:15:1057 0 EOF\n"
	var fi FdInfo
	if err := fi.parse([]byte(text)); err != nil {
		t.Fatal(err)
	}
	want := FdInfo{Pos: -1, Flags: unix.O_RDWR | unix.O_NONBLOCK | unix.O_CLOEXEC, MntID: 15, Ino: 1057, Extra: map[string]string{
		"tfd":           "5 events:       19 data: 5  pos:0 ino:2d sdev:f\n6 events:       19 data: 6  pos:0 ino:2e sdev:f",
		"settime flags": "01",
		"lock":          "1: FLOCK  ADVISORY  WRITE 4242 00:15:1057 0 EOF",
	}}
	if !reflect.DeepEqual(fi, want) {
		t.Errorf("got  %+v\nwant %+v", fi, want)
	}
	for _, bad := range []string{"", "pos:\t0\n", "pos:\tx\nflags:\t0\n", "pos:\t0\nflags:\t9\n", "pos:\t0\nflags:\t0\nweird\n"} {
		if err := new(FdInfo).parse([]byte(bad)); !errors.Is(err, errSyntax) {
			t.Errorf("%q: err = %v, want a syntax error", bad, err)
		}
	}
}

func TestParseUint(t *testing.T) {
	for _, tc := range []struct {
		in   string
		base uint64
		want uint64
		ok   bool
	}{
		{"0", 10, 0, true}, {"18446744073709551615", 10, 1<<64 - 1, true}, {"18446744073709551616", 10, 0, false},
		{"ffffffffffffffff", 16, 1<<64 - 1, true}, {"10000000000000000", 16, 0, false}, {"0777", 8, 0o777, true},
		{"8", 8, 0, false}, {"", 10, 0, false}, {"1a", 10, 0, false}, {"DeadBeef", 16, 0xdeadbeef, true},
	} {
		got, ok := parseUint([]byte(tc.in), tc.base)
		if got != tc.want || ok != tc.ok {
			t.Errorf("parseUint(%q, %d) = %d, %v; want %d, %v", tc.in, tc.base, got, ok, tc.want, tc.ok)
		}
	}
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{{"-9223372036854775808", -1 << 63, true}, {"9223372036854775807", 1<<63 - 1, true}, {"9223372036854775808", 0, false}, {"-", 0, false}} {
		got, ok := parseInt([]byte(tc.in))
		if got != tc.want || ok != tc.ok {
			t.Errorf("parseInt(%q) = %d, %v; want %d, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}
