package integration

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/checkpoint-restore/go-criu/v8/stats"
)

// containerd's own runc shim (io.containerd.runc.v2) with ckpt as its runc
// binary (ctr run --runc-binary, a runtime entry's BinaryName): the shim
// drives ckpt with runc's command lines, ckpt checkpoints and restores
// with its engine. The same ctr flows as TestContainerd.

// runcShimEnv is a containerd whose containers run on the runc shim with
// ckpt as the runc binary, under a runc root of the test's own.
type runcShimEnv struct {
	*containerdEnv
	runcRoot string
}

func (e *runcShimEnv) run(id, log string) {
	e.t.Helper()
	args := []string{"run", "-d", "--snapshotter", e.snap, "--runtime", "io.containerd.runc.v2",
		"--runc-binary", ckptBin, "--runc-root", e.runcRoot}
	if log != "" {
		args = append(args, "--log-uri", "file://"+log)
	}
	e.ctr(append(args, busyboxRef, id, "sh", "-c", ctrdCounter)...)
}

func TestContainerdRuncShim(t *testing.T) {
	requireRoot(t)
	needCkpt(t)
	dir, err := os.MkdirTemp(workRoot, "runcshim-")
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
	a := &runcShimEnv{containerdEnv: startContainerd(t, filepath.Join(dir, "a"), busyboxTar), runcRoot: filepath.Join(dir, "runc")}
	// containerd names a container's cgroup /<namespace>/<id> whichever
	// containerd runs it: ids of this process's own.
	id := func(name string) string { return fmt.Sprintf("%s-%d", name, os.Getpid()) }
	c1, c2 := id("rc1"), id("rc2")
	a.run(c1, "")
	a.waitCount("default", c1, 5)
	a.ctr("task", "exec", "--exec-id", "marker", c1, "sh", "-c", "echo written-before > /marker")
	// The runc shim asked ckpt for the container's state and pid: the
	// task's pid is the container's init, counting.
	if st := a.taskStatus("default", c1); st != "RUNNING" {
		t.Fatalf("%s is %q", c1, st)
	}

	t.Run("task_checkpoint", func(t *testing.T) {
		a.t = t
		ref := strings.TrimSpace(a.ctr("task", "checkpoint", c1))
		if !strings.Contains(a.images(), ref) {
			t.Fatalf("checkpoint image %q not in ctr image ls:\n%s", ref, a.images())
		}
		if st := a.taskStatus("default", c1); st != "RUNNING" {
			t.Fatalf("%s is %s after a checkpoint that leaves it running", c1, st)
		}
		a.waitCount("default", c1, a.counts("default", c1))
		// The work path holds what runc and CRIU leave there: the log of
		// the checkpoint and its statistics in CRIU's format.
		imgPath, workPath := filepath.Join(dir, "image-path"), filepath.Join(dir, "work-path")
		for {
			_, err := a.try("task", "checkpoint", "--image-path", imgPath, "--work-path", workPath, c1)
			if err == nil {
				break
			}
			if !strings.Contains(err.Error(), "already exists") {
				t.Fatal(err)
			}
			time.Sleep(100 * time.Millisecond)
		}
		if log, err := os.ReadFile(filepath.Join(workPath, "dump.log")); err != nil || !bytes.Contains(log, []byte("done")) {
			t.Errorf("work path dump.log: %v\n%s", err, log)
		}
		wd, err := os.Open(workPath)
		if err != nil {
			t.Fatal(err)
		}
		defer wd.Close()
		ds, err := stats.CriuGetDumpStats(wd)
		if err != nil || ds.GetPagesWritten() == 0 {
			t.Errorf("work path stats-dump: %v %v", ds, err)
		}
		a.waitCount("default", c1, a.counts("default", c1))
	})
	a.t = t

	var n0 int
	t.Run("containers_checkpoint_restore_new_name", func(t *testing.T) {
		a.t = t
		n0 = a.counts("default", c1)
		a.ctr("containers", "checkpoint", "--task", "--rw", c1, "ckpt/rc1:live")
		// containerd restores into a new snapshot with the rw diff
		// applied (other device and inode numbers), under a new name while
		// c1 runs on in the cgroup named after it.
		a.ctr("containers", "restore", "--rw", "--live", c2, "ckpt/rc1:live")
		a.waitStatus("default", c2, "RUNNING")
		if n := a.waitCount("default", c2, n0+10); n <= n0 {
			t.Fatalf("%s counted to %d, %s was at %d before the checkpoint", c2, n, c1, n0)
		}
		if m := a.ctr("task", "exec", "--exec-id", "m", c2, "cat", "/marker"); m != "written-before\n" {
			t.Fatalf("%s's /marker: %q, want the file written before the checkpoint", c2, m)
		}
		ps := a.ctr("task", "ps", c2)
		if len(strings.Split(strings.TrimSpace(ps), "\n")) < 2 {
			t.Fatalf("ctr task ps %s lists no process:\n%s", c2, ps)
		}
		// Its cgroup is its own, the original's is left to it.
		pid := strings.Fields(strings.Split(strings.TrimSpace(ps), "\n")[1])[0]
		cg, err := os.ReadFile("/proc/" + pid + "/cgroup")
		if err != nil || !strings.Contains(string(cg), "/default/"+c2+"\n") {
			t.Errorf("%s's cgroup: %v\n%s", c2, err, cg)
		}
		restoreLog := filepath.Join(a.dir, "root", "io.containerd.runtime.v2.task", "default", c2, "restore.log")
		if log, err := os.ReadFile(restoreLog); err != nil || !bytes.Contains(log, []byte("done")) {
			t.Errorf("work path restore.log: %v\n%s", err, log)
		}
		a.remove("default", c2)
		a.waitCount("default", c1, a.counts("default", c1))
	})
	a.t = t

	t.Run("restore_same_name", func(t *testing.T) {
		a.t = t
		a.remove("default", c1)
		a.ctr("containers", "restore", "--rw", "--live", c1, "ckpt/rc1:live")
		a.waitStatus("default", c1, "RUNNING")
		a.waitCount("default", c1, n0+10)
		a.remove("default", c1)
	})
	a.t = t

	t.Run("task_checkpoint_exit_stdout", func(t *testing.T) {
		a.t = t
		log1 := filepath.Join(dir, "rc1.log")
		a.run(c1, log1)
		a.waitCount("default", c1, 5)
		ref := strings.TrimSpace(a.ctr("task", "checkpoint", "--exit", c1))
		a.waitStatus("default", c1, "STOPPED")
		before, err := os.ReadFile(log1)
		if err != nil {
			t.Fatal(err)
		}
		last := consecutive(t, c1+"'s log", string(before), 1)
		a.ctr("task", "delete", c1)
		restoreTaskImage(t, a.address, c1, ref, log1)
		a.waitStatus("default", c1, "RUNNING")
		for range 200 {
			b, _ := os.ReadFile(log1)
			if bytes.Count(b, []byte("\n")) >= last+5 {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		after, _ := os.ReadFile(log1)
		if n := consecutive(t, c1+"'s log", string(after), 1); n < last+5 {
			t.Fatalf("%s logged up to %d after the restore; %d before", c1, n, last)
		}
		a.remove("default", c1)
	})
	a.t = t

	t.Run("refused_checkpoint", func(t *testing.T) {
		// A checkpoint the engine refuses (a task whose working
		// directory was deleted) fails as runc's does: containerd's shim
		// copies the work path's dump.log next to the bundle and names it.
		a.t = t
		c3 := id("rc3")
		a.ctr("run", "-d", "--snapshotter", a.snap, "--runtime", "io.containerd.runc.v2",
			"--runc-binary", ckptBin, "--runc-root", a.runcRoot, busyboxRef, c3, "sh", "-c", "mkdir /gone && cd /gone && rmdir /gone && echo > /ready && exec sleep 1000")
		a.waitStatus("default", c3, "RUNNING")
		for range 200 {
			if _, err := a.try("task", "exec", "--exec-id", "ready", c3, "cat", "/ready"); err == nil {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		_, err := a.try("task", "checkpoint", c3)
		if err == nil || !strings.Contains(err.Error(), "/gone") || !strings.Contains(err.Error(), "was deleted") || !strings.Contains(err.Error(), "criu-dump.log") {
			t.Fatalf("checkpoint of a container whose cwd is deleted: %v, want the refusal and the dump log's path", err)
		}
		dumpLog := filepath.Join(a.dir, "state", "io.containerd.runtime.v2.task", "default", c3, "criu-dump.log")
		if log, rerr := os.ReadFile(dumpLog); rerr != nil || !bytes.Contains(log, []byte("was deleted")) {
			t.Errorf("%s: %v\n%s", dumpLog, rerr, log)
		}
		if st := a.taskStatus("default", c3); st != "RUNNING" {
			t.Errorf("the refused checkpoint left %s %s", c3, st)
		}
		a.remove("default", c3)
	})
}
