package proc

import (
	"os"
	"testing"
)

// pfKthread is PF_KTHREAD from include/linux/sched.h.
const pfKthread = 0x00200000

// TestEveryProcess runs every parser over the kernel threads, this test
// and everything it started: whatever VMAs and fd kinds they hold. Only a
// task or fd vanishing under the reader is excused; any parse error
// fails. Other processes are left alone: they are not ours to inspect,
// and on CI even pid 1 (this test's session leader there) is off limits.
func TestEveryProcess(t *testing.T) {
	startHelper(t, "mem", "", nil)
	startSleep(t)
	self, err := ReadStat(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	all, err := readIntDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	stats := make(map[int]*Stat)
	for _, pid := range all {
		if st, err := ReadStat(pid); err == nil {
			stats[pid] = st
		}
	}
	ours := func(pid int) bool {
		for st := stats[pid]; st != nil; st = stats[st.PPid] {
			if st.Pid == self.Pid {
				return true
			}
		}
		return false
	}
	var pids []int
	for pid, st := range stats {
		if st.Flags&pfKthread != 0 || ours(pid) {
			pids = append(pids, pid)
		}
	}
	var nvma, nfd, ntask int
	check := func(what string, pid int, err error) bool {
		if err == nil {
			return true
		}
		if IsGone(err) {
			return false
		}
		t.Errorf("%s of pid %d: %v", what, pid, err)
		return false
	}
	for _, pid := range pids {
		vmas, err := Maps(pid)
		check("Maps", pid, err)
		nvma += len(vmas)
		svmas, err := SmapsStats(pid)
		check("SmapsStats", pid, err)
		for _, v := range svmas {
			if v.Flags&VmUnknown != 0 {
				t.Errorf("pid %d VMA %#x: unknown VmFlags code in %v", pid, v.Start, v.Flags)
			}
		}
		_, err = Auxv(pid)
		check("Auxv", pid, err)
		tids, err := Tasks(pid)
		if !check("Tasks", pid, err) {
			continue
		}
		for _, tid := range tids {
			ntask++
			st, err := ReadTaskStat(pid, tid)
			if check("ReadTaskStat", pid, err) && st.Pid != tid {
				t.Errorf("task %d/%d: stat says pid %d", pid, tid, st.Pid)
			}
			s, err := ReadTaskStatus(pid, tid)
			if check("ReadTaskStatus", pid, err) && (s.Pid != tid || s.Tgid != pid) {
				t.Errorf("task %d/%d: status says pid %d tgid %d", pid, tid, s.Pid, s.Tgid)
			}
			_, err = Children(pid, tid)
			check("Children", pid, err)
		}
		fds, err := Fds(pid)
		if !check("Fds", pid, err) {
			continue
		}
		for _, fd := range fds {
			nfd++
			_, err := ReadFdInfo(pid, fd)
			check("ReadFdInfo", pid, err)
			_, err = FdLink(pid, fd)
			check("FdLink", pid, err)
		}
	}
	if nvma == 0 || nfd == 0 || ntask < len(pids) {
		t.Errorf("%d processes, %d tasks, %d VMAs, %d fds", len(pids), ntask, nvma, nfd)
	}
	t.Logf("%d processes, %d tasks, %d VMAs, %d fds", len(pids), ntask, nvma, nfd)
}
