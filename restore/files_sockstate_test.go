package restore

import (
	"errors"
	"os"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
)

func TestAddSockStateRefuses(t *testing.T) {
	udp := &image.InetSocket{Objref: 1, Family: unix.AF_INET, SockType: unix.SOCK_DGRAM, Protocol: unix.IPPROTO_UDP}
	tcp := &image.InetSocket{Objref: 2, Family: unix.AF_INET, SockType: unix.SOCK_STREAM, Protocol: unix.IPPROTO_TCP}
	objs := map[uint32]image.Record{1: udp, 2: tcp, 3: &image.Pipe{Objref: 3}, 4: &image.UnixSk{Objref: 4}}
	for name, x := range map[string]image.SockState{
		"unix, a device":   {Socket: 4, BindDev: "lo"},
		"unix, a filter":   {Socket: 4, Filter: make([]byte, 8)},
		"unix, shut down":  {Socket: 4, Shutdown: 1},
		"unix, lock bit 2": {Socket: 4, BufLock: 4},
	} {
		if err := (&restorer{objs: objs}).addSockState(&x); !errors.Is(err, ErrBadImage) {
			t.Errorf("%s: got %v, want a bad image", name, err)
		}
	}
	if err := (&restorer{objs: objs}).addSockState(&image.SockState{Socket: 4, BufLock: 3}); err != nil {
		t.Errorf("a unix socket's SO_BUF_LOCK refused: %v", err)
	}
	good := image.SockState{Socket: 1, BufLock: 3, Shutdown: 3, FilterLocked: 1, BindDev: "lo", Filter: make([]byte, 16)}
	if err := (&restorer{objs: objs}).addSockState(&good); err != nil {
		t.Fatalf("a good record refused: %v", err)
	}
	bad := map[string]func(*image.SockState){
		"no socket":        func(x *image.SockState) { x.Socket = 9 },
		"not inet":         func(x *image.SockState) { x.Socket = 3 },
		"lock bit 2":       func(x *image.SockState) { x.BufLock = 4 },
		"filter locked 2":  func(x *image.SockState) { x.FilterLocked = 2 },
		"shutdown bit 2":   func(x *image.SockState) { x.Shutdown = 4 },
		"shut TCP":         func(x *image.SockState) { x.Socket = 2 },
		"long device":      func(x *image.SockState) { x.BindDev = "0123456789abcdef" },
		"half instruction": func(x *image.SockState) { x.Filter = make([]byte, 12) },
		"filter too long":  func(x *image.SockState) { x.Filter = make([]byte, 8*(image.SockStateMaxFilter+1)) },
	}
	for name, damage := range bad {
		x := good
		damage(&x)
		if err := (&restorer{objs: objs}).addSockState(&x); !errors.Is(err, ErrBadImage) {
			t.Errorf("%s: got %v, want a bad image", name, err)
		}
	}
	rs := &restorer{objs: objs}
	if err := rs.addSockState(&good); err != nil {
		t.Fatal(err)
	}
	if err := rs.addSockState(&good); !errors.Is(err, ErrBadImage) {
		t.Errorf("a second SOCK_STATE: got %v, want a bad image", err)
	}
}

func TestApplyInodeAttr(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "attr")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sh := &image.Shmem{Objref: 1, Kind: image.ShmemMemfd, Ino: 77}
	anon := &image.Shmem{Objref: 2, Kind: image.ShmemAnon, Ino: 78}
	rs := &restorer{objs: map[uint32]image.Record{1: sh, 2: anon, 3: &image.Pipe{Objref: 3}}}
	rs.shmFiles = map[uint64]*os.File{77: f}
	good := image.InodeAttr{Object: 1, Mode: 0o4640, Uid: uint32(os.Getuid()), Gid: uint32(os.Getgid()),
		AtimeNs: 1_000_000_000_123, MtimeNs: 2_000_000_000_456, Flags: image.InodeAttrTimes}
	if err := rs.applyInodeAttr(&good); err != nil {
		t.Fatalf("a good record refused: %v", err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		t.Fatal(err)
	}
	if st.Mode&0o7777 != good.Mode || st.Atim.Nano() != good.AtimeNs || st.Mtim.Nano() != good.MtimeNs {
		t.Errorf("mode %#o atime %d mtime %d, want %#o %d %d", st.Mode&0o7777, st.Atim.Nano(), st.Mtim.Nano(),
			good.Mode, good.AtimeNs, good.MtimeNs)
	}
	bad := map[string]func(*image.InodeAttr){
		"file type bits": func(x *image.InodeAttr) { x.Mode = unix.S_IFREG | 0o644 },
		"unknown flag":   func(x *image.InodeAttr) { x.Flags = 2 },
		"reserved":       func(x *image.InodeAttr) { x.Reserved = 1 },
		"anonymous":      func(x *image.InodeAttr) { x.Object = 2 },
		"a pipe":         func(x *image.InodeAttr) { x.Object = 3 },
		"nothing":        func(x *image.InodeAttr) { x.Object = 9 },
	}
	for name, damage := range bad {
		x := good
		damage(&x)
		if err := rs.applyInodeAttr(&x); !errors.Is(err, ErrBadImage) {
			t.Errorf("%s: got %v, want a bad image", name, err)
		}
	}
}
