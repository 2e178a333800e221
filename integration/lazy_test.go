package integration

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Lazy restore (restore/lazy.go, restore/lazypages): the zdtm side is
// TestZdtmLazy; these check what a zdtm program cannot see from inside:
// that memory really arrives late, that the page server exits, and what
// happens when the image goes away under it.

// lazyStart checkpoints static/lazy00 (4 MiB and more of private memory it
// checks after the restore) and restores it with --lazy --detach and the
// extra options. It returns the program and the image directory.
func lazyStart(t *testing.T, extra ...string) (*testProc, string) {
	t.Helper()
	requireRoot(t)
	needCkpt(t)
	p := builds.find("static/lazy00")
	if p == nil {
		t.Fatal("no static/lazy00 program")
	}
	tp := startProgram(t, p, false)
	t.Cleanup(tp.kill)
	img := filepath.Join(tp.dir, "img")
	checkpoint(t, tp.pid, img, false)
	if _, _, err := reap(tp.pid, exitTimeout); err != nil {
		t.Fatal(err)
	}
	args := append([]string{"--lazy", "--lazy-log", filepath.Join(tp.dir, "lazy-pages.log")}, extra...)
	pid := restoreDetached(t, img, filepath.Join(tp.dir, "restored.pid"), args...)
	if pid != tp.pid {
		t.Fatalf("restored as pid %d, want %d", pid, tp.pid)
	}
	t.Cleanup(func() {
		// Whatever happened, no page server of this image outlives the test.
		for _, s := range pageServers(img) {
			unix.Kill(s, unix.SIGKILL)
		}
	})
	return tp, img
}

// pageServers lists the page servers serving the image in imgDir.
func pageServers(imgDir string) []int {
	var pids []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err != nil {
			continue
		}
		args := strings.Split(string(b), "\x00")
		if len(args) > 3 && args[1] == "lazy-pages" && strings.HasPrefix(args[3], imgDir+"/") && alive(pid) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// waitNoServer waits until no page server serves imgDir.
func waitNoServer(t *testing.T, imgDir, logFile string) {
	t.Helper()
	deadline := time.Now().Add(exitTimeout)
	for len(pageServers(imgDir)) > 0 {
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(logFile)
			t.Fatalf("the page server of %s still runs after %v; its log:\n%s", imgDir, exitTimeout, log)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// lazyMemory sums Size and Rss (KiB) of pid's mappings registered with a
// userfaultfd in missing mode (VmFlags "um").
func lazyMemory(t *testing.T, pid int) (size, rss uint64) {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps", pid))
	if err != nil {
		t.Fatal(err)
	}
	var curSize, curRss uint64
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 {
			continue
		}
		switch f[0] {
		case "Size:":
			curSize, _ = strconv.ParseUint(f[1], 10, 64)
		case "Rss:":
			curRss, _ = strconv.ParseUint(f[1], 10, 64)
		case "VmFlags:":
			for _, fl := range f[1:] {
				if fl == "um" {
					size += curSize
					rss += curRss
				}
			}
		}
	}
	return size, rss
}

// TestLazyRestoreOnTouch: with no page streamed, the restored process runs
// with its memory still missing (registered with the server's userfaultfd,
// hardly any of it resident), is correct once it checks every page, and
// the server exits with it.
func TestLazyRestoreOnTouch(t *testing.T) {
	tp, img := lazyStart(t, "--lazy-on-touch-only")
	size, rss := lazyMemory(t, tp.pid)
	t.Logf("lazily restored mappings: %d KiB, %d KiB resident", size, rss)
	if size < 4096 {
		t.Fatalf("only %d KiB of pid %d is registered for lazy pages, want its 4 MiB area and more", size, tp.pid)
	}
	if rss >= 1024 {
		t.Fatalf("%d KiB of the lazily restored memory of pid %d is already resident before it touched it", rss, tp.pid)
	}
	if len(pageServers(img)) != 1 {
		t.Fatalf("want one page server for %s, have %v", img, pageServers(img))
	}
	finish(t, tp, true)
	waitNoServer(t, img, filepath.Join(tp.dir, "lazy-pages.log"))
}

// TestLazyRestoreStreams: untouched, every page still arrives (streamed in
// the background); the server then lets go of the process and exits.
func TestLazyRestoreStreams(t *testing.T) {
	tp, img := lazyStart(t)
	waitNoServer(t, img, filepath.Join(tp.dir, "lazy-pages.log"))
	if size, _ := lazyMemory(t, tp.pid); size != 0 {
		t.Fatalf("%d KiB of pid %d is still registered for lazy pages after the server exited", size, tp.pid)
	}
	log, _ := os.ReadFile(filepath.Join(tp.dir, "lazy-pages.log"))
	if !bytes.Contains(log, []byte("every page is in")) {
		t.Fatalf("the page server did not say every page was in; its log:\n%s", log)
	}
	finish(t, tp, true)
}

// TestLazyRestoreImageRemoved: the server holds the image open, so the
// image removed under it changes nothing.
func TestLazyRestoreImageRemoved(t *testing.T) {
	tp, img := lazyStart(t, "--lazy-on-touch-only")
	if err := os.RemoveAll(img); err != nil {
		t.Fatal(err)
	}
	finish(t, tp, true)
	waitNoServer(t, img, filepath.Join(tp.dir, "lazy-pages.log"))
}

// TestLazyRestoreImageTruncated: pages that cannot be read any more make
// the process fail, killed by the server, which says so and exits; a
// process beside it lives on.
func TestLazyRestoreImageTruncated(t *testing.T) {
	bystander := startSleeper(t)
	tp, img := lazyStart(t, "--lazy-on-touch-only")
	logFile := filepath.Join(tp.dir, "lazy-pages.log")
	if err := os.Truncate(filepath.Join(img, "image.ckpt"), 64<<10); err != nil {
		t.Fatal(err)
	}
	// It wakes, checks its memory, and faults on a page no longer there.
	if err := unix.Kill(tp.pid, unix.SIGTERM); err != nil {
		t.Fatal(err)
	}
	ws, known, err := reap(tp.pid, exitTimeout)
	if err != nil {
		t.Fatal(err)
	}
	tp.done = true
	if known && !(ws.Signaled() && (ws.Signal() == unix.SIGKILL || ws.Signal() == unix.SIGBUS)) {
		t.Fatalf("pid %d ended with %v, want killed (SIGKILL or SIGBUS); outfile:\n%s", tp.pid, ws, tp.output())
	}
	if hasLine(tp.output(), "PASS") {
		t.Fatalf("pid %d passed its checks with its image truncated", tp.pid)
	}
	waitNoServer(t, img, logFile)
	log, _ := os.ReadFile(logFile)
	if !bytes.Contains(log, []byte("cannot read the image")) || !bytes.Contains(log, []byte("killed")) {
		t.Fatalf("the page server's log does not say why it killed the process:\n%s", log)
	}
	t.Logf("pid %d: %v; the page server's log:\n%s", tp.pid, ws, log)
	if !alive(bystander) {
		t.Fatalf("the process beside the lazily restored one (pid %d) is gone", bystander)
	}
}

// startSleeper starts a process that only sleeps, and ends it after the test.
func startSleeper(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("sleep", "600")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	return cmd.Process.Pid
}

// TestLazyRestoreServerStopped: a page server told to stop kills the
// process it serves rather than leave it to read zeros where its pages
// were.
func TestLazyRestoreServerStopped(t *testing.T) {
	tp, img := lazyStart(t, "--lazy-on-touch-only")
	servers := pageServers(img)
	if len(servers) != 1 {
		t.Fatalf("want one page server for %s, have %v", img, servers)
	}
	if err := unix.Kill(servers[0], unix.SIGTERM); err != nil {
		t.Fatal(err)
	}
	ws, known, err := reap(tp.pid, exitTimeout)
	if err != nil {
		t.Fatal(err)
	}
	tp.done = true
	if known && !(ws.Signaled() && ws.Signal() == unix.SIGKILL) {
		t.Fatalf("pid %d ended with %v, want killed", tp.pid, ws)
	}
	waitNoServer(t, img, filepath.Join(tp.dir, "lazy-pages.log"))
}
