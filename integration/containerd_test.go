package integration

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/containerd/containerd/api/types/runc/options"
	containerd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/pkg/cio"
	"github.com/containerd/containerd/v2/pkg/namespaces"
	ctrdoci "github.com/containerd/containerd/v2/pkg/oci"
	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/oci"
)

// containerd end to end: a real containerd (built from the Go module at
// the version hack/containerd.sh pins) with containerd-shim-ckpt-v2 on its
// PATH runs a busybox container that counts into a file in its root file
// system and to its stdout; ctr checkpoints it into images in the content
// store and restores them, there and in a second containerd.

const (
	ckptRuntime = "io.containerd.ckpt.v2"
	busyboxRef  = "docker.io/library/ckpt-busybox:latest"
	// counter counts from where its file ends (1 for a new one), into the
	// file and to stdout, every 50ms. /count is opened anew for each line:
	// no file stays open across a checkpoint.
	ctrdCounter = `i=0; while :; do i=$((i+1)); echo $i >> /count; echo "out $i"; sleep 0.05; done`
)

// containerdEnv is one private containerd.
type containerdEnv struct {
	t       *testing.T
	dir     string
	ctrBin  string
	address string
	snap    string
}

// startContainerd starts a containerd under dir and imports the busybox
// image; it is stopped, whatever it runs killed, when the test ends.
func startContainerd(t *testing.T, dir, busyboxTar string) *containerdEnv {
	t.Helper()
	script := filepath.Join(repoRoot, "hack", "containerd.sh")
	out, err := exec.Command(script, "build").Output()
	if err != nil {
		t.Fatalf("hack/containerd.sh build: %v\n%s", err, stderrOf(err))
	}
	cache := strings.TrimSpace(string(out))
	cmd := exec.Command(script, "start", dir)
	// containerd must not hold the test's stdout or stderr: go test waits
	// for them to close.
	cmd.Stderr = nil
	if out, err = cmd.Output(); err != nil {
		t.Fatalf("hack/containerd.sh start: %v\n%s", err, stderrOf(err))
	}
	e := &containerdEnv{t: t, dir: dir, ctrBin: filepath.Join(cache, "ctr"), address: strings.TrimSpace(string(out))}
	t.Cleanup(func() {
		if out, err := exec.Command(script, "stop", dir).CombinedOutput(); err != nil {
			t.Errorf("hack/containerd.sh stop: %v\n%s", err, out)
		}
		reapContainerd()
	})
	snap, err := os.ReadFile(filepath.Join(dir, "snapshotter"))
	if err != nil {
		t.Fatal(err)
	}
	e.snap = strings.TrimSpace(string(snap))
	e.ctr("image", "import", "--snapshotter", e.snap, busyboxTar)
	return e
}

func stderrOf(err error) []byte {
	if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
		return ee.Stderr
	}
	return nil
}

// try runs ctr against this containerd in namespace "default".
func (e *containerdEnv) try(args ...string) (string, error) {
	return e.tryNS("default", args...)
}

func (e *containerdEnv) tryNS(ns string, args ...string) (string, error) {
	cmd := exec.Command(e.ctrBin, append([]string{"--address", e.address, "--namespace", ns}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	if d := time.Since(start); d > time.Second {
		e.t.Logf("ctr %s took %v", strings.Join(args, " "), d.Round(time.Millisecond))
	}
	// containerd warns about cgroup v1 on every command: not ours to show.
	var errs []string
	for _, l := range strings.Split(stderr.String(), "\n") {
		if l != "" && !strings.Contains(l, "DEPRECATION") {
			errs = append(errs, l)
		}
	}
	if err != nil {
		return stdout.String(), fmt.Errorf("ctr %s: %w: %s", strings.Join(args, " "), err, strings.Join(errs, "\n"))
	}
	return stdout.String(), nil
}

func (e *containerdEnv) ctr(args ...string) string {
	e.t.Helper()
	out, err := e.try(args...)
	if err != nil {
		e.t.Fatal(err)
	}
	return out
}

func (e *containerdEnv) ctrNS(ns string, args ...string) string {
	e.t.Helper()
	out, err := e.tryNS(ns, args...)
	if err != nil {
		e.t.Fatal(err)
	}
	return out
}

// counts reads the container's /count through `ctr task exec` and checks
// it is 1, 2, ... n with nothing repeated or missing; it returns n.
func (e *containerdEnv) counts(ns, id string) int {
	e.t.Helper()
	out := e.ctrNS(ns, "task", "exec", "--exec-id", fmt.Sprintf("count%d", time.Now().UnixNano()), id, "cat", "/count")
	return consecutive(e.t, id+":/count", out, 1)
}

// consecutive checks that text holds the numbers from, from+1, ... one a
// line (the last may be cut short by a concurrent write) and returns the
// last.
func consecutive(t *testing.T, what, text string, from int) int {
	t.Helper()
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	if !strings.HasSuffix(text, "\n") && len(lines) > 0 {
		lines = lines[:len(lines)-1]
	}
	want := from
	for i, l := range lines {
		n, err := strconv.Atoi(strings.TrimPrefix(l, "out "))
		if err != nil || n != want {
			t.Fatalf("%s line %d: %q, want %d (repeated or lost counts)\n%s", what, i+1, l, want, text)
		}
		want++
	}
	return want - 1
}

// waitPast waits (10 s at most) until count() is past n, and returns it;
// what names the counter in the failure.
func waitPast(t *testing.T, what string, n int, count func() int) int {
	t.Helper()
	for range 200 {
		if c := count(); c > n {
			return c
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s does not count past %d", what, n)
	return 0
}

// waitCount waits until the container has counted past n, and returns
// its count.
func (e *containerdEnv) waitCount(ns, id string, n int) int {
	e.t.Helper()
	return waitPast(e.t, id, n, func() int { return e.counts(ns, id) })
}

func (e *containerdEnv) taskStatus(ns, id string) string {
	out, _ := e.tryNS(ns, "task", "ls")
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) == 3 && f[0] == id {
			return f[2]
		}
	}
	return ""
}

func (e *containerdEnv) images() string { return e.ctr("image", "ls", "-q") }

func (e *containerdEnv) remove(ns, id string) {
	e.t.Helper()
	if e.taskStatus(ns, id) != "" {
		_, _ = e.tryNS(ns, "task", "kill", "-s", "SIGKILL", id)
		e.waitStatus(ns, id, "STOPPED")
		e.ctrNS(ns, "task", "delete", id)
	}
	e.ctrNS(ns, "container", "delete", id)
}

func (e *containerdEnv) waitStatus(ns, id, want string) {
	e.t.Helper()
	for range 200 {
		if e.taskStatus(ns, id) == want {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	e.t.Fatalf("task %s is %q, not %s", id, e.taskStatus(ns, id), want)
}

func TestContainerd(t *testing.T) {
	requireRoot(t)
	needCkpt(t)
	if _, err := os.Stat(filepath.Join(repoRoot, "bin", "containerd-shim-ckpt-v2")); err != nil {
		t.Fatalf("no bin/containerd-shim-ckpt-v2: make build builds it")
	}
	dir, err := os.MkdirTemp(workRoot, "containerd-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if !t.Failed() {
			os.RemoveAll(dir)
		}
	})
	busyboxTar := filepath.Join(dir, "busybox.tar")
	if out, err := exec.Command(filepath.Join(repoRoot, "hack", "mkimage.sh"), busyboxTar).CombinedOutput(); err != nil {
		t.Fatalf("mkimage.sh: %v\n%s", err, out)
	}
	a := startContainerd(t, filepath.Join(dir, "a"), busyboxTar)
	log1 := filepath.Join(dir, "c1.log")
	a.ctr("run", "-d", "--snapshotter", a.snap, "--runtime", ckptRuntime, "--log-uri", "file://"+log1,
		busyboxRef, "c1", "sh", "-c", ctrdCounter)
	a.waitCount("default", "c1", 5)
	a.ctr("task", "exec", "--exec-id", "marker", "c1", "sh", "-c", "echo written-before > /marker")

	var taskRef string
	t.Run("task_checkpoint", func(t *testing.T) {
		// Left running: the task carries on, and containerd's pause and
		// resume around the checkpoint leave it running.
		a.t = t
		taskRef = strings.TrimSpace(a.ctr("task", "checkpoint", "c1"))
		if !strings.Contains(a.images(), taskRef) {
			t.Fatalf("checkpoint image %q not in ctr image ls:\n%s", taskRef, a.images())
		}
		if st := a.taskStatus("default", "c1"); st != "RUNNING" {
			t.Fatalf("c1 is %s after a checkpoint that leaves it running", st)
		}
		a.waitCount("default", "c1", a.counts("default", "c1"))
		// With an image path containerd keeps the checkpoint directory
		// (the engine's image in it) and makes no image.
		imgPath, workPath := filepath.Join(dir, "image-path"), filepath.Join(dir, "work-path")
		// ctr names even this checkpoint by the second: the one above may
		// have taken the name.
		for {
			_, err := a.try("task", "checkpoint", "--image-path", imgPath, "--work-path", workPath, "c1")
			if err == nil {
				break
			}
			if !strings.Contains(err.Error(), "already exists") {
				t.Fatal(err)
			}
			time.Sleep(100 * time.Millisecond)
		}
		if _, err := oci.CheckDir(imgPath); err != nil {
			t.Fatalf("ctr task checkpoint --image-path: %v", err)
		}
		a.waitCount("default", "c1", a.counts("default", "c1"))
	})
	a.t = t

	var n0 int
	t.Run("containers_checkpoint_restore_new_name", func(t *testing.T) {
		a.t = t
		n0 = a.counts("default", "c1")
		a.ctr("containers", "checkpoint", "--task", "--rw", "c1", "ckpt/c1:live")
		if !strings.Contains(a.images(), "ckpt/c1:live") {
			t.Fatalf("ckpt/c1:live not in ctr image ls:\n%s", a.images())
		}
		// Under a new name while c1 runs on: c2 gets its own cgroup.
		a.ctr("containers", "restore", "--rw", "--live", "c2", "ckpt/c1:live")
		a.waitStatus("default", "c2", "RUNNING")
		// The rw layer came back (the marker and the count so far), and
		// the count carries on from the checkpoint: counts checks 1..n.
		if n := a.waitCount("default", "c2", n0+10); n <= n0 {
			t.Fatalf("c2 counted to %d, c1 was at %d before the checkpoint", n, n0)
		}
		if m := a.ctr("task", "exec", "--exec-id", "m", "c2", "cat", "/marker"); m != "written-before\n" {
			t.Fatalf("c2's /marker: %q, want the file written before the checkpoint", m)
		}
		ps := a.ctr("task", "ps", "c2")
		if len(strings.Split(strings.TrimSpace(ps), "\n")) < 2 {
			t.Fatalf("ctr task ps c2 lists no process:\n%s", ps)
		}
		a.ctr("task", "kill", "-s", "SIGKILL", "c2")
		a.waitStatus("default", "c2", "STOPPED")
		a.ctr("task", "delete", "c2")
		a.ctr("container", "delete", "c2")
		a.waitCount("default", "c1", a.counts("default", "c1"))
	})
	a.t = t

	exported := filepath.Join(dir, "c1-live.tar")
	t.Run("export", func(t *testing.T) {
		a.t = t
		// The index holds non-JSON blobs: no docker manifest.json. --local:
		// an export through the transfer service once left a truncated
		// tar here.
		a.ctr("image", "export", "--local", "--skip-manifest-json", exported, "ckpt/c1:live")
	})
	a.t = t

	t.Run("restore_same_name", func(t *testing.T) {
		a.t = t
		a.remove("default", "c1")
		a.ctr("containers", "restore", "--rw", "--live", "c1", "ckpt/c1:live")
		a.waitStatus("default", "c1", "RUNNING")
		a.waitCount("default", "c1", n0+10)
	})
	a.t = t

	t.Run("task_checkpoint_exit_stdout", func(t *testing.T) {
		// --exit stops the task; its image is restored into the same
		// container through containerd's client with the same log file
		// (ctr 2.x cannot restore a task image): what the restored task
		// writes to stdout reaches containerd's log, going on from the
		// last line before the checkpoint.
		a.t = t
		a.remove("default", "c1")
		log1 := filepath.Join(dir, "c1b.log")
		a.ctr("run", "-d", "--snapshotter", a.snap, "--runtime", ckptRuntime, "--log-uri", "file://"+log1,
			busyboxRef, "c1", "sh", "-c", ctrdCounter)
		a.waitCount("default", "c1", 5)
		ref := strings.TrimSpace(a.ctr("task", "checkpoint", "--exit", "c1"))
		a.waitStatus("default", "c1", "STOPPED")
		if !strings.Contains(a.images(), ref) {
			t.Fatalf("checkpoint image %q not in ctr image ls:\n%s", ref, a.images())
		}
		before, err := os.ReadFile(log1)
		if err != nil {
			t.Fatal(err)
		}
		last := consecutive(t, "c1's log", string(before), 1)
		a.ctr("task", "delete", "c1")
		restoreTaskImage(t, a.address, "c1", ref, log1)
		a.waitStatus("default", "c1", "RUNNING")
		for range 200 {
			b, _ := os.ReadFile(log1)
			if bytes.Count(b, []byte("\n")) >= last+5 {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		after, _ := os.ReadFile(log1)
		if n := consecutive(t, "c1's log", string(after), 1); n < last+5 {
			t.Fatalf("c1 logged up to %d after the restore; %d before", n, last)
		}
		a.waitCount("default", "c1", last)
		a.remove("default", "c1")
	})
	a.t = t

	t.Run("migrate", func(t *testing.T) {
		// Another containerd (own root, state and socket) imports the
		// exported checkpoint and restores it, in another namespace.
		b := startContainerd(t, filepath.Join(dir, "b"), busyboxTar)
		b.ctrNS("migrated", "image", "import", "--snapshotter", b.snap, busyboxTar)
		b.ctrNS("migrated", "image", "import", exported)
		b.ctrNS("migrated", "containers", "restore", "--rw", "--live", "c1", "ckpt/c1:live")
		b.waitStatus("migrated", "c1", "RUNNING")
		b.waitCount("migrated", "c1", n0+10)
		if m := b.ctrNS("migrated", "task", "exec", "--exec-id", "m", "c1", "cat", "/marker"); m != "written-before\n" {
			t.Fatalf("migrated c1's /marker: %q", m)
		}
		b.remove("migrated", "c1")
	})

	t.Run("other_runtime", func(t *testing.T) {
		// A container whose runc options name another OCI runtime (here
		// a stand-in that runs containers through ckpt but is not ckpt)
		// runs, but is not checkpointed by the engine.
		a.t = t
		fake := filepath.Join(dir, "other-runtime")
		script := "#!/bin/sh\n# an OCI runtime that is not ckpt\nif [ \"$1\" = features ]; then echo '{\"ociVersionMin\":\"1.0.0\"}'; exit 0; fi\nexec " + ckptBin + " \"$@\"\n"
		if err := os.WriteFile(fake, []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
		runWithBinary(t, a.address, a.snap, "other", fake, ctrdCounter)
		a.waitStatus("default", "other", "RUNNING")
		_, err := a.try("task", "checkpoint", "other")
		if err == nil || !strings.Contains(err.Error(), "is not ckpt") {
			t.Errorf("checkpoint of a container of another runtime: %v, want an error saying it is not ckpt", err)
		}
		if st := a.taskStatus("default", "other"); st != "RUNNING" {
			t.Errorf("the refused checkpoint left it %s", st)
		}
		a.remove("default", "other")
	})
	a.t = t

	t.Run("bad_checkpoint_layer", func(t *testing.T) {
		// A corrupt engine image and a layer without one (another
		// runtime's, CRIU files) fail at create: no task is left.
		a.t = t
		for _, c := range []struct {
			ref, want string
			layer     func([]byte) []byte
		}{
			{"ckpt/corrupt:1", "corrupt image image.ckpt", corruptImage},
			{"ckpt/foreign:1", "holds no image.ckpt", func([]byte) []byte { return tarOf(t, "inventory.img", []byte("criu")) }},
		} {
			bad := filepath.Join(dir, strings.ReplaceAll(c.ref, "/", "_")+".tar")
			rewriteCheckpointLayer(t, exported, bad, c.ref, c.layer)
			a.ctr("image", "import", bad)
			id := "bad" + strings.Split(strings.Split(c.ref, "/")[1], ":")[0]
			_, err := a.try("containers", "restore", "--rw", "--live", id, c.ref)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("restore of %s: %v, want an error saying %q", c.ref, err, c.want)
			}
			if st := a.taskStatus("default", id); st != "" {
				t.Errorf("restore of %s left task %s %s", c.ref, id, st)
			}
			_, _ = a.try("container", "delete", id)
		}
	})
}

// corruptImage flips bytes in the middle of image.ckpt in a checkpoint
// layer.
func corruptImage(layer []byte) []byte {
	var out bytes.Buffer
	tw := tar.NewWriter(&out)
	tr := tar.NewReader(bytes.NewReader(layer))
	for {
		h, err := tr.Next()
		if err != nil {
			break
		}
		b, _ := io.ReadAll(tr)
		if filepath.Base(h.Name) == "image.ckpt" {
			for i := len(b) / 2; i < len(b)/2+16 && i < len(b); i++ {
				b[i] ^= 0xff
			}
		}
		_ = tw.WriteHeader(h)
		_, _ = tw.Write(b)
	}
	_ = tw.Close()
	return out.Bytes()
}

func tarOf(t *testing.T, name string, data []byte) []byte {
	var out bytes.Buffer
	tw := tar.NewWriter(&out)
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o600, Size: int64(len(data)), Typeflag: tar.TypeReg}); err != nil {
		t.Fatal(err)
	}
	_, _ = tw.Write(data)
	_ = tw.Close()
	return out.Bytes()
}

// rewriteCheckpointLayer copies an exported checkpoint image (an OCI image
// layout in a tar) to out under name ref, with its checkpoint layer
// replaced by edit's result (digests fixed up: only the content is bad).
func rewriteCheckpointLayer(t *testing.T, in, out, ref string, edit func([]byte) []byte) {
	t.Helper()
	files := map[string][]byte{}
	var order []string
	f, err := os.Open(in)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		files[h.Name] = b
		order = append(order, h.Name)
	}
	put := func(b []byte) (string, int) {
		sum := sha256.Sum256(b)
		d := "sha256:" + hex.EncodeToString(sum[:])
		name := "blobs/sha256/" + hex.EncodeToString(sum[:])
		if _, ok := files[name]; !ok {
			order = append(order, name)
		}
		files[name] = b
		return d, len(b)
	}
	blob := func(digest string) []byte {
		b, ok := files["blobs/sha256/"+strings.TrimPrefix(digest, "sha256:")]
		if !ok {
			t.Fatalf("%s: no blob %s", in, digest)
		}
		return b
	}
	var top map[string]any
	if err := json.Unmarshal(files["index.json"], &top); err != nil {
		t.Fatal(err)
	}
	mans := top["manifests"].([]any)
	desc := mans[0].(map[string]any)
	var idx map[string]any
	if err := json.Unmarshal(blob(desc["digest"].(string)), &idx); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, m := range idx["manifests"].([]any) {
		d := m.(map[string]any)
		if d["mediaType"] == oci.MediaTypeCheckpoint {
			dg, size := put(edit(blob(d["digest"].(string))))
			d["digest"], d["size"] = dg, size
			found = true
		}
	}
	if !found {
		t.Fatalf("%s: no checkpoint layer", in)
	}
	b, _ := json.Marshal(idx)
	dg, size := put(b)
	desc["digest"], desc["size"] = dg, size
	desc["annotations"] = map[string]any{"io.containerd.image.name": ref, "org.opencontainers.image.ref.name": strings.Split(ref, ":")[1]}
	top["manifests"] = []any{desc}
	files["index.json"], _ = json.Marshal(top)
	o, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	tw := tar.NewWriter(o)
	for _, name := range order {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(files[name])), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(files[name]); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
}

// restoreTaskImage starts a task of container id from a task checkpoint
// image, its stdout and stderr going to the log file, through containerd's
// client.
func restoreTaskImage(t *testing.T, address, id, ref, log string) {
	t.Helper()
	client, err := containerd.New(address)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	ctx := namespaces.WithNamespace(t.Context(), "default")
	c, err := client.LoadContainer(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	img, err := client.GetImage(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	task, err := c.NewTask(ctx, cio.LogFile(log), containerd.WithTaskCheckpoint(img))
	if err != nil {
		t.Fatalf("restore %s from %s: %v", id, ref, err)
	}
	if err := task.Start(ctx); err != nil {
		t.Fatalf("restore %s from %s: start: %v", id, ref, err)
	}
}

// reapContainerd reaps containerd and shims that exited: started in the
// background, they were reparented to this process, a subreaper.
func reapContainerd() {
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...
		i := bytes.LastIndexByte(b, ')')
		comm := string(b[bytes.IndexByte(b, '(')+1 : i])
		f := strings.Fields(string(b[i+1:]))
		if len(f) < 2 || f[0] != "Z" || f[1] != strconv.Itoa(os.Getpid()) {
			continue
		}
		if comm == "containerd" || strings.HasPrefix(comm, "containerd-shim") {
			_, _ = unix.Wait4(pid, nil, unix.WNOHANG, nil)
		}
	}
}

// runWithBinary runs a container on the ckpt runtime type whose runc
// options name another OCI runtime binary (ctr allows that for runc's
// runtime type only).
func runWithBinary(t *testing.T, address, snapshotter, id, binary, script string) {
	t.Helper()
	client, err := containerd.New(address)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	ctx := namespaces.WithNamespace(t.Context(), "default")
	img, err := client.GetImage(ctx, busyboxRef)
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.NewContainer(ctx, id,
		containerd.WithSnapshotter(snapshotter),
		containerd.WithNewSnapshot(id, img),
		containerd.WithNewSpec(ctrdoci.WithImageConfig(img), ctrdoci.WithProcessArgs("sh", "-c", script)),
		containerd.WithRuntime(ckptRuntime, &options.Options{BinaryName: binary}))
	if err != nil {
		t.Fatal(err)
	}
	task, err := c.NewTask(ctx, cio.NullIO)
	if err != nil {
		t.Fatalf("create %s with runtime binary %s: %v", id, binary, err)
	}
	if err := task.Start(ctx); err != nil {
		t.Fatalf("start %s: %v", id, err)
	}
}
