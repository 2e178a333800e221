package proc

// Pids returns the process ids (thread group leaders) in /proc, sorted.
// Threads other than leaders are not listed there; Tasks finds them.
func Pids() ([]int, error) {
	const path = "/proc"
	pids, err := readIntDir(path)
	if err != nil {
		return nil, readErr(path, err)
	}
	return pids, nil
}
