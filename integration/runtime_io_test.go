// The OCI runtime with images from elsewhere, terminals and a real server;
// runtime_test.go has the harness and the lifecycle.
package integration

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
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

// processImage checkpoints a plain process (not a container) and returns
// its image directory.
func (rt *ociRuntime) processImage() string {
	rt.t.Helper()
	cmd := exec.Command("/bin/busybox", "sleep", "1000")
	if err := cmd.Start(); err != nil {
		rt.t.Fatal(err)
	}
	dir := filepath.Join(rt.dir, "procimg")
	_, stderr, err := rt.try("checkpoint", "--pid", strconv.Itoa(cmd.Process.Pid), "--image-path", dir)
	cmd.Wait()
	if err != nil {
		rt.t.Fatalf("checkpoint of a process: %v\n%s", err, stderr)
	}
	return dir
}

// TestRuntimeImageTarball checks hack/mkimage.sh's OCI image: every blob
// has the digest and size its descriptor says, and the layer is a root
// file system `ckpt run` runs.
func TestRuntimeImageTarball(t *testing.T) {
	rt := newOCIRuntime(t)
	tarPath := filepath.Join(rt.dir, "image.tar")
	cmd := exec.Command(filepath.Join(repoRoot, "hack", "mkimage.sh"), tarPath)
	cmd.Env = append(os.Environ(), "CKPT="+ckptBin)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("mkimage.sh: %v\n%s", err, out)
	}
	layout := filepath.Join(rt.dir, "layout")
	os.MkdirAll(layout, 0o755)
	if out, err := exec.Command("tar", "-C", layout, "-xf", tarPath).CombinedOutput(); err != nil {
		t.Fatalf("untar: %v\n%s", err, out)
	}
	type desc struct {
		MediaType   string            `json:"mediaType"`
		Digest      string            `json:"digest"`
		Size        int64             `json:"size"`
		Annotations map[string]string `json:"annotations"`
	}
	read := func(d desc) []byte {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(layout, "blobs", "sha256", strings.TrimPrefix(d.Digest, "sha256:")))
		if err != nil {
			t.Fatal(err)
		}
		if sum := sha256.Sum256(b); "sha256:"+hex.EncodeToString(sum[:]) != d.Digest || int64(len(b)) != d.Size {
			t.Fatalf("blob %s: %d bytes, digest does not match (or size %d)", d.Digest, len(b), d.Size)
		}
		return b
	}
	var index struct {
		Manifests []desc `json:"manifests"`
	}
	b, err := os.ReadFile(filepath.Join(layout, "index.json"))
	if err != nil || json.Unmarshal(b, &index) != nil || len(index.Manifests) != 1 ||
		index.Manifests[0].Annotations["io.containerd.image.name"] == "" {
		t.Fatalf("index.json: %v %s", err, b)
	}
	var manifest struct {
		Config desc   `json:"config"`
		Layers []desc `json:"layers"`
	}
	if err := json.Unmarshal(read(index.Manifests[0]), &manifest); err != nil || len(manifest.Layers) != 1 {
		t.Fatalf("manifest: %v %+v", err, manifest)
	}
	var config struct {
		Rootfs struct {
			DiffIDs []string `json:"diff_ids"`
		} `json:"rootfs"`
	}
	if err := json.Unmarshal(read(manifest.Config), &config); err != nil || len(config.Rootfs.DiffIDs) != 1 ||
		config.Rootfs.DiffIDs[0] != manifest.Layers[0].Digest {
		t.Fatalf("config: %v %+v", err, config)
	}
	read(manifest.Layers[0])
	bundle := filepath.Join(rt.dir, "fromimage")
	os.MkdirAll(filepath.Join(bundle, "rootfs"), 0o755)
	layer := filepath.Join(layout, "blobs", "sha256", strings.TrimPrefix(manifest.Layers[0].Digest, "sha256:"))
	if out, err := exec.Command("tar", "-C", filepath.Join(bundle, "rootfs"), "-xf", layer).CombinedOutput(); err != nil {
		t.Fatalf("untar the layer: %v\n%s", err, out)
	}
	rt.ok("spec", "--bundle", bundle)
	rt.editConfig(bundle, func(c map[string]any) {
		p := c["process"].(map[string]any)
		p["args"] = []string{"sh", "-c", "test -x /bin/busybox && exit 7"}
		p["terminal"] = false
	})
	if _, stderr, err := rt.try("run", "--bundle", bundle, "fromimage"); exitCode(err) != 7 {
		t.Fatalf("run from the image's layer: %v %s", err, stderr)
	}
	rt.gone("fromimage")
}

// consoleSocket listens on a unix socket for the master of a container's
// terminal (runc's --console-socket protocol: one SCM_RIGHTS message) and
// sends every "tick N" the container prints on it to ticks.
func consoleSocket(t *testing.T, path string) <-chan int {
	t.Helper()
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	ticks := make(chan int, 1024)
	go func() {
		defer close(ticks)
		defer l.Close()
		conn, err := l.AcceptUnix()
		if err != nil {
			return
		}
		defer conn.Close()
		buf, oob := make([]byte, 4096), make([]byte, 4096)
		_, oobn, _, _, err := conn.ReadMsgUnix(buf, oob)
		if err != nil {
			return
		}
		msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
		if err != nil || len(msgs) != 1 {
			return
		}
		fds, err := unix.ParseUnixRights(&msgs[0])
		if err != nil || len(fds) != 1 {
			return
		}
		master := os.NewFile(uintptr(fds[0]), "pty-master")
		defer master.Close()
		sc := bufio.NewScanner(master)
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) == 2 && f[0] == "tick" {
				if n, err := strconv.Atoi(f[1]); err == nil {
					ticks <- n
				}
			}
		}
	}()
	return ticks
}

// ttyNr is field 7 of the container init's stat: its controlling terminal.
func (rt *ociRuntime) ttyNr(id string) string {
	rt.t.Helper()
	stat := rt.ok("exec", id, "cat", "/proc/1/stat")
	f := strings.Fields(stat[strings.LastIndex(stat, ")")+1:])
	return f[4]
}

// TestRuntimeTerminal checkpoints a container whose process has a terminal
// (handed out through --console-socket) and restores it with a new one:
// the process prints on to the new terminal, which is its controlling
// terminal.
func TestRuntimeTerminal(t *testing.T) {
	rt := newOCIRuntime(t)
	b := rt.bundle("tty", func(c map[string]any) { c["process"].(map[string]any)["terminal"] = true },
		"sh", "-c", "i=0; while :; do i=$((i+1)); echo tick $i; sleep 0.1; done")
	ticks1 := consoleSocket(t, filepath.Join(rt.dir, "console1.sock"))
	rt.ok("run", "-d", "--console-socket", filepath.Join(rt.dir, "console1.sock"), "--bundle", b, "c1")
	for n := range ticks1 {
		if n >= 3 {
			break
		}
	}
	if tty := rt.ttyNr("c1"); tty == "0" {
		t.Fatalf("c1's init has no controlling terminal")
	}
	rt.ok("checkpoint", "--image-path", filepath.Join(rt.dir, "img"), "c1")
	rt.gone("c1")
	last := 0
	for n := range ticks1 { // until the old terminal hangs up
		last = n
	}
	ticks2 := consoleSocket(t, filepath.Join(rt.dir, "console2.sock"))
	rt.ok("restore", "--console-socket", filepath.Join(rt.dir, "console2.sock"), "--bundle", b,
		"--image-path", filepath.Join(rt.dir, "img"), "-d", "c2")
	first, ok := <-ticks2
	if !ok || first <= last {
		t.Fatalf("the restored process printed tick %d (%v) on its new terminal; the last one before was %d", first, ok, last)
	}
	if next := <-ticks2; next != first+1 {
		t.Fatalf("after tick %d came %d", first, next)
	}
	if tty := rt.ttyNr("c2"); tty == "0" {
		t.Fatalf("c2's init has no controlling terminal")
	}
	if fd0 := strings.TrimSpace(rt.ok("exec", "c2", "readlink", "/proc/1/fd/0")); !strings.HasPrefix(fd0, "/dev/pts/") {
		t.Fatalf("c2's init has fd 0 on %q, not its terminal", fd0)
	}
	rt.ok("delete", "--force", "c2")
}

// TestRuntimeHTTPServer: a container running `python3 -m http.server`
// answers on its port after a checkpoint and a restore under another id.
// The rootfs is the busybox bundle with the host's /usr bound read-only
// into it (Debian's python3 and its libraries; /lib and /lib64 are links
// into /usr, as on the host). The server listens in the container's own
// network namespace, which the runtime makes (loopback only): requests are
// made from inside it, with busybox wget run by `ckpt exec`. The server
// serves a tmpfs of the container, where the container's init wrote a
// random token before it became python3: the same token after the restore
// shows the container was restored, not started again.
func TestRuntimeHTTPServer(t *testing.T) {
	rt := newOCIRuntime(t)
	python := "/usr/bin/python3"
	if _, err := os.Stat(python); err != nil {
		t.Skipf("no %s (hack/deps.sh installs python3)", python)
	}
	const port = "8000"
	b := rt.bundle("http", func(c map[string]any) {
		c["mounts"] = append(c["mounts"].([]any), map[string]any{
			"destination": "/usr", "type": "bind", "source": "/usr", "options": []string{"rbind", "ro", "nosuid", "nodev"},
		}, map[string]any{
			"destination": "/run", "type": "tmpfs", "source": "tmpfs", "options": []string{"nosuid", "nodev", "size=1m"},
		})
	}, "sh", "-c", `exec </dev/null >/dev/null 2>&1
mkdir /run/www && cp /www/index.html /run/www/ && tr -dc a-z0-9 </dev/urandom | head -c 32 >/run/www/token
exec `+python+` -m http.server `+port+` --bind 127.0.0.1 --directory /run/www`)
	rootfs := filepath.Join(b, "rootfs")
	for _, l := range []string{"lib", "lib64"} {
		if err := os.Symlink("usr/"+l, filepath.Join(rootfs, l)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(rootfs, "usr"), 0o755); err != nil {
		t.Fatal(err)
	}
	body := strings.Repeat("served from a ckpt container\n", 500)
	if err := os.MkdirAll(filepath.Join(rootfs, "www"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(rootfs, "www", "index.html"), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	get := func(id, file string) (string, error) {
		out, stderr, err := rt.try("exec", id, "wget", "-qO-", "http://127.0.0.1:"+port+"/"+file)
		if err != nil {
			return "", fmt.Errorf("%w: %s", err, stderr)
		}
		return out, nil
	}

	rt.ok("run", "-d", "--bundle", b, "c1")
	var got string
	var err error
	waitFor(t, "the server in c1 to answer", func() bool { got, err = get("c1", "index.html"); return err == nil })
	if got != body {
		t.Fatalf("c1: wrong body (%d bytes)", len(got))
	}
	token, err := get("c1", "token")
	if err != nil || len(token) != 32 {
		t.Fatalf("c1: token %q: %v", token, err)
	}
	// The connection wget made is gone on the server's side before the
	// checkpoint (see waitNoConn).
	port16, _ := strconv.Atoi(port)
	waitNoConn(t, rt.state("c1").Pid, port16)
	img := filepath.Join(rt.dir, "img")
	rt.ok("checkpoint", "--image-path", img, "c1")
	rt.gone("c1")

	rt.ok("restore", "--bundle", b, "--image-path", img, "-d", "c2")
	if st := rt.state("c2"); st.Status != "running" {
		t.Fatalf("c2 after restore: %+v", st)
	}
	// The restored server answers at once: it was listening at the
	// checkpoint, so nothing waits for it to start.
	for i := 0; i < 3; i++ {
		if got, err = get("c2", "index.html"); err != nil || got != body {
			t.Fatalf("c2, request %d: %v, %d bytes", i, err, len(got))
		}
	}
	if got, err = get("c2", "token"); err != nil || got != token {
		t.Fatalf("c2 serves token %q (%v); c1 served %q: the container was started again, not restored", got, err, token)
	}
	rt.ok("delete", "--force", "c2")
	rt.gone("c2")
}
