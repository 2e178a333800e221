package proc

import (
	"os"
	"runtime"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// TestTimersMatchTimerCreate creates timers of each notification kind in
// this process (never armed, so they fire nothing) and finds them in
// /proc/self/timers as they were made.
func TestTimersMatchTimerCreate(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	tid := unix.Gettid()
	type sigevent struct {
		value  uint64
		signo  int32
		notify int32
		tid    int32
		_      [44]byte
	}
	cases := []struct {
		clock  int32
		ev     sigevent
		notify string
		thread bool
		pid    int
	}{
		{unix.CLOCK_MONOTONIC, sigevent{value: 0xfeedface12, signo: 40, notify: 0}, "signal", false, os.Getpid()},
		{unix.CLOCK_BOOTTIME, sigevent{notify: 1}, "none", false, os.Getpid()},
		{-6, sigevent{value: 7, signo: 41, notify: 4, tid: int32(tid)}, "signal", true, tid},
	}
	ids := make([]int32, len(cases))
	for i := range cases {
		_, _, e := unix.Syscall(unix.SYS_TIMER_CREATE, uintptr(cases[i].clock),
			uintptr(unsafe.Pointer(&cases[i].ev)), uintptr(unsafe.Pointer(&ids[i])))
		if e != 0 {
			t.Fatalf("timer_create %d: %v", i, e)
		}
		defer unix.Syscall(unix.SYS_TIMER_DELETE, uintptr(ids[i]), 0, 0)
	}
	got, err := Timers(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range cases {
		var found *PosixTimer
		for j := range got {
			if got[j].ID == ids[i] {
				found = &got[j]
			}
		}
		if found == nil {
			t.Errorf("timer %d (id %d) is not listed: %+v", i, ids[i], got)
			continue
		}
		want := PosixTimer{ID: ids[i], Signo: c.ev.signo, Sigval: c.ev.value, Notify: c.notify, ThreadID: c.thread,
			Pid: int32(c.pid), Clock: c.clock, seen: 4}
		if c.notify == "none" {
			want.Signo, want.Sigval = 0, 0 // the kernel does not show them
		}
		if *found != want {
			t.Errorf("timer %d: got %+v, want %+v", i, *found, want)
		}
	}
}
