package checkpoint

import (
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
)

func init() {
	registerFileKind(fileKind{name: "timerfd", is: anonKind("anon_inode:[timerfd]"),
		dump: func(_ *dumper, p *process, of *openFd, obj string) (image.Record, error) {
			return dumpTimerFd(p, of, obj)
		}})
}

// dumpTimerFd saves a timerfd from its fdinfo:
//
//	clockid: 1
//	ticks: 0
//	settime flags: 01
//	it_value: (99, 999960110)
//	it_interval: (1, 500)
//
// it_value is always the time left. A timer set with TFD_TIMER_ABSTIME is
// saved with its absolute expiry on its clock (now + time left), so that a
// restore later than the checkpoint keeps the deadline the program asked
// for; a relative one keeps the time left, so it expires that much after
// the restore.
func dumpTimerFd(p *process, of *openFd, obj string) (image.Record, error) {
	x := of.info.Extra
	clock, err1 := strconv.ParseUint(x["clockid"], 10, 32)
	ticks, err2 := strconv.ParseUint(x["ticks"], 10, 64)
	sflags, err3 := strconv.ParseUint(x["settime flags"], 8, 32)
	vs, vn, err4 := parseTimespecPair(x["it_value"])
	is, in, err5 := parseTimespecPair(x["it_interval"])
	for _, err := range []error{err1, err2, err3, err4, err5} {
		if err != nil {
			return nil, unsupported(p.pid, obj, "unreadable timerfd fdinfo: %v", err)
		}
	}
	rec := &image.TimerFd{
		Flags: of.info.Flags & openFlagsMask, Clockid: uint32(clock), SettimeFlags: uint32(sflags),
		Ticks: ticks, ValueSec: vs, ValueNsec: vn, IntervalSec: is, IntervalNsec: in,
	}
	if rec.SettimeFlags&unix.TFD_TIMER_ABSTIME != 0 && (vs != 0 || vn != 0) {
		var now unix.Timespec
		if err := unix.ClockGettime(int32(clock), &now); err != nil {
			return nil, unsupported(p.pid, obj, "timerfd on clock %d, which cannot be read: %v", clock, err)
		}
		abs := now.Nano() + vs*1e9 + vn
		rec.ValueSec, rec.ValueNsec = abs/1e9, abs%1e9
	}
	return rec, nil
}

// parseTimespecPair parses "(sec, nsec)".
func parseTimespecPair(s string) (int64, int64, error) {
	s = strings.TrimSpace(s)
	s = strings.TrimSuffix(strings.TrimPrefix(s, "("), ")")
	a, b, ok := strings.Cut(s, ",")
	if !ok {
		return 0, 0, strconv.ErrSyntax
	}
	sec, err := strconv.ParseInt(strings.TrimSpace(a), 10, 64)
	if err != nil {
		return 0, 0, err
	}
	nsec, err := strconv.ParseInt(strings.TrimSpace(b), 10, 64)
	if err != nil {
		return 0, 0, err
	}
	return sec, nsec, nil
}
