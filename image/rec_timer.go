package image

// PosixTimers (POSIX_TIMERS, type 120) is every POSIX timer of a task
// (timer_create(2)), in ascending ID order. It is part of the task's state
// section; a task without timers has none.
type PosixTimers struct {
	Timers []PosixTimer
}

// PosixTimer is one POSIX timer: how it was created, and its state when
// the task was stopped.
type PosixTimer struct {
	ID     int32  // the timer id the task knows it by
	Clock  int32  // clockid; a negative one is a CPU clock, of the task itself (pid 0)
	Notify int32  // sigev_notify: SIGEV_SIGNAL 0, SIGEV_NONE 1, SIGEV_THREAD_ID 4
	Signo  int32  // sigev_signo
	Tid    int32  // SIGEV_THREAD_ID: the thread signalled, in the task's pid namespace
	Flags  uint32 // PosixTimerFlag* bits
	Sigval uint64 // sigev_value
	// IntervalNs and RemainingNs are timer_gettime(2)'s it_interval and
	// it_value (time left, relative) in nanoseconds; RemainingNs 0: disarmed.
	IntervalNs  int64
	RemainingNs int64
	Overrun     int32 // timer_getoverrun(2) at checkpoint time; restore cannot set it
	Reserved    uint32
}

// PosixTimer.Flags bits.
const (
	// PosixTimerSigPending: the timer's signal was queued, not yet
	// delivered. It is not in the task's SIGPENDING records: restore makes
	// the timer expire at once so that the kernel queues its own signal.
	PosixTimerSigPending uint32 = 1
)

func (*PosixTimers) Type() Type { return TypePosixTimers }
