package restore

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
	"github.com/ckpt/ckpt/internal/kernel"
)

func init() {
	registerKind(kind{name: "timerfd", task: true,
		takes: []taker{object(func(_ *restorer, x *image.TimerFd) error { return checkTimerFd(x) })},
		opens: []opener{fileOf(func(_ *restorer, _ *taskPlan, _ image.Fd, x *image.TimerFd) (*os.File, error) {
			return openTimerFd(x)
		})}})
}

// checkTimerFd checks a TIMERFD as it is read.
func checkTimerFd(tf *image.TimerFd) error {
	switch tf.Clockid {
	case unix.CLOCK_REALTIME, unix.CLOCK_MONOTONIC, unix.CLOCK_BOOTTIME, unix.CLOCK_REALTIME_ALARM, unix.CLOCK_BOOTTIME_ALARM:
	default:
		return badImage("TIMERFD %d: clock %d is not one timerfd_create takes", tf.Objref, tf.Clockid)
	}
	if tf.SettimeFlags&^uint32(unix.TFD_TIMER_ABSTIME|unix.TFD_TIMER_CANCEL_ON_SET) != 0 {
		return badImage("TIMERFD %d: unknown settime flags %#o", tf.Objref, tf.SettimeFlags)
	}
	for _, ns := range []int64{tf.ValueNsec, tf.IntervalNsec} {
		if ns < 0 || ns >= 1e9 {
			return badImage("TIMERFD %d: nanoseconds %d out of range", tf.Objref, ns)
		}
	}
	if tf.ValueSec < 0 || tf.IntervalSec < 0 {
		return badImage("TIMERFD %d: negative time", tf.Objref)
	}
	return nil
}

// openTimerFd makes the timerfd in the restorer: the timer belongs to the
// file, not to a task. It is armed the way it was saved (time left, or the
// absolute expiry with TFD_TIMER_ABSTIME), then given back the expirations
// not read yet, which arming resets to 0.
func openTimerFd(tf *image.TimerFd) (*os.File, error) {
	flags := unix.TFD_CLOEXEC
	if tf.Flags&unix.O_NONBLOCK != 0 {
		flags |= unix.TFD_NONBLOCK
	}
	fd, err := unix.TimerfdCreate(int(tf.Clockid), flags)
	if err != nil {
		return nil, fmt.Errorf("timerfd_create(clock %d): %w", tf.Clockid, err)
	}
	f := os.NewFile(uintptr(fd), "timerfd")
	spec := unix.ItimerSpec{
		Value:    unix.Timespec{Sec: tf.ValueSec, Nsec: tf.ValueNsec},
		Interval: unix.Timespec{Sec: tf.IntervalSec, Nsec: tf.IntervalNsec},
	}
	sflags := int(tf.SettimeFlags)
	if spec.Value.Sec == 0 && spec.Value.Nsec == 0 {
		sflags = 0 // disarmed: only the interval is kept
	}
	if err := unix.TimerfdSettime(fd, sflags, &spec, nil); err != nil {
		f.Close()
		return nil, fmt.Errorf("timerfd_settime(clock %d, flags %#o, value %d.%09d, interval %d.%09d): %w",
			tf.Clockid, sflags, tf.ValueSec, tf.ValueNsec, tf.IntervalSec, tf.IntervalNsec, err)
	}
	if tf.Ticks != 0 {
		if err := kernel.TimerfdSetTicks(fd, tf.Ticks); err != nil {
			f.Close()
			return nil, fmt.Errorf("timerfd: set %d unread expirations (TFD_IOC_SET_TICKS): %w", tf.Ticks, err)
		}
	}
	return f, nil
}
