package proc

import (
	"bytes"
)

// PosixTimer is one entry of /proc/PID/timers (fs/proc/base.c:
// show_timer()): a POSIX timer of the process and how it notifies.
type PosixTimer struct {
	ID       int32
	Signo    int32
	Sigval   uint64 // sigev_value (sival_ptr)
	Notify   string // "signal", "none" (the kernel's name for sigev_notify without SIGEV_THREAD_ID)
	ThreadID bool   // SIGEV_THREAD_ID: Pid is the thread signalled
	Pid      int32  // the process or thread signalled, in /proc's pid namespace
	Clock    int32  // clockid as given to timer_create
	seen     int
}

// Timers lists the POSIX timers of process pid. An entry is four lines:
//
//	ID: 3
//	signal: 34/00000000000000ff
//	notify: signal/tid.1234
//	ClockID: 1
func Timers(pid int) ([]PosixTimer, error) {
	path := pidPath(pid, "timers")
	var out []PosixTimer
	err := forEachLine(path, func(line []byte) error {
		key, val, ok := cutByte(line, ':')
		if !ok {
			return syntaxErr(path, line)
		}
		val = trimSpace(val)
		if string(key) == "ID" {
			out = append(out, PosixTimer{})
		}
		if len(out) == 0 {
			return syntaxErr(path, line)
		}
		t := &out[len(out)-1]
		switch string(key) {
		case "ID":
			id, ok := parseInt(val)
			if !ok {
				return syntaxErr(path, line)
			}
			t.ID = int32(id)
		case "signal":
			sig, v, ok := cutByte(val, '/')
			signo, ok1 := parseDec(sig)
			sv, ok2 := parseHex(v)
			if !ok || !ok1 || !ok2 {
				return syntaxErr(path, line)
			}
			t.Signo, t.Sigval = int32(signo), sv
		case "notify":
			kind, target, ok := cutByte(val, '/')
			who, num, ok1 := cutByte(target, '.')
			n, ok2 := parseDec(num)
			if !ok || !ok1 || !ok2 || (!bytes.Equal(who, []byte("tid")) && !bytes.Equal(who, []byte("pid"))) {
				return syntaxErr(path, line)
			}
			t.Notify, t.ThreadID, t.Pid = string(kind), string(who) == "tid", int32(n)
		case "ClockID":
			c, ok := parseInt(val)
			if !ok {
				return syntaxErr(path, line)
			}
			t.Clock = int32(c)
		default:
			return nil // a field a newer kernel added
		}
		t.seen++
		return nil
	})
	if err != nil {
		return nil, readErr(path, err)
	}
	for i := range out {
		if out[i].seen != 4 {
			return nil, readErr(path, syntaxErr(path, []byte("timer entry without its four fields")))
		}
	}
	return out, nil
}
