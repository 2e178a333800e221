package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestShellJob: an interactive bash on a pty that tmux drives, with a
// foreground job (sleep 1000), is checkpointed and restored into another
// tmux window; its history and its foreground job survive.
//
// What is checkpointed is bash and its job, not tmux: the tmux server
// holds the pty's master, so bash's terminal is outside the checkpoint.
// Without --shell-job the checkpoint is refused, naming the terminal; with
// it, `ckpt restore --shell-job` run in a new tmux window gives the
// restored bash that window's terminal: bash (a session leader) takes it
// as its controlling terminal, the job inherits it, and the job's group is
// the foreground group again. The test proves it by driving the terminal:
// ps shows the job with '+' on the new terminal, Ctrl-C typed there ends
// the job and gives bash its prompt back, and `history` typed there lists
// the commands typed before the checkpoint.
func TestShellJob(t *testing.T) {
	requireRoot(t)
	needCkpt(t)
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Fatalf("tmux is needed (hack/deps.sh installs it): %v", err)
	}
	dir := t.TempDir()
	sock := filepath.Join(dir, "tmux.sock")
	tmux := func(args ...string) string {
		t.Helper()
		out, err := exec.Command("tmux", append([]string{"-S", sock, "-f", "/dev/null"}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("tmux %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return strings.TrimSpace(string(out))
	}
	// Window 0 only keeps the server up while bash's window is gone.
	tmux("new-session", "-d", "-s", "ckpt", "-x", "100", "-y", "30", "exec sleep 100000")
	t.Cleanup(func() { _ = exec.Command("tmux", "-S", sock, "kill-server").Run() })
	shell := "exec env -i HOME=" + dir + " TERM=screen PS1='PROMPT$ ' HISTFILE=/dev/null /bin/bash --norc --noprofile -i"
	f := strings.Fields(tmux("new-window", "-t", "ckpt", "-P", "-F", "#{pane_id} #{pane_pid}", shell))
	pane := f[0]
	bash, _ := strconv.Atoi(f[1])
	t.Cleanup(func() { _ = unix.Kill(bash, unix.SIGKILL) })
	screen := func(p string) string { return tmux("capture-pane", "-p", "-t", p) }
	waitFor(t, "bash's prompt", func() bool { return strings.Contains(screen(pane), "PROMPT$") })
	tmux("send-keys", "-t", pane, "echo first-cmd", "Enter", "echo second-cmd", "Enter", "sleep 1000", "Enter")
	job := 0
	waitFor(t, "sleep 1000 in the foreground", func() bool {
		job = fgChild(bash, "sleep")
		return job > 0
	})
	t.Cleanup(func() { _ = unix.Kill(job, unix.SIGKILL) })

	img := filepath.Join(dir, "img")
	_, stderr, err := runCkpt("checkpoint", "--pid", strconv.Itoa(bash), "--image-path", img)
	if err == nil {
		t.Fatalf("checkpoint of bash on tmux's pty without --shell-job succeeded; it must be refused")
	}
	if !strings.Contains(stderr, "terminal") || !strings.Contains(stderr, "--shell-job") {
		t.Errorf("the refusal does not name the terminal and --shell-job:\n%s", stderr)
	}
	if !alive(bash) || !alive(job) {
		t.Fatalf("bash or its job is gone after a refused checkpoint")
	}
	if _, stderr, err := runCkpt("checkpoint", "--shell-job", "--pid", strconv.Itoa(bash), "--image-path", img); err != nil {
		t.Fatalf("ckpt checkpoint --shell-job --pid %d: %v\n%s", bash, err, stderr)
	}

	// The job, an orphan now, comes to us (the test is a subreaper);
	// tmux reaps bash. A zombie would keep its pid (and the session and
	// group ids it names) from the restore.
	if _, _, err := reap(job, exitTimeout); err != nil {
		t.Fatalf("the job after checkpoint: %v", err)
	}
	// tmux, bash's parent, sometimes misses the SIGCHLD of the killed
	// bash (a ptrace-stopped task's exit notifies the tracer first):
	// remind it.
	waitFor(t, "tmux to reap bash", func() bool {
		if procState(bash) == "Z" {
			_ = unix.Kill(ppid(bash), unix.SIGCHLD)
		}
		return procState(bash) == ""
	})
	// ckpt restore waits for bash in the new window.
	rlog := filepath.Join(dir, "restore.log")
	out := strings.Fields(tmux("new-window", "-t", "ckpt", "-P", "-F", "#{pane_id} #{pane_tty}",
		"exec "+ckptBin+" restore --shell-job --image-path "+img+" 2>"+rlog))
	pane2, tty2 := out[0], strings.TrimPrefix(out[1], "/dev/")
	waitFor(t, "the restored job in the foreground of the new terminal", func() bool {
		if b, _ := os.ReadFile(rlog); len(b) > 0 && strings.Contains(string(b), "failed") {
			t.Fatalf("restore: %s", b)
		}
		return fgChild(bash, "sleep") == job && psField(bash, "tty") == tty2 && psField(job, "tty") == tty2
	})
	if st := psField(bash, "stat"); !strings.Contains(st, "s") || strings.Contains(st, "+") {
		t.Errorf("restored bash has stat %q: want a session leader in the background", st)
	}

	tmux("send-keys", "-t", pane2, "C-c")
	waitFor(t, "Ctrl-C to end the foreground job", func() bool { return !alive(job) || procState(job) == "Z" })
	if !alive(bash) {
		t.Fatalf("bash is gone after Ctrl-C")
	}
	waitFor(t, "bash's prompt after the job", func() bool { return strings.Contains(screen(pane2), "PROMPT$") })
	tmux("send-keys", "-t", pane2, "history", "Enter")
	hist := regexp.MustCompile(`(?m)^\s*\d+\s+echo first-cmd\s*\n\s*\d+\s+echo second-cmd\s*\n\s*\d+\s+sleep 1000\s*$`)
	waitFor(t, "history to list the commands typed before the checkpoint", func() bool { return hist.MatchString(screen(pane2)) })
	if st := psField(bash, "stat"); !strings.Contains(st, "+") {
		t.Errorf("bash has stat %q after the job ended: it did not take its terminal back", st)
	}
}

// ppid is the parent of pid, 0 if it is gone.
func ppid(pid int) int {
	n, _ := strconv.Atoi(statusField(pid, "PPid"))
	return n
}

// fgChild returns the pid of parent's child named comm when it is in the
// foreground group of its terminal, else 0.
func fgChild(parent int, comm string) int {
	out, err := exec.Command("ps", "-o", "pid=,stat=,comm=", "--ppid", strconv.Itoa(parent)).Output()
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(out), "\n") {
		f := strings.Fields(l)
		if len(f) == 3 && f[2] == comm && strings.Contains(f[1], "+") {
			pid, _ := strconv.Atoi(f[0])
			return pid
		}
	}
	return 0
}

// psField is one ps column for pid ("" if it is gone).
func psField(pid int, col string) string {
	out, err := exec.Command("ps", "-o", col+"=", "-p", strconv.Itoa(pid)).Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}
