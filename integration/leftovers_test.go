package integration

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// The suite ends by checking it left nothing behind (runMain): no process,
// mount, cgroup or network namespace it made. What it made is told by
// where it is: processes come to the test process (a subreaper) once their
// parents are gone; mounts are under workRoot; cgroups and named network
// namespaces carry the test process's pid in their names (tests name them
// so, to run beside other runs of the suite). nftables rules live in those
// network namespaces, or in the containers', and go with them.

// leftovers lists what the suite left, after giving the processes killed
// last a moment to end; it kills the processes it finds.
func leftovers() []string {
	var out []string
	seen := map[string]bool{}
	// First the killed have time to end; then what is left is killed, and
	// so is what comes to us from it (its children), until none is left.
	grace := time.Now().Add(2 * time.Second)
	for end := grace.Add(2 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		live := strays(nil)
		if len(live) == 0 {
			break
		}
		if time.Now().Before(grace) {
			continue
		}
		for _, l := range live {
			if !seen[l] {
				seen[l] = true
				out = append(out, "process "+l)
			}
			if pid, err := strconv.Atoi(strings.Fields(l)[0]); err == nil {
				unix.Kill(pid, unix.SIGKILL)
			}
		}
	}
	if f, err := os.Open("/proc/self/mountinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if fs := strings.Fields(sc.Text()); len(fs) > 4 && strings.HasPrefix(fs[4], workRoot+"/") {
				out = append(out, "mount "+fs[4])
			}
		}
		f.Close()
	}
	suffix := "-" + strconv.Itoa(os.Getpid())
	cgs, _ := filepath.Glob("/sys/fs/cgroup/*/*" + suffix)
	cgs2, _ := filepath.Glob("/sys/fs/cgroup/*" + suffix)
	for _, cg := range append(cgs, cgs2...) {
		out = append(out, "cgroup "+cg)
	}
	nss, _ := filepath.Glob("/run/netns/*" + suffix)
	for _, ns := range nss {
		out = append(out, "network namespace "+ns)
	}
	return out
}

// checkLeftovers is runMain's last word: a non-zero exit code if the
// suite left anything behind.
func checkLeftovers() int {
	bgBuilds.Wait()
	left := leftovers()
	if len(left) == 0 {
		return 0
	}
	fmt.Fprintf(os.Stderr, "integration: the suite left %d things behind:\n  %s\n", len(left), strings.Join(left, "\n  "))
	return 1
}
