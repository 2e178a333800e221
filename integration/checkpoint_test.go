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
)

// startCounter starts transition/counter (with extra options) and waits
// until it has written its first line.
func startCounter(t *testing.T, extra ...string) (*testProc, string) {
	t.Helper()
	requireRoot(t)
	needCkpt(t)
	p := builds.find("transition/counter")
	if p == nil {
		t.Fatal("no transition/counter program")
	}
	tp := startProgram(t, p, false, extra...)
	counter := filepath.Join(tp.testDir, "counter")
	waitGrowth(t, counter, 0)
	return tp, counter
}

// protOf turns the rwx of a maps line into PROT_* bits.
func protOf(perms string) uint64 {
	var p uint64
	if perms[0] == 'r' {
		p |= 1
	}
	if perms[1] == 'w' {
		p |= 2
	}
	if perms[2] == 'x' {
		p |= 4
	}
	return p
}

// TestCheckpointLeaveRunning: with --leave-running the image describes the
// process as /proc showed it right before (VMAs, fds, a thread whose rip is
// in executable memory) and the process carries on, unchanged.
func TestCheckpointLeaveRunning(t *testing.T) {
	tp, counter := startCounter(t)
	maps, err := readMaps(tp.pid)
	if err != nil {
		t.Fatal(err)
	}
	before, err := snapshot(tp.pid)
	if err != nil {
		t.Fatal(err)
	}
	img := filepath.Join(tp.dir, "img")
	checkpoint(t, tp.pid, img, true)
	n := lines(counter)

	recs, stderr, err := inspect(img)
	if err != nil {
		t.Fatalf("ckpt inspect --json %s: %v\n%s", img, err, stderr)
	}
	vmas := map[uint64]record{}
	for _, r := range ofType(recs, "VMA") {
		vmas[r.uint("Start")] = r
	}
	for _, m := range maps {
		r, ok := vmas[m.start]
		if !ok {
			if m.path == "[vsyscall]" {
				continue // fixed by the kernel, nothing to save
			}
			t.Errorf("maps %x-%x %s %s: no VMA record", m.start, m.end, m.perms, m.path)
			continue
		}
		delete(vmas, m.start)
		if r.uint("End") != m.end || r.uint("Prot") != protOf(m.perms) {
			t.Errorf("maps %x-%x %s %s: VMA record %x-%x prot %d", m.start, m.end, m.perms, m.path,
				r.uint("Start"), r.uint("End"), r.uint("Prot"))
		}
		if m.inode != 0 && (r.uint("Pgoff") != m.offset || r.str("Path") != m.path) {
			t.Errorf("maps %x-%x %s %08x %s: VMA record offset %x path %q", m.start, m.end, m.perms, m.offset,
				m.path, r.uint("Pgoff"), r.str("Path"))
		}
	}
	for start, r := range vmas {
		t.Errorf("VMA record %x-%x (%s) matches no line of /proc/%d/maps", start, r.uint("End"), r.str("Path"), tp.pid)
	}

	fds := map[uint64]bool{}
	for _, r := range ofType(recs, "FD") {
		fds[r.uint("Fd")] = true
	}
	for fd := range before.fds {
		if !fds[uint64(fd)] {
			t.Errorf("fd %d (%s) has no FD record", fd, before.fds[fd])
		}
		delete(fds, uint64(fd))
	}
	for fd := range fds {
		t.Errorf("FD record %d matches no fd of /proc/%d/fd", fd, tp.pid)
	}

	threads := ofType(recs, "THREAD")
	if len(threads) == 0 {
		t.Errorf("no THREAD record")
	}
	for _, th := range threads {
		var regs []uint64
		if err := jsonField(th, "Regs", &regs); err != nil || len(regs) < 20 {
			t.Errorf("THREAD %d: Regs %v (%v), want 27 registers", th.uint("Tid"), regs, err)
			continue
		}
		if !inExec(ofType(recs, "VMA"), regs[16]) {
			t.Errorf("THREAD %d: rip %#x is in no executable VMA", th.uint("Tid"), regs[16])
		}
	}

	after, err := snapshot(tp.pid)
	if err != nil {
		t.Fatal(err)
	}
	if d := before.diff(after, func(string) bool { return false }); len(d) > 0 {
		t.Errorf("--leave-running changed the process:\n%s", strings.Join(d, "\n"))
	}
	waitGrowth(t, counter, n)
	finish(t, tp, true)
}

func inExec(vmas []record, addr uint64) bool {
	for _, v := range vmas {
		if v.uint("Start") <= addr && addr < v.uint("End") && v.uint("Prot")&4 != 0 {
			return true
		}
	}
	return false
}

// TestCheckpointKills: without --leave-running the process is gone after
// the checkpoint, and the image is whole: it ends with a TAIL and inspect
// checks its digest without complaint.
func TestCheckpointKills(t *testing.T) {
	tp, _ := startCounter(t)
	img := filepath.Join(tp.dir, "img")
	checkpoint(t, tp.pid, img, false)
	ws, known, err := reap(tp.pid, exitTimeout)
	if err != nil {
		t.Fatalf("after checkpoint: %v", err)
	}
	tp.done = true
	if known && !ws.Signaled() {
		t.Errorf("pid %d exited by itself (status %#x), want killed by ckpt", tp.pid, uint32(ws))
	}
	if procState(tp.pid) != "" {
		t.Errorf("pid %d still exists after checkpoint", tp.pid)
	}
	recs, stderr, err := inspect(img)
	if err != nil {
		t.Fatalf("ckpt inspect --json: %v\n%s", err, stderr)
	}
	if len(recs) < 2 || recs[0].Type != "HEADER" || recs[len(recs)-1].Type != "TAIL" {
		t.Fatalf("image records run %v, want HEADER ... TAIL", recordTypes(recs))
	}
	if tail := recs[len(recs)-1]; tail.uint("Records") == 0 {
		t.Errorf("TAIL counts no records: %s", tail.Fields)
	}
	if _, stderr, err := runCkpt("inspect", img); err != nil {
		t.Errorf("ckpt inspect %s: %v\n%s", img, err, stderr)
	}
	// The CLI contract writes the flag after the image.
	if _, stderr, err := runCkpt("inspect", img, "--json"); err != nil {
		t.Errorf("ckpt inspect %s --json: %v\n%s", img, err, stderr)
	}
}

func recordTypes(recs []record) string {
	var s []string
	for _, r := range recs {
		s = append(s, r.Type)
	}
	if len(s) > 12 {
		s = append(s[:6], append([]string{"..."}, s[len(s)-5:]...)...)
	}
	return strings.Join(s, " ")
}

// TestCheckpointToPipe: `ckpt checkpoint --image - | ckpt inspect -`
// works through a real pipe.
func TestCheckpointToPipe(t *testing.T) {
	tp, counter := startCounter(t)
	status := filepath.Join(tp.dir, "checkpoint.status")
	script := `("$0" checkpoint --pid "$1" --image - --leave-running; echo $? >"$2") | "$0" inspect --records -`
	cmd := exec.Command("sh", "-c", script, ckptBin, strconv.Itoa(tp.pid), status)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", script, err, out)
	}
	if b, err := os.ReadFile(status); err != nil || strings.TrimSpace(string(b)) != "0" {
		t.Fatalf("ckpt checkpoint --image - exit status %q (%v)\n%s", b, err, out)
	}
	if !strings.Contains(string(out), "TAIL") {
		t.Errorf("inspect - printed no TAIL record:\n%s", out)
	}
	waitGrowth(t, counter, lines(counter))
	finish(t, tp, true)
}

// TestCheckpointRefusesUnsupportedFd: a process holding an fd of a kind the
// engine does not handle is refused with a message naming the fd and the
// pid, and keeps running untouched.
func TestCheckpointRefusesUnsupportedFd(t *testing.T) {
	for _, kind := range []string{"userfaultfd", "io_uring"} {
		t.Run(kind, func(t *testing.T) {
			const fd = 42
			tp, counter := startCounter(t, "--hold="+kind, fmt.Sprintf("--holdfd=%d", fd))
			img := filepath.Join(tp.dir, "img")
			_, stderr, err := tryCheckpoint(tp.pid, img, false)
			if err == nil {
				t.Fatalf("checkpoint of pid %d holding a %s at fd %d succeeded, want a refusal", tp.pid, kind, fd)
			}
			t.Logf("refused: %s", strings.TrimSpace(stderr))
			for _, want := range []int{fd, tp.pid} {
				if !regexp.MustCompile(`\b` + strconv.Itoa(want) + `\b`).MatchString(stderr) {
					t.Errorf("refusal does not name %d (fd %d, pid %d): %q", want, fd, tp.pid, stderr)
				}
			}
			if !alive(tp.pid) {
				t.Fatalf("pid %d is gone after a refused checkpoint", tp.pid)
			}
			if s := procState(tp.pid); s == "t" || s == "T" {
				t.Fatalf("pid %d is left stopped (%s) after a refused checkpoint", tp.pid, s)
			}
			if tracer := statusField(tp.pid, "TracerPid"); tracer != "0" {
				t.Fatalf("pid %d is left traced by %s", tp.pid, tracer)
			}
			waitGrowth(t, counter, lines(counter))
			finish(t, tp, true)
		})
	}
}

// TestCheckpointJoinsPages: the pages of a process's mappings go into as
// few PAGES records as the writer's buffer allows (4 MiB, 1024 pages), not
// one record per mapping: each record costs a page of header and padding
// in the image and an injected preadv at restore. A small program holds
// far fewer than 1024 saved pages across all its mappings, so one record.
func TestCheckpointJoinsPages(t *testing.T) {
	tp, _ := startCounter(t)
	img := filepath.Join(tp.dir, "img")
	checkpoint(t, tp.pid, img, true)
	recs, stderr, err := inspect(img)
	if err != nil {
		t.Fatalf("ckpt inspect --json %s: %v\n%s", img, err, stderr)
	}
	pages := ofType(recs, "PAGES")
	var n uint64
	for _, p := range pages {
		n += p.uint("NrPages")
	}
	if n == 0 || n >= 1024 {
		t.Fatalf("%d pages saved in %d PAGES records: the test wants a process with 1..1023 pages", n, len(pages))
	}
	if len(pages) != 1 {
		t.Errorf("%d pages of %d mappings saved in %d PAGES records, want 1", n, len(ofType(recs, "VMA")), len(pages))
	}
	finish(t, tp, true)
}
