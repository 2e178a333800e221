package proc

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
