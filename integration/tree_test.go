package integration

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// psTree lists root's session as ps shows it: pid, ppid, pgid, sid, state
// and command of every task, the root's ppid left out (it changes: the
// restorer becomes the parent).
func psTree(t *testing.T, root int) string {
	t.Helper()
	out, err := exec.Command("ps", "-o", "pid=,ppid=,pgid=,sid=,stat=,comm=", "-s", strconv.Itoa(root)).Output()
	if err != nil {
		t.Fatalf("ps -s %d: %v", root, err)
	}
	var b strings.Builder
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(l)
		if f[0] == strconv.Itoa(root) {
			f[1] = "-"
		}
		// Running or sleeping is the scheduler's moment, not restored
		// state: a busy machine shows a just-released task runnable.
		f[4] = strings.Replace(f[4], "R", "S", 1)
		b.WriteString(strings.Join(f, " ") + "\n")
	}
	return b.String()
}

// TestRestoreTree: a tree with a session, a second process group, a
// grandchild and a zombie comes back with the same pids, parents, groups,
// sessions, states and names; the zombie is still waitable by its parent
// with its exit status, and the counting child counts on.
func TestRestoreTree(t *testing.T) {
	dir := t.TempDir()
	bin := buildTestdata(t, dir, "tree")
	log := filepath.Join(dir, "log")
	cmd := exec.Command(bin, log)
	root := startKilled(t, cmd)
	waitGrowth(t, log, 3)
	before := psTree(t, root)
	if n := strings.Count(before, "\n"); n != 5 {
		t.Fatalf("want 5 tasks in the tree, have:\n%s", before)
	}
	img := filepath.Join(dir, "img")
	checkpoint(t, root, img, false)
	if ws, _, err := reap(root, exitTimeout); err != nil || !ws.Signaled() {
		t.Fatalf("after checkpoint: %v %v", ws, err)
	}
	reapTree(t, before)
	n := lines(log)
	if pid := restoreDetached(t, img, filepath.Join(dir, "pid")); pid != root {
		t.Fatalf("restored as %d, want %d", pid, root)
	}
	if after := psTree(t, root); after != before {
		t.Errorf("the tree changed:\nbefore:\n%safter:\n%s", before, after)
	}
	waitGrowth(t, log, n)
	unix.Kill(root, unix.SIGTERM)
	deadline := time.Now().Add(exitTimeout)
	for !bytes.Contains(readFile(log), []byte("DONE")) {
		if time.Now().After(deadline) {
			t.Fatalf("the root did not finish after SIGTERM:\n%s", readFile(log))
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !bytes.Contains(readFile(log), []byte("zombie reaped=1 status exited=1 code=7")) {
		t.Errorf("the zombie was not reaped with its status:\n%s", readFile(log))
	}
}

// reapTree waits for every task of a killed tree: orphans come to us (the
// test is a subreaper), and a zombie would keep its pid from the restore.
func reapTree(t *testing.T, ps string) {
	t.Helper()
	for _, l := range strings.Split(strings.TrimSpace(ps), "\n") {
		pid, _ := strconv.Atoi(strings.Fields(l)[0])
		if _, _, err := reap(pid, exitTimeout); err != nil {
			t.Fatalf("task %d after checkpoint: %v", pid, err)
		}
	}
}

// buildTestdata compiles testdata/NAME.c into dir and returns the binary.
func buildTestdata(t *testing.T, dir, name string) string {
	t.Helper()
	bin := filepath.Join(dir, name)
	if out, err := exec.Command("gcc", "-O2", "-o", bin, "testdata/"+name+".c").CombinedOutput(); err != nil {
		t.Fatalf("gcc %s: %v\n%s", name, err, out)
	}
	return bin
}

// startKilled starts cmd and, when the test ends, kills it and every
// process of its session (the programs here lead their own sessions, with
// more than one process group) and reaps it.
func startKilled(t *testing.T, cmd *exec.Cmd) int {
	t.Helper()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	root := cmd.Process.Pid
	t.Cleanup(func() {
		killSession(root)
		unix.Kill(root, unix.SIGKILL)
		reap(root, exitTimeout)
	})
	return root
}

// killSession kills every process whose session is sid. The restored
// copy of a tree is in the same session as the original was.
func killSession(sid int) {
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if s, err := unix.Getsid(pid); err == nil && s == sid {
			unix.Kill(pid, unix.SIGKILL)
		}
	}
}

func readFile(path string) []byte {
	b, _ := os.ReadFile(path)
	return b
}

// TestRestoreShellPipeline: a shell pipeline checkpointed while its pipes
// hold unread data (one pipe's writer has already exited) carries on, and
// its output is byte-identical to an uninterrupted run's.
func TestRestoreShellPipeline(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	const produce = `i=0; while [ $i -lt 3000 ]; do echo "line $i"; i=$((i+1)); done`
	const consume = `while read l; do echo "got $l"; done`
	script := "exec 3>&- 4>&-; (" + produce + ") | (sleep 1; " + consume + ") | (sleep 1.5; cat > " + out + ")"
	cmd := exec.Command("sh", "-c", script)
	cmd.SysProcAttr = &unix.SysProcAttr{Setsid: true}
	root := startKilled(t, cmd)
	time.Sleep(500 * time.Millisecond) // the producer is done, the others sleep
	img := filepath.Join(dir, "img")
	tree := psTree(t, root)
	checkpoint(t, root, img, false)
	reapTree(t, tree)
	recs, _, err := inspect(filepath.Join(img, "image.ckpt"))
	if err != nil {
		t.Fatal(err)
	}
	if len(ofType(recs, "PIPE_DATA")) == 0 {
		t.Fatalf("the image holds no pipe data: the test checkpointed too late")
	}
	if pid := restoreDetached(t, img, filepath.Join(dir, "pid")); pid != root {
		t.Fatalf("restored as %d, want %d", pid, root)
	}
	if _, _, err := reap(root, 30*time.Second); err != nil {
		t.Fatalf("restored pipeline: %v", err)
	}
	ref, err := exec.Command("sh", "-c", "("+produce+") | ("+consume+")").Output()
	if err != nil {
		t.Fatal(err)
	}
	if got := readFile(out); !bytes.Equal(got, ref) {
		t.Errorf("output differs from an uninterrupted run: %d bytes, want %d", len(got), len(ref))
	}
}

// Descriptors the test binary inherited from whoever started it (a
// terminal multiplexer's, a CI runner's) must not leak into the programs
// the tests start and then be part of their checkpoints: Go passes on any
// fd that is not close-on-exec.
func init() {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return
	}
	for _, e := range ents {
		if fd, err := strconv.Atoi(e.Name()); err == nil && fd > 2 {
			unix.CloseOnExec(fd)
		}
	}
}

// TestCheckpointFreezeCgroup: with --freeze-cgroup the tree is frozen with
// the cgroup freezer (v1 and v2) while it is seized, and comes back whole.
func TestCheckpointFreezeCgroup(t *testing.T) {
	dir := t.TempDir()
	bin := buildTestdata(t, dir, "tree")
	for _, tc := range []struct {
		name, parent string
		found        bool // not named: found as the tree's own cgroup
	}{
		{"v2", "/sys/fs/cgroup/unified", false},
		{"v1", "/sys/fs/cgroup/freezer", false},
		{"v2-found", "/sys/fs/cgroup/unified", true},
		{"v1-found", "/sys/fs/cgroup/freezer", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := os.Stat(tc.parent); err != nil {
				t.Skipf("no %s hierarchy at %s", tc.name, tc.parent)
			}
			cg := filepath.Join(tc.parent, "ckpt-test-"+strconv.Itoa(os.Getpid()))
			if err := os.Mkdir(cg, 0o755); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.Remove(cg) })
			log := filepath.Join(dir, tc.name+".log")
			cmd := exec.Command("sh", "-c", `echo $$ > "$1/cgroup.procs" && exec "$2" "$3"`, "sh", cg, bin, log)
			root := startKilled(t, cmd)
			waitGrowth(t, log, 2)
			before := psTree(t, root)
			img := filepath.Join(dir, tc.name+"-img")
			args := []string{"-v", "checkpoint", "--pid", strconv.Itoa(root), "--image-path", img}
			if !tc.found {
				args = append(args, "--freeze-cgroup", cg)
			}
			_, stderr, err := runCkpt(args...)
			if err != nil {
				t.Fatalf("%v: %v\n%s", args, err, stderr)
			}
			if !strings.Contains(stderr, "freeze=") {
				t.Errorf("-v did not report the freeze window:\n%s", stderr)
			}
			if tc.found && (!strings.Contains(stderr, "freezing the tree's own cgroup") || !strings.Contains(stderr, cg)) {
				t.Errorf("the checkpoint did not freeze %s:\n%s", cg, stderr)
			}
			reap(root, exitTimeout)
			reapTree(t, before)
			if b, _ := os.ReadFile(filepath.Join(cg, "cgroup.procs")); len(bytes.TrimSpace(b)) != 0 {
				t.Fatalf("tasks left in %s after checkpoint: %s", cg, b)
			}
			if pid := restoreDetached(t, img, filepath.Join(dir, tc.name+".pid")); pid != root {
				t.Fatalf("restored as %d, want %d", pid, root)
			}
			if after := psTree(t, root); after != before {
				t.Errorf("the tree changed:\nbefore:\n%safter:\n%s", before, after)
			}
		})
	}
}

// TestRestoreSharedMemory: anonymous shared memory and a memfd, inherited
// across fork, stay shared between parent and child after restore (each
// sees the other's writes), keep their contents, and the memfd keeps its
// name and seals.
func TestRestoreSharedMemory(t *testing.T) {
	dir := t.TempDir()
	bin := buildTestdata(t, dir, "shmem")
	log := filepath.Join(dir, "log")
	cmd := exec.Command(bin, log)
	cmd.SysProcAttr = &unix.SysProcAttr{Setsid: true}
	root := startKilled(t, cmd)
	waitGrowth(t, log, 3)
	tree := psTree(t, root)
	img := filepath.Join(dir, "img")
	checkpoint(t, root, img, false)
	reapTree(t, tree)
	recs, _, err := inspect(filepath.Join(img, "image.ckpt"))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(ofType(recs, "SHMEM")); n != 2 {
		t.Fatalf("the image holds %d SHMEM objects, want 2 (anonymous and memfd)", n)
	}
	n := lines(log)
	if pid := restoreDetached(t, img, filepath.Join(dir, "pid")); pid != root {
		t.Fatalf("restored as %d, want %d", pid, root)
	}
	waitGrowth(t, log, n+3)
	if b := readFile(log); bytes.Contains(b, []byte("BAD")) {
		t.Fatalf("shared memory broke across restore:\n%s", b)
	}
	maps, _ := os.ReadFile("/proc/" + strconv.Itoa(root) + "/maps")
	for _, want := range []string{"/dev/zero (deleted)", "/memfd:ckpt-test-mfd (deleted)"} {
		if !strings.Contains(string(maps), want) {
			t.Errorf("restored maps lack %q:\n%s", want, maps)
		}
	}
	for _, l := range strings.Split(string(maps), "\n") {
		if !strings.Contains(l, "memfd:ckpt-test-mfd") {
			continue
		}
		f, err := os.Open("/proc/" + strconv.Itoa(root) + "/map_files/" + strings.Fields(l)[0])
		if err != nil {
			t.Fatal(err)
		}
		seals, err := unix.FcntlInt(f.Fd(), unix.F_GET_SEALS, 0)
		f.Close()
		if err != nil || seals != unix.F_SEAL_SHRINK {
			t.Errorf("memfd seals %#x (%v), want F_SEAL_SHRINK", seals, err)
		}
		break
	}
}

// TestRestorePythonPool: python3 with multiprocessing.Pool(4), checkpointed
// mid-computation (workers, result pipes, a POSIX semaphore in /dev/shm
// that was unlinked after mapping), finishes after restore with the right
// answer.
func TestRestorePythonPool(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	cmd := exec.Command("python3", "testdata/pool.py", out)
	cmd.SysProcAttr = &unix.SysProcAttr{Setsid: true}
	root := startKilled(t, cmd)
	deadline := time.Now().Add(exitTimeout)
	for strings.Count(psTree(t, root), "\n") < 5 {
		if time.Now().After(deadline) {
			t.Fatalf("the pool did not start:\n%s", psTree(t, root))
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond) // mid-computation: it takes ~2.5 s
	tree := psTree(t, root)
	img := filepath.Join(dir, "img")
	checkpoint(t, root, img, false)
	reapTree(t, tree)
	if _, err := os.Stat(out); err == nil {
		t.Fatal("the computation finished before the checkpoint")
	}
	if pid := restoreDetached(t, img, filepath.Join(dir, "pid")); pid != root {
		t.Fatalf("restored as %d, want %d", pid, root)
	}
	if _, _, err := reap(root, 60*time.Second); err != nil {
		t.Fatal(err)
	}
	want := 0
	for n := 2000; n < 2200; n++ {
		for i := 0; i < n; i++ {
			want += i * i
		}
	}
	if got := strings.TrimSpace(string(readFile(out))); got != strconv.Itoa(want) {
		t.Errorf("the pool's answer is %q, want %d", got, want)
	}
}
