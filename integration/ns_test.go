package integration

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// The ns flavor (a .desc saying "flavor": "ns"): the program is pid 1 of a
// new pid namespace with its own mount namespace and /proc (test_init does
// it when ZDTM_NEWNS=1), the runner checkpoints that init by its pid
// outside, and compares the whole namespace across C/R: the listing of
// `ps -eo pid,ppid,pgid,sid,stat,comm` seen from inside, and the outside
// view (fds, maps, cwd, status) of every live task, keyed by its pid inside.

const (
	flavorHost = "host"
	flavorNS   = "ns"
)

// flavor returns the program's flavor: host unless its .desc says ns.
func (p *program) flavor() string {
	if p.desc.Flavor == "" {
		return flavorHost
	}
	return p.desc.Flavor
}

func (p *program) ns() bool { return p.flavor() == flavorNS }

func checkFlavor(p *program) error {
	switch p.flavor() {
	case flavorHost, flavorNS:
		return nil
	}
	return fmt.Errorf("%s.desc: unknown flavor %q (want %s or %s)", p.name, p.desc.Flavor, flavorHost, flavorNS)
}

// view is what the runner compares before checkpoint and after restore:
// one process's outside in the host flavor, a whole namespace in the ns
// flavor.
type view interface {
	changes(after view, skip func(string) bool) []string
}

func (o *outside) changes(after view, skip func(string) bool) []string {
	return o.diff(after.(*outside), skip)
}

func takeView(tp *testProc) (view, error) {
	if tp.prog.ns() {
		return nsSnapshot(tp.pid)
	}
	return snapshot(tp.pid)
}

// nsView is a pid namespace seen from outside and from inside.
type nsView struct {
	ps    []string         // the ps listing inside, normalized
	tasks map[int]*outside // live tasks by their pid inside
}

// psFormat is the listing the issue asks to be identical across C/R.
const psFormat = "pid,ppid,pgid,sid,stat,comm"

// psInside lists the namespace of init with ps run inside it (its pid and
// mount namespaces, so ps reads the namespace's own /proc). ps's own line
// is left out, and R and D become S: running or in a short uninterruptible
// wait is a matter of the moment, not state.
func psInside(init int) ([]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), exitTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "nsenter", "-t", strconv.Itoa(init), "-p", "-m", "ps", "-eo", psFormat)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("nsenter -t %d -p -m ps -eo %s: %w\n%s", init, psFormat, err, stderr.String())
	}
	var lines []string
	for i, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(l)
		if i == 0 || len(f) < 6 {
			continue // the header
		}
		if f[5] == "ps" && f[1] == "0" {
			continue // ps itself: its parent, nsenter, is outside
		}
		switch f[4][0] {
		case 'R', 'D':
			f[4] = "S" + f[4][1:]
		}
		lines = append(lines, strings.Join(f, " "))
	}
	return lines, nil
}

// nsTasks returns the pids (outside) of init and all its descendants.
func nsTasks(init int) ([]int, error) {
	all := []int{init}
	for i := 0; i < len(all); i++ {
		tids, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", all[i]))
		if err != nil {
			return nil, fmt.Errorf("tasks of %d: %w", all[i], err)
		}
		for _, tid := range tids {
			b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/children", all[i], tid.Name()))
			if err != nil {
				continue // the thread just ended
			}
			for _, c := range strings.Fields(string(b)) {
				pid, err := strconv.Atoi(c)
				if err != nil {
					return nil, fmt.Errorf("/proc/%d/task/%s/children: %q", all[i], tid.Name(), c)
				}
				all = append(all, pid)
			}
		}
	}
	return all, nil
}

// nsPid is pid's number in its innermost pid namespace.
func nsPid(pid int) (int, error) {
	f := strings.Fields(statusField(pid, "NSpid"))
	if len(f) == 0 {
		return 0, fmt.Errorf("pid %d has no NSpid", pid)
	}
	return strconv.Atoi(f[len(f)-1])
}

func nsSnapshot(init int) (*nsView, error) {
	v := &nsView{tasks: map[int]*outside{}}
	var err error
	if v.ps, err = psInside(init); err != nil {
		return nil, err
	}
	pids, err := nsTasks(init)
	if err != nil {
		return nil, err
	}
	for _, pid := range pids {
		if s := procState(pid); s == "Z" || s == "X" {
			continue // nothing but its ps line is left to compare
		}
		in, err := nsPid(pid)
		if err != nil {
			return nil, err
		}
		if v.tasks[in], err = snapshot(pid); err != nil {
			return nil, fmt.Errorf("task %d (%d inside): %w", pid, in, err)
		}
	}
	return v, nil
}

func (v *nsView) changes(after view, skip func(string) bool) []string {
	a := after.(*nsView)
	var d []string
	if lost, appeared := setDiff(v.ps, a.ps), setDiff(a.ps, v.ps); len(lost)+len(appeared) > 0 {
		d = append(d, fmt.Sprintf("ps -eo %s inside:\n\tlost:\n\t\t%s\n\tappeared:\n\t\t%s\n\tbefore:\n\t\t%s\n\tafter:\n\t\t%s",
			psFormat, strings.Join(lost, "\n\t\t"), strings.Join(appeared, "\n\t\t"),
			strings.Join(v.ps, "\n\t\t"), strings.Join(a.ps, "\n\t\t")))
	}
	var pids []int
	for pid := range v.tasks {
		pids = append(pids, pid)
	}
	for pid := range a.tasks {
		if v.tasks[pid] == nil {
			pids = append(pids, pid)
		}
	}
	sort.Ints(pids)
	for _, pid := range pids {
		b, c := v.tasks[pid], a.tasks[pid]
		switch {
		case c == nil:
			d = append(d, fmt.Sprintf("task %d (inside) is gone", pid))
		case b == nil:
			d = append(d, fmt.Sprintf("task %d (inside) appeared", pid))
		default:
			for _, s := range b.diff(c, skip) {
				d = append(d, fmt.Sprintf("task %d (inside): %s", pid, s))
			}
		}
	}
	return d
}

// checkRestoredInit: the restored init must be pid 1 of a pid namespace
// below ours, in a mount namespace of its own. Its pid outside may differ
// from the original's: only the pids inside are the namespace's state.
func checkRestoredInit(t *testing.T, pid int) {
	t.Helper()
	ns := strings.Fields(statusField(pid, "NSpid"))
	if len(ns) != 2 || ns[1] != "1" {
		t.Fatalf("restored init %d has NSpid %v, want [%d 1]", pid, ns, pid)
	}
	ours, err1 := os.Readlink("/proc/self/ns/mnt")
	its, err2 := os.Readlink(fmt.Sprintf("/proc/%d/ns/mnt", pid))
	if err1 != nil || err2 != nil || ours == its {
		t.Fatalf("restored init %d is in mount namespace %q, ours is %q: want one of its own (%v, %v)",
			pid, its, ours, err1, err2)
	}
}

// readOutside returns the pid of a leak test's outside helper (0 if the
// test has none): test_init writes it beside the pidfile.
func (tp *testProc) readOutside() int {
	b, err := os.ReadFile(tp.pidfile + ".outside")
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return pid
}

// killOutside ends a leak test's outside helper and reaps what is ours:
// the helper, and the init if it was reparented to us when the helper went.
func (tp *testProc) killOutside() {
	if tp.outside <= 0 {
		return
	}
	unix.Kill(tp.outside, unix.SIGKILL)
	reap(tp.outside, exitTimeout)
	var ws unix.WaitStatus
	unix.Wait4(tp.pid, &ws, unix.WNOHANG, nil)
	tp.outside = 0
}

// checkRefusal: a refused checkpoint of a leak test must name both tasks
// (the init by its pid, the helper outside by its pid) and the object,
// one of the .desc's "refusal" words.
func checkRefusal(t *testing.T, tp *testProc, stderr string) {
	t.Helper()
	if tp.outside > 0 {
		for _, pid := range []int{tp.pid, tp.outside} {
			if !regexp.MustCompile(`\b` + strconv.Itoa(pid) + `\b`).MatchString(stderr) {
				t.Errorf("the refusal does not name task %d:\n%s", pid, stderr)
			}
		}
	}
	if len(tp.prog.desc.Refusal) == 0 {
		return
	}
	low := strings.ToLower(stderr)
	for _, w := range tp.prog.desc.Refusal {
		if strings.Contains(low, strings.ToLower(w)) {
			return
		}
	}
	t.Errorf("the refusal names none of %q (the shared object):\n%s", tp.prog.desc.Refusal, stderr)
}
