package integration

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestRestorePipeline: `ckpt checkpoint --image - | ckpt restore --image -`
// with the restore in the foreground: the restored program gets its pid
// back, runs, and when the runner SIGTERMs it the restore (and so the
// pipeline) exits with the program's status, 0.
func TestRestorePipeline(t *testing.T) {
	tp, counter := startCounter(t)
	status := filepath.Join(tp.dir, "checkpoint.status")
	script := `("$0" checkpoint --pid "$1" --image -; echo $? >"$2") | "$0" restore --image -`
	cmd := exec.Command("sh", "-c", script, ckptBin, strconv.Itoa(tp.pid), status)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	waited := false
	t.Cleanup(func() {
		if !waited {
			cmd.Process.Kill()
			<-exited
		}
	})
	// The checkpoint kills the original; its zombie is ours, and the
	// restore needs its pid, so reap it at once. If the pipeline ends
	// first, the checkpoint failed (and left the original running).
	reaped := make(chan error, 1)
	go func() {
		_, _, err := reap(tp.pid, ckptTimeout)
		reaped <- err
	}()
	select {
	case err := <-reaped:
		if err != nil {
			t.Fatalf("original pid %d: %v\n%s", tp.pid, err, out.String())
		}
	case err := <-exited:
		waited = true
		t.Fatalf("%s ended (%v) while pid %d was still running:\n%s", script, err, tp.pid, out.String())
	}
	n := lines(counter)
	deadline := time.Now().Add(ckptTimeout)
	for !alive(tp.pid) {
		select {
		case err := <-exited:
			waited = true
			t.Fatalf("%s ended (%v) without restoring pid %d:\n%s", script, err, tp.pid, out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("pid %d did not come back within %v\n%s", tp.pid, ckptTimeout, out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	waitGrowth(t, counter, n)
	finish(t, tp, true)
	err := <-exited
	waited = true
	if err != nil {
		t.Errorf("%s: %v (want exit 0: the restored program's status)\n%s", script, err, out.String())
	}
	if b, err := os.ReadFile(status); err != nil || strings.TrimSpace(string(b)) != "0" {
		t.Errorf("ckpt checkpoint --image - exit status %q (%v)\n%s", b, err, out.String())
	}
}

// TestRestoreRefuses: a damaged image or a missing file is refused before
// anything runs, with a clear message, and leaves no process behind.
func TestRestoreRefuses(t *testing.T) {
	cases := []struct {
		name    string
		damage  func(t *testing.T, image, counter string)
		mention string // what the message must name
		inspect bool   // ckpt inspect must fail too
	}{
		{"truncated", truncateHalf, "", true},
		{"flipped-page-byte", flipPageByte, "", true},
		{"deleted-file", func(t *testing.T, _, counter string) {
			if err := os.Remove(counter); err != nil {
				t.Fatal(err)
			}
		}, "counter", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tp, counter := startCounter(t)
			img := filepath.Join(tp.dir, "img")
			checkpoint(t, tp.pid, img, false)
			if _, _, err := reap(tp.pid, exitTimeout); err != nil {
				t.Fatalf("after checkpoint: %v", err)
			}
			tp.done = true
			n := lines(counter)
			c.damage(t, filepath.Join(img, "image.ckpt"), counter)

			pidFile := filepath.Join(tp.dir, "restored.pid")
			_, stderr, err := runCkpt("restore", "--image-path", img, "--detach", "--pid-file", pidFile)
			if err == nil {
				t.Errorf("restore of a %s image succeeded, want a refusal", c.name)
			} else {
				t.Logf("refused: %s", strings.TrimSpace(stderr))
			}
			if strings.TrimSpace(stderr) == "" {
				t.Errorf("refusal printed no message")
			}
			if c.mention != "" && !strings.Contains(stderr, c.mention) {
				t.Errorf("refusal does not name %q: %q", c.mention, stderr)
			}
			// Nothing may have run: no task with the pid, not even a
			// zombie, and the counter did not move.
			if s := procState(tp.pid); s != "" {
				if s == "Z" {
					var ws unix.WaitStatus
					unix.Wait4(tp.pid, &ws, unix.WNOHANG, nil)
				} else {
					unix.Kill(tp.pid, unix.SIGKILL)
					reap(tp.pid, exitTimeout)
				}
				t.Errorf("a task with pid %d exists (state %s) after a refused restore", tp.pid, s)
			}
			if c.name != "deleted-file" && lines(counter) != n {
				t.Errorf("the counter moved from %d to %d lines: something ran", n, lines(counter))
			}
			if c.inspect {
				if _, _, err := runCkpt("inspect", img); err == nil {
					t.Errorf("ckpt inspect accepts the %s image", c.name)
				}
			}
		})
	}
}

func truncateHalf(t *testing.T, image, _ string) {
	fi, err := os.Stat(image)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(image, fi.Size()/2); err != nil {
		t.Fatal(err)
	}
}

// flipPageByte flips one byte in the middle of the largest PAGES record's
// page data: only the digest can tell.
func flipPageByte(t *testing.T, image, _ string) {
	recs, stderr, err := inspect(image)
	if err != nil {
		t.Fatalf("ckpt inspect --json %s: %v\n%s", image, err, stderr)
	}
	var best *record
	for _, r := range ofType(recs, "PAGES") {
		if best == nil || r.Len > best.Len {
			best = &r
		}
	}
	if best == nil || best.Len < 2*4096 {
		t.Fatalf("no PAGES record with page data in %s: %s", image, recordTypes(recs))
	}
	// Page data runs from data_offset (a stream offset the reader fills
	// in) to the record's end.
	start, end := best.Offset, best.Offset+best.Len
	if do := int64(best.uint("data_offset")); do > best.Offset && do < end {
		start = do
	}
	off := start + (end-start)/2
	f, err := os.OpenFile(image, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, 1)
	if _, err := f.ReadAt(b, off); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0x40
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
	t.Logf("flipped byte %d of PAGES record at %d (len %d)", off, best.Offset, best.Len)
}
