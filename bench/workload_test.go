package bench

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
)

// testBin builds the workload programs once per test binary.
func testBin(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Skip("gcc not installed: the workloads are C programs")
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "bench-test-")
		if err != nil {
			buildErr = err
			return
		}
		builtBin, buildErr = buildWorkloads(dir)
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtBin
}

// startTest starts a workload from its argv and arranges its end.
func startTest(t *testing.T, replies, mib int, args ...string) *instance {
	t.Helper()
	w := &Workload{Name: "test-" + args[0], Kind: args[0], MiB: mib, Replies: replies, args: args}
	in, err := startWorkload(w, testBin(t), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		pids, _ := sessionPids(in.pid)
		if err := killAndReap(pids, time.Minute); err != nil {
			t.Error(err)
		}
	})
	return in
}

// The bench is a subreaper, and so is the test binary, so that a killed
// tree's orphans are reaped here rather than by pid 1.
func TestMain(m *testing.M) {
	if err := becomeSubreaper(); err != nil {
		panic(err)
	}
	code := m.Run()
	if builtBin != "" {
		os.RemoveAll(filepath.Dir(builtBin))
	}
	os.Exit(code)
}

func TestMemWorkloadDetectsCorruption(t *testing.T) {
	in := startTest(t, 1, 8, "mem", "anon", "8")
	if _, _, err := in.poke(); err != nil {
		t.Fatalf("untouched workload: %v", err)
	}
	// Flip one byte in the middle of its 8 MiB, as a wrong restore would.
	addr := mappingOf(t, in.pid, 8<<20)
	mem, err := os.OpenFile("/proc/"+strconv.Itoa(in.pid)+"/mem", os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer mem.Close()
	b := make([]byte, 1)
	if _, err := mem.ReadAt(b, int64(addr+4<<20)); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0x40
	if _, err := mem.WriteAt(b, int64(addr+4<<20)); err != nil {
		t.Fatal(err)
	}
	_, _, err = in.poke()
	if err == nil || !strings.Contains(err.Error(), "BAD") {
		t.Fatalf("corrupted workload: poke error %v, want a BAD reply", err)
	}
}

// mappingOf returns the start of pid's anonymous writable mapping of
// exactly size bytes.
func mappingOf(t *testing.T, pid int, size uint64) uint64 {
	t.Helper()
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/maps")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		lo, hi, _ := strings.Cut(fs[0], "-")
		a, _ := strconv.ParseUint(lo, 16, 64)
		b, _ := strconv.ParseUint(hi, 16, 64)
		if b-a == size && fs[1] == "rw-p" && len(fs) == 5 {
			return a
		}
	}
	t.Fatalf("pid %d has no anonymous rw mapping of %d bytes", pid, size)
	return 0
}

// rss is the resident memory of pid in KiB.
func rss(t *testing.T, pid int) int64 {
	t.Helper()
	v := procField("/proc/"+strconv.Itoa(pid)+"/smaps_rollup", "Rss")
	kib, err := strconv.ParseInt(strings.Fields(v + " x")[0], 10, 64)
	if err != nil {
		t.Fatalf("Rss of %d: %q", pid, v)
	}
	return kib
}

// Every shape must hold all its memory resident, zero pages and the read
// file mapping included: the tools are to meet present pages.
func TestMemShapesAreResident(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "data")
	if err := writeDataFile(file, 16); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"mem", "anon", "16"},
		{"mem", "halfzero", "16"},
		{"mem", "filemap", "16", file},
	} {
		t.Run(args[1], func(t *testing.T) {
			in := startTest(t, 1, 16, args...)
			if got := rss(t, in.pid); got < 16<<10 {
				t.Errorf("Rss %d KiB, want at least 16 MiB", got)
			}
			if _, _, err := in.poke(); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestThreadsWorkload(t *testing.T) {
	in := startTest(t, 1, 8, "threads", "8", "8")
	st, err := os.ReadDir("/proc/" + strconv.Itoa(in.pid) + "/task")
	if err != nil {
		t.Fatal(err)
	}
	if len(st) != 9 {
		t.Errorf("%d threads, want 9 (main + 8)", len(st))
	}
	for range 2 {
		if _, _, err := in.poke(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestTreeWorkload(t *testing.T) {
	in := startTest(t, 9, 1, "tree", "2", "3", "64")
	pids, err := sessionPids(in.pid)
	if err != nil {
		t.Fatal(err)
	}
	if len(pids) != 9 {
		t.Fatalf("session %d has %d processes, want 1 + 2 + 2×3", in.pid, len(pids))
	}
	cpu, err := sessionCPU(in.pid)
	if err != nil || cpu <= 0 {
		t.Errorf("session CPU = %v, %v; the tree has run, so it is not zero", cpu, err)
	}
	for range 2 {
		if _, _, err := in.poke(); err != nil {
			t.Fatal(err)
		}
	}
	// Killing the tree leaves no pid behind: orphans come to the subreaper.
	if err := killAndReap(pids, time.Minute); err != nil {
		t.Fatal(err)
	}
	for _, p := range pids {
		if _, err := os.Stat("/proc/" + strconv.Itoa(p)); err == nil {
			t.Errorf("pid %d still exists", p)
		}
	}
}

func TestFloor(t *testing.T) {
	f := measureFloor(testBin(t), t.TempDir(), 8)
	if f.Err != "" {
		t.Fatal(f.Err)
	}
	for name, v := range map[string]int64{"write": f.WriteNs, "write warm": f.WriteWarmNs, "read": f.ReadNs,
		"read fresh": f.ReadFreshNs, "read fresh warm": f.ReadFreshWarmNs, "memcpy": f.MemcpyNs} {
		if v <= 0 {
			t.Errorf("%s = %d ns", name, v)
		}
	}
}

func TestReadStatOfSelf(t *testing.T) {
	st, err := readStat(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	sid, err := unix.Getsid(0)
	if err != nil {
		t.Fatal(err)
	}
	if st.ppid != os.Getppid() || st.session != sid {
		t.Errorf("stat = %+v, want ppid %d, session %d", st, os.Getppid(), sid)
	}
}

func TestDirSize(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "a"), make([]byte, 5000), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "sub", "b"), []byte("xyz"), 0o644); err != nil {
		t.Fatal(err)
	}
	size, alloc, err := dirSize(dir)
	if err != nil || size != 5003 || alloc < 5003 {
		t.Errorf("dirSize = %d, %d, %v; want 5003 and at least that on disk", size, alloc, err)
	}
}
