// Command leftovers runs a command (make test's suites) and fails if it
// left anything behind: a process, a mount, a cgroup, a network namespace or
// an nftables table that was not there before and is still there after.
//
//	go run ./hack/leftovers -- CMD ARGS...
//
// Processes are found by being a child subreaper: whatever the command
// started and orphaned (daemons, restored trees, containerd and its shims)
// is reparented to us rather than to pid 1, so after the command exits our
// remaining children are exactly what it left running. They are listed,
// killed and reaped, and the run fails. Mounts, cgroups, named network
// namespaces and nftables tables are compared against a snapshot taken
// before the command; what is new is listed and the run fails (they are
// not removed: the listing says what to look at).
package main

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

func main() {
	args := os.Args[1:]
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "usage: leftovers -- CMD [ARGS...]")
		os.Exit(2)
	}
	os.Exit(run(args))
}

func run(args []string) int {
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		fmt.Fprintln(os.Stderr, "leftovers: prctl(PR_SET_CHILD_SUBREAPER):", err)
		return 2
	}
	before := snapshot()
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	code := 0
	if err := cmd.Run(); err != nil {
		code = 1
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			fmt.Fprintln(os.Stderr, "leftovers:", err)
		} else if ee.ExitCode() > 0 {
			code = ee.ExitCode()
		}
	}
	var found []string
	// Orphans reach us a moment after their parent exits. Dead ones
	// (zombies whose subreaper, the test binary, exited before reaping
	// them) are reaped: they hold nothing but their pid.
	for i := 0; i < 10; i++ {
		reapZombies()
		if found = children(); len(found) > 0 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(found) > 0 {
		fmt.Fprintln(os.Stderr, "leftovers: processes still running after the tests (killed now):")
		for _, l := range found {
			fmt.Fprintln(os.Stderr, "  "+l)
		}
		killChildren()
	}
	after := snapshot()
	for _, kind := range kinds {
		var added []string
		for k := range after[kind] {
			if !before[kind][k] {
				added = append(added, k)
			}
		}
		sort.Strings(added)
		if len(added) > 0 {
			fmt.Fprintf(os.Stderr, "leftovers: %s made by the tests and still there:\n", kind)
			for _, k := range added {
				fmt.Fprintln(os.Stderr, "  "+k)
			}
			found = append(found, added...)
		}
	}
	if len(found) > 0 {
		fmt.Fprintln(os.Stderr, "leftovers: FAIL: the tests left the above behind")
		if code == 0 {
			code = 1
		}
	} else {
		fmt.Fprintln(os.Stderr, "leftovers: nothing left behind (processes, mounts, cgroups, network namespaces, nftables tables)")
	}
	return code
}

// children lists our remaining children as "pid comm: cmdline".
func children() []string {
	var out []string
	for _, pid := range childPids() {
		if st, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); strings.Contains(string(st), ") Z ") {
			continue // dead: reaped by the next reapZombies
		}
		comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
		cl, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		out = append(out, fmt.Sprintf("%d %s: %s", pid, strings.TrimSpace(string(comm)),
			strings.TrimSpace(strings.ReplaceAll(string(cl), "\x00", " "))))
	}
	return out
}

func childPids() []int {
	var pids []int
	tasks, _ := os.ReadDir("/proc/self/task")
	for _, t := range tasks {
		b, err := os.ReadFile(filepath.Join("/proc/self/task", t.Name(), "children"))
		if err != nil {
			continue
		}
		for _, f := range strings.Fields(string(b)) {
			if pid, err := strconv.Atoi(f); err == nil {
				pids = append(pids, pid)
			}
		}
	}
	return pids
}

func reapZombies() {
	for {
		pid, err := unix.Wait4(-1, nil, unix.WNOHANG, nil)
		if pid <= 0 || err != nil {
			return
		}
	}
}

// killChildren kills and reaps our children until none is left: a killed
// daemon's own orphans are reparented to us in turn.
func killChildren() {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		pids := childPids()
		if len(pids) == 0 {
			return
		}
		for _, pid := range pids {
			unix.Kill(pid, unix.SIGKILL)
		}
		reapZombies()
		time.Sleep(20 * time.Millisecond)
	}
}

var kinds = []string{"mounts", "cgroups", "network namespaces", "nftables tables"}

func snapshot() map[string]map[string]bool {
	return map[string]map[string]bool{
		"mounts":             mounts(),
		"cgroups":            cgroups(),
		"network namespaces": netns(),
		"nftables tables":    nftTables(),
	}
}

func mounts() map[string]bool {
	m := map[string]bool{}
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return m
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// Field 5 is the mount point, 9 the file system type (after " - ").
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 {
			continue
		}
		fstype := ""
		for i, f := range fields {
			if f == "-" && i+1 < len(fields) {
				fstype = fields[i+1]
			}
		}
		m[fields[4]+" ("+fstype+")"] = true
	}
	return m
}

// cgroups lists the cgroup directories of every hierarchy, a few levels
// deep: tests and containers make theirs near the top.
func cgroups() map[string]bool {
	m := map[string]bool{}
	const root = "/sys/fs/cgroup"
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil
		}
		if strings.Count(strings.TrimPrefix(p, root), "/") > 4 {
			return filepath.SkipDir
		}
		m[p] = true
		return nil
	})
	return m
}

func netns() map[string]bool {
	m := map[string]bool{}
	ents, _ := os.ReadDir("/run/netns")
	for _, e := range ents {
		m["/run/netns/"+e.Name()] = true
	}
	return m
}

func nftTables() map[string]bool {
	m := map[string]bool{}
	out, err := exec.Command("nft", "list", "tables").Output()
	if err != nil {
		return m
	}
	for _, l := range strings.Split(string(out), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			m[l] = true
		}
	}
	return m
}
