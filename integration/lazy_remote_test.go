package integration

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// Lazy restore with the pages from a socket (`ckpt page-server`,
// restore/lazypages/remote.go): the restore reads everything but the
// private anonymous pages from its image file, the page server of the
// restore reads those pages from another process that serves the image.

// lazyCheckpointed checkpoints static/lazy00 and returns the program (not
// running any more) and the image directory.
func lazyCheckpointed(t *testing.T) (*testProc, string) {
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
	return tp, img
}

// startImageServer runs `ckpt page-server` on a copy of the image (so that
// what the restore's own file holds afterwards cannot matter), edited by
// edit if given, on a unix socket in dir, and returns its address and the
// command (stopped after the test).
func startImageServer(t *testing.T, img, dir string, edit func([]byte)) (string, *exec.Cmd) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(img, "image.ckpt"))
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(b)
	}
	served := filepath.Join(dir, "served.ckpt")
	if err := os.WriteFile(served, b, 0o600); err != nil {
		t.Fatal(err)
	}
	addr := "unix:" + filepath.Join(dir, "pages.sock")
	cmd := exec.Command(ckptBin, "page-server", "--image", served, "--address", addr)
	logf, err := os.Create(filepath.Join(dir, "page-server.log"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { logf.Close() })
	cmd.Stderr = logf
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "listening on ") {
		t.Fatalf("ckpt page-server did not start: %q, %v", line, err)
	}
	return addr, cmd
}

// TestLazyRestorePageServer: the pages come from the page server. Once
// restored (no page streamed, none touched yet) the restore's own image
// file is cut to nothing but its first 64 KiB; the program still finds
// every page right, the lazy page server's log names the page server, and
// the page server holds a socket file only its owner can open.
func TestLazyRestorePageServer(t *testing.T) {
	tp, img := lazyCheckpointed(t)
	addr, _ := startImageServer(t, img, tp.dir, nil)
	st, err := os.Stat(strings.TrimPrefix(addr, "unix:"))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		t.Errorf("page server socket %s has mode %v: others may read the image", addr, st.Mode().Perm())
	}
	logFile := filepath.Join(tp.dir, "lazy-pages.log")
	pid := restoreDetached(t, img, filepath.Join(tp.dir, "restored.pid"),
		"--lazy", "--lazy-on-touch-only", "--lazy-log", logFile, "--page-server", addr)
	if pid != tp.pid {
		t.Fatalf("restored as pid %d, want %d", pid, tp.pid)
	}
	t.Cleanup(func() {
		for _, s := range pageServers(img) {
			unix.Kill(s, unix.SIGKILL)
		}
	})
	if size, _ := lazyMemory(t, pid); size < 4096 {
		t.Fatalf("only %d KiB of pid %d is registered for lazy pages", size, pid)
	}
	if err := os.Truncate(filepath.Join(img, "image.ckpt"), 64<<10); err != nil {
		t.Fatal(err)
	}
	finish(t, tp, true)
	waitNoServer(t, img, logFile)
	log, _ := os.ReadFile(logFile)
	if !bytes.Contains(log, []byte("pages from a page server")) {
		t.Fatalf("the lazy page server does not say it read from the page server; its log:\n%s", log)
	}
}

// TestLazyRestorePageServerOtherImage: a page server serving an image that
// differs from the restore's (one byte of its TAIL's digest) is refused
// before the process runs, naming it, and no process is left.
func TestLazyRestorePageServerOtherImage(t *testing.T) {
	tp, img := lazyCheckpointed(t)
	addr, _ := startImageServer(t, img, tp.dir, func(b []byte) { b[len(b)-1] ^= 0xff })
	_, stderr, err := runCkpt("restore", "--image-path", img, "--detach", "--pid-file", filepath.Join(tp.dir, "restored.pid"),
		"--lazy", "--lazy-log", filepath.Join(tp.dir, "lazy-pages.log"), "--page-server", addr)
	if err == nil {
		t.Fatalf("restore with a page server of another image succeeded")
	}
	if !strings.Contains(stderr, "serves another image") {
		t.Fatalf("restore failed without naming the page server's image: %v\n%s", err, stderr)
	}
	if alive(tp.pid) {
		t.Fatalf("pid %d is alive after the refused restore", tp.pid)
	}
	if s := pageServers(img); len(s) != 0 {
		t.Fatalf("lazy page servers left: %v", s)
	}
}

// TestLazyRestorePageServerGone: the page server goes away while pages are
// still missing: the restored process is killed (or faults on a poisoned
// page), never runs on with zeros, and a process beside it lives.
func TestLazyRestorePageServerGone(t *testing.T) {
	bystander := startSleeper(t)
	tp, img := lazyCheckpointed(t)
	addr, srv := startImageServer(t, img, tp.dir, nil)
	logFile := filepath.Join(tp.dir, "lazy-pages.log")
	restoreDetached(t, img, filepath.Join(tp.dir, "restored.pid"),
		"--lazy", "--lazy-on-touch-only", "--lazy-log", logFile, "--page-server", addr)
	t.Cleanup(func() {
		for _, s := range pageServers(img) {
			unix.Kill(s, unix.SIGKILL)
		}
	})
	if err := srv.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = srv.Wait() // killed: it says so

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
		t.Fatalf("pid %d passed its checks without its page server", tp.pid)
	}
	waitNoServer(t, img, logFile)
	log, _ := os.ReadFile(logFile)
	if !bytes.Contains(log, []byte("cannot read the image")) {
		t.Fatalf("the lazy page server's log does not say why it killed the process:\n%s", log)
	}
	if !alive(bystander) {
		t.Fatalf("the process beside the lazily restored one (pid %d) is gone", bystander)
	}
}
