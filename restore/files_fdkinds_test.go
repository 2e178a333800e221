package restore

import (
	"errors"
	"testing"

	"github.com/ckpt/ckpt/image"
	"github.com/ckpt/ckpt/internal/allow"
)

func TestCheckTimerFdRefuses(t *testing.T) {
	good := image.TimerFd{Objref: 1, Clockid: 1, SettimeFlags: 1, ValueSec: 5, ValueNsec: 999999999, IntervalNsec: 3}
	if err := checkTimerFd(&good); err != nil {
		t.Fatalf("a good record refused: %v", err)
	}
	bad := map[string]func(*image.TimerFd){
		"cpu clock":         func(x *image.TimerFd) { x.Clockid = 2 },
		"unknown flag":      func(x *image.TimerFd) { x.SettimeFlags = 4 },
		"nsec too big":      func(x *image.TimerFd) { x.ValueNsec = 1e9 },
		"negative nsec":     func(x *image.TimerFd) { x.IntervalNsec = -1 },
		"negative interval": func(x *image.TimerFd) { x.IntervalSec = -1 },
	}
	for name, damage := range bad {
		x := good
		damage(&x)
		if err := checkTimerFd(&x); !errors.Is(err, ErrBadImage) {
			t.Errorf("%s: got %v, want a bad image", name, err)
		}
	}
}

func TestInotifyWatchOrder(t *testing.T) {
	rs := &restorer{}
	in := &image.Inotify{Objref: 7, NrWatches: 2}
	if err := rs.addInotify(in); err != nil {
		t.Fatal(err)
	}
	if err := rs.addInotifyWatch(&image.InotifyWatch{Wd: 3, Path: "/a"}); err != nil {
		t.Fatal(err)
	}
	if err := rs.addInotifyWatch(&image.InotifyWatch{Wd: 3, Path: "/b"}); !errors.Is(err, ErrBadImage) {
		t.Errorf("a repeated wd: got %v, want a bad image", err)
	}
	if err := rs.inotifyComplete(); !errors.Is(err, ErrBadImage) {
		t.Errorf("a missing watch: got %v, want a bad image", err)
	}
	if err := rs.addInotifyWatch(&image.InotifyWatch{Wd: 4, Path: "relative"}); !errors.Is(err, ErrBadImage) {
		t.Errorf("a relative path: got %v, want a bad image", err)
	}
	if err := rs.addInotifyWatch(&image.InotifyWatch{Wd: 5, Path: "/c"}); err != nil {
		t.Fatal(err)
	}
	if err := rs.inotifyComplete(); err != nil {
		t.Errorf("complete: %v", err)
	}
	if err := rs.addInotifyWatch(&image.InotifyWatch{Wd: 6, Path: "/d"}); !errors.Is(err, ErrBadImage) {
		t.Errorf("a watch too many: got %v, want a bad image", err)
	}
}

func TestAddFileLockRefuses(t *testing.T) {
	tp := newPlan(image.Task{Pid: 5})
	tp.files = &image.Files{Objref: 1, NrFds: 1}
	tp.fds = []image.Fd{{Fd: 4, File: 2}}
	good := image.FileLock{Fd: 4, Kind: image.LockPosix, Write: 1, Start: 10, Len: 5}
	rs := &restorer{opts: Options{Allow: allow.Allow{FileLocks: true}}}
	if err := rs.addFileLock(tp, &good); err != nil {
		t.Fatalf("a good record refused: %v", err)
	}
	bad := map[string]func(*image.FileLock){
		"unknown fd":       func(x *image.FileLock) { x.Fd = 5 },
		"unknown kind":     func(x *image.FileLock) { x.Kind = 4 },
		"write 2":          func(x *image.FileLock) { x.Write = 2 },
		"negative start":   func(x *image.FileLock) { x.Start = -1 },
		"flock with range": func(x *image.FileLock) { x.Kind = image.LockFlock },
		"negative len":     func(x *image.FileLock) { x.Len = -1 },
	}
	for name, damage := range bad {
		x := good
		damage(&x)
		if err := rs.addFileLock(tp, &x); !errors.Is(err, ErrBadImage) {
			t.Errorf("%s: got %v, want a bad image", name, err)
		}
	}
	rs.opts.FileLocks = false
	if err := rs.addFileLock(tp, &good); err == nil || errors.Is(err, ErrBadImage) {
		t.Errorf("without --file-locks: got %v, want a refusal naming the option", err)
	}
}
