package proc

import "time"

// ReadInt reads a /proc/PID file that holds one decimal integer and a
// newline: oom_score_adj, loginuid, sessionid.
func ReadInt(pid int, name string) (int64, error) {
	path := pidPath(pid, name)
	buf := getBuf()
	defer putBuf(buf)
	if err := readAll(path, buf); err != nil {
		return 0, readErr(path, err)
	}
	line := trimSpace(*buf)
	if v, ok := parseInt(line); ok {
		return v, nil
	}
	return 0, syntaxErr(path, line)
}

// ReadHex reads a /proc/PID file that holds one hexadecimal number and a
// newline: coredump_filter.
func ReadHex(pid int, name string) (uint64, error) {
	path := pidPath(pid, name)
	buf := getBuf()
	defer putBuf(buf)
	if err := readAll(path, buf); err != nil {
		return 0, readErr(path, err)
	}
	line := trimSpace(*buf)
	if v, ok := parseHex(line); ok {
		return v, nil
	}
	return 0, syntaxErr(path, line)
}

// WaitState polls /proc/PID/stat of each pid until it shows state (or the
// task is gone), for at most limit; it reports whether all got there.
func WaitState(pids []int, state byte, limit time.Duration) bool {
	deadline := time.Now().Add(limit)
	for _, pid := range pids {
		for {
			st, err := ReadStat(pid)
			if err != nil || st.State == state {
				break
			}
			if time.Now().After(deadline) {
				return false
			}
			time.Sleep(time.Millisecond)
		}
	}
	return true
}
