package integration

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestExtUnixSk: a socket connected to a listener outside the checkpoint
// (the test's) is refused without --ext-unix-sk, naming the fd and the
// peer; with it the image records the socket as external, restore refuses
// it without --ext-unix-sk and, with it and --inherit-fd, gives the task
// the socket the caller passes, at the same fd.
func TestExtUnixSk(t *testing.T) {
	const fd = 42
	dir := t.TempDir()
	path := filepath.Join(dir, "ext.sock")
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	tp, counter := startCounter(t, "--hold=unix:"+path, fmt.Sprintf("--holdfd=%d", fd))
	peer, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()

	img := filepath.Join(tp.dir, "img")
	_, stderr, err := tryCheckpoint(tp.pid, img, false)
	if err == nil {
		t.Fatalf("checkpoint of pid %d, whose fd %d is connected outside, succeeded without --ext-unix-sk", tp.pid, fd)
	}
	for _, want := range []string{fmt.Sprintf("fd %d", fd), strconv.Itoa(tp.pid), "--ext-unix-sk", strconv.Itoa(os.Getpid())} {
		if !strings.Contains(stderr, want) {
			t.Errorf("the refusal does not say %q:\n%s", want, stderr)
		}
	}
	waitGrowth(t, counter, lines(counter))

	if _, stderr, err := runCkpt("checkpoint", "--pid", strconv.Itoa(tp.pid), "--image-path", img, "--ext-unix-sk"); err != nil {
		t.Fatalf("checkpoint --ext-unix-sk: %v\n%s", err, stderr)
	}
	if _, _, err := reap(tp.pid, exitTimeout); err != nil {
		t.Fatalf("after checkpoint: %v", err)
	}
	recs, _, err := inspect(img)
	if err != nil {
		t.Fatal(err)
	}
	key := ""
	for _, r := range ofType(recs, "EXT_FILE") {
		if k := r.str("Key"); strings.HasPrefix(k, "socket:") {
			key = k
		}
	}
	if key == "" {
		t.Fatalf("the image has no external socket:\n%s", recordTypes(recs))
	}

	pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	mine, given := os.NewFile(uintptr(pair[0]), "mine"), os.NewFile(uintptr(pair[1]), "given")
	defer mine.Close()
	defer given.Close()
	var st unix.Stat_t
	if err := unix.Fstat(pair[1], &st); err != nil {
		t.Fatal(err)
	}
	pidFile := filepath.Join(tp.dir, "restored.pid")
	restore := func(extra ...string) (string, error) {
		args := append([]string{"restore", "--image-path", img, "--detach", "--pid-file", pidFile,
			"--inherit-fd", "fd[3]:" + key}, extra...)
		cmd := exec.Command(ckptBin, args...)
		cmd.ExtraFiles = []*os.File{given}
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		return out.String(), err
	}
	if out, err := restore(); err == nil || !strings.Contains(out, "--ext-unix-sk") {
		t.Fatalf("restore without --ext-unix-sk: %v, want a refusal naming the option:\n%s", err, out)
	}
	if out, err := restore("--ext-unix-sk"); err != nil {
		t.Fatalf("restore --ext-unix-sk: %v\n%s", err, out)
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	if pid, _ := strconv.Atoi(strings.TrimSpace(string(b))); pid != tp.pid {
		t.Fatalf("restored as pid %s, want %d", b, tp.pid)
	}
	link, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%d", tp.pid, fd))
	if want := fmt.Sprintf("socket:[%d]", st.Ino); err != nil || link != want {
		t.Errorf("restored fd %d is %q (%v), want the socket given, %s", fd, link, err, want)
	}
	waitGrowth(t, counter, lines(counter))
	finish(t, tp, true)
}
