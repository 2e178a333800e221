package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	ckptengine "github.com/ckpt/ckpt/checkpoint"
	"github.com/ckpt/ckpt/internal/guard"
	"github.com/ckpt/ckpt/restore"
	"github.com/ckpt/ckpt/runtime"
)

// Crash safety: ckpt killed with SIGKILL at each phase of a checkpoint or a
// restore (the fault-injection switch, guard.FaultEnv) leaves, within
// cleanWithin and with nothing run by hand, the original running (not
// frozen, stopped or traced, and making progress) or nothing half-restored
// (no task of the restore alive, no container state or cgroup).

// cleanWithin is how long the guardian has to undo what ckpt left: the
// checks below poll until it is done, and fail only after this long.
const cleanWithin = 2 * time.Second

// faultRun runs ckpt (with extra environment) with the switch set to
// phase and fails the test unless ckpt died there of SIGKILL. Its output
// goes to files, so that it returns when ckpt dies, not when the guardian
// (which inherits ckpt's stderr) is done.
func faultRun(t *testing.T, phase, cg string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), ckptTimeout)
	defer cancel()
	errF, err := os.CreateTemp(t.TempDir(), "stderr-")
	if err != nil {
		t.Fatal(err)
	}
	defer errF.Close()
	cmd := exec.CommandContext(ctx, ckptBin, args...)
	cmd.Env = append(os.Environ(), guard.FaultEnv+"="+phase)
	cmd.Stdout, cmd.Stderr = errF, errF
	// ckpt starts in cg: what it leaves is found there (strays).
	cgDir, err := os.Open(cg)
	if err != nil {
		t.Fatal(err)
	}
	defer cgDir.Close()
	cmd.SysProcAttr = &unix.SysProcAttr{UseCgroupFD: true, CgroupFD: int(cgDir.Fd())}
	err = cmd.Run()
	lastFaultLog = errF.Name()
	ws, _ := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		out, _ := os.ReadFile(errF.Name())
		t.Fatalf("phase %q not reached: ckpt %s ended with %v\n%s", phase, strings.Join(args, " "), err, out)
	}
}

// lastFaultLog is the output of the last faultRun's ckpt and guardian.
var lastFaultLog string

// ourChildren lists the processes whose parent is this test process. The
// test is a subreaper (main_test.go): what a dead ckpt leaves comes here.
func ourChildren() []int {
	ents, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if ppid, _ := strconv.Atoi(statusField(pid, "PPid")); ppid == os.Getpid() {
			out = append(out, pid)
		}
	}
	return out
}

// strays reaps the dead among our children that are not in known, and
// returns the live ones (with their names, for the message). With cgroups
// given (the cgroup faultRun ran ckpt in, a container's), it considers
// only processes of those: the test process has other children meanwhile
// (the programs built in the background), which it must neither count nor
// reap.
func strays(known map[int]bool, cgs ...string) []string {
	var live []string
	for _, pid := range ourChildren() {
		if known[pid] || !inCgroups(pid, cgs) {
			continue
		}
		if !alive(pid) {
			var ws unix.WaitStatus
			_, _ = unix.Wait4(pid, &ws, unix.WNOHANG|unix.WALL, nil)
			continue
		}
		live = append(live, describe(pid))
	}
	// A process of the cgroups whose parent is still alive elsewhere.
	for _, cg := range cgs {
		b, _ := os.ReadFile(filepath.Join(cg, "cgroup.procs"))
		for _, f := range strings.Fields(string(b)) {
			if pid, _ := strconv.Atoi(f); alive(pid) && !known[pid] && !slices.Contains(live, describe(pid)) {
				live = append(live, describe(pid))
			}
		}
	}
	return live
}

func describe(pid int) string {
	cmd, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	return fmt.Sprintf("%d %q", pid, strings.ReplaceAll(string(cmd), "\x00", " "))
}

// inCgroups says whether pid is (or was, a zombie) in one of the cgroups;
// no cgroups means any.
func inCgroups(pid int, cgs []string) bool {
	if len(cgs) == 0 {
		return true
	}
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		for _, cg := range cgs {
			base := "/" + filepath.Base(cg)
			if strings.HasSuffix(l, base) || strings.Contains(l, base+"/") {
				return true
			}
		}
	}
	return false
}

// pollClean polls check until it returns "" (all well), for cleanWithin;
// then fails with its last complaint.
func pollClean(t *testing.T, phase string, check func() string) {
	t.Helper()
	deadline := time.Now().Add(cleanWithin)
	for {
		why := check()
		if why == "" {
			return
		}
		if time.Now().After(deadline) {
			out, _ := os.ReadFile(lastFaultLog)
			t.Fatalf("ckpt killed at %q: after %v %s\nckpt and its guardian said:\n%s", phase, cleanWithin, why, out)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// runningCheck says what keeps the tasks from running as before: stopped
// or traced, their cgroup frozen, their children beyond the tree (a
// snapshot copy or its zombie), the guardian still at work, or no
// progress since before the run.
func runningCheck(tasks func() []int, tree []int, cg string, progress func() int, before int, left func() []string) func() string {
	return func() string {
		for _, pid := range tasks() {
			st := procState(pid)
			if st == "" {
				if tree == nil {
					continue // a command that just ended
				}
				return fmt.Sprintf("task %d is gone", pid)
			}
			if st == "T" || st == "t" {
				return fmt.Sprintf("task %d is stopped (state %s)", pid, st)
			}
			if tp := statusField(pid, "TracerPid"); tp != "0" {
				return fmt.Sprintf("task %d is traced by %s", pid, tp)
			}
			kids, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
			for _, k := range strings.Fields(string(kids)) {
				// A child the tree did not have, dead or stopped, is a
				// snapshot copy left behind (a live one may be a
				// command a shell of the tree runs meanwhile).
				kp, _ := strconv.Atoi(k)
				if st := procState(kp); !slices.Contains(tree, kp) && (st == "Z" || st == "T" || st == "t") {
					return fmt.Sprintf("task %d has a child %s outside the tree (state %s): a snapshot copy", pid, k, st)
				}
			}
		}
		if cg != "" {
			if frozen(cg) {
				return fmt.Sprintf("cgroup %s is frozen", cg)
			}
		}
		if s := left(); len(s) > 0 {
			return fmt.Sprintf("processes left: %v", s)
		}
		if n := progress(); n <= before {
			return fmt.Sprintf("no progress (%d, was %d)", n, before)
		}
		return ""
	}
}

// frozen says whether a cgroup (v2, or v1 freezer) is frozen.
func frozen(cg string) bool {
	if b, err := os.ReadFile(filepath.Join(cg, "cgroup.events")); err == nil {
		return strings.Contains(string(b), "frozen 1")
	}
	b, _ := os.ReadFile(filepath.Join(cg, "freezer.state"))
	return strings.TrimSpace(string(b)) != "THAWED"
}

// checkpointPhases are the phases of a checkpoint with or without
// --leave-running; tcp says whether the tree has an established
// connection, freezer whether a cgroup is frozen.
func checkpointPhases(leaveRunning, freezer, tcp bool) []string {
	var out []string
	for _, p := range ckptengine.FaultPhases() {
		switch {
		case p == "checkpoint/seize:frozen" && !freezer,
			p == "checkpoint/collect:tcp-repair" && !tcp,
			(p == "checkpoint/snapshot" || p == "checkpoint/release") && !leaveRunning,
			p == "checkpoint/kill" && leaveRunning,
			// Only a container in a pod's shared pid namespace (TestCRI)
			// reaches it.
			p == "checkpoint/shared pid namespace":
			continue
		}
		out = append(out, p)
	}
	return out
}

// leaveRunningPhases: those of --leave-running that differ from a plain
// checkpoint (a snapshot copy exists).
var leaveRunningPhases = []string{"checkpoint/snapshot", "checkpoint/release", "checkpoint/write"}

// testCgroup makes a v2 cgroup for one test.
func testCgroup(t *testing.T, name string) string {
	t.Helper()
	parent := "/sys/fs/cgroup/unified"
	if _, err := os.Stat(filepath.Join(parent, "cgroup.procs")); err != nil {
		parent = "/sys/fs/cgroup"
		if _, err := os.Stat(filepath.Join(parent, "cgroup.freeze")); err != nil {
			t.Skip("no cgroup v2 hierarchy")
		}
	}
	cg := filepath.Join(parent, fmt.Sprintf("ckpt-crash-%s-%d", name, os.Getpid()))
	if err := os.Mkdir(cg, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// Whatever a failure left in it: thawed, killed, gone.
		os.WriteFile(filepath.Join(cg, "cgroup.freeze"), []byte("0"), 0)
		deadline := time.Now().Add(exitTimeout)
		for os.Remove(cg) != nil && time.Now().Before(deadline) {
			b, _ := os.ReadFile(filepath.Join(cg, "cgroup.procs"))
			for _, f := range strings.Fields(string(b)) {
				if pid, _ := strconv.Atoi(f); pid > 0 {
					unix.Kill(pid, unix.SIGKILL)
				}
			}
			strays(nil, cg)
			time.Sleep(10 * time.Millisecond)
		}
	})
	return cg
}

// inCgroup runs argv as the first process of cgroup cg (none: as is).
func inCgroup(cg string, argv ...string) *exec.Cmd {
	if cg == "" {
		return exec.Command(argv[0], argv[1:]...)
	}
	return exec.Command("sh", append([]string{"-c", `echo $$ > "$0/cgroup.procs" && exec "$@"`, cg}, argv...)...)
}

// treeTasks are the tasks of the session of root: the live ones, and all.
func treeTasks(t *testing.T, root int) (live, all []int) {
	t.Helper()
	for _, l := range strings.Split(strings.TrimSpace(psTree(t, root)), "\n") {
		f := strings.Fields(l)
		pid, _ := strconv.Atoi(f[0])
		all = append(all, pid)
		if !strings.HasPrefix(f[4], "Z") {
			live = append(live, pid)
		}
	}
	return live, all
}

// crashCheckpoints kills ckpt at each phase of a checkpoint of the tree at
// root (tasks live, tree all of it), then of one with --leave-running, and
// checks the tree runs on.
func crashCheckpoints(t *testing.T, root int, tasks, tree []int, cg string, progress func() int, extra ...string) {
	t.Helper()
	img := filepath.Join(t.TempDir(), "img")
	base := append([]string{"checkpoint", "--pid", strconv.Itoa(root), "--image-path", img}, extra...)
	if cg != "" {
		base = append(base, "--freeze-cgroup", cg)
	}
	runCg := testCgroup(t, "run")
	run := func(phase string, leaveRunning bool) {
		before := progress()
		args := base
		if leaveRunning {
			args = append(slices.Clone(base), "--leave-running")
		}
		faultRun(t, phase, runCg, args...)
		pollClean(t, phase, runningCheck(func() []int { return tasks }, tree, cg, progress, before,
			func() []string { return strays(nil, runCg) }))
	}
	for _, phase := range checkpointPhases(false, cg != "", false) {
		run(phase, false)
	}
	for _, phase := range leaveRunningPhases {
		run(phase, true)
	}
}

// crashRestores kills ckpt at each phase of a restore of img and checks
// that nothing of it is left: no task alive (pids are the image's, so the
// original pids in pids stay free), nothing else of ours.
func crashRestores(t *testing.T, img string, pids []int) {
	t.Helper()
	runCg := testCgroup(t, "restore")
	for _, phase := range restore.FaultPhases() {
		faultRun(t, phase, runCg, "restore", "--image-path", img, "--detach", "--pid-file", filepath.Join(t.TempDir(), "pid"))
		pollClean(t, phase, func() string {
			if s := strays(nil, runCg); len(s) > 0 {
				return fmt.Sprintf("processes left: %v", s)
			}
			for _, pid := range pids {
				if st := procState(pid); st != "" {
					return fmt.Sprintf("pid %d of the image is taken: %s, state %s, parent %s", pid, statusField(pid, "Name"), st, statusField(pid, "PPid"))
				}
			}
			return ""
		})
	}
}

// TestCrashProcessTree: a tree of processes (a session, a zombie, a
// process group, a counting child) in a cgroup frozen while it is seized.
func TestCrashProcessTree(t *testing.T) {
	requireRoot(t)
	needCkpt(t)
	dir := t.TempDir()
	bin := buildTestdata(t, dir, "tree")
	log := filepath.Join(dir, "log")
	cg := testCgroup(t, "tree")
	root := startKilled(t, inCgroup(cg, bin, log))
	waitGrowth(t, log, 2)
	tasks, tree := treeTasks(t, root)
	crashCheckpoints(t, root, tasks, tree, cg, func() int { return lines(log) })

	// The image for the restores: the tree is gone afterwards.
	before := psTree(t, root)
	checkpoint(t, root, filepath.Join(dir, "img"), false)
	reap(root, exitTimeout)
	reapTree(t, before)
	crashRestores(t, filepath.Join(dir, "img"), tree)
}

// TestCrashPidns: a pid namespace's init.
func TestCrashPidns(t *testing.T) {
	requireRoot(t)
	needCkpt(t)
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("unshare(1) not installed")
	}
	dir := t.TempDir()
	log := filepath.Join(dir, "count")
	cg := testCgroup(t, "pidns")
	cmd := inCgroup(cg, "unshare", "--pid", "--fork", "python3", "-c", pidnsCounter, log)
	cmd.SysProcAttr = &unix.SysProcAttr{Setsid: true}
	unshare := startKilled(t, cmd)
	waitGrowth(t, log, 2)
	kids, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", unshare, unshare))
	if err != nil {
		t.Fatal(err)
	}
	init, err := strconv.Atoi(strings.TrimSpace(string(kids)))
	if err != nil {
		t.Fatalf("unshare's child: %q: %v", kids, err)
	}
	t.Cleanup(func() { unix.Kill(init, unix.SIGKILL) })
	crashCheckpoints(t, init, []int{init}, []int{init}, cg, func() int { return lines(log) })

	img := filepath.Join(dir, "img")
	checkpoint(t, init, img, false)
	reap(unshare, exitTimeout)
	// The restored init is pid 1 of a new namespace, and a process of
	// ours: strays finds it.
	crashRestores(t, img, nil)
}

// TestCrashContainer: a container of the OCI runtime; a restore killed
// midway leaves no container (state directory, cgroup) behind.
func TestCrashContainer(t *testing.T) {
	rt := newOCIRuntime(t)
	cgPath := fmt.Sprintf("/ckpt-crash-%d", os.Getpid())
	b := rt.bundle("counter", func(c map[string]any) {
		c["mounts"] = append(c["mounts"].([]any), map[string]any{
			"destination": "/run", "type": "tmpfs", "source": "tmpfs", "options": []string{"nosuid", "nodev", "size=1m"},
		})
		c["linux"].(map[string]any)["cgroupsPath"] = cgPath
	}, "sh", "-c", counterScript)
	rt.ok("run", "-d", "--bundle", b, "c1")
	waitFor(t, "c1 to count", func() bool { return rt.count("c1") >= 2 })
	cgroups := rt.cgroupPaths("c1")
	fz := cgroups["freezer"]
	if fz == "" {
		fz = cgroups[""]
	}
	procs := func() []int {
		b, _ := os.ReadFile(filepath.Join(fz, "cgroup.procs"))
		var out []int
		for _, f := range strings.Fields(string(b)) {
			if pid, _ := strconv.Atoi(f); procState(pid) != "" {
				out = append(out, pid)
			}
		}
		return out
	}
	runCg := testCgroup(t, "run")
	env := func(phase string, args ...string) {
		faultRun(t, phase, runCg, append([]string{"--root", rt.root}, args...)...)
	}
	var cgDirs []string
	for _, dir := range cgroups {
		cgDirs = append(cgDirs, dir)
	}
	left := func() []string { return strays(nil, append([]string{runCg}, cgDirs...)...) }
	img := filepath.Join(rt.dir, "img")
	for _, leaveRunning := range []bool{false, true} {
		phases := checkpointPhases(false, true, false)
		args := []string{"checkpoint", "--image-path", img, "c1"}
		if leaveRunning {
			phases = leaveRunningPhases
			args = []string{"checkpoint", "--leave-running", "--image-path", img, "c1"}
		}
		for _, phase := range phases {
			before := rt.count("c1")
			env(phase, args...)
			// The container's tasks: the init, and its commands of the
			// moment.
			pollClean(t, phase, runningCheck(procs, nil, fz, func() int { return rt.count("c1") }, before,
				func() []string { return strays(nil, runCg) }))
			if st := rt.state("c1"); st.Status != "running" {
				t.Fatalf("ckpt killed at %q: container c1 is %s", phase, st.Status)
			}
		}
	}

	rt.ok("checkpoint", "--image-path", img, "c1")
	rt.gone("c1")
	for _, phase := range append([]string{runtime.FaultCreated}, restore.FaultPhases()...) {
		env(phase, "restore", "--bundle", b, "--image-path", img, "-d", "c2")
		pollClean(t, phase, func() string {
			if s := left(); len(s) > 0 {
				return fmt.Sprintf("processes left: %v", s)
			}
			if _, err := os.Stat(filepath.Join(rt.root, "c2")); err == nil {
				return "the container's state directory is left"
			}
			for _, dir := range cgroups {
				if _, err := os.Stat(dir); err == nil {
					return fmt.Sprintf("cgroup %s is left", dir)
				}
			}
			return ""
		})
	}
	// And the image still restores.
	rt.ok("restore", "--bundle", b, "--image-path", img, "-d", "c2")
	rt.countsOn("c2", 2)
}

// cgroupPaths are a container's cgroups by controller ("" for v2).
func (rt *ociRuntime) cgroupPaths(id string) map[string]string {
	rt.t.Helper()
	b, err := os.ReadFile(filepath.Join(rt.root, id, "state.json"))
	if err != nil {
		rt.t.Fatal(err)
	}
	var st struct {
		CgroupPaths map[string]string `json:"cgroup_paths"`
	}
	if err := json.Unmarshal(b, &st); err != nil {
		rt.t.Fatal(err)
	}
	return st.CgroupPaths
}

// tcpEcho echoes what comes on one connection, and logs a line per chunk.
// It waits in select(2), not in recv(2): see TestCrashTcpEstablished.
const tcpEcho = `
import os, select, socket, sys
os.closerange(3, 65536)
ls = socket.socket()
ls.bind(("127.0.0.1", 0))
ls.listen(1)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write("%d" % ls.getsockname()[1])
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
s, _ = ls.accept()
ls.close()
while True:
    select.select([s], [], [])
    b = s.recv(4096)
    if not b:
        break
    s.sendall(b)
    with open(sys.argv[2], "a") as f:
        f.write("%d\n" % len(b))
`

// TestCrashTcpEstablished: with --tcp-established, a ckpt killed while the
// connection is locked and in repair mode leaves it unlocked (no element
// in the nftables sets of table inet ckpt) and out of repair mode (it
// echoes on). The server waits for data in select(2): a task that was in
// send(2) or recv(2) on the connection runs on as ckpt dies, before the
// guardian can take the socket out of repair mode, and gets EINVAL or
// EPERM there (checkpoint/doc.go, "If ckpt dies").
func TestCrashTcpEstablished(t *testing.T) {
	requireRoot(t)
	needCkpt(t)
	if _, err := exec.LookPath("nft"); err != nil {
		t.Skip("nft not installed")
	}
	ns := newNetns(t)
	dir := t.TempDir()
	portFile, log := filepath.Join(dir, "port"), filepath.Join(dir, "log")
	cmd := exec.Command("nsenter", "--net="+ns.path, "python3", "-c", tcpEcho, portFile, log)
	cmd.SysProcAttr = &unix.SysProcAttr{Setsid: true}
	pid := startKilled(t, cmd)
	var port []byte
	waitFor(t, "the server to listen", func() bool { port, _ = os.ReadFile(portFile); return len(port) > 0 })
	ctx, cancel := context.WithTimeout(context.Background(), exitTimeout)
	defer cancel()
	conn, err := ns.dial(ctx, "tcp", "127.0.0.1:"+string(port))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	buf := make([]byte, 4096)
	// echo sends a byte and takes whatever came back: the server's log
	// grows as long as the connection works.
	echo := func() int {
		conn.SetWriteDeadline(time.Now().Add(10 * time.Millisecond))
		conn.Write([]byte("x"))
		conn.SetReadDeadline(time.Now().Add(10 * time.Millisecond))
		conn.Read(buf)
		return lines(log)
	}
	waitFor(t, "an echo", func() bool { return echo() > 0 })
	locked := func() string {
		out, _ := exec.Command("nsenter", "--net="+ns.path, "nft", "list", "table", "inet", "ckpt").CombinedOutput()
		if strings.Contains(string(out), "elements") {
			return string(out)
		}
		return ""
	}
	img := filepath.Join(dir, "img")
	runCg := testCgroup(t, "run")
	for _, phase := range checkpointPhases(false, false, true) {
		before := lines(log)
		faultRun(t, phase, runCg, "checkpoint", "--pid", strconv.Itoa(pid), "--image-path", img, "--tcp-established")
		running := runningCheck(func() []int { return []int{pid} }, []int{pid}, "", echo, before,
			func() []string { return strays(nil, runCg) })
		pollClean(t, phase, func() string {
			if l := locked(); l != "" {
				return "the connection is still locked:\n" + l
			}
			return running()
		})
	}
}
