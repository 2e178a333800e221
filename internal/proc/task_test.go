package proc

import (
	"os"
	"os/exec"
	"runtime"
	"slices"
	"testing"

	"golang.org/x/sys/unix"
)

func TestTasks(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	pid, tid := os.Getpid(), unix.Gettid()
	tids, err := Tasks(pid)
	if err != nil {
		t.Fatal(err)
	}
	if tids[0] != pid || !slices.IsSorted(tids[1:]) || !slices.Contains(tids, tid) {
		t.Errorf("tasks %v: want leader %d first, the rest sorted, and %d in", tids, pid, tid)
	}
	st, err := ReadStatus(pid)
	if err != nil {
		t.Fatal(err)
	}
	// Go may start a thread between the two reads, never stop one.
	if len(tids) > st.Threads {
		t.Errorf("%d tasks, status says %d threads", len(tids), st.Threads)
	}
	for _, tid := range tids {
		ts, err := ReadTaskStatus(pid, tid)
		if err != nil {
			t.Fatal(err)
		}
		if ts.Pid != tid || ts.Tgid != pid {
			t.Errorf("task %d: status pid %d tgid %d", tid, ts.Pid, ts.Tgid)
		}
	}
}

func TestTasksLeaderFirst(t *testing.T) {
	if got := leaderFirst([]int{3, 7, 9, 12}, 9); !slices.Equal(got, []int{9, 3, 7, 12}) {
		t.Errorf("leaderFirst = %v", got)
	}
	if got := leaderFirst([]int{3, 7}, 3); !slices.Equal(got, []int{3, 7}) {
		t.Errorf("leaderFirst = %v", got)
	}
}

func TestChildren(t *testing.T) {
	// Children are listed under the thread that forked them, so fork
	// from a known one.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var pids []int
	for range 3 {
		cmd := exec.Command("sleep", "1000")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() { cmd.Process.Kill(); cmd.Wait() }()
		pids = append(pids, cmd.Process.Pid)
	}
	kids, err := Children(os.Getpid(), unix.Gettid())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pids {
		if !slices.Contains(kids, p) {
			t.Errorf("children %v lack %d", kids, p)
		}
	}
	// A process without children has an empty list.
	sleep := startSleep(t)
	kids, err = Children(sleep.Process.Pid, sleep.Process.Pid)
	if err != nil || len(kids) != 0 {
		t.Errorf("children of sleep: %v, %v", kids, err)
	}
}

func TestLinks(t *testing.T) {
	pid := os.Getpid()
	exe, err := Exe(pid)
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := os.Executable(); exe != want {
		t.Errorf("Exe = %q, want %q", exe, want)
	}
	cwd, err := Cwd(pid)
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := os.Getwd(); cwd != want {
		t.Errorf("Cwd = %q, want %q", cwd, want)
	}
	root, err := Root(pid)
	if err != nil || root != "/" {
		t.Errorf("Root = %q, %v", root, err)
	}
}
