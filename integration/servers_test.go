package integration

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The real servers of issue 6, each run as pid 1 of its own pid (and mount)
// namespace, in a network namespace of its own, in use while checkpointed
// and restored.
//
// The network namespace is a named one (ip netns add): the test makes it,
// starts the server in it (nsenter --net), and keeps it with its bind mount
// under /run/netns. To ckpt it is therefore a namespace shared with the
// outside, not the tree's own: the checkpoint records no NETNS, and `ckpt
// restore`, run in that namespace too, puts the restored tree back into
// it. That is what lets a connection cross the checkpoint honestly: the
// test's client sockets are made in the same namespace (on a locked OS
// thread that has entered it), so the test process itself is the peer of
// the server's restored TCP socket, and nothing outside the tree had to be
// restarted for the connection to go on. (A private namespace, which ckpt
// re-creates at restore with only its loopback, would leave no outside
// peer to talk to.)

// netns is a named network namespace for one test, with its loopback up.
type netns struct {
	name string
	path string // its bind mount, /run/netns/NAME
}

func newNetns(t *testing.T) *netns {
	t.Helper()
	requireRoot(t)
	for _, tool := range []string{"ip", "nsenter"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (hack/deps.sh installs it)", tool)
		}
	}
	name := fmt.Sprintf("ckpt-%s-%d", strings.ToLower(strings.TrimPrefix(t.Name(), "TestServer")), os.Getpid())
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add %s: %v\n%s", name, err, out)
	}
	n := &netns{name: name, path: filepath.Join("/run/netns", name)}
	t.Cleanup(func() { exec.Command("ip", "netns", "delete", name).Run() })
	if out, err := exec.Command("ip", "-n", name, "link", "set", "lo", "up").CombinedOutput(); err != nil {
		t.Fatalf("ip -n %s link set lo up: %v\n%s", name, err, out)
	}
	return n
}

// dial connects to addr from inside the namespace. The socket is made on
// an OS thread that has entered the namespace (a socket belongs for good
// to the namespace it was made in); the thread is never given back to the
// Go scheduler, it exits with the goroutine.
func (n *netns) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	type result struct {
		c   net.Conn
		err error
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		f, err := os.Open(n.path)
		if err != nil {
			done <- result{err: err}
			return
		}
		defer f.Close()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			done <- result{err: fmt.Errorf("setns into %s: %w", n.path, err)}
			return
		}
		var d net.Dialer
		c, err := d.DialContext(ctx, network, addr)
		done <- result{c, err}
	}()
	r := <-done
	return r.c, r.err
}

// inode is the namespace's inode, as /proc/PID/ns/net links name it.
func (n *netns) inode(t *testing.T) string {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Stat(n.path, &st); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("net:[%d]", st.Ino)
}

// holds checks that pid runs in the namespace.
func (n *netns) holds(t *testing.T, pid int, when string) {
	t.Helper()
	link, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/net", pid))
	if err != nil {
		t.Fatalf("%s: %v", when, err)
	}
	if want := n.inode(t); link != want {
		t.Fatalf("%s: task %d is in network namespace %s, not the test's %s (%s)", when, pid, link, n.name, want)
	}
}

// server is a server started under unshare(1) for one test.
type server struct {
	t    *testing.T
	dir  string
	ns   *netns
	port int
	pid  int // the server: pid 1 of its namespace, as seen from here
	cmd  *exec.Cmd
}

// startServer runs argv as pid 1 of a new pid namespace (with a /proc of
// its own) in the network namespace ns, and waits until it accepts
// connections on port of ns's 127.0.0.1.
func startServer(t *testing.T, dir string, ns *netns, port int, argv ...string) *server {
	t.Helper()
	requireRoot(t)
	needCkpt(t)
	for _, tool := range []string{"unshare", argv[0]} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (hack/deps.sh installs it)", tool)
		}
	}
	// The server opens its stdio itself: descriptions shared with
	// unshare, outside the namespace, would be refused as leaks.
	// nsenter enters the network namespace only, then execs unshare.
	script := `exec <"$1" >>"$2" 2>&1; shift 2; exec "$@"`
	cmd := exec.Command("nsenter", append([]string{"--net=" + ns.path, "unshare", "--pid", "--fork", "--mount-proc",
		"sh", "-c", script, "sh", os.DevNull, filepath.Join(dir, "server.log")}, argv...)...)
	cmd.Dir = dir
	cmd.SysProcAttr = &unix.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &server{t: t, dir: dir, ns: ns, port: port, cmd: cmd}
	t.Cleanup(func() {
		if s.pid > 0 {
			unix.Kill(s.pid, unix.SIGKILL)
			reap(s.pid, exitTimeout)
		}
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(dir, "server.log"))
			t.Logf("server log:\n%s", b)
		}
	})
	deadline := time.Now().Add(exitTimeout)
	for {
		kids, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", cmd.Process.Pid, cmd.Process.Pid))
		if f := strings.Fields(string(kids)); len(f) > 0 {
			s.pid, _ = strconv.Atoi(f[0])
		}
		if s.pid > 0 {
			if c, err := ns.dial(context.Background(), "tcp", s.addr()); err == nil {
				c.Close()
				ns.holds(t, s.pid, "before the checkpoint")
				return s
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s does not accept connections on %s in network namespace %s", argv[0], s.addr(), ns.name)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (s *server) addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// cr checkpoints the server (it is killed) and restores it in the test's
// network namespace, with extra options given to both commands.
func (s *server) cr(extra ...string) {
	t := s.t
	t.Helper()
	before := treeFacts(t, s.pid)
	img := filepath.Join(s.dir, "img")
	if _, stderr, err := tryCheckpoint(s.pid, img, false, extra...); err != nil {
		t.Fatalf("ckpt checkpoint --pid %d: %v\n%s", s.pid, err, stderr)
	}
	s.cmd.Wait() // unshare exits once its child is gone
	if _, _, err := reap(s.pid, exitTimeout); err != nil {
		t.Fatalf("after checkpoint: %v", err)
	}
	pidFile := filepath.Join(s.dir, "restored.pid")
	ctx, cancel := context.WithTimeout(context.Background(), ckptTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "nsenter", append([]string{"--net=" + s.ns.path, ckptBin, "restore",
		"--image-path", img, "--detach", "--pid-file", pidFile}, extra...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("nsenter --net=%s ckpt restore --image-path %s: %v\n%s", s.ns.path, img, err, out)
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatalf("ckpt restore --detach wrote no pid file: %v", err)
	}
	if s.pid, err = strconv.Atoi(strings.TrimSpace(string(b))); err != nil {
		t.Fatalf("ckpt restore pid file %s: %v", pidFile, err)
	}
	if !alive(s.pid) {
		t.Fatalf("restored pid %d is not running", s.pid)
	}
	s.ns.holds(t, s.pid, "after the restore")
	if after := treeFacts(t, s.pid); strings.Join(after, "\n") != strings.Join(before, "\n") {
		t.Fatalf("the restored tree differs:\nbefore:\n%s\nafter:\n%s", strings.Join(before, "\n"), strings.Join(after, "\n"))
	}
}

// treeFacts describes the server's tree, root first: for each task, its
// pid in its namespace, name and user ids, and its fds with signal-driven
// I/O on (O_ASYNC: nginx's master arms it on its channel to each worker).
func treeFacts(t *testing.T, root int) []string {
	t.Helper()
	var facts []string
	var walk func(pid int)
	walk = func(pid int) {
		status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		if err != nil {
			t.Fatalf("task %d: %v", pid, err)
		}
		var name, uid, nspid string
		for _, l := range strings.Split(string(status), "\n") {
			k, v, _ := strings.Cut(l, ":")
			switch k {
			case "Name":
				name = strings.TrimSpace(v)
			case "Uid":
				uid = strings.Join(strings.Fields(v), ",")
			case "NSpid":
				f := strings.Fields(v)
				nspid = f[len(f)-1]
			}
		}
		fact := fmt.Sprintf("pid %s %s uid %s", nspid, name, uid)
		fds, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fdinfo", pid))
		for _, fd := range fds {
			info, err := os.ReadFile(fmt.Sprintf("/proc/%d/fdinfo/%s", pid, fd.Name()))
			if err != nil {
				continue
			}
			for _, l := range strings.Split(string(info), "\n") {
				if v, ok := strings.CutPrefix(l, "flags:"); ok {
					if fl, _ := strconv.ParseUint(strings.TrimSpace(v), 8, 32); fl&unix.O_ASYNC != 0 {
						fact += fmt.Sprintf(" fd %s async", fd.Name())
					}
				}
			}
		}
		facts = append(facts, fact)
		kids, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
		for _, k := range strings.Fields(string(kids)) {
			kid, _ := strconv.Atoi(k)
			walk(kid)
		}
	}
	walk(root)
	return facts
}

// waitIdle waits until the server holds no connection on its port, only
// its listening socket (waitNoConn).
func (s *server) waitIdle() {
	s.t.Helper()
	waitNoConn(s.t, s.pid, s.port)
}

// waitNoConn waits until no task holds a TCP connection on port in pid's
// network namespace, only listening sockets: a request just answered may
// leave the server's end in CLOSE_WAIT for a moment, until it closes it,
// and a checkpoint then would (rightly) refuse that state. Sockets without
// an inode in /proc/net/tcp are orphans no task holds.
func waitNoConn(t *testing.T, pid, port int) {
	t.Helper()
	deadline := time.Now().Add(exitTimeout)
	for {
		busy := ""
		for _, f := range []string{"tcp", "tcp6"} {
			b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/net/%s", pid, f)) // pid's network namespace
			for _, l := range strings.Split(string(b), "\n")[1:] {
				fl := strings.Fields(l)
				if len(fl) < 10 {
					continue
				}
				_, lport, _ := strings.Cut(fl[1], ":")
				if p, _ := strconv.ParseUint(lport, 16, 16); int(p) == port && fl[3] != "0A" && fl[9] != "0" {
					busy = l
				}
			}
		}
		if busy == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server still holds a connection: %s", busy)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// systemBinary prefers the Debian package's binary to one earlier on PATH
// (a pyenv shim, say).
func systemBinary(name string) string {
	for _, d := range []string{"/usr/bin", "/usr/sbin"} {
		if p := filepath.Join(d, name); fileExists(p) {
			return p
		}
	}
	return name
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// resp is a minimal Redis client speaking RESP over one connection, so
// that the connection is the test's own and its fate is visible.
type resp struct {
	c net.Conn
	r *bufio.Reader
}

func dialResp(t *testing.T, ns *netns, addr string) *resp {
	t.Helper()
	c, err := ns.dial(context.Background(), "tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &resp{c: c, r: bufio.NewReader(c)}
}

// do sends one command and returns its reply: a simple string, an
// integer or a bulk string as text, "(nil)" for a nil bulk string.
func (r *resp) do(args ...string) (string, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	r.c.SetDeadline(time.Now().Add(ckptTimeout))
	if _, err := io.WriteString(r.c, b.String()); err != nil {
		return "", err
	}
	line, err := r.r.ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimSuffix(line, "\r\n")
	if line == "" {
		return "", fmt.Errorf("empty reply")
	}
	switch line[0] {
	case '+', ':':
		return line[1:], nil
	case '-':
		return "", fmt.Errorf("redis error: %s", line[1:])
	case '$':
		n, err := strconv.Atoi(line[1:])
		if err != nil {
			return "", fmt.Errorf("bad bulk length %q", line)
		}
		if n < 0 {
			return "(nil)", nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r.r, buf); err != nil {
			return "", err
		}
		return string(buf[:n]), nil
	}
	return "", fmt.Errorf("unexpected reply %q", line)
}

func (r *resp) must(t *testing.T, want string, args ...string) {
	t.Helper()
	got, err := r.do(args...)
	if err != nil {
		t.Fatalf("redis %v: %v", args, err)
	}
	if got != want {
		t.Fatalf("redis %v = %q, want %q", args, got, want)
	}
}

// TestServerRedis: redis-server with keys written before the checkpoint
// has them after the restore, and a client connection open across the
// checkpoint (--tcp-established) goes on working: the same connection
// reads the keys, writes more, and its per-connection state (the selected
// database) is still there.
func TestServerRedis(t *testing.T) {
	dir := t.TempDir()
	ns := newNetns(t)
	port := 6379 // the namespace is the test's: any port is free
	s := startServer(t, dir, ns, port, systemBinary("redis-server"), "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", dir, "--daemonize", "no")
	cl := dialResp(t, ns, s.addr())
	cl.must(t, "OK", "SELECT", "3") // state of this connection only
	for i := 0; i < 200; i++ {
		cl.must(t, "OK", "SET", fmt.Sprintf("key:%d", i), fmt.Sprintf("value-%d-%s", i, strings.Repeat("x", i)))
	}
	cl.must(t, "41", "INCRBY", "counter", "41")

	s.cr("--tcp-established")

	// The same connection, still on database 3.
	for i := 0; i < 200; i++ {
		cl.must(t, fmt.Sprintf("value-%d-%s", i, strings.Repeat("x", i)), "GET", fmt.Sprintf("key:%d", i))
	}
	cl.must(t, "42", "INCR", "counter")
	cl.must(t, "OK", "SET", "after", "restore")
	// A new connection sees the same data.
	fresh := dialResp(t, ns, s.addr())
	fresh.must(t, "(nil)", "GET", "key:1") // database 0
	fresh.must(t, "OK", "SELECT", "3")
	fresh.must(t, "restore", "GET", "after")
	fresh.must(t, "202", "DBSIZE") // 200 keys, counter, after
}

// httpGet fetches url on a new connection made in ns and returns the body.
func httpGet(t *testing.T, ns *netns, url string) string {
	t.Helper()
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true, DialContext: ns.dial}, Timeout: ckptTimeout}
	res, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, res.Status)
	}
	return string(b)
}

// staticSite writes the file the HTTP servers serve.
func staticSite(t *testing.T, dir string) (root, body string) {
	t.Helper()
	root = filepath.Join(dir, "www")
	if err := os.MkdirAll(root, 0o755); err != nil {
		t.Fatal(err)
	}
	body = strings.Repeat("ckpt static file\n", 1000)
	if err := os.WriteFile(filepath.Join(root, "index.html"), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return root, body
}

// TestServerNginx: nginx serving a static file answers on the same port
// after restore. It runs as Debian runs it, a master (root) and a worker
// (www-data) joined by the socketpair of their channel; the master is the
// pid 1 of its namespace.
func TestServerNginx(t *testing.T) {
	dir := t.TempDir()
	// The worker drops root: it must be able to reach the files.
	for _, d := range []string{dir, filepath.Dir(dir)} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	ns := newNetns(t)
	port := 8080
	root, body := staticSite(t, dir)
	conf := fmt.Sprintf(`daemon off;
user www-data;
worker_processes 1;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log;
events { worker_connections 64; }
http {
	access_log %[1]s/access.log;
	client_body_temp_path %[1]s/tmp;
	proxy_temp_path %[1]s/tmp;
	fastcgi_temp_path %[1]s/tmp;
	uwsgi_temp_path %[1]s/tmp;
	scgi_temp_path %[1]s/tmp;
	server {
		listen 127.0.0.1:%[2]d;
		root %[3]s;
	}
}
`, dir, port, root)
	cf := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(cf, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, dir, ns, port, systemBinary("nginx"), "-p", dir, "-e", filepath.Join(dir, "error.log"), "-c", cf)
	url := fmt.Sprintf("http://%s/index.html", s.addr())
	if got := httpGet(t, ns, url); got != body {
		t.Fatalf("before checkpoint: wrong body (%d bytes)", len(got))
	}
	s.waitIdle()
	s.cr()
	for i := 0; i < 3; i++ {
		if got := httpGet(t, ns, url); got != body {
			t.Fatalf("after restore, request %d: wrong body (%d bytes)", i, len(got))
		}
	}
}

// TestServerPythonHTTP: python3 -m http.server answers on the same port
// after restore.
func TestServerPythonHTTP(t *testing.T) {
	dir := t.TempDir()
	ns := newNetns(t)
	port := 8000
	root, body := staticSite(t, dir)
	s := startServer(t, dir, ns, port, systemBinary("python3"), "-m", "http.server", strconv.Itoa(port),
		"--bind", "127.0.0.1", "--directory", root)
	url := fmt.Sprintf("http://%s/index.html", s.addr())
	if got := httpGet(t, ns, url); got != body {
		t.Fatalf("before checkpoint: wrong body (%d bytes)", len(got))
	}
	s.waitIdle()
	s.cr()
	for i := 0; i < 3; i++ {
		if got := httpGet(t, ns, url); got != body {
			t.Fatalf("after restore, request %d: wrong body (%d bytes)", i, len(got))
		}
	}
}
