package integration

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestPrivsNetRaw: a raw socket comes back only to a restore whose grant
// holds CAP_NET_RAW. The process made the socket, then gave up
// CAP_NET_RAW (as ping does), so its own credentials ask for nothing the
// narrow caller lacks: only the socket does. The stub that makes the
// socket has the restorer's capabilities, so the refusal must come from
// the grant, before any task exists; the caller with CAP_NET_RAW gets the
// socket back.
func TestPrivsNetRaw(t *testing.T) {
	requireRoot(t)
	needCkpt(t)
	// fd 3: a raw socket of an unused protocol (253, for experiments),
	// which nothing sends to; then CAP_NET_RAW dropped from the bounding
	// set, so the permitted and effective sets of the exec'ed sleep
	// (root's, recomputed at exec from the bounding set) lack it too.
	script := `import os, socket
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, 253)
os.dup2(s.fileno(), 3)
os.set_inheritable(3, True)
os.execvp("setpriv", ["setpriv", "--bounding-set", "-net_raw", "/bin/busybox", "sleep", "1000"])`
	cmd := exec.Command("python3", "-c", script)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	waitRawSocket(t, pid)
	dir := t.TempDir()
	img := filepath.Join(dir, "img")
	checkpoint(t, pid, img, false)
	cmd.Wait()

	c := exec.Command("setpriv", "--bounding-set", "-net_raw", ckptBin, "restore", "--image-path", img,
		"--detach", "--pid-file", filepath.Join(dir, "pid"))
	out, err := c.CombinedOutput()
	if err == nil {
		_ = unix.Kill(pid, unix.SIGKILL)
		t.Fatalf("a restore by a caller without CAP_NET_RAW gave back a raw socket:\n%s", out)
	}
	for _, want := range []string{fmt.Sprintf("task %d: socket RAW_SK goes beyond the caller's", pid), "need CAP_NET_RAW, not granted"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the refusal %q does not say %q", strings.TrimSpace(string(out)), want)
		}
	}
	if err := unix.Kill(pid, 0); !errors.Is(err, unix.ESRCH) {
		t.Errorf("task %d exists after the refused restore: %v", pid, err)
	}

	got := restoreDetached(t, img, filepath.Join(dir, "pid2"))
	defer unix.Kill(got, unix.SIGKILL)
	if got != pid {
		t.Errorf("restored as %d, want %d", got, pid)
	}
	if name := sockProtoName(t, got, 3); name != "RAW" {
		t.Errorf("fd 3 of the restored task is a %q socket, want RAW", name)
	}
}

// waitRawSocket waits until pid runs busybox sleep with a raw socket at fd 3.
func waitRawSocket(t *testing.T, pid int) {
	t.Helper()
	for i := 0; ; i++ {
		comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
		if strings.TrimSpace(string(comm)) == "busybox" && sockProtoName(t, pid, 3) == "RAW" {
			return
		}
		if i == 1000 {
			t.Fatalf("task %d did not come to run sleep with its raw socket", pid)
		}
		unix.Nanosleep(&unix.Timespec{Nsec: 10e6}, nil)
	}
}

// sockProtoName is the protocol name sockfs gives fd of pid ("RAW",
// "PING", "PACKET"...), "" if it is no socket.
func sockProtoName(t *testing.T, pid, fd int) string {
	t.Helper()
	buf := make([]byte, 32)
	n, err := unix.Getxattr(fmt.Sprintf("/proc/%d/fd/%d", pid, fd), "system.sockprotoname", buf)
	if err != nil {
		return ""
	}
	return strings.TrimRight(string(buf[:n]), "\x00")
}

// TestPrivsNetRawBundle: the same for a container, whose stub the runtime
// makes with every capability: a raw socket held by a container checkpointed
// from a bundle granting CAP_NET_RAW is refused to a bundle that does not
// grant it (every other capability granted, so only the socket asks for
// it), before anything is made; the first bundle gets it back.
func TestPrivsNetRawBundle(t *testing.T) {
	rt := newOCIRuntime(t)
	caps := allCaps(t)
	b := rt.bundle("raw", func(c map[string]any) { setCaps(c, caps, false) }, "/bin/rawholder")
	bin := filepath.Join(rt.rootfsOf(b), "bin", "rawholder")
	if out, err := exec.Command("gcc", "-O2", "-static", "-o", bin, "testdata/rawholder.c").CombinedOutput(); err != nil {
		t.Fatalf("gcc rawholder.c: %v\n%s", err, out)
	}
	id := fmt.Sprintf("netraw%d", os.Getpid())
	rt.runSleeper(b, id)
	if name := sockProtoName(t, rt.state(id).Pid, 3); name != "RAW" {
		t.Fatalf("the container's init holds a %q socket at fd 3, want RAW", name)
	}
	img := filepath.Join(rt.dir, "img")
	rt.ok("checkpoint", "--image-path", img, id)
	rt.gone(id)

	var noRaw []any
	for _, c := range caps {
		if c != "CAP_NET_RAW" {
			noRaw = append(noRaw, c)
		}
	}
	narrow := rt.withBundleCopy(b, "noraw", func(c map[string]any) { setCaps(c, noRaw, false) })
	rt.refusedAndGone(narrow, img, id+"n", "task 1: socket RAW_SK goes beyond the bundle's spec's", "need CAP_NET_RAW, not granted")

	rt.ok("restore", "--bundle", b, "--image-path", img, "-d", id)
	if name := sockProtoName(t, rt.state(id).Pid, 3); name != "RAW" {
		t.Errorf("fd 3 of the restored container's init is a %q socket, want RAW", name)
	}
	rt.ok("delete", "--force", id)
}
