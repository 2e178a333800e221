package integration

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The real servers of issue 6, each run as pid 1 of its own pid (and mount)
// namespace, in use while checkpointed and restored. They share the host's
// network namespace (on a free port of 127.0.0.1) until restore re-creates
// network namespaces.

// server is a server started under unshare(1) for one test.
type server struct {
	t    *testing.T
	dir  string
	port int
	pid  int // the server: pid 1 of its namespace, as seen from here
	cmd  *exec.Cmd
}

// startServer runs argv as pid 1 of a new pid namespace (with a /proc of
// its own) and waits until it accepts connections on port.
func startServer(t *testing.T, dir string, port int, argv ...string) *server {
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
	script := `exec <"$1" >>"$2" 2>&1; shift 2; exec "$@"`
	cmd := exec.Command("unshare", append([]string{"--pid", "--fork", "--mount-proc",
		"sh", "-c", script, "sh", os.DevNull, filepath.Join(dir, "server.log")}, argv...)...)
	cmd.Dir = dir
	cmd.SysProcAttr = &unix.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &server{t: t, dir: dir, port: port, cmd: cmd}
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
			if c, err := net.Dial("tcp", s.addr()); err == nil {
				c.Close()
				return s
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s does not accept connections on %s", argv[0], s.addr())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (s *server) addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// cr checkpoints the server (it is killed) and restores it, with extra
// options given to both commands.
func (s *server) cr(extra ...string) {
	t := s.t
	t.Helper()
	img := filepath.Join(s.dir, "img")
	if _, stderr, err := tryCheckpoint(s.pid, img, false, extra...); err != nil {
		t.Fatalf("ckpt checkpoint --pid %d: %v\n%s", s.pid, err, stderr)
	}
	s.cmd.Wait() // unshare exits once its child is gone
	if _, _, err := reap(s.pid, exitTimeout); err != nil {
		t.Fatalf("after checkpoint: %v", err)
	}
	s.pid = restoreDetached(t, img, filepath.Join(s.dir, "restored.pid"), extra...)
	if !alive(s.pid) {
		t.Fatalf("restored pid %d is not running", s.pid)
	}
}

// waitIdle waits until the server holds no connection on its port, only
// its listening socket: a request just answered may leave the server's end
// in CLOSE_WAIT for a moment, until it closes it, and a checkpoint then
// would (rightly) refuse that state. Sockets without an inode in
// /proc/net/tcp are orphans no task holds.
func (s *server) waitIdle() {
	t := s.t
	t.Helper()
	deadline := time.Now().Add(exitTimeout)
	for {
		busy := ""
		for _, f := range []string{"tcp", "tcp6"} {
			b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/net/%s", s.pid, f)) // the server's network namespace
			for _, l := range strings.Split(string(b), "\n")[1:] {
				fl := strings.Fields(l)
				if len(fl) < 10 {
					continue
				}
				_, port, _ := strings.Cut(fl[1], ":")
				if p, _ := strconv.ParseUint(port, 16, 16); int(p) == s.port && fl[3] != "0A" && fl[9] != "0" {
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

// freePort returns a port of 127.0.0.1 nobody listens on now.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
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

func dialResp(t *testing.T, addr string) *resp {
	t.Helper()
	c, err := net.Dial("tcp", addr)
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
	port := freePort(t)
	s := startServer(t, dir, port, systemBinary("redis-server"), "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", dir, "--daemonize", "no")
	cl := dialResp(t, s.addr())
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
	fresh := dialResp(t, s.addr())
	fresh.must(t, "(nil)", "GET", "key:1") // database 0
	fresh.must(t, "OK", "SELECT", "3")
	fresh.must(t, "restore", "GET", "after")
	fresh.must(t, "202", "DBSIZE") // 200 keys, counter, after
}

// httpGet fetches url on a new connection and returns the body.
func httpGet(t *testing.T, url string) string {
	t.Helper()
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: ckptTimeout}
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
// after restore.
func TestServerNginx(t *testing.T) {
	dir := t.TempDir()
	port := freePort(t)
	root, body := staticSite(t, dir)
	conf := fmt.Sprintf(`daemon off;
master_process off;
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
	s := startServer(t, dir, port, systemBinary("nginx"), "-p", dir, "-e", filepath.Join(dir, "error.log"), "-c", cf)
	url := fmt.Sprintf("http://%s/index.html", s.addr())
	if got := httpGet(t, url); got != body {
		t.Fatalf("before checkpoint: wrong body (%d bytes)", len(got))
	}
	s.waitIdle()
	s.cr()
	for i := 0; i < 3; i++ {
		if got := httpGet(t, url); got != body {
			t.Fatalf("after restore, request %d: wrong body (%d bytes)", i, len(got))
		}
	}
}

// TestServerPythonHTTP: python3 -m http.server answers on the same port
// after restore.
func TestServerPythonHTTP(t *testing.T) {
	dir := t.TempDir()
	port := freePort(t)
	root, body := staticSite(t, dir)
	s := startServer(t, dir, port, systemBinary("python3"), "-m", "http.server", strconv.Itoa(port),
		"--bind", "127.0.0.1", "--directory", root)
	url := fmt.Sprintf("http://%s/index.html", s.addr())
	if got := httpGet(t, url); got != body {
		t.Fatalf("before checkpoint: wrong body (%d bytes)", len(got))
	}
	s.waitIdle()
	s.cr()
	for i := 0; i < 3; i++ {
		if got := httpGet(t, url); got != body {
			t.Fatalf("after restore, request %d: wrong body (%d bytes)", i, len(got))
		}
	}
}
