package proc

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// kernelOLargefile is the kernel's O_LARGEFILE on x86_64
// (include/uapi/asm-generic/fcntl.h); x/sys/unix has it as 0, the value
// user space passes on 64-bit.
const kernelOLargefile = 0o100000

func TestFdInfoAppendFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	fd, err := unix.Open(path, unix.O_CREAT|unix.O_RDWR|unix.O_APPEND|unix.O_CLOEXEC, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	if _, err := unix.Write(fd, make([]byte, 5000)); err != nil {
		t.Fatal(err)
	}
	if _, err := unix.Seek(fd, 1234, 0); err != nil {
		t.Fatal(err)
	}
	fi, err := ReadFdInfo(os.Getpid(), fd)
	if err != nil {
		t.Fatal(err)
	}
	// open forces O_LARGEFILE on 64-bit (fs/open.c:force_o_largefile()).
	want := uint32(unix.O_RDWR | unix.O_APPEND | unix.O_CLOEXEC | kernelOLargefile)
	if fi.Pos != 1234 || fi.Flags != want {
		t.Errorf("pos %d flags %#o, want 1234 %#o", fi.Pos, fi.Flags, want)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		t.Fatal(err)
	}
	var stx unix.Statx_t
	if err := unix.Statx(fd, "", unix.AT_EMPTY_PATH, unix.STATX_MNT_ID, &stx); err != nil {
		t.Fatal(err)
	}
	if fi.Ino != st.Ino || uint64(fi.MntID) != stx.Mnt_id {
		t.Errorf("ino %d mnt_id %d, want %d %d", fi.Ino, fi.MntID, st.Ino, stx.Mnt_id)
	}
	if fi.Extra != nil {
		t.Errorf("extra lines for a regular file: %v", fi.Extra)
	}
	link, err := FdLink(os.Getpid(), fd)
	if err != nil || link != path {
		t.Errorf("FdLink = %q, %v; want %q", link, err, path)
	}
	// Clearing O_APPEND with F_SETFL shows up; an fd without FD_CLOEXEC
	// loses O_CLOEXEC.
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_SETFL, unix.O_NONBLOCK); err != nil {
		t.Fatal(err)
	}
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_SETFD, 0); err != nil {
		t.Fatal(err)
	}
	fi, err = ReadFdInfo(os.Getpid(), fd)
	if err != nil {
		t.Fatal(err)
	}
	if want := uint32(unix.O_RDWR | unix.O_NONBLOCK | kernelOLargefile); fi.Flags != want {
		t.Errorf("after F_SETFL: flags %#o, want %#o", fi.Flags, want)
	}
}

func TestFdInfoExtra(t *testing.T) {
	efd, err := unix.Eventfd(0x2a, unix.EFD_CLOEXEC|unix.EFD_SEMAPHORE)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(efd)
	ep, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(ep)
	var pipes [2]int
	if err := unix.Pipe2(pipes[:], unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(pipes[0])
	defer unix.Close(pipes[1])
	for _, fd := range []int{efd, pipes[0]} {
		ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(fd)}
		if err := unix.EpollCtl(ep, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
			t.Fatal(err)
		}
	}
	fi, err := ReadFdInfo(os.Getpid(), efd)
	if err != nil {
		t.Fatal(err)
	}
	// eventfd-count is "%16llx" (fs/eventfd.c:eventfd_show_fdinfo()).
	if fi.Extra["eventfd-count"] != "2a" || fi.Extra["eventfd-semaphore"] != "1" {
		t.Errorf("eventfd extra %q", fi.Extra)
	}
	fi, err = ReadFdInfo(os.Getpid(), ep)
	if err != nil {
		t.Fatal(err)
	}
	// One "tfd" line per target, joined in the order the kernel printed
	// them (its rbtree order: by file, then fd).
	var tfds []int
	for _, line := range strings.Split(fi.Extra["tfd"], "\n") {
		f, _ := nextField([]byte(line))
		n, _ := strconv.Atoi(string(f))
		tfds = append(tfds, n)
	}
	slices.Sort(tfds)
	if !slices.Equal(tfds, []int{min(efd, pipes[0]), max(efd, pipes[0])}) {
		t.Errorf("epoll extra %q, want tfd lines for fds %d and %d", fi.Extra, efd, pipes[0])
	}
}

func TestFds(t *testing.T) {
	var pipes [2]int
	if err := unix.Pipe2(pipes[:], unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(pipes[0])
	defer unix.Close(pipes[1])
	// A high fd makes sure the list is sorted numerically.
	high := 10000
	if err := unix.Dup3(pipes[0], high, unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(high)
	fds, err := Fds(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.IsSorted(fds) || fds[0] != 0 || fds[len(fds)-1] != high || !slices.Contains(fds, pipes[1]) {
		t.Errorf("fds %v", fds)
	}
	// The list matches a plain directory read.
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	var want []int
	for _, e := range ents {
		n, _ := strconv.Atoi(e.Name())
		want = append(want, n)
	}
	slices.Sort(want)
	// Each read lists its own directory fd, and both get the same number.
	if !slices.Equal(fds, want) {
		t.Errorf("Fds %v, ReadDir %v", fds, want)
	}
	var st unix.Stat_t
	if err := unix.Fstat(pipes[0], &st); err != nil {
		t.Fatal(err)
	}
	link, err := FdLink(os.Getpid(), high)
	if want := "pipe:[" + strconv.FormatUint(st.Ino, 10) + "]"; err != nil || link != want {
		t.Errorf("FdLink = %q, %v; want %q", link, err, want)
	}
	// A closed fd is gone.
	unix.Close(high)
	if _, err := ReadFdInfo(os.Getpid(), high); !IsGone(err) {
		t.Errorf("ReadFdInfo of a closed fd: %v", err)
	}
	if _, err := FdLink(os.Getpid(), high); !IsGone(err) {
		t.Errorf("FdLink of a closed fd: %v", err)
	}
}

func TestFdsMany(t *testing.T) {
	// Enough entries to take several getdents calls.
	const n = 3000
	var opened []int
	defer func() {
		for _, fd := range opened {
			unix.Close(fd)
		}
	}()
	for range n {
		fd, err := unix.Open("/dev/null", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		opened = append(opened, fd)
	}
	fds, err := Fds(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	for _, fd := range opened {
		if _, found := slices.BinarySearch(fds, fd); !found {
			t.Fatalf("fd %d missing from %d fds", fd, len(fds))
		}
	}
}
