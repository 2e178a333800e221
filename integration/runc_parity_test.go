package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// runc's command-line behaviour where its own integration tests
// (tests/integration/*.bats of runc 1.5) expect it, verb by verb: ckpt is
// called the way runc is.

// tryIn runs ckpt in dir ("": ours; runc's defaults are relative to the
// current directory) with the runtime's root. Its stdio are files, not
// pipes: a detached container inherits them and would keep a pipe open.
func (rt *ociRuntime) tryIn(dir string, args ...string) (string, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), ckptTimeout)
	defer cancel()
	outF, err := os.CreateTemp(rt.dir, "out-")
	if err != nil {
		return "", "", err
	}
	defer os.Remove(outF.Name())
	defer outF.Close()
	errF, err := os.CreateTemp(rt.dir, "err-")
	if err != nil {
		return "", "", err
	}
	defer os.Remove(errF.Name())
	defer errF.Close()
	cmd := exec.CommandContext(ctx, ckptBin, append([]string{"--root", rt.root}, args...)...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = outF, errF
	err = cmd.Run()
	if ctx.Err() != nil {
		err = fmt.Errorf("ckpt %s: no answer within %v: %w", strings.Join(args, " "), ckptTimeout, err)
	}
	out, _ := os.ReadFile(outF.Name())
	stderr, _ := os.ReadFile(errF.Name())
	return string(out), string(stderr), err
}

func (rt *ociRuntime) okIn(dir string, args ...string) string {
	rt.t.Helper()
	out, stderr, err := rt.tryIn(dir, args...)
	if err != nil {
		rt.t.Fatalf("ckpt %s (in %s): %v\n%s%s", strings.Join(args, " "), dir, err, out, stderr)
	}
	return out
}

// quiet waits until the container's init has moved its stdio off ckpt's
// (the bundles' `exec </dev/null >/dev/null 2>&1`): a checkpoint before
// that would find the caller's output file, which is not the container's.
func (rt *ociRuntime) quiet(id string) {
	rt.t.Helper()
	waitFor(rt.t, id+"'s init to redirect its stdio", func() bool {
		l, err := os.Readlink("/proc/" + strconv.Itoa(rt.state(id).Pid) + "/fd/1")
		return err == nil && l == "/dev/null"
	})
}

// TestRuncParityCheckpoint: runc's checkpoint.bats flows. checkpoint and
// restore without --image-path use ./checkpoint; twice in a row, with
// --debug; a process exec'd into a restored container is restored the
// next time; --manage-cgroups-mode ignore restores into the cgroup the
// bundle now names.
func TestRuncParityCheckpoint(t *testing.T) {
	rt := newOCIRuntime(t)
	b := rt.bundle("cr", nil, "sh", "-c", "exec </dev/null >/dev/null 2>&1; exec sleep 1000")
	rt.ok("run", "-d", "--bundle", b, "cr")
	rt.quiet("cr")
	execed := ""
	for i := range 2 {
		debug := []string{}
		if i == 1 {
			debug = []string{"--debug"}
		}
		rt.okIn(b, append(debug, "checkpoint", "--work-path", "./work-dir", "cr")...)
		rt.gone("cr")
		if _, err := os.Stat(filepath.Join(b, "checkpoint", "image.ckpt")); err != nil {
			t.Fatalf("checkpoint without --image-path: %v (runc writes ./checkpoint)", err)
		}
		if log, err := os.ReadFile(filepath.Join(b, "work-dir", "dump.log")); err != nil || len(log) == 0 {
			t.Fatalf("work-dir/dump.log: %v", err)
		}
		rt.okIn(b, append(debug, "restore", "-d", "--work-path", "./work-dir", "cr")...)
		if st := rt.state("cr"); st.Status != "running" {
			t.Fatalf("after restore: %+v", st)
		}
		if out := rt.ok("exec", "--cwd", "/bin", "cr", "echo", "ok"); out != "ok\n" {
			t.Fatalf("exec into the restored container: %q", out)
		}
		// The process exec'd after the last restore was checkpointed and
		// restored with the container.
		if execed != "" {
			rt.ok("exec", "cr", "ls", "-ld", "/proc/"+execed)
		}
		execed = strings.TrimSpace(rt.ok("exec", "cr", "sh", "-c", "sleep 1000 < /dev/null > /dev/null 2>&1 & echo $!"))
		if _, err := strconv.Atoi(execed); err != nil {
			t.Fatalf("exec'd pid: %q", execed)
		}
	}
	rt.ok("delete", "--force", "cr")

	// --manage-cgroups-mode ignore: the old cgroup goes with the
	// container, the restored one gets the bundle's new path.
	cgPath := func(name string) string { return "/ckpt-parity-" + strconv.Itoa(os.Getpid()) + "-" + name }
	rt.editConfig(b, func(c map[string]any) {
		c["linux"].(map[string]any)["cgroupsPath"] = cgPath("a")
	})
	rt.ok("run", "-d", "--bundle", b, "cg")
	rt.quiet("cg")
	orig := "/sys/fs/cgroup/pids" + cgPath("a")
	if _, err := os.Stat(orig); err != nil {
		if _, err2 := os.Stat("/sys/fs/cgroup" + cgPath("a")); err2 != nil {
			t.Fatalf("the container's cgroup: %v", err)
		}
		orig = "/sys/fs/cgroup" + cgPath("a") // cgroup v2
	}
	rt.okIn(b, "checkpoint", "--manage-cgroups-mode", "ignore", "cg")
	if _, err := os.Stat(orig); err == nil {
		t.Fatalf("the checkpointed container's cgroup %s is still there", orig)
	}
	rt.editConfig(b, func(c map[string]any) {
		c["linux"].(map[string]any)["cgroupsPath"] = cgPath("b")
	})
	pidFile := filepath.Join(rt.dir, "cg.pid")
	rt.okIn(b, "restore", "-d", "--manage-cgroups-mode", "ignore", "--pid-file", pidFile, "cg")
	pid, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	cg, err := os.ReadFile("/proc/" + strings.TrimSpace(string(pid)) + "/cgroup")
	if err != nil || !strings.Contains(string(cg), cgPath("b")+"\n") {
		t.Fatalf("restored init's cgroup: %v\n%s", err, cg)
	}
	if _, err := os.Stat(orig); err == nil {
		t.Fatalf("the old cgroup %s came back", orig)
	}
	rt.ok("delete", "--force", "cg")
	// What ckpt cannot do is refused by name.
	rt.ok("run", "-d", "--bundle", b, "cg2")
	rt.fails("--manage-cgroups-mode full", "checkpoint", "--manage-cgroups-mode", "full", "--image-path", filepath.Join(rt.dir, "x"), "cg2")
	rt.ok("delete", "--force", "cg2")
}

// TestRuncParityVerbs: create/exec/start, kill, list, run --keep, exec
// exit codes and --debug, as runc's own tests expect them.
func TestRuncParityVerbs(t *testing.T) {
	rt := newOCIRuntime(t)
	b := rt.bundle("verbs", nil, "sleep", "1000")

	// create.bats "runc create exec": a created container takes exec,
	// and stays created.
	rt.ok("create", "--bundle", b, "cr")
	rt.ok("exec", "cr", "true")
	if st := rt.state("cr"); st.Status != "created" {
		t.Fatalf("after exec into a created container: %+v", st)
	}
	rt.ok("start", "cr")
	if st := rt.state("cr"); st.Status != "running" {
		t.Fatalf("after start: %+v", st)
	}

	// exec.bats "runc exec [exit codes]": the process's own code, 255
	// when no process ran.
	for _, c := range []struct {
		args []string
		code int
	}{
		{[]string{"exec", "cr", "false"}, 1},
		{[]string{"exec", "cr", "sh", "-c", "exit 42"}, 42},
		{[]string{"exec", "--pid-file", "/non-existent/directory", "cr", "true"}, 255},
		{[]string{"exec", "cr", "no-such-binary"}, 255},
		{[]string{"exec", "no_such_container", "true"}, 255},
	} {
		if _, _, err := rt.try(c.args...); exitCode(err) != c.code {
			t.Errorf("ckpt %s: exit code %d, want %d", strings.Join(c.args, " "), exitCode(err), c.code)
		}
	}

	// A flag's value keeps its commas (runc's flags do not split).
	if out := rt.ok("exec", "--env", "A=1,2", "cr", "sh", "-c", "echo $A"); out != "1,2\n" {
		t.Errorf("exec --env A=1,2: $A is %q", out)
	}

	// exec.bats "runc --debug exec": libcontainer's init logs at debug
	// level to stderr, or to --log.
	_, stderr, err := rt.try("--debug", "exec", "cr", "true")
	if err != nil || !strings.Contains(stderr, "level=debug") || !strings.Contains(stderr, "child process in init()") {
		t.Errorf("--debug exec: %v\n%s", err, stderr)
	}
	logFile := filepath.Join(rt.dir, "log.out")
	_, stderr, err = rt.try("--debug", "--log", logFile, "exec", "cr", "true")
	log, _ := os.ReadFile(logFile)
	if err != nil || strings.Contains(stderr, "level=debug") || !strings.Contains(string(log), "level=debug") ||
		!strings.Contains(string(log), "setns_init: about to exec") {
		t.Errorf("--debug --log exec: %v\nstderr: %s\nlog: %s", err, stderr, log)
	}

	// kill.bats "kill detached busybox": signal 0 of a stopped container
	// fails saying it is not running; with -a it does not.
	rt.ok("kill", "cr", "KILL")
	waitFor(t, "cr to stop", func() bool { return rt.state("cr").Status == "stopped" })
	rt.fails("container not running", "kill", "cr", "0")
	rt.ok("kill", "-a", "cr", "0")
	rt.ok("delete", "cr")

	// features: the seccomp details callers choose flags and actions
	// from (seccomp.bats reads supportedFlags), as runc's.
	var feat struct {
		Linux struct {
			Seccomp struct {
				Enabled    bool     `json:"enabled"`
				Actions    []string `json:"actions"`
				KnownFlags []string `json:"knownFlags"`
			} `json:"seccomp"`
		} `json:"linux"`
	}
	if err := json.Unmarshal([]byte(rt.ok("features")), &feat); err != nil || !feat.Linux.Seccomp.Enabled ||
		!slices.Contains(feat.Linux.Seccomp.Actions, "SCMP_ACT_ALLOW") || len(feat.Linux.Seccomp.KnownFlags) == 0 {
		t.Errorf("features: %v %+v", err, feat.Linux.Seccomp)
	}

	// list.bats: a named root that does not exist is an error.
	if _, _, err := rt.try("--root", filepath.Join(rt.dir, "non-existent"), "list"); err == nil {
		t.Errorf("list with a non-existent --root succeeded")
	}

	// run.bats "runc run with tmpfs" and others: a process with a
	// terminal run in the foreground writes through ckpt's stdout with
	// its own line ends ("\n", not the terminal's "\r\n"), as with runc.
	tb := rt.bundle("tty", func(c map[string]any) { c["process"].(map[string]any)["terminal"] = true }, "echo", "one line")
	if out := rt.ok("run", "--bundle", tb, "tty"); out != "one line\n" {
		t.Errorf("run with a terminal, in the foreground: %q, want %q", out, "one line\n")
	}

	// run.bats "runc run --keep": the container stays, stopped, until
	// delete.
	kb := rt.bundle("keep", nil, "true")
	rt.ok("run", "--keep", "--bundle", kb, "keep")
	if st := rt.state("keep"); st.Status != "stopped" {
		t.Fatalf("run --keep: %+v", st)
	}
	rt.ok("delete", "keep")
	rt.gone("keep")
}

// TestRuncParityUpdate: update.bats — runc's update flags and -r JSON
// reach the cgroup files: a CFS quota or period given alone keeps the
// other, burst, shares, idle, pids, memory, and per-device block I/O
// throttles from --resources.
func TestRuncParityUpdate(t *testing.T) {
	rt := newOCIRuntime(t)
	major, minor, haveDisk := firstDisk()
	b := rt.bundle("update", func(c map[string]any) {
		res := map[string]any{
			"cpu": map[string]any{"period": 100000, "quota": 50000},
		}
		if haveDisk {
			// A device given twice: the last one is in effect, and
			// update changes that one.
			maj, _ := strconv.Atoi(major)
			mnr, _ := strconv.Atoi(minor)
			dev := map[string]any{"major": maj, "minor": mnr, "rate": 485760}
			res["blockIO"] = map[string]any{"throttleReadBpsDevice": []any{dev, dev}}
		}
		c["linux"].(map[string]any)["resources"] = res
	}, "sh", "-c", "exec </dev/null >/dev/null 2>&1; exec sleep 1000")
	rt.ok("run", "-d", "--bundle", b, "up")
	file := func(controller, name string) string { return cgroupFile(t, rt.root, "up", controller, name) }
	want := func(controller, name, v string) {
		t.Helper()
		if got := file(controller, name); got != v {
			t.Errorf("%s: %q, want %q", name, got, v)
		}
	}
	want("cpu", "cpu.cfs_quota_us", "50000")
	rt.ok("update", "--cpu-quota", "20000", "up")
	want("cpu", "cpu.cfs_quota_us", "20000")
	want("cpu", "cpu.cfs_period_us", "100000")
	rt.ok("update", "--cpu-period", "200000", "up")
	want("cpu", "cpu.cfs_period_us", "200000")
	want("cpu", "cpu.cfs_quota_us", "20000")
	rt.ok("update", "--cpu-share", "512", "up")
	want("cpu", "cpu.shares", "512")
	if _, err := os.Stat("/sys/fs/cgroup/cpu/cpu.cfs_burst_us"); err == nil {
		rt.ok("update", "--cpu-burst", "10000", "up")
		want("cpu", "cpu.cfs_burst_us", "10000")
	}
	if _, err := os.Stat("/sys/fs/cgroup/cpu/cpu.idle"); err == nil {
		rt.ok("update", "--cpu-idle", "1", "up")
		want("cpu", "cpu.idle", "1")
		rt.ok("update", "--cpu-idle", "0", "up")
		want("cpu", "cpu.idle", "0")
	}
	rt.ok("update", "--pids-limit", "42", "--memory", "64M", "up")
	want("pids", "pids.max", "42")
	want("memory", "memory.limit_in_bytes", strconv.Itoa(64<<20))

	// Per-device throttles from --resources, on the first disk.
	if haveDisk {
		res := filepath.Join(rt.dir, "res.json")
		js := `{"blockIO":{"throttleReadBpsDevice":[{"major":` + major + `,"minor":` + minor + `,"rate":1048576}],` +
			`"throttleWriteIOPSDevice":[{"major":` + major + `,"minor":` + minor + `,"rate":300}]}}`
		if err := os.WriteFile(res, []byte(js), 0o644); err != nil {
			t.Fatal(err)
		}
		rt.ok("update", "-r", res, "up")
		want("blkio", "blkio.throttle.read_bps_device", major+":"+minor+" 1048576")
		want("blkio", "blkio.throttle.write_iops_device", major+":"+minor+" 300")
	}
	// What update cannot change is refused by name, not ignored.
	res := filepath.Join(rt.dir, "dev.json")
	if err := os.WriteFile(res, []byte(`{"devices":[{"allow":true,"access":"rwm"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	rt.fails("not supported: update of [devices]", "update", "-r", res, "up")
	rt.ok("delete", "--force", "up")
}

// firstDisk is the major and minor of the first whole disk in
// /proc/partitions.
func firstDisk() (string, string, bool) {
	b, err := os.ReadFile("/proc/partitions")
	if err != nil {
		return "", "", false
	}
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) == 4 && f[1] == "0" {
			if _, err := strconv.Atoi(f[0]); err == nil {
				return f[0], f[1], true
			}
		}
	}
	return "", "", false
}

// TestRuncParityEvents: events.bats — `events --stats` prints runc's
// statistics format once; `events --interval` streams it, with an "oom"
// event when the container's cgroup runs out of memory, and ends when the
// container is deleted.
func TestRuncParityEvents(t *testing.T) {
	rt := newOCIRuntime(t)
	b := rt.bundle("events", func(c map[string]any) {
		c["linux"].(map[string]any)["resources"] = map[string]any{
			"memory": map[string]any{"limit": 32 << 20, "swap": 32 << 20},
		}
	}, "sh", "-c", "exec </dev/null >/dev/null 2>&1; exec sleep 1000")
	rt.ok("run", "-d", "--bundle", b, "ev")
	var ev struct {
		Type string `json:"type"`
		ID   string `json:"id"`
		Data struct {
			CPU struct {
				Usage struct {
					Total uint64 `json:"total"`
				} `json:"usage"`
			} `json:"cpu"`
			Pids struct {
				Current uint64 `json:"current"`
			} `json:"pids"`
			Memory struct {
				Usage struct {
					Limit uint64 `json:"limit"`
				} `json:"usage"`
			} `json:"memory"`
		} `json:"data"`
	}
	out := rt.ok("events", "--stats", "ev")
	if err := json.Unmarshal([]byte(out), &ev); err != nil || ev.Type != "stats" || ev.ID != "ev" ||
		ev.Data.CPU.Usage.Total == 0 || ev.Data.Pids.Current != 1 || ev.Data.Memory.Usage.Limit != 32<<20 {
		t.Fatalf("events --stats: %v %+v\n%s", err, ev, out)
	}

	logPath := filepath.Join(rt.dir, "events.log")
	logF, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logF.Close()
	cmd := exec.Command(ckptBin, "--root", rt.root, "events", "--interval", "100ms", "ev")
	cmd.Stdout = logF
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	lines := func() []string {
		b, _ := os.ReadFile(logPath)
		return strings.Split(strings.TrimSpace(string(b)), "\n")
	}
	waitFor(t, "two stats events", func() bool { return len(lines()) >= 2 })
	// A process that needs more than the limit: the kernel kills it.
	_, _, _ = rt.try("exec", "ev", "sh", "-c", "x=$(dd if=/dev/zero bs=1M count=64 2>/dev/null | tr '\\0' a)")
	waitFor(t, "an oom event", func() bool {
		for _, l := range lines() {
			if l == `{"type":"oom","id":"ev"}` {
				return true
			}
		}
		return false
	})
	rt.ok("delete", "--force", "ev")
	if err := <-done; err != nil {
		t.Fatalf("events after the container is deleted: %v", err)
	}
	rt.fails("must be greater than 0", "events", "--interval", "0s", "ev")
}

// TestRuncParityExecCgroup: exec.bats "runc exec --cgroup sub-cgroups" —
// exec puts the process in a sub-cgroup of the container's, and refuses
// one leading out of it.
func TestRuncParityExecCgroup(t *testing.T) {
	rt := newOCIRuntime(t)
	rel := "/ckpt-parity-exec-" + strconv.Itoa(os.Getpid())
	b := rt.bundle("execcg", func(c map[string]any) {
		c["linux"].(map[string]any)["cgroupsPath"] = rel
	}, "sh", "-c", "exec </dev/null >/dev/null 2>&1; exec sleep 1000")
	rt.ok("run", "-d", "--bundle", b, "ec")
	defer rt.try("delete", "--force", "ec")
	_, stderr, err := rt.try("exec", "--cgroup", "..", "ec", "true")
	if err == nil || !strings.Contains(stderr, "bad sub cgroup path") {
		t.Fatalf("exec --cgroup ..: %v %s", err, stderr)
	}
	var v1 bool
	if _, err := os.Stat("/sys/fs/cgroup/memory" + rel); err == nil {
		v1 = true
	}
	if v1 {
		for _, d := range []string{"/sys/fs/cgroup/memory" + rel + "/submem", "/sys/fs/cgroup/pids" + rel + "/sub", "/sys/fs/cgroup/blkio" + rel + "/sub"} {
			if err := os.Mkdir(d, 0o755); err != nil {
				t.Fatal(err)
			}
			defer os.Remove(d)
		}
		// Controllers joined by a comma share a path (the comma is not
		// a separator of values, as for runc).
		out := rt.ok("exec", "--cgroup", "memory:submem", "--cgroup", "pids,blkio:sub", "ec", "cat", "/proc/self/cgroup")
		if !strings.Contains(out, ":memory:"+rel+"/submem\n") || !strings.Contains(out, ":pids:"+rel+"/sub\n") ||
			!strings.Contains(out, ":blkio:"+rel+"/sub\n") {
			t.Fatalf("exec --cgroup memory:submem --cgroup pids,blkio:sub: the process's cgroups:\n%s", out)
		}
	} else {
		d := "/sys/fs/cgroup" + rel + "/sub"
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
		defer os.Remove(d)
		out := rt.ok("exec", "--cgroup", "sub", "ec", "cat", "/proc/self/cgroup")
		if !strings.Contains(out, rel+"/sub\n") {
			t.Fatalf("exec --cgroup sub: the process's cgroup:\n%s", out)
		}
	}
	rt.fails("given twice", "exec", "--cgroup", "memory:a", "--cgroup", "memory:b", "ec", "true")
}

// TestRuncParityCheckpointBundles: checkpoint.bats's bundles, each
// checkpointed and restored twice the way runc's simple_cr does (no
// --image-path): a cgroup namespace, nested bind mounts whose inner
// mount point is removed between checkpoint and restore, a bind mount
// whose destination is a symlink in the rootfs, and a network namespace
// given by path, which the restored container joins again.
func TestRuncParityCheckpointBundles(t *testing.T) {
	rt := newOCIRuntime(t)
	const quiet = "exec </dev/null >/dev/null 2>&1; exec sleep 1000"
	netns := "ckpt-parity-" + strconv.Itoa(os.Getpid())
	if out, err := exec.Command("ip", "netns", "add", netns).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v\n%s", err, out)
	}
	defer exec.Command("ip", "netns", "del", netns).Run()
	nsPath := "/run/netns/" + netns
	nsIno := strconv.FormatUint(statIno(nsPath), 10)
	for _, c := range []struct {
		name    string
		edit    func(dir string, c map[string]any)
		between func(dir string)
		check   func(id string)
	}{
		{name: "cgroupns", edit: func(_ string, c map[string]any) {
			lin := c["linux"].(map[string]any)
			lin["namespaces"] = append(lin["namespaces"].([]any), map[string]any{"type": "cgroup"})
		}},
		{name: "nested", edit: func(dir string, c map[string]any) {
			for _, d := range []string{"b1", "b2"} {
				os.MkdirAll(filepath.Join(dir, d), 0o755)
			}
			c["mounts"] = append(c["mounts"].([]any),
				map[string]any{"type": "bind", "source": filepath.Join(dir, "b1"), "destination": "/test", "options": []string{"rw", "bind"}},
				map[string]any{"type": "bind", "source": filepath.Join(dir, "b2"), "destination": "/test/for/nested", "options": []string{"rw", "bind"}})
		}, between: func(dir string) {
			// The mount point libcontainer made in b1 must be made again.
			ents, _ := os.ReadDir(filepath.Join(dir, "b1"))
			for _, e := range ents {
				os.RemoveAll(filepath.Join(dir, "b1", e.Name()))
			}
		}},
		{name: "symlinkdest", edit: func(dir string, c map[string]any) {
			os.MkdirAll(filepath.Join(dir, "rootfs", "real", "conf"), 0o755)
			os.Symlink("/real/conf", filepath.Join(dir, "rootfs", "conf"))
			c["mounts"] = append(c["mounts"].([]any), map[string]any{"source": dir, "destination": "/conf", "options": []string{"bind"}})
		}},
		{name: "netns", edit: func(_ string, c map[string]any) {
			for _, n := range c["linux"].(map[string]any)["namespaces"].([]any) {
				if m := n.(map[string]any); m["type"] == "network" {
					m["path"] = nsPath
				}
			}
		}, check: func(id string) {
			link, err := os.Readlink("/proc/" + strconv.Itoa(rt.state(id).Pid) + "/ns/net")
			if err != nil || link != "net:["+nsIno+"]" {
				t.Errorf("%s's network namespace after restore: %s %v, want net:[%s]", id, link, err, nsIno)
			}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			rt.t = t
			dir := rt.bundle(c.name, func(m map[string]any) { c.edit(filepath.Join(rt.dir, c.name), m) }, "sh", "-c", quiet)
			rt.ok("run", "-d", "--bundle", dir, c.name)
			rt.quiet(c.name)
			for range 2 {
				rt.okIn(dir, "checkpoint", "--work-path", "./work-dir", c.name)
				rt.gone(c.name)
				if c.between != nil {
					c.between(dir)
				}
				rt.okIn(dir, "restore", "-d", "--work-path", "./work-dir", c.name)
				if st := rt.state(c.name); st.Status != "running" {
					t.Fatalf("after restore: %+v", st)
				}
				if out := rt.ok("exec", c.name, "echo", "ok"); out != "ok\n" {
					t.Fatalf("exec: %q", out)
				}
				if c.check != nil {
					c.check(c.name)
				}
			}
			rt.ok("delete", "--force", c.name)
		})
	}
	rt.t = t
}

func statIno(path string) uint64 {
	var st unix.Stat_t
	if unix.Stat(path, &st) != nil {
		return 0
	}
	return st.Ino
}

// TestRuncParityMore: cgroups.bats (exec into a paused container),
// hooks.bats (a failing hook's message), capabilities.bats (exec --cap is
// ambient when the spec has inheritable capabilities).
func TestRuncParityMore(t *testing.T) {
	rt := newOCIRuntime(t)
	b := rt.bundle("more", func(c map[string]any) {
		caps := c["process"].(map[string]any)["capabilities"].(map[string]any)
		caps["inheritable"] = []string{"CAP_CHOWN", "CAP_SYSLOG"}
		caps["bounding"] = []string{"CAP_CHOWN", "CAP_KILL", "CAP_SYSLOG"}
		caps["effective"] = []string{"CAP_CHOWN", "CAP_KILL"}
		caps["permitted"] = []string{"CAP_CHOWN", "CAP_KILL"}
		caps["ambient"] = []string{"CAP_CHOWN"}
	}, "sh", "-c", "exec </dev/null >/dev/null 2>&1; exec sleep 1000")
	rt.ok("run", "-d", "--bundle", b, "mo")

	// --cap adds the capability, ambient too (CAP_SYSLOG is bit 34).
	status := rt.ok("exec", "--cap", "CAP_SYSLOG", "mo", "cat", "/proc/self/status")
	if !strings.Contains(status, "CapAmb:\t0000000400000001") || !strings.Contains(status, "CapEff:\t0000000400000021") {
		t.Errorf("exec --cap CAP_SYSLOG:\n%s", status)
	}

	// A paused container refuses exec unless --ignore-paused; then the
	// process runs once the container is resumed.
	rt.ok("pause", "mo")
	rt.fails("cannot exec in a paused container", "exec", "mo", "echo", "ok")
	cmd := exec.Command(ckptBin, "--root", rt.root, "exec", "--ignore-paused", "mo", "echo", "ok")
	var out strings.Builder
	cmd.Stdout = &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the exec'd process to be in the paused container", func() bool {
		var pids []int
		_ = json.Unmarshal([]byte(rt.ok("ps", "--format", "json", "mo")), &pids)
		return len(pids) > 1
	})
	rt.ok("resume", "mo")
	if err := cmd.Wait(); err != nil || out.String() != "ok\n" {
		t.Errorf("exec --ignore-paused: %v %q", err, out.String())
	}
	rt.ok("delete", "--force", "mo")

	// A failing hook: the error says which.
	hb := rt.bundle("hooks", func(c map[string]any) {
		c["hooks"] = map[string]any{"createRuntime": []any{
			map[string]any{"path": "/bin/true"}, map[string]any{"path": "/bin/false"}}}
	}, "true")
	rt.fails("error running createRuntime hook #1:", "create", "--bundle", hb, "hk")
	rt.gone("hk")
}

// TestRuncParityPidfdSocket: pidfd-socket.bats — run --pidfd-socket sends
// a pidfd of the container's init, which signals it.
func TestRuncParityPidfdSocket(t *testing.T) {
	rt := newOCIRuntime(t)
	b := rt.bundle("pidfd", nil, "sh", "-c", "exec </dev/null >/dev/null 2>&1; exec sleep 1000")
	sock := filepath.Join(rt.dir, "pidfd.sock")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	got := make(chan int, 1)
	go func() {
		defer close(got)
		conn, err := l.AcceptUnix()
		if err != nil {
			return
		}
		defer conn.Close()
		oob := make([]byte, unix.CmsgSpace(4))
		_, oobn, _, _, err := conn.ReadMsgUnix(make([]byte, 64), oob)
		if err != nil {
			return
		}
		msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
		if err != nil || len(msgs) != 1 {
			return
		}
		if fds, err := unix.ParseUnixRights(&msgs[0]); err == nil && len(fds) == 1 {
			got <- fds[0]
		}
	}()
	rt.ok("run", "-d", "--pidfd-socket", sock, "--bundle", b, "pf")
	fd, ok := <-got
	if !ok {
		t.Fatalf("no pidfd arrived on the socket")
	}
	defer unix.Close(fd)
	if link, _ := os.Readlink("/proc/self/fd/" + strconv.Itoa(fd)); link != "anon_inode:[pidfd]" {
		t.Fatalf("the file sent is %q, not a pidfd", link)
	}
	if err := unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0); err != nil {
		t.Fatalf("pidfd_send_signal: %v", err)
	}
	waitFor(t, "pf to stop", func() bool { return rt.state("pf").Status == "stopped" })
	rt.ok("delete", "pf")
}
