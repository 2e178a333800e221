package integration

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Kubernetes end to end, with crictl standing in for the kubelet: a
// private containerd with its CRI plugin (hack/containerd.sh, CONTAINERD_CRI=1)
// whose default runtime handler `ckpt` is io.containerd.ckpt.v2, Debian's
// CNI plugins for pod networks, `crictl checkpoint --export` (the kubelet's
// checkpoint API) and containerd 2.3's restore through CreateContainer with
// the archive as the image.

// criEnv is one private containerd with CRI.
type criEnv struct {
	t       *testing.T
	dir     string
	version string
	crictl  string
	ctr     string
	address string
	snap    string // the snapshotter
}

const (
	pauseRef = "docker.io/library/ckpt-pause:latest"
	// CRI's NamespaceMode: POD 0, CONTAINER 1, NODE 2.
	nsPod, nsContainer, nsNode = 0, 1, 2
)

// criImages builds the busybox image and a sandbox ("pause") image of it
// whose command sleeps forever.
func criImages(t *testing.T, dir string) (busybox, pause string) {
	t.Helper()
	busybox, pause = filepath.Join(dir, "busybox.tar"), filepath.Join(dir, "pause.tar")
	mk := filepath.Join(repoRoot, "hack", "mkimage.sh")
	if out, err := exec.Command(mk, busybox).CombinedOutput(); err != nil {
		t.Fatalf("mkimage.sh: %v\n%s", err, out)
	}
	cmd := exec.Command(mk, pause, pauseRef)
	// A sandbox that never forks: in a shared pid namespace it holds pid
	// 1 and nothing else, so a restore finds its pids free. (CRI kills a
	// sandbox with SIGKILL; orphans it would reap are not made here.)
	cmd.Env = append(os.Environ(), `IMAGE_CMD=["sleep","86400000"]`)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("mkimage.sh (pause): %v\n%s", err, out)
	}
	return busybox, pause
}

// startCRI starts containerd VERSION with CRI under dir, its handler's
// options table handlerOptions (TOML lines, "" for none), and imports the
// images into CRI's namespace. Stopped, its pods removed, when the test
// ends.
func startCRI(t *testing.T, dir, version, handlerOptions string, imgs ...string) *criEnv {
	t.Helper()
	script := filepath.Join(repoRoot, "hack", "containerd.sh")
	env := append(os.Environ(), "CONTAINERD_VERSION="+version, "CONTAINERD_CRI=1", "CKPT_HANDLER_OPTIONS="+handlerOptions)
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(script, args...)
		cmd.Env = env
		// containerd must not hold the test's stdout or stderr.
		cmd.Stderr = nil
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("hack/containerd.sh %s: %v\n%s", strings.Join(args, " "), err, stderrOf(err))
		}
		return strings.TrimSpace(string(out))
	}
	cache := run("build")
	crictlDir := run("crictl")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	e := &criEnv{t: t, dir: dir, version: version, crictl: filepath.Join(crictlDir, "crictl"), ctr: filepath.Join(cache, "ctr")}
	e.address = run("start", dir)
	t.Cleanup(func() {
		cmd := exec.Command(script, "stop", dir)
		cmd.Env = env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("hack/containerd.sh stop: %v\n%s", err, out)
		}
		reapContainerd()
	})
	cfg := fmt.Sprintf("runtime-endpoint: unix://%s\nimage-endpoint: unix://%s\ntimeout: 60\n", e.address, e.address)
	if err := os.WriteFile(filepath.Join(dir, "crictl.yaml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	snap, err := os.ReadFile(filepath.Join(dir, "snapshotter"))
	if err != nil {
		t.Fatal(err)
	}
	e.snap = strings.TrimSpace(string(snap))
	for _, img := range imgs {
		e.ctrK8s("image", "import", "--snapshotter", e.snap, img)
	}
	return e
}

// ctrK8s runs ctr in CRI's namespace.
func (e *criEnv) ctrK8s(args ...string) {
	e.t.Helper()
	cmd := exec.Command(e.ctr, append([]string{"--address", e.address, "--namespace", "k8s.io"}, args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		e.t.Fatalf("ctr %s (containerd %s): %v\n%s", strings.Join(args, " "), e.version, err, out)
	}
}

// try runs crictl; its warnings (no crictl.yaml in /etc, cgroup v1) are
// dropped from the error.
func (e *criEnv) try(args ...string) (string, error) {
	cmd := exec.Command(e.crictl, append([]string{"--config", filepath.Join(e.dir, "crictl.yaml")}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil {
		var errs []string
		for _, l := range strings.Split(stderr.String(), "\n") {
			if l != "" && !strings.Contains(l, "level=warning") {
				errs = append(errs, l)
			}
		}
		return stdout.String(), fmt.Errorf("crictl %s (containerd %s): %w: %s", strings.Join(args, " "), e.version, err, strings.Join(errs, "\n"))
	}
	return strings.TrimSpace(stdout.String()), nil
}

func (e *criEnv) crictlOK(args ...string) string {
	e.t.Helper()
	out, err := e.try(args...)
	if err != nil {
		e.t.Fatal(err)
	}
	return out
}

// writeJSON writes v as a crictl config file named name under the env's
// directory and returns its path.
func (e *criEnv) writeJSON(name string, v any) string {
	e.t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		e.t.Fatal(err)
	}
	p := filepath.Join(e.dir, name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		e.t.Fatal(err)
	}
	return p
}

// pod starts a pod sandbox with the network and pid namespace modes
// given, a unique uid, logs under the env's directory; it returns the
// pod's id and its config file.
func (e *criEnv) pod(name string, network, pid int) (string, string) {
	e.t.Helper()
	cfg := e.writeJSON(name+".pod.json", map[string]any{
		"metadata":      map[string]any{"name": name, "namespace": "default", "uid": fmt.Sprintf("%s-%d-%d", name, os.Getpid(), time.Now().UnixNano())},
		"log_directory": filepath.Join(e.dir, "logs", name),
		"linux":         map[string]any{"security_context": map[string]any{"namespace_options": map[string]any{"network": network, "pid": pid}}},
	})
	return e.crictlOK("runp", cfg), cfg
}

// container creates and starts a container in pod from image (an image
// reference, or an archive to restore from) running script; it returns
// its id.
func (e *criEnv) container(pod, podCfg, name, image, script string, network, pid int) string {
	e.t.Helper()
	cfg := map[string]any{
		"metadata": map[string]any{"name": name},
		"image":    map[string]any{"image": image},
		"log_path": name + ".log",
		"linux":    map[string]any{"security_context": map[string]any{"namespace_options": map[string]any{"network": network, "pid": pid}}},
	}
	if script != "" {
		cfg["command"] = []string{"sh", "-c", script}
	}
	id := e.crictlOK("create", pod, e.writeJSON(name+".ctr.json", cfg), podCfg)
	e.crictlOK("start", id)
	return id
}

// counts reads the container's /count through `crictl exec` and checks it
// holds 1, 2, ... n; it returns n.
func (e *criEnv) counts(id string) int {
	e.t.Helper()
	return consecutive(e.t, id+":/count", e.crictlOK("exec", id, "cat", "/count"), 1)
}

func (e *criEnv) waitCount(id string, n int) int {
	e.t.Helper()
	return waitPast(e.t, id, n, func() int { return e.counts(id) })
}

// podIP is the pod's address on the CNI network.
func (e *criEnv) podIP(pod string) string {
	e.t.Helper()
	var st struct {
		Status struct {
			Network struct {
				IP string `json:"ip"`
			} `json:"network"`
		} `json:"status"`
	}
	if err := json.Unmarshal([]byte(e.crictlOK("inspectp", "-o", "json", pod)), &st); err != nil {
		e.t.Fatal(err)
	}
	if st.Status.Network.IP == "" {
		e.t.Fatalf("pod %s has no IP", pod)
	}
	return st.Status.Network.IP
}

// served fetches /count from the server on addr (host:port) and checks
// it holds 1, 2, ... n; it returns n.
func served(t *testing.T, addr string) int {
	t.Helper()
	var last error
	for range 100 {
		c := http.Client{Timeout: 5 * time.Second}
		resp, err := c.Get("http://" + addr + "/count")
		if err == nil {
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err == nil && resp.StatusCode == http.StatusOK {
				return consecutive(t, addr+"/count", string(b), 1)
			}
			last = fmt.Errorf("status %s", resp.Status)
			if err != nil {
				last = fmt.Errorf("status %s: %w", resp.Status, err)
			}
		} else {
			last = err
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("GET http://%s/count: %v", addr, last)
	return 0
}

func waitServed(t *testing.T, addr string, n int) int {
	t.Helper()
	return waitPast(t, addr, n, func() int { return served(t, addr) })
}

// criServer counts into /www/count (and /count) and serves /www on port
// 8080 with busybox httpd; a connection to it is served by a child of
// httpd holding the established socket.
const criServer = `mkdir -p /www; (i=0; while :; do i=$((i+1)); echo $i >> /www/count; echo $i >> /count; sleep 0.05; done) & exec httpd -f -p 8080 -h /www`

// criConnServer is criServer with a connection inside the pod that
// carries a count: nc listens on port 9000 and runs a shell sending 1, 2,
// 3... into the connection it accepts, a second nc connects to it over
// 127.0.0.1 and writes what it gets into /conn (its stdin a pipe that
// never ends: at the end of its input nc would shut its side down, and
// a half-closed connection is refused). The connection is established
// across the checkpoint and the restore (both ends are the container's:
// the loopback address exists in any pod), so /conn counting on without a
// gap or a repeat shows its queued data and sequence numbers came back.
const criConnServer = `mkdir -p /www; (i=0; while :; do i=$((i+1)); echo $i >> /www/count; echo $i >> /count; sleep 0.05; done) &
echo 'i=0; while :; do i=$((i+1)); echo $i; sleep 0.05; done' > /sender
nc -l -p 9000 -e sh /sender &
(sleep 1; sleep 2147483647 | nc 127.0.0.1 9000 > /conn) &
exec httpd -f -p 8080 -h /www`

// connCounts reads the container's /conn (criConnServer) and checks it is
// 1, 2, ... n; it returns n (0 before the connection is made).
func (e *criEnv) connCounts(id string) int {
	e.t.Helper()
	out, err := e.try("exec", id, "cat", "/conn")
	if err != nil {
		if strings.Contains(err.Error(), "No such file") {
			return 0
		}
		e.t.Fatal(err)
	}
	return consecutive(e.t, id+":/conn", out, 1)
}

func (e *criEnv) waitConn(id string, n int) int {
	e.t.Helper()
	return waitPast(e.t, id+":/conn", n, func() int { return e.connCounts(id) })
}

func TestCRI(t *testing.T) {
	requireRoot(t)
	needCkpt(t)
	for _, p := range []string{"/usr/lib/cni/bridge", "/usr/lib/cni/host-local", "/usr/lib/cni/loopback"} {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("no CNI plugin %s (hack/deps.sh installs containernetworking-plugins): %v", p, err)
		}
	}
	if _, err := exec.LookPath("criu"); err != nil {
		t.Fatalf("containerd's CRI plugin checkpoints only with a criu binary on its PATH (hack/deps.sh installs Debian's): %v", err)
	}
	dir := t.TempDir()
	busybox, pause := criImages(t, dir)
	// containerd 2.4.2 without CRI: each archive is imported there with
	// ckpt import and restored with ctr (2.4 has no restore through
	// CreateContainer).
	imp := startContainerd(t, filepath.Join(dir, "import"), busybox)

	// containerd 2.3: restore through CreateContainer with the archive as
	// the image; a handler without options.
	t.Run("v2.3.7", func(t *testing.T) {
		e := startCRI(t, filepath.Join(dir, "v237"), "v2.3.7", "", busybox, pause)
		criHostPod(t, e, imp)
		criSharedPod(t, e, imp)
		criNetPod(t, e, imp)
	})

	// containerd 2.3 with a handler whose options file says
	// tcp_established: the kubelet's checkpoint (no options) takes
	// established connections, and the restore into a new pod brings
	// back those it can (both ends in the container).
	t.Run("v2.3.7-handler-options", func(t *testing.T) {
		sub := filepath.Join(dir, "v237-options")
		e := startCRI(t, sub, "v2.3.7", handlerOptions(t, sub), busybox, pause)
		criOptionsPod(t, e, imp, true)
	})

	// containerd 2.4: the same handler options (and a runc key CRI's
	// examples carry): pods start, a checkpoint takes the established
	// connection.
	t.Run("v2.4.2-handler-options", func(t *testing.T) {
		sub := filepath.Join(dir, "v242")
		e := startCRI(t, sub, "v2.4.2", handlerOptions(t, sub), busybox, pause)
		criOptionsPod(t, e, imp, false)
	})
}

// handlerOptions writes a ckpt options file under dir and returns the
// handler's options table naming it.
func handlerOptions(t *testing.T, dir string) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "ckpt.toml")
	if err := os.WriteFile(conf, []byte("tcp_established = true\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("SystemdCgroup = false\nConfigPath = %q", conf)
}

// importArchive turns archive into the checkpoint image ref in imp's
// containerd (ckpt import) and restores it there with ctr as id; it
// returns ctr's error, if any. The pod the archive came from must still
// run: the spec's bind mounts are its files.
func importArchive(t *testing.T, imp *containerdEnv, archive, ref, id string, flags ...string) error {
	t.Helper()
	args := append([]string{"import", "--address", imp.address, "--namespace", "default", "--snapshotter", imp.snap}, flags...)
	out, err := exec.Command(ckptBin, append(args, archive, ref)...).CombinedOutput()
	if err != nil {
		t.Fatalf("ckpt import %s: %v\n%s", archive, err, out)
	}
	_, err = imp.try("containers", "restore", "--rw", "--live", id, ref)
	return err
}

// criHostPod: a host-network pod, the container in a pid namespace of its
// own, counting. Its archive is also imported into 2.4.2 (restored with
// ctr), and the image import made from it is exported from there,
// imported here and restored through CreateContainer.
func criHostPod(t *testing.T, e *criEnv, imp *containerdEnv) {
	pod, podCfg := e.pod("host", nsNode, nsContainer)
	c := e.container(pod, podCfg, "counter", busyboxRef, ctrdCounter, nsNode, nsContainer)
	n := e.waitCount(c, 10)
	archive := filepath.Join(e.dir, "host.tar")
	e.crictlOK("checkpoint", "--export="+archive, c)
	// Left running, counting on.
	n = e.waitCount(c, n)
	checkArchive(t, archive, "counter")
	const ref = "docker.io/ckpt/host:1"
	if err := importArchive(t, imp, archive, ref, "host"); err != nil {
		t.Fatal(err)
	}
	imp.waitCount("default", "host", imp.counts("default", "host"))
	imp.remove("default", "host")

	pod2, pod2Cfg := e.pod("host-restored", nsNode, nsContainer)
	r := e.container(pod2, pod2Cfg, "counter", archive, "", nsNode, nsContainer)
	// It goes on from its checkpoint: /count is 1, 2, ... with nothing
	// counted twice, past where the checkpoint left it.
	e.waitCount(r, e.counts(r))

	// The imported image, moved to this containerd with ctr image
	// export/import, restored through CreateContainer (the image's
	// manifest layer holds the archive's files).
	exported := filepath.Join(e.dir, "host-image.tar")
	imp.ctr("image", "export", "--local", "--skip-manifest-json", exported, ref)
	e.ctrK8s("image", "import", "--snapshotter", e.snap, exported)
	pod3, pod3Cfg := e.pod("host-imported", nsNode, nsContainer)
	// Without that manifest (ckpt import --no-cri-manifest), the image is
	// ctr's checkpoint only, which CRI cannot take.
	const bare = "docker.io/ckpt/host:bare"
	if out, err := exec.Command(ckptBin, "import", "--address", imp.address, "--snapshotter", imp.snap, "--no-cri-manifest", archive, bare).CombinedOutput(); err != nil {
		t.Fatalf("ckpt import --no-cri-manifest: %v\n%s", err, out)
	}
	imp.ctr("image", "export", "--local", "--skip-manifest-json", exported+".bare", bare)
	e.ctrK8s("image", "import", "--snapshotter", e.snap, exported+".bare")
	if _, err := e.try("create", pod3, e.writeJSON("bare.ctr.json", map[string]any{
		"metadata": map[string]any{"name": "bare"}, "image": map[string]any{"image": bare}, "log_path": "bare.log",
		"linux": map[string]any{"security_context": map[string]any{"namespace_options": map[string]any{"network": nsNode, "pid": nsContainer}}},
	}), pod3Cfg); err == nil || !strings.Contains(err.Error(), "failed to resolve image") {
		t.Fatalf("CRI's create from an imported image without its OCI manifest: %v, want the image not resolved", err)
	}
	r3 := e.container(pod3, pod3Cfg, "counter", ref, "", nsNode, nsContainer)
	e.waitCount(r3, e.counts(r3))
	e.waitCount(c, n)
	e.crictlOK("rmp", "-f", pod, pod2, pod3)
}

// criSharedPod: a pod sharing its pid namespace (shareProcessNamespace):
// the container is a subtree of it, under the pause process.
func criSharedPod(t *testing.T, e *criEnv, imp *containerdEnv) {
	pod, podCfg := e.pod("shared", nsNode, nsPod)
	c := e.container(pod, podCfg, "counter", busyboxRef, ctrdCounter, nsNode, nsPod)
	if out := e.crictlOK("exec", c, "sh", "-c", "cat /proc/1/cmdline | tr '\\0' ' '"); !strings.Contains(out, "sleep 86400000") {
		t.Fatalf("pid 1 of the container's pid namespace is %q, not the pod's pause process", out)
	}
	n := e.waitCount(c, 10)
	// A process started in the container with exec is in its cgroup but
	// not under its first task: refused, not left behind.
	execd := exec.Command(e.crictl, "--config", filepath.Join(e.dir, "crictl.yaml"), "exec", c, "sleep", "7777")
	if err := execd.Start(); err != nil {
		t.Fatal(err)
	}
	var sleeper string
	for range 200 {
		out, _ := e.try("exec", c, "sh", "-c", "ps -o pid,args | grep '[s]leep 7777'")
		if f := strings.Fields(out); len(f) > 0 {
			sleeper = f[0]
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if sleeper == "" {
		t.Fatal("the exec'd sleep does not run")
	}
	if _, err := e.try("checkpoint", "--export="+filepath.Join(e.dir, "exec.tar"), c); err == nil || !strings.Contains(err.Error(), "started with exec") {
		t.Fatalf("checkpoint with an exec'd process outside the container's tree: %v, want it refused", err)
	}
	e.crictlOK("exec", c, "kill", sleeper)
	_ = execd.Wait()
	n = e.waitCount(c, n)
	archive := filepath.Join(e.dir, "shared.tar")
	e.crictlOK("checkpoint", "--export="+archive, c)
	n = e.waitCount(c, n)
	checkArchive(t, archive, "counter")
	// Imported into 2.4.2, restored with ctr: the container gets a pid
	// namespace of its own there (ctr has no pod to share one with), and
	// the subtree of a shared one cannot be restored as its init:
	// refused, naming why, nothing left.
	if err := importArchive(t, imp, archive, "docker.io/ckpt/shared:1", "shared"); err == nil || !strings.Contains(err.Error(), "shared its pod's pid namespace") {
		t.Fatalf("ctr containers restore of a shared pid namespace's container into one of its own: %v, want a refusal naming the pid namespace", err)
	}
	if st := imp.taskStatus("default", "shared"); st != "" {
		t.Fatalf("a refused restore left a task (%s)", st)
	}
	_, _ = imp.try("containers", "delete", "shared")
	// Restored into a new pod's shared pid namespace, with its pids
	// there, it carries on.
	pod2, pod2Cfg := e.pod("shared-restored", nsNode, nsPod)
	r := e.container(pod2, pod2Cfg, "counter", archive, "", nsNode, nsPod)
	e.waitCount(r, e.counts(r))
	if out := e.crictlOK("exec", r, "sh", "-c", "cat /proc/1/cmdline | tr '\\0' ' '"); !strings.Contains(out, "sleep 86400000") {
		t.Fatalf("pid 1 of the restored container's pid namespace is %q, not the new pod's pause process", out)
	}
	// Once more into the same pod: its pids are taken now, refused.
	if id, err := e.try("create", pod2, e.writeJSON("shared-again.ctr.json", map[string]any{
		"metadata": map[string]any{"name": "again"}, "image": map[string]any{"image": archive}, "log_path": "again.log",
		"linux": map[string]any{"security_context": map[string]any{"namespace_options": map[string]any{"network": nsNode, "pid": nsPod}}},
	}), pod2Cfg); err == nil {
		if _, err = e.try("start", id); err == nil || !strings.Contains(err.Error(), "is taken there by") {
			t.Fatalf("restore into a pid namespace where its pids are taken: %v, want it refused naming the pid", err)
		}
	} else {
		t.Fatalf("create: %v", err)
	}
	e.waitCount(r, e.counts(r))
	e.waitCount(c, n)
	e.crictlOK("rmp", "-f", pod, pod2)
}

// criNetPod: a pod on the CNI bridge serving TCP on its IP.
func criNetPod(t *testing.T, e *criEnv, imp *containerdEnv) {
	pod, podCfg := e.pod("net", nsPod, nsContainer)
	c := e.container(pod, podCfg, "server", busyboxRef, criServer, nsPod, nsContainer)
	ip := e.podIP(pod)
	addr := net.JoinHostPort(ip, "8080")
	n := waitServed(t, addr, 10)
	// A connection open across the checkpoint needs tcp_established,
	// which this handler does not give: refused, naming TCP.
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	waitEstablished(t, e, c)
	_, err = e.try("checkpoint", "--export="+filepath.Join(e.dir, "refused.tar"), c)
	if err == nil || !strings.Contains(strings.ToLower(err.Error()), "tcp") {
		conn.Close()
		t.Fatalf("checkpoint with an established connection and no tcp_established: %v, want a refusal naming TCP", err)
	}
	conn.Close()
	n = waitServed(t, addr, n)
	archive := filepath.Join(e.dir, "net.tar")
	e.crictlOK("checkpoint", "--export="+archive, c)
	n = waitServed(t, addr, n)
	checkArchive(t, archive, "server")
	// Imported into 2.4.2 and restored with ctr (in a network namespace
	// of its own there), it counts on.
	if err := importArchive(t, imp, archive, "docker.io/ckpt/net:1", "net"); err != nil {
		t.Fatal(err)
	}
	imp.waitCount("default", "net", imp.counts("default", "net"))
	imp.remove("default", "net")
	pod2, pod2Cfg := e.pod("net-restored", nsPod, nsContainer)
	ip2 := e.podIP(pod2)
	if ip2 == ip {
		t.Fatalf("the new pod has the old one's IP %s", ip)
	}
	e.container(pod2, pod2Cfg, "server", archive, "", nsPod, nsContainer)
	addr2 := net.JoinHostPort(ip2, "8080")
	waitServed(t, addr2, served(t, addr2))
	waitServed(t, addr, n)
	e.crictlOK("rmp", "-f", pod, pod2)
}

// criOptionsPod: on a handler whose options file says tcp_established, a
// CNI pod serving TCP with a connection inside it (criConnServer) and one
// from outside held open is checkpointed (the kubelet passes no options:
// the file's apply), runs on, the held connection served. With restore,
// a second checkpoint (the outside connection closed: its address is
// the old pod's, which a new pod does not have) is restored into a new
// pod, where the inside connection carries its count on and the server
// serves on the new IP; the archives go through inspect, checkpointctl
// and import + ctr restore.
func criOptionsPod(t *testing.T, e *criEnv, imp *containerdEnv, restore bool) {
	pod, podCfg := e.pod("opts", nsPod, nsContainer)
	c := e.container(pod, podCfg, "server", busyboxRef, criConnServer, nsPod, nsContainer)
	addr := net.JoinHostPort(e.podIP(pod), "8080")
	n := waitServed(t, addr, 10)
	m := e.waitConn(c, 10)
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	waitEstablished(t, e, c)
	archive := filepath.Join(e.dir, "opts-held.tar")
	e.crictlOK("checkpoint", "--export="+archive, c)
	checkArchive(t, archive, "server")
	// The connections (the outside one at fds 0 and 1 of httpd's child,
	// both ends of the inside one) are in the image as established TCP
	// sockets.
	if out, err := exec.Command(ckptBin, "inspect", archive, "--sockets").CombinedOutput(); err != nil ||
		strings.Count(string(out), "ESTABLISHED") < 4 || !strings.Contains(string(out), "LISTEN") {
		t.Fatalf("ckpt inspect --sockets: %v\n%s", err, out)
	}
	// Still serving, the held connection too.
	n = waitServed(t, addr, n)
	m = e.waitConn(c, m)
	if _, err := fmt.Fprintf(conn, "GET /count HTTP/1.0\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	b, err := io.ReadAll(conn)
	if err != nil || !bytes.Contains(b, []byte(" 200 OK")) {
		t.Fatalf("the connection held across the checkpoint: %q, %v", b, err)
	}
	if !restore {
		waitServed(t, addr, n)
		e.crictlOK("rmp", "-f", pod)
		return
	}
	waitServerIdle(t, e, c)
	archive = filepath.Join(e.dir, "opts.tar")
	e.crictlOK("checkpoint", "--export="+archive, c)
	checkArchive(t, archive, "server")
	n = waitServed(t, addr, n)
	m = e.waitConn(c, m)
	// Imported into 2.4.2, restored with ctr: ctr passes no options, the
	// image's inside connection needs tcp_established there too: refused
	// without, and carrying on (in a network namespace of its own, whose
	// loopback has the connection's addresses) when ckpt import gives it.
	if err := importArchive(t, imp, archive, "docker.io/ckpt/opts:1", "opts"); err == nil || !strings.Contains(strings.ToLower(err.Error()), "tcp") {
		t.Fatalf("ctr containers restore of established connections without --tcp-established: %v, want a refusal naming TCP", err)
	}
	_, _ = imp.try("containers", "delete", "opts")
	if err := importArchive(t, imp, archive, "docker.io/ckpt/opts:2", "opts", "--tcp-established"); err != nil {
		t.Fatal(err)
	}
	imp.waitCount("default", "opts", imp.counts("default", "opts"))
	inside := func() int {
		out := imp.ctr("task", "exec", "--exec-id", fmt.Sprintf("conn%d", time.Now().UnixNano()), "opts", "cat", "/conn")
		return consecutive(t, "opts:/conn", out, 1)
	}
	waitPast(t, "opts:/conn", inside(), inside)
	imp.remove("default", "opts")
	pod2, pod2Cfg := e.pod("opts-restored", nsPod, nsContainer)
	// The first archive's outside connection has the old pod's address,
	// which the new pod does not have: its restore there is refused.
	if id, err := e.try("create", pod2, e.writeJSON("opts-held.ctr.json", map[string]any{
		"metadata": map[string]any{"name": "held"}, "image": map[string]any{"image": filepath.Join(e.dir, "opts-held.tar")}, "log_path": "held.log",
		"linux": map[string]any{"security_context": map[string]any{"namespace_options": map[string]any{"network": nsPod, "pid": nsContainer}}},
	}), pod2Cfg); err != nil {
		t.Fatalf("create: %v", err)
	} else if _, err := e.try("start", id); err == nil || !strings.Contains(err.Error(), "bind: cannot assign requested address") {
		t.Fatalf("a connection from outside the old pod restored into a new pod without its address: %v, want it refused (bind)", err)
	} else {
		e.crictlOK("rm", "-f", id)
	}
	r := e.container(pod2, pod2Cfg, "server", archive, "", nsPod, nsContainer)
	addr2 := net.JoinHostPort(e.podIP(pod2), "8080")
	waitServed(t, addr2, served(t, addr2))
	e.waitConn(r, e.connCounts(r))
	waitServed(t, addr, n)
	e.waitConn(c, m)
	e.crictlOK("rmp", "-f", pod, pod2)
}

// waitServerIdle waits until httpd has no connection child left.
func waitServerIdle(t *testing.T, e *criEnv, c string) {
	t.Helper()
	for range 200 {
		out, err := e.try("exec", c, "sh", "-c", "ps -o comm | grep -c '^httpd'")
		if err == nil && strings.TrimSpace(out) == "1" {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("container %s still serves a connection", c)
}

// waitEstablished waits until the server's httpd has accepted a
// connection: busybox httpd forks a child per connection, so there are
// two httpd processes (a connection still in the accept queue is refused
// by a checkpoint whatever its options).
func waitEstablished(t *testing.T, e *criEnv, c string) {
	t.Helper()
	for range 100 {
		out, err := e.try("exec", c, "sh", "-c", "ps -o comm | grep -c '^httpd'")
		if err == nil && strings.TrimSpace(out) == "2" {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("container %s does not serve the connection", c)
}

// checkArchive checks a kubelet checkpoint archive: ckpt inspect reads
// it (every view) and names the container and its image; checkpointctl
// show reads it too.
func checkArchive(t *testing.T, archive, name string) {
	t.Helper()
	inspect := func(args ...string) string {
		t.Helper()
		out, err := exec.Command(ckptBin, append([]string{"inspect"}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("ckpt inspect %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	if out := inspect(archive); !strings.Contains(out, busyboxRef) || !strings.Contains(out, name) {
		t.Fatalf("ckpt inspect %s does not name the container %s and its image:\n%s", archive, name, out)
	}
	// Every view, by its heading.
	all := inspect(archive, "--all")
	for _, h := range []string{"Process tree", "Open files", "Sockets", "Mounts", "Checkpoint statistics", "Metadata (config.dump)"} {
		if !strings.Contains(all, "\n"+h+"\n") {
			t.Fatalf("ckpt inspect %s --all has no %q view:\n%s", archive, h, all)
		}
	}
	if out := inspect(archive, "--records"); !strings.Contains(out, "Flags=O_") || !strings.Contains(out, "Comm=\"sh\"") {
		t.Fatalf("ckpt inspect --records renders no open flags or command:\n%s", out)
	}
	var doc struct {
		Image struct {
			Tasks []struct {
				Pid     int      `json:"pid"`
				Cmdline []string `json:"cmdline"`
			} `json:"tasks"`
		} `json:"image"`
	}
	if err := json.Unmarshal([]byte(inspect(archive, "--format", "json")), &doc); err != nil || len(doc.Image.Tasks) == 0 {
		t.Fatalf("ckpt inspect --format json: %v (%d tasks)", err, len(doc.Image.Tasks))
	}
	// Memory: the first task's command line (read from its memory by
	// --format json) is found there.
	first := doc.Image.Tasks[0]
	if len(first.Cmdline) == 0 {
		t.Fatalf("ckpt inspect --format json: task %d has no command line", first.Pid)
	}
	pid, arg := strconv.Itoa(first.Pid), first.Cmdline[len(first.Cmdline)-1]
	if out := inspect(archive, "--pid", pid, "--search", arg); strings.Contains(out, "\n0 matches") {
		t.Fatalf("ckpt inspect --pid %s --search %q finds nothing:\n%s", pid, arg, out)
	}
	if out := inspect(archive, "--pid", pid, "--search-regex", regexp.QuoteMeta(arg), "--context", "8"); strings.Contains(out, "\n0 matches") {
		t.Fatalf("ckpt inspect --pid %s --search-regex finds nothing:\n%s", pid, out)
	}
	if out := inspect(archive, "--pid", pid, "--hexdump"); strings.Count(out, "\n") < 100 {
		t.Fatalf("ckpt inspect --pid %s --hexdump:\n%s", pid, out)
	}
	if out := inspect("list", filepath.Dir(archive)); !strings.Contains(out, filepath.Base(archive)+" ") || !strings.Contains(out, name) {
		t.Fatalf("ckpt inspect list %s does not list %s:\n%s", filepath.Dir(archive), archive, out)
	}
	if out := inspect("diff", archive, archive); strings.Contains(out, " memory ") || strings.Count(out, "\n") != 2 {
		t.Fatalf("ckpt inspect diff of an archive with itself:\n%s", out)
	}
	out, err := exec.Command(filepath.Join(repoRoot, "hack", "containerd.sh"), "checkpointctl").Output()
	if err != nil {
		t.Fatalf("hack/containerd.sh checkpointctl: %v\n%s", err, stderrOf(err))
	}
	bin := filepath.Join(strings.TrimSpace(string(out)), "checkpointctl")
	show, err := exec.Command(bin, "show", archive).CombinedOutput()
	if err != nil || !strings.Contains(string(show), name) || !strings.Contains(string(show), ckptRuntime) {
		t.Fatalf("checkpointctl show %s: %v\n%s", archive, err, show)
	}
}
