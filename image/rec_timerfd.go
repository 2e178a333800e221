package image

// TimerFd (TIMERFD, type 311, object) is a timerfd(2) file: its clock, its
// armed time and interval, and the expirations not yet read.
type TimerFd struct {
	Objref       uint32 `ckpt:"objref"`
	Flags        uint32 // open(2) flags as in /proc/PID/fdinfo
	Clockid      uint32 // CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME (+_ALARM)
	SettimeFlags uint32 // TFD_TIMER_ABSTIME, TFD_TIMER_CANCEL_ON_SET
	Ticks        uint64 // expirations not yet read
	// Value is the time left until the next expiry (relative), or with
	// TFD_TIMER_ABSTIME the absolute expiry time on Clockid; 0 when the
	// timer is disarmed.
	ValueSec     int64
	ValueNsec    int64
	IntervalSec  int64
	IntervalNsec int64
}

func (*TimerFd) Type() Type { return TypeTimerFd }
