package kernel

import (
	"encoding/binary"
	"unsafe"

	"golang.org/x/sys/unix"
)

// SiTimer is SI_TIMER, the si_code of a signal sent by a POSIX timer
// (include/uapi/asm-generic/siginfo.h).
const SiTimer = -2

// TimerID returns si_timerid (the _timer member's si_tid), the id of the
// POSIX timer that sent a signal whose si_code is SiTimer.
func (s *Siginfo) TimerID() int32 { return int32(binary.NativeEndian.Uint32(s[16:])) }

// TimerOverrun returns si_overrun of a POSIX timer's signal.
func (s *Siginfo) TimerOverrun() int32 { return int32(binary.NativeEndian.Uint32(s[20:])) }

// sigev_notify values, include/uapi/asm-generic/siginfo.h.
const (
	SigevSignal   = 0
	SigevNone     = 1
	SigevThreadID = 4
)

// SigeventLen is sizeof(struct sigevent) (SIGEV_MAX_SIZE, 64 bytes), the
// layout being sigev_value (8), sigev_signo (4), sigev_notify (4), then a
// union whose first member is the target tid of SIGEV_THREAD_ID.
const SigeventLen = 64

// Sigevent encodes a struct sigevent as timer_create(2) takes it.
func Sigevent(value uint64, signo, notify, tid int32) []byte {
	b := make([]byte, SigeventLen)
	binary.NativeEndian.PutUint64(b[0:], value)
	binary.NativeEndian.PutUint32(b[8:], uint32(signo))
	binary.NativeEndian.PutUint32(b[12:], uint32(notify))
	binary.NativeEndian.PutUint32(b[16:], uint32(tid))
	return b
}

// CPU clock ids (include/linux/posix-timers_types.h): a negative clockid
// names the CPU clock of a process or thread, ((~pid) << 3) | flags, where
// pid 0 is the caller itself and bit 2 (CPUCLOCK_PERTHREAD_MASK) makes it
// a thread's clock. CLOCK_PROCESS_CPUTIME_ID and CLOCK_THREAD_CPUTIME_ID
// reach timer_create (through glibc) as these, with pid 0.
const cpuClockPerThread = 4

// CPUClockPid returns the pid a CPU clockid names (0: the caller) and
// whether it is a thread's clock. It is meaningful only for clock < 0 and
// not DynamicClock.
func CPUClockPid(clock int32) (pid int32, perThread bool) {
	return ^(clock >> 3), clock&cpuClockPerThread != 0
}

// DynamicClock reports whether a negative clockid names a posix clock
// device by its fd (CLOCKFD, 3, in the low bits) rather than a CPU clock.
func DynamicClock(clock int32) bool { return clock < 0 && clock&3 == 3 }

// TimerfdSetTicks is ioctl(fd, TFD_IOC_SET_TICKS): it sets the number of
// expirations a read of timerfd fd returns before the next one.
func TimerfdSetTicks(fd int, ticks uint64) error {
	_, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), TFD_IOC_SET_TICKS, uintptr(unsafe.Pointer(&ticks)))
	if e != 0 {
		return e
	}
	return nil
}
