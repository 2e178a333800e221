package cli

import (
	"fmt"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"
)

// profileEnv names a file for a CPU profile of this run of ckpt (hidden:
// for bench/notes.md and issue 12's profiles, not a user interface). A
// "%p" in it becomes the pid, for runs that start other ckpt processes.
const profileEnv = "CKPT_CPUPROFILE"

// startProfile starts the CPU profile profileEnv asks for and returns what
// stops it; it does nothing when the variable is unset.
func startProfile() (stop func(), err error) {
	path := os.Getenv(profileEnv)
	if path == "" {
		return func() {}, nil
	}
	path = strings.ReplaceAll(path, "%p", strconv.Itoa(os.Getpid()))
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", profileEnv, err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", profileEnv, err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}
