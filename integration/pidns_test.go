package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// pidnsCounter is a one-process program that counts into a file, one line
// per tick: "<pid as it sees itself> <n>".
const pidnsCounter = `
import os, sys, time
os.closerange(3, 65536)  # nothing leaked from the runner's environment
n = 0
while True:
    n += 1
    with open(sys.argv[1], "a") as f:
        f.write("%d %d\n" % (os.getpid(), n))
    time.sleep(0.02)
`

// TestRestorePidnsInit: a process that is pid 1 of its own pid namespace
// comes back as pid 1 of a new pid namespace and counts on from where it
// was, not from 1.
func TestRestorePidnsInit(t *testing.T) {
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("unshare(1) not installed")
	}
	dir := t.TempDir()
	log := filepath.Join(dir, "count")
	cmd := exec.Command("unshare", "--pid", "--fork", "python3", "-c", pidnsCounter, log)
	cmd.SysProcAttr = &unix.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	waitGrowth(t, log, 3)
	kids, err := os.ReadFile("/proc/" + strconv.Itoa(cmd.Process.Pid) + "/task/" + strconv.Itoa(cmd.Process.Pid) + "/children")
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(kids)))
	if err != nil {
		t.Fatalf("unshare's child: %q: %v", kids, err)
	}
	if ns := statusField(pid, "NSpid"); !strings.HasSuffix(ns, "\t1") && !strings.HasSuffix(ns, " 1") {
		t.Fatalf("pid %d NSpid %q: not pid 1 of its namespace", pid, ns)
	}

	img := filepath.Join(dir, "img")
	checkpoint(t, pid, img, false)
	cmd.Wait() // unshare exits once its child is gone
	before := lastCount(t, log)

	restored := restoreDetached(t, img, filepath.Join(dir, "pid"))
	t.Cleanup(func() {
		unix.Kill(restored, unix.SIGKILL)
		reap(restored, exitTimeout)
	})
	ns := strings.Fields(statusField(restored, "NSpid"))
	if len(ns) != 2 || ns[1] != "1" {
		t.Fatalf("restored pid %d has NSpid %v, want [%d 1]", restored, ns, restored)
	}
	waitGrowth(t, log, lines(log)+2)
	b, _ := os.ReadFile(log)
	all := strings.Split(strings.TrimSpace(string(b)), "\n")
	for i, l := range all {
		f := strings.Fields(l)
		if len(f) != 2 || f[0] != "1" {
			t.Fatalf("line %d %q: the program did not see itself as pid 1", i+1, l)
		}
		if n, _ := strconv.Atoi(f[1]); n != i+1 {
			t.Fatalf("line %d is %q: the count restarted or repeated (last before checkpoint: %d)", i+1, l, before)
		}
	}
	if len(all) <= before {
		t.Fatalf("count did not go on past %d", before)
	}
}

func lastCount(t *testing.T, path string) int {
	t.Helper()
	time.Sleep(50 * time.Millisecond)
	b, _ := os.ReadFile(path)
	all := strings.Split(strings.TrimSpace(string(b)), "\n")
	f := strings.Fields(all[len(all)-1])
	n, _ := strconv.Atoi(f[len(f)-1])
	return n
}
