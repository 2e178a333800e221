package restore

import (
	"errors"
	"testing"

	"github.com/ckpt/ckpt/image"
	"github.com/ckpt/ckpt/internal/kernel"
)

func TestCheckTimersRefuses(t *testing.T) {
	good := image.PosixTimer{ID: 3, Clock: 1, Notify: kernel.SigevSignal, Signo: 34, IntervalNs: 5, RemainingNs: 7}
	if err := checkTimers(&image.PosixTimers{Timers: []image.PosixTimer{good, {ID: 4, Clock: -6, Notify: kernel.SigevNone}}}); err != nil {
		t.Fatalf("a good record refused: %v", err)
	}
	bad := map[string]func(*image.PosixTimer){
		"negative id":          func(x *image.PosixTimer) { x.ID = -1 },
		"unknown notify":       func(x *image.PosixTimer) { x.Notify = 2 },
		"signal 0":             func(x *image.PosixTimer) { x.Signo = 0 },
		"signal 65":            func(x *image.PosixTimer) { x.Signo = 65 },
		"negative time left":   func(x *image.PosixTimer) { x.RemainingNs = -1 },
		"negative interval":    func(x *image.PosixTimer) { x.IntervalNs = -1 },
		"unknown flag":         func(x *image.PosixTimer) { x.Flags = 2 },
		"pending on cpu clock": func(x *image.PosixTimer) { x.Clock, x.Flags = -6, image.PosixTimerSigPending },
		"another task's clock": func(x *image.PosixTimer) { x.Clock = ^int32(5)<<3 | 2 },
		"a clock device":       func(x *image.PosixTimer) { x.Clock = ^int32(5)<<3 | 3 },
	}
	for name, damage := range bad {
		x := good
		damage(&x)
		if err := checkTimers(&image.PosixTimers{Timers: []image.PosixTimer{x}}); !errors.Is(err, ErrBadImage) {
			t.Errorf("%s: %v, want ErrBadImage", name, err)
		}
	}
	if err := checkTimers(&image.PosixTimers{Timers: []image.PosixTimer{good, good}}); !errors.Is(err, ErrBadImage) {
		t.Errorf("the same id twice: %v, want ErrBadImage", err)
	}
}
