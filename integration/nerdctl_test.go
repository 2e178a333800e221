package integration

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// nerdctl end to end: nerdctl (built from its Go module by
// hack/nerdctl.sh) against a private containerd runs a counting busybox
// container, checkpoints it with `nerdctl checkpoint create`, lists and
// removes checkpoints, and restores with `nerdctl start --checkpoint`, on
// our shim (io.containerd.ckpt.v2) and on containerd's runc shim with ckpt
// as its runc binary (`--runtime /path/to/ckpt`).

type nerdctlEnv struct {
	*containerdEnv
	bin, ns, dataRoot string
}

func (e *nerdctlEnv) try(args ...string) (string, error) {
	full := append([]string{"--address", e.address, "--namespace", e.ns, "--data-root", e.dataRoot,
		"--snapshotter", e.snap, "--cgroup-manager", "cgroupfs"}, args...)
	cmd := exec.Command(e.bin, full...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil {
		var errs []string
		for _, l := range strings.Split(stderr.String(), "\n") {
			if l != "" && !strings.Contains(l, "DEPRECATION") {
				errs = append(errs, l)
			}
		}
		return stdout.String(), fmt.Errorf("nerdctl %s: %w: %s", strings.Join(args, " "), err, strings.Join(errs, "\n"))
	}
	return stdout.String(), nil
}

func (e *nerdctlEnv) ok(args ...string) string {
	e.t.Helper()
	out, err := e.try(args...)
	if err != nil {
		e.t.Fatal(err)
	}
	return out
}

// status is the container's STATUS column in `nerdctl ps -a`: "Up",
// "Exited (137) ...", "Created".
func (e *nerdctlEnv) status(name string) string {
	e.t.Helper()
	return strings.TrimSpace(e.ok("ps", "-a", "--filter", "name="+name, "--format", "{{.Status}}"))
}

// counts checks /count in the container holds 1..n and returns n.
func (e *nerdctlEnv) counts(name string) int {
	e.t.Helper()
	return consecutive(e.t, name+":/count", e.ok("exec", name, "cat", "/count"), 1)
}

func (e *nerdctlEnv) waitCount(name string, n int) int {
	e.t.Helper()
	return waitPast(e.t, name, n, func() int { return e.counts(name) })
}

// logged checks `nerdctl logs` holds out 1, out 2, ... with nothing
// repeated or lost, and returns the last.
func (e *nerdctlEnv) logged(name string) int {
	e.t.Helper()
	return consecutive(e.t, name+"'s log", e.ok("logs", name), 1)
}

func (e *nerdctlEnv) checkpoints(name string) []string {
	e.t.Helper()
	lines := strings.Split(strings.TrimSpace(e.ok("checkpoint", "ls", name)), "\n")
	return lines[1:] // the header
}

// restoreAndUse restores name from checkpoint cp, checks it counts on
// from n (file and log), runs exec, top, logs and stop on it, and removes
// the checkpoint.
func (e *nerdctlEnv) restoreAndUse(name, cp string, n, logged int) {
	e.t.Helper()
	e.ok("start", "--checkpoint", cp, name)
	if st := e.status(name); !strings.HasPrefix(st, "Up") {
		e.t.Fatalf("%s is %q after start --checkpoint", name, st)
	}
	if got := e.waitCount(name, n+10); got <= n+10 {
		e.t.Fatalf("%s counted to %d", name, got)
	}
	for range 200 {
		if e.logged(name) > logged+10 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got := e.logged(name); got <= logged+10 {
		e.t.Fatalf("%s logged up to %d after the restore, %d before", name, got, logged)
	}
	if top := e.ok("top", name); !strings.Contains(top, "while :") {
		e.t.Fatalf("nerdctl top %s does not list the counter:\n%s", name, top)
	}
	e.ok("stop", "--time", "1", name)
	if st := e.status(name); !strings.HasPrefix(st, "Exited") {
		e.t.Fatalf("%s is %q after stop", name, st)
	}
	e.ok("checkpoint", "rm", name, cp)
	for _, c := range e.checkpoints(name) {
		if c == cp {
			e.t.Fatalf("checkpoint %s still listed after rm", cp)
		}
	}
}

func TestNerdctl(t *testing.T) {
	requireRoot(t)
	needCkpt(t)
	out, err := exec.Command(filepath.Join(repoRoot, "hack", "nerdctl.sh"), "build").Output()
	if err != nil {
		t.Fatalf("hack/nerdctl.sh build: %v\n%s", err, stderrOf(err))
	}
	dir, err := os.MkdirTemp(workRoot, "nerdctl-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if !t.Failed() {
			os.RemoveAll(dir)
		}
	})
	busyboxTar := filepath.Join(dir, "busybox.tar")
	if out, err := exec.Command(filepath.Join(repoRoot, "hack", "mkimage.sh"), busyboxTar).CombinedOutput(); err != nil {
		t.Fatalf("mkimage.sh: %v\n%s", err, out)
	}
	ns := fmt.Sprintf("nerdctl-%d", os.Getpid())
	// nerdctl puts its containers' cgroups under /<namespace>: removed
	// once containerd is stopped (this cleanup runs after its).
	t.Cleanup(func() { removeCgroupDirs(ns) })
	c := startContainerd(t, filepath.Join(dir, "containerd"), busyboxTar)
	e := &nerdctlEnv{containerdEnv: c, bin: filepath.Join(strings.TrimSpace(string(out)), "nerdctl"),
		ns: ns, dataRoot: filepath.Join(dir, "nerdctl")}
	e.ok("load", "-i", busyboxTar)
	run := func(name, runtime string) {
		e.t.Helper()
		// --net none: no CNI needed.
		e.ok("run", "-d", "--net", "none", "--runtime", runtime, "--name", name, busyboxRef, "sh", "-c", ctrdCounter)
	}

	t.Run("ckpt_shim", func(t *testing.T) {
		e.t = t
		name := fmt.Sprintf("n1-%d", os.Getpid())
		run(name, ckptRuntime)
		e.waitCount(name, 5)
		// nerdctl sends no options to our runtime: the shim reads
		// nerdctl's annotations and stops the container, as nerdctl
		// documents for checkpoint create.
		e.ok("checkpoint", "create", name, "cp1")
		if st := e.status(name); !strings.HasPrefix(st, "Exited") {
			t.Fatalf("%s is %q after checkpoint create, want it stopped", name, st)
		}
		if cps := e.checkpoints(name); len(cps) != 1 || cps[0] != "cp1" {
			t.Fatalf("checkpoint ls: %q", cps)
		}
		// The container is stopped: its rootfs holds the count at the
		// checkpoint, its log the lines up to it.
		logged := e.logged(name)
		e.restoreAndUse(name, "cp1", logged, logged)
		e.ok("rm", name)
	})
	e.t = t

	t.Run("runc_shim", func(t *testing.T) {
		// --runtime naming a binary: containerd's runc shim with it as
		// the runc binary, which gets runc's options: --leave-running
		// is honoured.
		e.t = t
		name := fmt.Sprintf("n2-%d", os.Getpid())
		run(name, ckptBin)
		e.waitCount(name, 5)
		e.ok("checkpoint", "create", "--leave-running", name, "lr1")
		if st := e.status(name); !strings.HasPrefix(st, "Up") {
			t.Fatalf("%s is %q after checkpoint create --leave-running", name, st)
		}
		e.waitCount(name, e.counts(name))
		e.ok("checkpoint", "create", name, "ex1")
		if st := e.status(name); !strings.HasPrefix(st, "Exited") {
			t.Fatalf("%s is %q after checkpoint create", name, st)
		}
		if cps := e.checkpoints(name); len(cps) != 2 {
			t.Fatalf("checkpoint ls: %q", cps)
		}
		logged := e.logged(name)
		e.restoreAndUse(name, "ex1", logged, logged)
		e.ok("checkpoint", "rm", name, "lr1")
		e.ok("rm", name)
	})
}

// removeCgroupDirs removes the (empty) cgroup directory name at the top of
// every hierarchy, cgroup v1's and v2's, and the empty ones under it.
func removeCgroupDirs(name string) {
	dirs, _ := filepath.Glob("/sys/fs/cgroup/*/" + name)
	dirs = append(dirs, "/sys/fs/cgroup/"+name)
	for _, d := range dirs {
		var all []string
		_ = filepath.WalkDir(d, func(p string, de fs.DirEntry, err error) error {
			if err == nil && de.IsDir() {
				all = append(all, p)
			}
			return nil
		})
		for i := len(all) - 1; i >= 0; i-- {
			_ = unix.Rmdir(all[i])
		}
	}
}
