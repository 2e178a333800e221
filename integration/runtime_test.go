package integration

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The OCI runtime (runtime/): runc's verbs on libcontainer, and checkpoint
// and restore of a whole container, on a busybox bundle built by
// hack/mkbundle.sh.

// ociRuntime drives `ckpt --root ROOT` for one test.
type ociRuntime struct {
	t    *testing.T
	root string
	dir  string
}

func newOCIRuntime(t *testing.T) *ociRuntime {
	t.Helper()
	requireRoot(t)
	needCkpt(t)
	if _, err := os.Stat("/bin/busybox"); err != nil {
		t.Fatalf("no /bin/busybox: run hack/deps.sh (it installs busybox-static)")
	}
	dir, err := os.MkdirTemp(workRoot, strings.ReplaceAll(t.Name(), "/", "_")+"-")
	if err != nil {
		t.Fatal(err)
	}
	rt := &ociRuntime{t: t, root: filepath.Join(dir, "state"), dir: dir}
	t.Cleanup(func() {
		// Whatever the outcome, no container may outlive the test.
		out, _, _ := rt.try("list", "-q")
		for _, id := range strings.Fields(out) {
			_, _, _ = rt.try("delete", "--force", id)
		}
		if !t.Failed() {
			os.RemoveAll(dir)
		}
	})
	return rt
}

// try runs ckpt with the runtime's root. Its stdio are files, not pipes: a
// detached container inherits them and would keep a pipe open.
func (rt *ociRuntime) try(args ...string) (string, string, error) {
	return rt.tryIn("", args...)
}

// ok runs ckpt and fails the test unless it succeeds.
func (rt *ociRuntime) ok(args ...string) string {
	rt.t.Helper()
	out, stderr, err := rt.try(args...)
	if err != nil {
		rt.t.Fatalf("ckpt %s: %v\n%s%s", strings.Join(args, " "), err, out, stderr)
	}
	return out
}

// fails runs ckpt, expects it to fail with a message holding want, and
// returns its exit code.
func (rt *ociRuntime) fails(want string, args ...string) {
	rt.t.Helper()
	out, stderr, err := rt.try(args...)
	if err == nil {
		rt.t.Fatalf("ckpt %s succeeded, want a failure saying %q\n%s", strings.Join(args, " "), want, out)
	}
	if !strings.Contains(stderr, want) {
		rt.t.Fatalf("ckpt %s: error %q does not say %q", strings.Join(args, " "), strings.TrimSpace(stderr), want)
	}
}

// exitCode is the exit status of a ckpt run.
func exitCode(err error) int {
	if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

type ociState struct {
	ID     string `json:"id"`
	Pid    int    `json:"pid"`
	Status string `json:"status"`
	Bundle string `json:"bundle"`
	Rootfs string `json:"rootfs"`
}

func (rt *ociRuntime) state(id string) ociState {
	rt.t.Helper()
	var st ociState
	if err := json.Unmarshal([]byte(rt.ok("state", id)), &st); err != nil {
		rt.t.Fatalf("state %s: %v", id, err)
	}
	return st
}

// gone checks that the runtime no longer knows the container.
func (rt *ociRuntime) gone(id string) {
	rt.t.Helper()
	if out, _, err := rt.try("state", id); err == nil {
		rt.t.Fatalf("container %s still exists: %s", id, out)
	}
}

// bundle builds a busybox bundle running args, then lets edit change its
// config.json.
func (rt *ociRuntime) bundle(name string, edit func(c map[string]any), args ...string) string {
	rt.t.Helper()
	dir := filepath.Join(rt.dir, name)
	cmd := exec.Command(filepath.Join(repoRoot, "hack", "mkbundle.sh"), append([]string{dir}, args...)...)
	cmd.Env = append(os.Environ(), "CKPT="+ckptBin)
	if out, err := cmd.CombinedOutput(); err != nil {
		rt.t.Fatalf("mkbundle.sh: %v\n%s", err, out)
	}
	if edit != nil {
		rt.editConfig(dir, edit)
	}
	return dir
}

func (rt *ociRuntime) editConfig(dir string, edit func(c map[string]any)) {
	rt.t.Helper()
	path := filepath.Join(dir, "config.json")
	b, err := os.ReadFile(path)
	if err != nil {
		rt.t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(b, &c); err != nil {
		rt.t.Fatal(err)
	}
	edit(c)
	if b, err = json.MarshalIndent(c, "", "\t"); err != nil {
		rt.t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		rt.t.Fatal(err)
	}
}

// withBundleCopy makes a bundle whose config is dir's, edited, with the
// same rootfs (by absolute path).
func (rt *ociRuntime) withBundleCopy(dir, name string, edit func(c map[string]any)) string {
	rt.t.Helper()
	nd := filepath.Join(rt.dir, name)
	if err := os.MkdirAll(nd, 0o755); err != nil {
		rt.t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		rt.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(nd, "config.json"), b, 0o644); err != nil {
		rt.t.Fatal(err)
	}
	rt.editConfig(nd, func(c map[string]any) {
		c["root"].(map[string]any)["path"] = filepath.Join(dir, "rootfs")
		if edit != nil {
			edit(c)
		}
	})
	return nd
}

// rootfsCopy makes a bundle with dir's config.json and a copy of its
// rootfs (cp -a: the same files, other inodes), changed by edit.
func (rt *ociRuntime) rootfsCopy(dir, name string, edit func(root string)) string {
	rt.t.Helper()
	nd := filepath.Join(rt.dir, name)
	if err := os.MkdirAll(nd, 0o755); err != nil {
		rt.t.Fatal(err)
	}
	if out, err := exec.Command("cp", "-a", filepath.Join(dir, "rootfs"), filepath.Join(dir, "config.json"), nd).CombinedOutput(); err != nil {
		rt.t.Fatalf("cp -a: %v\n%s", err, out)
	}
	if edit != nil {
		edit(filepath.Join(nd, "rootfs"))
	}
	return nd
}

// waitFor polls cond every 50 ms, up to the C/R timeout: it waits for the
// containers' own progress, it measures nothing.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(ckptTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestRuntimeLifecycle(t *testing.T) {
	rt := newOCIRuntime(t)
	// spec, then a bundle made from it.
	specDir := filepath.Join(rt.dir, "spec")
	os.MkdirAll(specDir, 0o755)
	rt.ok("spec", "--bundle", specDir)
	rt.fails("exists", "spec", "--bundle", specDir)
	var feat struct {
		OCIVersionMax string `json:"ociVersionMax"`
		Linux         struct {
			Seccomp struct {
				Enabled bool `json:"enabled"`
			} `json:"seccomp"`
		} `json:"linux"`
	}
	if err := json.Unmarshal([]byte(rt.ok("features")), &feat); err != nil || feat.OCIVersionMax == "" {
		t.Fatalf("features: %v %+v", err, feat)
	}
	if !feat.Linux.Seccomp.Enabled {
		t.Fatalf("ckpt was built without seccomp support (build with -tags seccomp, as make build does)")
	}

	b := rt.bundle("busybox", nil, "sh", "-c", "exec </dev/null >/dev/null 2>&1; while :; do sleep 1; done")
	pidFile := filepath.Join(rt.dir, "c1.pid")
	rt.ok("create", "--bundle", b, "--pid-file", pidFile, "c1")
	st := rt.state("c1")
	if st.Status != "created" || st.Bundle != b || st.Pid <= 0 {
		t.Fatalf("state after create: %+v", st)
	}
	if pf, _ := os.ReadFile(pidFile); strings.TrimSpace(string(pf)) != strconv.Itoa(st.Pid) {
		t.Fatalf("pid file has %q, state says %d", pf, st.Pid)
	}
	rt.ok("start", "c1")
	if st = rt.state("c1"); st.Status != "running" {
		t.Fatalf("state after start: %+v", st)
	}
	var list []ociState
	if err := json.Unmarshal([]byte(rt.ok("list", "--format", "json")), &list); err != nil || len(list) != 1 || list[0].ID != "c1" {
		t.Fatalf("list: %v %+v", err, list)
	}
	var pids []int
	if err := json.Unmarshal([]byte(rt.ok("ps", "--format", "json", "c1")), &pids); err != nil || !containsInt(pids, st.Pid) {
		t.Fatalf("ps --format json: %v %v (init %d)", err, pids, st.Pid)
	}
	if out := rt.ok("ps", "c1"); !strings.Contains(out, strconv.Itoa(st.Pid)) {
		t.Fatalf("ps: no line for the init %d:\n%s", st.Pid, out)
	}
	if out := rt.ok("exec", "c1", "cat", "/proc/1/status"); !strings.Contains(out, "Name:\tsh") {
		t.Fatalf("exec cat /proc/1/status:\n%s", out)
	}
	if _, _, err := rt.try("exec", "c1", "sh", "-c", "exit 3"); exitCode(err) != 3 {
		t.Fatalf("exec exit 3: %v", err)
	}
	proc := filepath.Join(rt.dir, "process.json")
	os.WriteFile(proc, []byte(`{"args":["sh","-c","exit 4"],"cwd":"/","user":{"uid":0,"gid":0},"env":["PATH=/bin"]}`), 0o644)
	if _, _, err := rt.try("exec", "--process", proc, "c1"); exitCode(err) != 4 {
		t.Fatalf("exec --process (exit 4): %v", err)
	}
	rt.ok("pause", "c1")
	if st = rt.state("c1"); st.Status != "paused" {
		t.Fatalf("state after pause: %+v", st)
	}
	rt.ok("resume", "c1")
	rt.ok("update", "--pids-limit", "77", "c1")
	if got := cgroupFile(t, rt.root, "c1", "pids", "pids.max"); got != "77" {
		t.Fatalf("pids.max after update: %q", got)
	}
	var ev struct {
		Type string `json:"type"`
		ID   string `json:"id"`
	}
	if err := json.Unmarshal([]byte(rt.ok("events", "--stats", "c1")), &ev); err != nil || ev.Type != "stats" || ev.ID != "c1" {
		t.Fatalf("events --stats: %v %+v", err, ev)
	}
	rt.fails("--force", "delete", "c1")
	rt.ok("kill", "c1", "KILL")
	waitFor(t, "c1 to stop", func() bool { return rt.state("c1").Status == "stopped" })
	rt.ok("delete", "c1")
	rt.gone("c1")

	// run in the foreground: its exit code is the process's; the
	// container is removed.
	b2 := rt.bundle("exit5", nil, "sh", "-c", "exit 5")
	if _, stderr, err := rt.try("run", "--bundle", b2, "c2"); exitCode(err) != 5 {
		t.Fatalf("run (exit 5): %v %s", err, stderr)
	}
	rt.gone("c2")
	// With --keep it stays, stopped (TestRuncParityVerbs).
	if _, stderr, err := rt.try("run", "--keep", "--bundle", b2, "c3"); exitCode(err) != 5 {
		t.Fatalf("run --keep (exit 5): %v %s", err, stderr)
	}
	if st := rt.state("c3"); st.Status != "stopped" {
		t.Fatalf("run --keep: %+v", st)
	}
	rt.ok("delete", "c3")
	rt.gone("c3")
}

func containsInt(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// cgroupFile reads a file of the container's cgroup of one controller, as
// libcontainer's state records it.
func cgroupFile(t *testing.T, root, id, controller, file string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, id, "state.json"))
	if err != nil {
		t.Fatal(err)
	}
	var st struct {
		CgroupPaths map[string]string `json:"cgroup_paths"`
	}
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	dir := st.CgroupPaths[controller]
	if dir == "" {
		t.Fatalf("container %s has no %s cgroup: %v", id, controller, st.CgroupPaths)
	}
	v, err := os.ReadFile(filepath.Join(dir, file))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(v))
}

// counterScript counts in its memory, writing each value to a tmpfs file
// and to the rootfs (by rename, so that a reader never sees a file half
// written); it also leaves a file in a tmpfs of its own.
const counterScript = `exec </dev/null >/dev/null 2>&1
echo saved-in-tmpfs > /run/note
i=0
while :; do
	i=$((i+1))
	echo $i > /run/count.new && mv /run/count.new /run/count
	echo $i > /count.new && mv /count.new /count
	sleep 0.1
done`

// containerFacts is what must be the same after a restore, seen from
// inside (the init's credentials and seccomp mode, the host name, the
// tmpfs file) and from the cgroup files.
func (rt *ociRuntime) containerFacts(id string) map[string]string {
	rt.t.Helper()
	f := map[string]string{}
	status := rt.ok("exec", id, "cat", "/proc/1/status")
	for _, l := range strings.Split(status, "\n") {
		for _, k := range []string{"Cap", "NoNewPrivs", "Seccomp", "Uid", "Gid"} {
			if strings.HasPrefix(l, k) {
				name, v, _ := strings.Cut(l, ":")
				f[name] = strings.TrimSpace(v)
			}
		}
	}
	f["hostname"] = strings.TrimSpace(rt.ok("exec", id, "hostname"))
	f["note"] = strings.TrimSpace(rt.ok("exec", id, "cat", "/run/note"))
	f["memory.limit_in_bytes"] = cgroupFile(rt.t, rt.root, id, "memory", "memory.limit_in_bytes")
	f["pids.max"] = cgroupFile(rt.t, rt.root, id, "pids", "pids.max")
	// The seccomp profile acts: chroot fails with EPERM in the container.
	_, stderr, err := rt.try("exec", id, "chroot", "/", "true")
	f["chroot"] = fmt.Sprintf("%d %v", exitCode(err), strings.Contains(stderr, "Operation not permitted"))
	return f
}

func (rt *ociRuntime) count(id string) int {
	rt.t.Helper()
	out, _, err := rt.try("exec", id, "cat", "/run/count")
	if err != nil {
		return -1
	}
	n, err := strconv.Atoi(strings.TrimSpace(out))
	if err != nil {
		return -1
	}
	return n
}

// countsOn checks a restored container counts on from at least n: its
// first value is n or more (a fresh start would have 1 or none), and it
// goes up.
func (rt *ociRuntime) countsOn(id string, n int) {
	rt.t.Helper()
	first := -1
	waitFor(rt.t, id+" to answer", func() bool { first = rt.count(id); return first >= 0 })
	if first < n {
		rt.t.Fatalf("container %s: count %d after restore, the checkpoint had %d", id, first, n)
	}
	waitFor(rt.t, id+" to count on", func() bool {
		c := rt.count(id)
		if c >= 0 && c < first {
			rt.t.Fatalf("container %s: count went back from %d to %d", id, first, c)
		}
		return c > first
	})
}

func TestRuntimeCheckpointRestore(t *testing.T) {
	rt := newOCIRuntime(t)
	b := rt.bundle("counter", func(c map[string]any) {
		c["hostname"] = "ckpt-c1"
		c["mounts"] = append(c["mounts"].([]any), map[string]any{
			"destination": "/run", "type": "tmpfs", "source": "tmpfs", "options": []string{"nosuid", "nodev", "size=1m"},
		})
		lin := c["linux"].(map[string]any)
		lin["resources"] = map[string]any{
			"memory": map[string]any{"limit": 64 << 20},
			"pids":   map[string]any{"limit": 100},
		}
		lin["seccomp"] = map[string]any{
			"defaultAction": "SCMP_ACT_ALLOW",
			"architectures": []string{"SCMP_ARCH_X86_64"},
			"syscalls":      []any{map[string]any{"names": []string{"chroot"}, "action": "SCMP_ACT_ERRNO"}},
		}
	}, "sh", "-c", counterScript)
	rt.ok("run", "-d", "--bundle", b, "c1")
	waitFor(t, "c1 to count", func() bool { return rt.count("c1") >= 3 })
	before := rt.containerFacts("c1")
	if before["Seccomp"] != "2" || before["NoNewPrivs"] != "1" || before["chroot"] != "1 true" || before["hostname"] != "ckpt-c1" ||
		before["pids.max"] != "100" || before["memory.limit_in_bytes"] != strconv.Itoa(64<<20) {
		t.Fatalf("the container does not run as its bundle says: %v", before)
	}

	// Checkpoint: the container is gone; its last count is in the rootfs.
	img := filepath.Join(rt.dir, "img")
	rt.ok("checkpoint", "--image-path", img, "c1")
	rt.gone("c1")
	// A container's image is not restored as a plain process tree.
	rt.fails("is a whole container", "restore", "--image-path", img, "-d")
	nb, _ := os.ReadFile(filepath.Join(b, "rootfs", "count"))
	n, err := strconv.Atoi(strings.TrimSpace(string(nb)))
	if err != nil {
		t.Fatalf("count at checkpoint: %q", nb)
	}

	// Restore into another id, from a bundle whose config differs in
	// what a restore may change (its host name: the checkpointed one
	// stays), same rootfs.
	b2 := rt.withBundleCopy(b, "counter2", func(c map[string]any) { c["hostname"] = "other" })
	rt.ok("restore", "--bundle", b2, "--image-path", img, "-d", "c2")
	if st := rt.state("c2"); st.Status != "running" {
		t.Fatalf("c2 after restore: %+v", st)
	}
	rt.countsOn("c2", n)
	after := rt.containerFacts("c2")
	for k, v := range before {
		if after[k] != v {
			t.Errorf("%s: %q before the checkpoint, %q after the restore", k, v, after[k])
		}
	}
	var pids []int
	st := rt.state("c2")
	if err := json.Unmarshal([]byte(rt.ok("ps", "--format", "json", "c2")), &pids); err != nil || !containsInt(pids, st.Pid) {
		t.Fatalf("ps c2: %v %v (init %d)", err, pids, st.Pid)
	}
	rt.ok("kill", "c2", "KILL")
	waitFor(t, "c2 to stop", func() bool { return rt.state("c2").Status == "stopped" })
	rt.ok("delete", "c2")
	rt.gone("c2")

	// Again under the old id, then --leave-running: the original keeps
	// running and a restore of it runs beside it.
	rt.ok("restore", "--bundle", b, "--image-path", img, "-d", "c1")
	rt.countsOn("c1", n)
	img2 := filepath.Join(rt.dir, "img2")
	rt.ok("checkpoint", "--leave-running", "--image-path", img2, "c1")
	rt.countsOn("c1", n)
	rt.ok("restore", "--bundle", b, "--image-path", img2, "-d", "c3")
	rt.countsOn("c3", n)
	if rt.state("c1").Status != "running" || rt.state("c3").Status != "running" {
		t.Fatalf("c1 and c3 should both run")
	}
	rt.ok("delete", "--force", "c1")
	rt.ok("delete", "--force", "c3")

	// Another directory holding the same files (what containerd's runc
	// shim restores into: a new snapshot with the rw diff applied) takes
	// the image: its files are checked by path.
	copied := rt.rootfsCopy(b, "copy", nil)
	rt.ok("restore", "--bundle", copied, "--image-path", img, "-d", "c4")
	rt.countsOn("c4", n)
	rt.ok("delete", "--force", "c4")
	rt.gone("c4")

	// Bundles the image cannot go into: refused, and no container left.
	// A rootfs without the executable the tasks run:
	noExe := rt.rootfsCopy(b, "noexe", func(root string) {
		if err := os.Remove(filepath.Join(root, "bin", "busybox")); err != nil {
			t.Fatal(err)
		}
	})
	rt.fails("executable \"/bin/busybox\"", "restore", "--bundle", noExe, "--image-path", img, "-d", "c4")
	rt.gone("c4")
	// ... or where it is another kind of file:
	dirExe := rt.rootfsCopy(b, "direxe", func(root string) {
		exe := filepath.Join(root, "bin", "busybox")
		if err := os.Remove(exe); err != nil {
			t.Fatal(err)
		}
		if err := os.Mkdir(exe, 0o755); err != nil {
			t.Fatal(err)
		}
	})
	rt.fails("is not a regular file in the restored rootfs", "restore", "--bundle", dirExe, "--image-path", img, "-d", "c4")
	rt.gone("c4")
	noRun := rt.withBundleCopy(b, "norun", func(c map[string]any) {
		var keep []any
		for _, m := range c["mounts"].([]any) {
			if m.(map[string]any)["destination"] != "/run" {
				keep = append(keep, m)
			}
		}
		c["mounts"] = keep
	})
	rt.fails("lacks mounts the checkpointed container had: /run", "restore", "--bundle", noRun, "--image-path", img, "-d", "c5")
	rt.gone("c5")
	rt.fails("is not a container's", "restore", "--bundle", b, "--image-path", rt.processImage(), "-d", "c6")
	rt.gone("c6")

	// Flags ckpt does not implement are refused by name.
	rt.ok("run", "-d", "--bundle", b, "c7")
	rt.fails("not supported: checkpoint --pre-dump", "checkpoint", "--pre-dump", "--image-path", filepath.Join(rt.dir, "img3"), "c7")
	rt.fails("not supported: checkpoint --page-server", "checkpoint", "--page-server", "x:1", "--image-path", filepath.Join(rt.dir, "img3"), "c7")
	if rt.state("c7").Status != "running" {
		t.Fatalf("a refused checkpoint stopped c7")
	}
	rt.fails("not supported: restore --lazy-pages", "restore", "--lazy-pages", "--bundle", b, "--image-path", img, "c8")
	rt.gone("c8")
	rt.ok("delete", "--force", "c7")

	// A failure found once the container exists (the executable was
	// replaced) removes it too.
	bb := filepath.Join(b, "rootfs", "bin", "busybox")
	data, err := os.ReadFile(bb)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bb+".new", data, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(bb+".new", bb); err != nil {
		t.Fatal(err)
	}
	rt.fails("was replaced since the checkpoint", "restore", "--bundle", b, "--image-path", img, "-d", "c9")
	rt.gone("c9")
	if out := strings.TrimSpace(rt.ok("list", "-q")); out != "" {
		t.Fatalf("containers left behind: %s", out)
	}
}
