package proc

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"golang.org/x/sys/unix"
)

// findVma returns the VMA that starts at addr.
func findVma(t *testing.T, vmas []Vma, addr uint64) Vma {
	t.Helper()
	for _, v := range vmas {
		if v.Start == addr {
			return v
		}
	}
	t.Fatalf("no VMA starts at %#x", addr)
	return Vma{}
}

// mapFile creates a file of npages pages under dir and maps part of it.
func mapFile(t *testing.T, path string, npages, offPages, mapPages, prot, flags int) ([]byte, *unix.Stat_t) {
	t.Helper()
	if err := os.WriteFile(path, make([]byte, npages*pageSize), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	mem, err := unix.Mmap(int(f.Fd()), int64(offPages*pageSize), mapPages*pageSize, prot, flags)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Munmap(mem) })
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		t.Fatal(err)
	}
	return mem, &st
}

func TestMapsKnownMappings(t *testing.T) {
	dir := t.TempDir()
	// A private read+exec mapping at an offset, in a file whose name has
	// spaces and a parenthesis in it.
	execPath := filepath.Join(dir, "lib (x) 2.so")
	execMem, execSt := mapFile(t, execPath, 8, 2, 3, unix.PROT_READ|unix.PROT_EXEC, unix.MAP_PRIVATE)
	// A shared read-only mapping of a file deleted afterwards.
	delPath := filepath.Join(dir, "gone")
	delMem, delSt := mapFile(t, delPath, 4, 1, 2, unix.PROT_READ, unix.MAP_SHARED)
	if err := os.Remove(delPath); err != nil {
		t.Fatal(err)
	}
	// Anonymous private write-only memory, and a guard page.
	anon, err := unix.Mmap(-1, 0, 3*pageSize, unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(anon)
	if err := unix.Mprotect(anon[2*pageSize:], unix.PROT_NONE); err != nil {
		t.Fatal(err)
	}

	vmas, err := Maps(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	exec := findVma(t, vmas, readFault(execMem))
	want := Vma{
		Start: exec.Start, End: exec.Start + 3*pageSize, Prot: unix.PROT_READ | unix.PROT_EXEC,
		Offset: 2 * pageSize, Dev: execSt.Dev, Inode: execSt.Ino, Path: execPath,
	}
	if exec != want {
		t.Errorf("exec mapping:\n got %+v\nwant %+v", exec, want)
	}
	del := findVma(t, vmas, readFault(delMem))
	want = Vma{
		Start: del.Start, End: del.Start + 2*pageSize, Prot: unix.PROT_READ, Shared: true,
		Offset: pageSize, Dev: delSt.Dev, Inode: delSt.Ino, Path: delPath, Deleted: true,
	}
	if del != want {
		t.Errorf("deleted mapping:\n got %+v\nwant %+v", del, want)
	}
	a := uint64(uintptr(readFaultAddr(anon)))
	if v := findVma(t, vmas, a); v != (Vma{Start: a, End: a + 2*pageSize, Prot: unix.PROT_WRITE}) {
		t.Errorf("anon mapping: %+v", v)
	}
	if v := findVma(t, vmas, a+2*pageSize); v != (Vma{Start: a + 2*pageSize, End: a + 3*pageSize}) {
		t.Errorf("PROT_NONE part: %+v", v)
	}

	// The map_files entry names the same file, and its name is the one
	// the kernel chose.
	link, err := os.Readlink(MapFilesPath(os.Getpid(), exec.Start, exec.End))
	if err != nil {
		t.Fatal(err)
	}
	if link != execPath {
		t.Errorf("map_files link = %q, want %q", link, execPath)
	}
}

// TestMapsNewlineInPath pins the one escape maps applies to a file name,
// and that map_files gives the real name back.
func TestMapsNewlineInPath(t *testing.T) {
	path := filepath.Join(t.TempDir(), "two\nlines\\012")
	mem, _ := mapFile(t, path, 1, 0, 1, unix.PROT_READ, unix.MAP_SHARED)
	vmas, err := Maps(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	v := findVma(t, vmas, readFault(mem))
	if want := filepath.Dir(path) + "/two\\012lines\\012"; v.Path != want {
		t.Errorf("Path = %q, want %q", v.Path, want)
	}
	link, err := os.Readlink(MapFilesPath(os.Getpid(), v.Start, v.End))
	if err != nil || link != path {
		t.Errorf("map_files link = %q, %v; want %q", link, err, path)
	}
}

func TestMapsSortedAndSpecial(t *testing.T) {
	vmas, err := Maps(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.IsSortedFunc(vmas, func(a, b Vma) int { return int(a.Start>>12) - int(b.Start>>12) }) {
		t.Error("VMAs are not in address order")
	}
	specials := map[string]bool{}
	for _, v := range vmas {
		if v.Start >= v.End || v.Start%pageSize != 0 || v.End%pageSize != 0 {
			t.Errorf("bad range %+v", v)
		}
		if v.IsSpecial() {
			specials[v.Path] = true
		}
	}
	for _, p := range []string{"[vdso]", "[vvar]", "[vsyscall]"} {
		if !specials[p] {
			t.Errorf("no %s among special VMAs %v", p, specials)
		}
	}
	if specials["[stack]"] {
		t.Error("[stack] counted as special")
	}
}

func TestMapsAgreesWithSmaps(t *testing.T) {
	cmd := startSleep(t)
	pid := cmd.Process.Pid
	maps, err := Maps(pid)
	if err != nil {
		t.Fatal(err)
	}
	smaps, err := Smaps(pid)
	if err != nil {
		t.Fatal(err)
	}
	stats, err := SmapsStats(pid)
	if err != nil {
		t.Fatal(err)
	}
	if len(maps) != len(smaps) || len(maps) != len(stats) || len(maps) < 5 {
		t.Fatalf("maps has %d VMAs, smaps %d, smaps with stats %d", len(maps), len(smaps), len(stats))
	}
	for i, m := range maps {
		s := smaps[i]
		if s.Flags == 0 {
			t.Errorf("smaps VMA %+v has no flags", s)
		}
		if stats[i].Vma != s {
			t.Errorf("Smaps and SmapsStats differ:\n%+v\n%+v", s, stats[i].Vma)
		}
		flags := s.Flags
		s.Flags = 0
		if m != s {
			t.Errorf("maps and smaps differ:\n%+v\n%+v", m, s)
			continue
		}
		// The letters in maps and the flags in smaps come from one
		// vm_flags: 's' in maps is VM_MAYSHARE.
		if flags.Has("rd") != (m.Prot&unix.PROT_READ != 0) || flags.Has("wr") != (m.Prot&unix.PROT_WRITE != 0) ||
			flags.Has("ex") != (m.Prot&unix.PROT_EXEC != 0) || flags.Has("ms") != m.Shared {
			t.Errorf("%+v: flags %v disagree with the maps letters", m, flags)
		}
		if flags&VmUnknown != 0 {
			t.Errorf("%+v: unknown VmFlags code", m)
		}
		if m.Path == "[stack]" && !flags.Has("gd") {
			t.Errorf("[stack] without gd: %v", flags)
		}
	}
}

func TestSmapsStatsCounters(t *testing.T) {
	// PROT_NONE pages at both ends keep the VMAs in between from merging
	// with neighbours.
	mem, err := unix.Mmap(-1, 0, 10*pageSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(mem)
	for _, i := range []int{0, 9} {
		if err := unix.Mprotect(mem[i*pageSize:(i+1)*pageSize], unix.PROT_NONE); err != nil {
			t.Fatal(err)
		}
	}
	for _, i := range []int{1, 4, 8} {
		mem[i*pageSize] = 1
	}
	if err := unix.Mlock(mem[pageSize : 2*pageSize]); err != nil {
		t.Fatal(err)
	}
	start := uint64(uintptr(readFaultAddr(mem)))
	stats, err := SmapsStats(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	// mlock split page 1 off into its own VMA.
	var locked, rest *VmaStats
	for i := range stats {
		switch stats[i].Start {
		case start + pageSize:
			locked = &stats[i]
		case start + 2*pageSize:
			rest = &stats[i]
		}
	}
	if locked == nil || rest == nil {
		t.Fatalf("VMAs at %#x and %#x not found", start+pageSize, start+2*pageSize)
	}
	if locked.End != start+2*pageSize || locked.Rss != pageSize || locked.Anonymous != pageSize ||
		locked.Locked != pageSize || !locked.Flags.Has("lo") {
		t.Errorf("locked VMA: %+v", *locked)
	}
	if rest.End != start+9*pageSize || rest.Rss != 2*pageSize || rest.Anonymous != 2*pageSize ||
		rest.PrivateDirty != 2*pageSize || rest.Locked != 0 || rest.Flags.Has("lo") {
		t.Errorf("unlocked VMA: %+v", *rest)
	}
}

func TestMapsGone(t *testing.T) {
	h := startHelper(t, "idle", "", nil)
	h.stop()
	for name, f := range map[string]func(int) error{
		"Maps":   func(pid int) error { _, err := Maps(pid); return err },
		"Smaps":  func(pid int) error { _, err := Smaps(pid); return err },
		"Status": func(pid int) error { _, err := ReadStatus(pid); return err },
		"Stat":   func(pid int) error { _, err := ReadStat(pid); return err },
		"Tasks":  func(pid int) error { _, err := Tasks(pid); return err },
		"Fds":    func(pid int) error { _, err := Fds(pid); return err },
		"Exe":    func(pid int) error { _, err := Exe(pid); return err },
		"Auxv":   func(pid int) error { _, err := Auxv(pid); return err },
		"Pagemap": func(pid int) error {
			_, err := OpenPagemap(pid)
			return err
		},
	} {
		err := f(h.pid)
		if !IsGone(err) {
			t.Errorf("%s of reaped pid %d: err = %v, want one that IsGone", name, h.pid, err)
		}
	}
}
