package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestCheckpointSharedWithCaller: what a task shares with the process that
// started it decides the checkpoint. A log opened for appending and
// /dev/null, shared as stdio, carry no state a restore would lose: the
// checkpoint goes through. A regular file whose open file description (and
// offset) the starter still holds would be split by a restore: the
// checkpoint is refused, naming both tasks, and the task keeps running with
// the offset as it was. The leak_*00 zdtm programs cover the other objects.
func TestCheckpointSharedWithCaller(t *testing.T) {
	requireRoot(t)
	needCkpt(t)
	dir := t.TempDir()
	logf, err := os.OpenFile(filepath.Join(dir, "log"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()

	t.Run("stdio", func(t *testing.T) {
		cmd := exec.Command("sleep", "1000")
		cmd.Stdout, cmd.Stderr = logf, logf
		cmd.SysProcAttr = &unix.SysProcAttr{Setsid: true}
		pid := startKilled(t, cmd)
		checkpoint(t, pid, filepath.Join(dir, "img-stdio"), true)
		if !alive(pid) {
			t.Fatalf("pid %d is gone after checkpoint --leave-running", pid)
		}
	})

	t.Run("file", func(t *testing.T) {
		data := filepath.Join(dir, "data")
		if err := os.WriteFile(data, []byte("0123456789"), 0o644); err != nil {
			t.Fatal(err)
		}
		in, err := os.Open(data)
		if err != nil {
			t.Fatal(err)
		}
		defer in.Close()
		if _, err := in.Seek(5, 0); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("sleep", "1000")
		cmd.Stdin, cmd.Stdout, cmd.Stderr = in, logf, logf
		cmd.SysProcAttr = &unix.SysProcAttr{Setsid: true}
		pid := startKilled(t, cmd)
		_, stderr, err := tryCheckpoint(pid, filepath.Join(dir, "img-file"), false)
		if err == nil {
			t.Fatalf("checkpoint of %d, whose fd 0 shares its description with us (%d), succeeded; want a refusal", pid, os.Getpid())
		}
		for _, want := range []int{pid, os.Getpid()} {
			if !regexp.MustCompile(`\b` + strconv.Itoa(want) + `\b`).MatchString(stderr) {
				t.Errorf("the refusal does not name task %d:\n%s", want, stderr)
			}
		}
		if !strings.Contains(stderr, "open file description") || !strings.Contains(stderr, "fd 0") {
			t.Errorf("the refusal does not name the open file description at fd 0:\n%s", stderr)
		}
		if !alive(pid) {
			t.Fatalf("pid %d is gone after a refused checkpoint", pid)
		}
		info, err := os.ReadFile(fmt.Sprintf("/proc/%d/fdinfo/0", pid))
		if err != nil || !strings.HasPrefix(string(info), "pos:\t5\n") {
			t.Errorf("fd 0 of %d after the refusal: %q, %v; want pos 5", pid, info, err)
		}
	})
}
