package bench

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// becomeSubreaper makes orphaned descendants (a restored workload whose
// tool has exited, the children of a killed tree) children of the bench, so
// it can reap them at once instead of waiting for pid 1, which on this
// machine reaps slowly and would keep the pids a restore needs taken.
func becomeSubreaper() error {
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		return os.NewSyscallError("prctl(PR_SET_CHILD_SUBREAPER)", err)
	}
	return nil
}

// sessionPids lists the processes of session sid. Workloads are started
// with setsid, so their session id is the root's pid and survives a
// checkpoint and restore with either tool.
func sessionPids(sid int) ([]int, error) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil, fmt.Errorf("list /proc: %w", err)
	}
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		st, err := readStat(pid)
		if err != nil {
			continue // gone meanwhile
		}
		if st.session == sid {
			pids = append(pids, pid)
		}
	}
	return pids, nil
}

type procStat struct {
	state   byte
	ppid    int
	session int
}

// readStat reads the fields of /proc/PID/stat the bench needs. The command
// name is in parentheses and may hold spaces, so fields count from the last
// closing parenthesis.
func readStat(pid int) (procStat, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procStat{}, err
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return procStat{}, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 4 {
		return procStat{}, fmt.Errorf("/proc/%d/stat: %d fields after the name", pid, len(f))
	}
	ppid, err1 := strconv.Atoi(f[1])
	sid, err2 := strconv.Atoi(f[3])
	if err := errors.Join(err1, err2); err != nil {
		return procStat{}, fmt.Errorf("/proc/%d/stat: %w", pid, err)
	}
	return procStat{state: f[0][0], ppid: ppid, session: sid}, nil
}

// sessionCPU sums the CPU time every thread of every process of session
// sid has consumed, from schedstat's first field (nanoseconds on CPU,
// unlike stat's utime/stime, which count scheduler ticks).
func sessionCPU(sid int) (time.Duration, error) {
	pids, err := sessionPids(sid)
	if err != nil {
		return 0, err
	}
	if len(pids) == 0 {
		return 0, fmt.Errorf("session %d has no processes", sid)
	}
	var total time.Duration
	for _, pid := range pids {
		dir := "/proc/" + strconv.Itoa(pid) + "/task"
		tids, err := os.ReadDir(dir)
		if err != nil {
			return 0, fmt.Errorf("list threads of %d: %w", pid, err)
		}
		for _, t := range tids {
			b, err := os.ReadFile(dir + "/" + t.Name() + "/schedstat")
			if err != nil {
				return 0, fmt.Errorf("schedstat of %d/%s: %w", pid, t.Name(), err)
			}
			f := strings.Fields(string(b))
			if len(f) == 0 {
				return 0, fmt.Errorf("schedstat of %d/%s: empty", pid, t.Name())
			}
			ns, err := strconv.ParseInt(f[0], 10, 64)
			if err != nil {
				return 0, fmt.Errorf("schedstat of %d/%s: %w", pid, t.Name(), err)
			}
			total += time.Duration(ns)
		}
	}
	return total, nil
}

// reapExited reaps every exited child without blocking. It must not run
// while a tool is running: it would reap the tool from under os/exec.
func reapExited() error {
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if errors.Is(err, unix.ECHILD) || pid == 0 {
			return nil
		}
		if err != nil {
			return os.NewSyscallError("wait4", err)
		}
	}
}

// killAndReap SIGKILLs every process of the given pids and waits until
// all of them are gone, not just dead: a zombie still holds its pid, and the
// next restore needs it. The bench is a subreaper, so orphans come to it.
func killAndReap(pids []int, guard time.Duration) error {
	for _, p := range pids {
		_ = unix.Kill(p, unix.SIGKILL)
	}
	return waitGone(pids, guard)
}

// waitGone reaps and polls until none of pids exists, for at most guard (a
// hang guard; nothing is measured here).
func waitGone(pids []int, guard time.Duration) error {
	deadline := time.Now().Add(guard)
	for {
		if err := reapExited(); err != nil {
			return err
		}
		var left []int
		for _, p := range pids {
			if unix.Kill(p, 0) == nil {
				left = append(left, p)
			}
		}
		if len(left) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("pids %v still exist after %v", left, guard)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
