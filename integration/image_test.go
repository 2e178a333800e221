package integration

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ckpt/ckpt/image"
	"github.com/ckpt/ckpt/image/imagetest"
)

// TestCheckpointConcurrent: two `ckpt checkpoint --pid P --image F` at
// once leave either P running or a complete image at F that restores P,
// every time. The second is started ever later, up to after the first has
// finished: an image already written must then survive a checkpoint that
// fails (P is gone).
func TestCheckpointConcurrent(t *testing.T) {
	for i := 0; i < 10; i++ {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			tp, counter := startCounter(t)
			img := filepath.Join(tp.dir, "image.ckpt")
			type result struct {
				stderr string
				err    error
			}
			results := make(chan result, 2)
			run := func() {
				_, stderr, err := runCkpt("checkpoint", "--pid", strconv.Itoa(tp.pid), "--image", img)
				results <- result{stderr, err}
			}
			go run()
			var first result
			if i == 9 {
				first = <-results // the second starts once the first is done
			} else {
				time.Sleep(time.Duration(i) * 5 * time.Millisecond)
			}
			go run()
			rs := []result{<-results}
			if i == 9 {
				rs = append(rs, first)
			} else {
				rs = append(rs, <-results)
			}
			ok := 0
			for _, r := range rs {
				if r.err == nil {
					ok++
				} else if !strings.Contains(r.stderr, "busy") && !strings.Contains(r.stderr, "checkpoint of") {
					t.Errorf("a refused checkpoint says %q", r.stderr)
				}
			}
			if ok > 1 {
				t.Fatalf("both checkpoints of pid %d succeeded", tp.pid)
			}
			if ok == 0 {
				// Neither: the process must be running as it was.
				if !alive(tp.pid) {
					t.Fatalf("both checkpoints failed and pid %d is gone:\n%s\n%s", tp.pid, rs[0].stderr, rs[1].stderr)
				}
				finish(t, tp, true)
				return
			}
			if _, _, err := reap(tp.pid, exitTimeout); err != nil {
				t.Fatalf("after checkpoint: %v", err)
			}
			tp.done = true
			n := lines(counter)
			pidFile := filepath.Join(tp.dir, "restored.pid")
			if _, stderr, err := runCkpt("restore", "--image", img, "--detach", "--pid-file", pidFile); err != nil {
				t.Fatalf("pid %d is gone and its image does not restore: %v\n%s", tp.pid, err, stderr)
			}
			tp.done = false
			waitGrowth(t, counter, n)
			finish(t, tp, true)
		})
	}
}

// TestCheckpointFailureKeepsImage: a checkpoint that fails leaves the image
// already at its target path as it was, byte for byte.
func TestCheckpointFailureKeepsImage(t *testing.T) {
	tp, _ := startCounter(t)
	img := filepath.Join(tp.dir, "image.ckpt")
	if _, stderr, err := runCkpt("checkpoint", "--pid", strconv.Itoa(tp.pid), "--image", img, "--leave-running"); err != nil {
		t.Fatalf("checkpoint: %v\n%s", err, stderr)
	}
	before, err := os.ReadFile(img)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(img); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("image mode %v (%v), want 0600", fi.Mode(), err)
	}
	// A checkpoint that fails: of a process that is gone.
	gone := exec.Command("true")
	if err := gone.Run(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := runCkpt("checkpoint", "--pid", strconv.Itoa(gone.Process.Pid), "--image", img); err == nil {
		t.Fatalf("checkpoint of exited pid %d succeeded", gone.Process.Pid)
	}
	after, err := os.ReadFile(img)
	if err != nil {
		t.Fatalf("the image is gone after a failed checkpoint: %v", err)
	}
	if !bytes.Equal(before, after) {
		t.Fatalf("a failed checkpoint changed the image at its path (%d bytes, was %d)", len(after), len(before))
	}
	ents, _ := os.ReadDir(tp.dir)
	for _, e := range ents {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("a failed checkpoint left %s behind", e.Name())
		}
	}
	finish(t, tp, true)
}

// TestRestoreStreamTrailingData: a valid image followed by 3 GB of zeros
// on restore's stdin is refused, and restore's memory stays far below the
// stream's size (its peak RSS from wait4's rusage).
func TestRestoreStreamTrailingData(t *testing.T) {
	tp, counter := startCounter(t)
	img := filepath.Join(tp.dir, "image.ckpt")
	if _, stderr, err := runCkpt("checkpoint", "--pid", strconv.Itoa(tp.pid), "--image", img); err != nil {
		t.Fatalf("checkpoint: %v\n%s", err, stderr)
	}
	if _, _, err := reap(tp.pid, exitTimeout); err != nil {
		t.Fatalf("after checkpoint: %v", err)
	}
	tp.done = true
	n := lines(counter)
	f, err := os.Open(img)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ctx, cancel := context.WithTimeout(context.Background(), ckptTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, ckptBin, "restore", "--image", "-", "--detach", "--pid-file", filepath.Join(tp.dir, "restored.pid"))
	cmd.Stdin = io.MultiReader(f, io.LimitReader(zeros{}, 3<<30))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err = cmd.Run()
	if err == nil {
		tp.done = false // restored: finish it
		t.Fatalf("restore of an image followed by 3 GB of zeros succeeded")
	}
	if !strings.Contains(stderr.String(), "data follows the TAIL") {
		t.Errorf("restore says %q (%v), want a refusal naming the data after the TAIL", stderr.String(), err)
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if peak := ru.Maxrss << 10; peak > 256<<20 {
		t.Errorf("restore peaked at %d MiB of memory for a 3 GB stream", peak>>20)
	}
	if alive(tp.pid) || lines(counter) != n {
		t.Errorf("a refused image restored pid %d", tp.pid)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// HostileCase rewrites a real image (rewrite, through image/imagetest)
// into one a restore must refuse before any task exists, saying want.
type HostileCase struct {
	name    string
	rewrite func(t *testing.T, im *imagetest.Image)
	want    string
}

// TestHostileImages: images of a real checkpoint (fown00: a pipe, unix
// sockets) rewritten through the image package with
// a valid digest are refused by restore and by restore --dry-run, before
// any task exists.
func TestHostileImages(t *testing.T) {
	cases := []HostileCase{
		{"overfull-pipe", overfullPipe, "capacity"},
		{"huge-count", func(t *testing.T, im *imagetest.Image) {
			i := mustFind(t, im, image.TypePstree)
			if err := im.SetCount(i, 0, 0xffffffff); err != nil { // Pstree.Tasks's count
				t.Fatal(err)
			}
		}, "do not fit"},
		{"overfull-unix-queue", func(t *testing.T, im *imagetest.Image) {
			i := mustFind(t, im, image.TypeUnixSk)
			ino := im.Items[i].Rec.(*image.UnixSk).Ino
			var q []image.Record
			for n := 0; n <= image.MaxUnixQueue/image.UnixQueueChunk; n++ {
				q = append(q, &image.UnixQueue{Ino: ino, Data: make([]byte, image.UnixQueueChunk)})
			}
			if err := im.Insert(i+1, q...); err != nil {
				t.Fatal(err)
			}
		}, "at most"},
		{"bogus-objref", func(t *testing.T, im *imagetest.Image) {
			i := mustFind(t, im, image.TypeFd)
			fd := *im.Items[i].Rec.(*image.Fd)
			fd.File = 0x7ffffff0
			if err := im.Replace(i, &fd); err != nil {
				t.Fatal(err)
			}
		}, "objref"},
	}
	RunHostile(t, "static/fown00", cases)
}

// overfullPipe gives a pipe of the image 1 MiB of unread data and a
// capacity of 64 KiB: written back as it is, it would block restore for
// ever.
func overfullPipe(t *testing.T, im *imagetest.Image) {
	i := mustFind(t, im, image.TypePipe)
	id := im.Items[i].Rec.(*image.Pipe).PipeID
	for _, j := range im.Find(image.TypePipe) {
		p := *im.Items[j].Rec.(*image.Pipe)
		if p.PipeID == id {
			p.Capacity = 64 << 10
			if err := im.Replace(j, &p); err != nil {
				t.Fatal(err)
			}
		}
	}
	var data []image.Record
	for n := 0; n < (1<<20)/image.PipeDataChunk; n++ {
		data = append(data, &image.PipeData{PipeID: id, Data: bytes.Repeat([]byte{'x'}, image.PipeDataChunk)})
	}
	if err := im.Insert(i+1, data...); err != nil {
		t.Fatal(err)
	}
}

func mustFind(t *testing.T, im *imagetest.Image, typ image.Type) int {
	t.Helper()
	idx := im.Find(typ)
	if len(idx) == 0 {
		t.Fatalf("the image has no %s record", typ)
	}
	return idx[0]
}

// RunHostile checkpoints the test program prog (left running), applies
// each case to a copy of its image and checks that `ckpt restore` and
// `ckpt restore --dry-run` refuse it, naming c.want, from the image's
// validation (before any task is made), within ckptTimeout. Other suites
// (privileges, paths) add cases by calling it with their own.
func RunHostile(t *testing.T, prog string, cases []HostileCase) {
	requireRoot(t)
	needCkpt(t)
	p := builds.find(prog)
	if p == nil {
		t.Fatalf("no %s program", prog)
	}
	tp := startProgram(t, p, false)
	imgDir := filepath.Join(tp.dir, "img")
	checkpoint(t, tp.pid, imgDir, true)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			im, err := imagetest.Load(filepath.Join(imgDir, image.FileName))
			if err != nil {
				t.Fatal(err)
			}
			c.rewrite(t, im)
			dir := filepath.Join(tp.dir, "hostile-"+c.name)
			if err := os.MkdirAll(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := im.WriteFile(filepath.Join(dir, image.FileName)); err != nil {
				t.Fatal(err)
			}
			pidFile := filepath.Join(dir, "restored.pid")
			for _, args := range [][]string{
				{"restore", "--image-path", dir, "--dry-run"},
				{"restore", "--image-path", dir, "--detach", "--pid-file", pidFile},
			} {
				_, stderr, err := runCkpt(args...)
				if err == nil {
					if b, rerr := os.ReadFile(pidFile); rerr == nil {
						killRestored(strings.TrimSpace(string(b)))
					}
					t.Fatalf("ckpt %s accepted a hostile image (%s)", strings.Join(args, " "), c.name)
				}
				if !strings.Contains(stderr, "invalid image") && !strings.Contains(stderr, "validate image") {
					t.Errorf("ckpt %s: refused after validation (%q): tasks may have been made", strings.Join(args, " "), stderr)
				}
				if !strings.Contains(stderr, c.want) {
					t.Errorf("ckpt %s: %q does not say %q", strings.Join(args, " "), stderr, c.want)
				}
			}
			if _, err := os.Stat(pidFile); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("a refused restore wrote its pid file (%v)", err)
			}
		})
	}
	finish(t, tp, true)
}

func killRestored(pid string) {
	if n, err := strconv.Atoi(pid); err == nil && n > 1 {
		syscall.Kill(n, syscall.SIGKILL)
	}
}

// TestRestoreDryRun: --dry-run of a valid image prints what it would
// restore and makes nothing; with the image's pid still taken it refuses.
func TestRestoreDryRun(t *testing.T) {
	tp, counter := startCounter(t)
	img := filepath.Join(tp.dir, "img")
	checkpoint(t, tp.pid, img, true)
	_, stderr, err := runCkpt("restore", "--image-path", img, "--dry-run")
	if err == nil || !strings.Contains(stderr, fmt.Sprintf("pids %d", tp.pid)) {
		t.Errorf("dry run with pid %d taken: %v %q, want a refusal naming it", tp.pid, err, stderr)
	}
	finish(t, tp, true)
	stdout, stderr, err := runCkpt("restore", "--image-path", img, "--dry-run")
	if err != nil {
		t.Fatalf("dry run: %v\n%s", err, stderr)
	}
	if !strings.Contains(stdout, "would restore 1 tasks") || !strings.Contains(stdout, fmt.Sprintf("pid %d ", tp.pid)) {
		t.Errorf("dry run printed %q", stdout)
	}
	n := lines(counter)
	if alive(tp.pid) || lines(counter) != n {
		t.Errorf("a dry run restored pid %d", tp.pid)
	}
}

// TestRuntimeRestoreDryRun: `ckpt restore --dry-run` of a container's
// image checks the bundle and prints what would be restored, making no
// container; a bundle the image cannot go into is refused.
func TestRuntimeRestoreDryRun(t *testing.T) {
	rt := newOCIRuntime(t)
	b := rt.bundle("counter", func(c map[string]any) {
		c["mounts"] = append(c["mounts"].([]any), map[string]any{
			"destination": "/run", "type": "tmpfs", "source": "tmpfs", "options": []string{"nosuid", "nodev", "size=1m"},
		})
	}, "sh", "-c", counterScript)
	rt.ok("run", "-d", "--bundle", b, "c1")
	waitFor(t, "c1 to count", func() bool { return rt.count("c1") >= 1 })
	img := filepath.Join(rt.dir, "img")
	rt.ok("checkpoint", "--image-path", img, "c1")
	rt.gone("c1")

	out := rt.ok("restore", "--bundle", b, "--image-path", img, "--dry-run", "c2")
	if !strings.Contains(out, "container c1") || !strings.Contains(out, "in a new pid namespace") {
		t.Errorf("dry run printed %q", out)
	}
	rt.gone("c2")
	// Without the tmpfs the container had, the bundle is refused.
	b2 := rt.withBundleCopy(b, "no-run", func(c map[string]any) {
		var keep []any
		for _, m := range c["mounts"].([]any) {
			if m.(map[string]any)["destination"] != "/run" {
				keep = append(keep, m)
			}
		}
		c["mounts"] = keep
	})
	rt.fails("lacks mounts", "restore", "--bundle", b2, "--image-path", img, "--dry-run", "c2")
	rt.gone("c2")
	// The real restore still works after the dry runs.
	rt.ok("restore", "--bundle", b, "--image-path", img, "-d", "c2")
	rt.ok("kill", "c2", "KILL")
	waitFor(t, "c2 to stop", func() bool { return rt.state("c2").Status == "stopped" })
	rt.ok("delete", "c2")
}
