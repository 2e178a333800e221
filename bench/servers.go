package bench

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// A server is a real program nobody here wrote (Debian's redis-server,
// nginx, python3), measured like a workload but judged by its answers: a
// reply counts only when it is the one the server gave before the
// checkpoint (redis: GET of known keys and DBSIZE; HTTP: the body's
// SHA-256), not merely a reply.
type server struct {
	name    string
	kind    string // redis, nginx, pyhttp
	mib     int    // redis dataset size
	about   string
	dir     string // its own directory under the scratch directory
	port    int
	lazyOff bool // true: only checkpoint + lazy restore (the 4 GiB lazy comparison)
	// unix: redis listens on a unix socket in dir, not on TCP (CRIU 4.1.1
	// cannot checkpoint a TCP socket on this kernel, see below).
	unix bool
	want [32]byte
	// baseFds is how many fds the server's processes hold with no client
	// connected, taken once it is up.
	baseFds int
}

// Servers are the real programs `make bench` runs (BENCH_SERVERS). CRIU
// 4.1.1 fails to checkpoint any TCP socket on this kernel (it reads
// SO_PASSCRED and SO_PASSSEC of every socket, which the kernel now answers
// with EOPNOTSUPP for TCP), so redis also runs on a unix socket, where
// CRIU can be compared; the 4 GiB lazy comparison runs there too.
var Servers = []string{"redis-1G", "redis-1G-unix", "nginx", "pyhttp", "redis-4G-unix-lazy"}

// QuickServers replace them in quick runs.
var QuickServers = []string{"redis-64M", "redis-64M-unix", "nginx", "pyhttp", "redis-64M-unix-lazy"}

// newServer parses a server name: redis-<N>G or redis-<N>M (a dataset of
// that size; "-unix" on a unix socket; "-lazy" for the lazy comparison
// alone), nginx, pyhttp.
func newServer(name, scratch string) (*server, error) {
	s := &server{name: name, dir: filepath.Join(scratch, "srv-"+name)}
	switch {
	case name == "nginx":
		s.kind, s.about = "nginx", "nginx 1.22 (Debian nginx-light): a master and one worker serving a 1 MiB file"
	case name == "pyhttp":
		s.kind, s.about = "pyhttp", "`python3 -m http.server` (Debian python3) serving a 1 MiB file"
	case strings.HasPrefix(name, "redis-"):
		spec := strings.TrimPrefix(name, "redis-")
		spec, s.lazyOff = strings.CutSuffix(spec, "-lazy")
		spec, s.unix = strings.CutSuffix(spec, "-unix")
		mult := 1
		if v, ok := strings.CutSuffix(spec, "G"); ok {
			spec, mult = v, 1024
		} else {
			spec = strings.TrimSuffix(spec, "M")
		}
		n, err := strconv.Atoi(spec)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("server %q: want redis-<N>G or redis-<N>M", name)
		}
		s.kind, s.mib = "redis", n*mult
		s.about = fmt.Sprintf("redis-server 7.0 (Debian) holding %d keys of 1 KiB values (DEBUG POPULATE: %d MiB of values)", s.keys(), s.mib)
		if s.unix {
			s.about += ", listening on a unix socket only"
		}
		if s.lazyOff {
			s.about += "; checkpoint, then lazy restore only"
		}
	default:
		return nil, fmt.Errorf("unknown server %q (want redis-<N>G, redis-<N>M, nginx or pyhttp)", name)
	}
	return s, nil
}

func (s *server) keys() int { return s.mib * 1024 }

func (s *server) sock() string { return filepath.Join(s.dir, "redis.sock") }

// addr is where clients connect.
func (s *server) addr() (network, address string) {
	if s.unix {
		return "unix", s.sock()
	}
	return "tcp", "127.0.0.1:" + strconv.Itoa(s.port)
}

// freePort asks the kernel for a free port on the loopback. Another
// process may take it before the server binds it; the server then fails
// to start and the bench says so.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// argv writes what the server needs into its directory and returns its
// command line.
func (s *server) argv() ([]string, error) {
	www := filepath.Join(s.dir, "www")
	if err := os.MkdirAll(www, 0o755); err != nil {
		return nil, err
	}
	p := strconv.Itoa(s.port)
	switch s.kind {
	case "redis":
		argv := []string{"/usr/bin/redis-server", "--port", p, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
			"--daemonize", "no", "--enable-debug-command", "yes", "--dir", s.dir, "--protected-mode", "no"}
		if s.unix {
			argv[2] = "0"
			argv = append(argv, "--unixsocket", s.sock(), "--unixsocketperm", "700")
		}
		return argv, nil
	case "nginx":
		conf := filepath.Join(s.dir, "nginx.conf")
		// user root: the scratch directory is 0700, a worker running as
		// nobody could not read the file it serves.
		text := fmt.Sprintf("daemon off;\nmaster_process on;\nworker_processes 1;\nuser root;\npid %s/nginx.pid;\n"+
			"error_log %s/error.log;\nevents { worker_connections 64; }\n"+
			"http { access_log off; server { listen 127.0.0.1:%d; root %s; } }\n", s.dir, s.dir, s.port, www)
		if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
			return nil, err
		}
		return []string{"/usr/sbin/nginx", "-c", conf, "-p", s.dir, "-e", filepath.Join(s.dir, "error.log")}, nil
	case "pyhttp":
		return []string{"/usr/bin/python3", "-m", "http.server", p, "--bind", "127.0.0.1", "--directory", www}, nil
	}
	return nil, fmt.Errorf("server %s: unknown kind %q", s.name, s.kind)
}

// writeBody writes the file the HTTP servers serve and remembers its hash.
func (s *server) writeBody() error {
	b := make([]byte, 1<<20)
	if _, err := rand.Read(b); err != nil {
		return err
	}
	s.want = sha256.Sum256(b)
	return os.WriteFile(filepath.Join(s.dir, "www", "data.bin"), b, 0o644)
}

// start runs the server in a session of its own (stdin /dev/null, output
// appended to a file), fills it and records the reply it must give.
func (s *server) start() (int, error) {
	if err := os.RemoveAll(s.dir); err != nil {
		return 0, err
	}
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return 0, err
	}
	var err error
	if s.port, err = freePort(); err != nil {
		return 0, fmt.Errorf("server %s: port: %w", s.name, err)
	}
	argv, err := s.argv()
	if err != nil {
		return 0, fmt.Errorf("server %s: %w", s.name, err)
	}
	o, err := os.OpenFile(filepath.Join(s.dir, "out"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return 0, err
	}
	defer o.Close()
	null, err := os.Open(os.DevNull)
	if err != nil {
		return 0, err
	}
	defer null.Close()
	pid, err := syscall.ForkExec(argv[0], argv, &syscall.ProcAttr{
		Dir: s.dir, Env: []string{"PATH=/usr/bin:/bin:/usr/sbin:/sbin", "HOME=" + s.dir},
		Files: []uintptr{null.Fd(), o.Fd(), o.Fd()}, Sys: &syscall.SysProcAttr{Setsid: true},
	})
	if err != nil {
		return 0, fmt.Errorf("start server %s: %w", s.name, err)
	}
	fail := func(err error) (int, error) {
		if pids, e := sessionPids(pid); e == nil {
			_ = killAndReap(pids, reapGuard)
		}
		out, _ := os.ReadFile(filepath.Join(s.dir, "out"))
		return 0, fmt.Errorf("server %s (pid %d): %w; output ends %q", s.name, pid, err, tail(out, 300))
	}
	if s.kind == "redis" {
		if err := s.populate(pid); err != nil {
			return fail(err)
		}
	} else if err := s.writeBody(); err != nil {
		return fail(err)
	}
	if _, err := s.firstReply(time.Now(), pid); err != nil {
		return fail(err)
	}
	s.baseFds = s.settledFds(pid)
	return pid, nil
}

// settledFds counts the fds of the server's processes until two counts
// 50 ms apart agree (at most two seconds): our client's connections are
// closed by then.
func (s *server) settledFds(pid int) int {
	last := -1
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		n := sessionFds(pid)
		if n == last {
			break
		}
		last = n
	}
	return last
}

// sessionFds counts the open fds of every process of session sid.
func sessionFds(sid int) int {
	pids, err := sessionPids(sid)
	if err != nil {
		return -1
	}
	n := 0
	for _, p := range pids {
		ents, _ := os.ReadDir("/proc/" + strconv.Itoa(p) + "/fd")
		n += len(ents)
	}
	return n
}

// populate waits for redis to answer, loads the dataset and records the
// replies to the known keys.
func (s *server) populate(pid int) error {
	deadline := time.Now().Add(time.Minute)
	for {
		_, err := s.redisDo(time.Minute, []string{"PING"})
		if err == nil {
			break
		}
		if time.Now().After(deadline) || !alive(pid) {
			return fmt.Errorf("redis not answering PING: %w", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	guard := 2*time.Minute + time.Duration(s.mib)*50*time.Millisecond
	if _, err := s.redisDo(guard, []string{"DEBUG", "POPULATE", strconv.Itoa(s.keys()), "key", "1024"}); err != nil {
		return fmt.Errorf("DEBUG POPULATE: %w", err)
	}
	b, err := s.redisDo(time.Minute, s.redisProbe()...)
	if err != nil {
		return err
	}
	if !bytes.Contains(b, []byte(":"+strconv.Itoa(s.keys())+"\r\n")) {
		return fmt.Errorf("DBSIZE after DEBUG POPULATE %d: %q", s.keys(), tail(b, 100))
	}
	s.want = sha256.Sum256(b)
	return nil
}

// redisProbe is GET of the first, a middle and the last key, and DBSIZE.
func (s *server) redisProbe() [][]string {
	n := s.keys()
	return [][]string{{"GET", "key:0"}, {"GET", "key:" + strconv.Itoa(n/2)}, {"GET", "key:" + strconv.Itoa(n-1)}, {"DBSIZE"}}
}

// ask sends one request and returns the hash of the answer.
func (s *server) ask() ([32]byte, error) {
	if s.kind == "redis" {
		b, err := s.redisDo(time.Minute, s.redisProbe()...)
		if err != nil {
			return [32]byte{}, err
		}
		return sha256.Sum256(b), nil
	}
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: time.Minute}
	resp, err := c.Get("http://127.0.0.1:" + strconv.Itoa(s.port) + "/data.bin")
	if err != nil {
		return [32]byte{}, err
	}
	defer resp.Body.Close()
	h := sha256.New()
	if _, err := io.Copy(h, resp.Body); err != nil {
		return [32]byte{}, err
	}
	if resp.StatusCode != http.StatusOK {
		return [32]byte{}, fmt.Errorf("HTTP %s", resp.Status)
	}
	var sum [32]byte
	copy(sum[:], h.Sum(nil))
	return sum, nil
}

// errWrongReply is a reply that is not the one recorded at start: the
// restore is wrong, asking again will not help.
var errWrongReply = errors.New("wrong reply")

// firstReply asks until the server answers (a refused or reset connection
// is asked again) and returns the time since t0. A wrong answer is an
// error at once; so is pid dying or two minutes without an answer.
func (s *server) firstReply(t0 time.Time, pid int) (time.Duration, error) {
	deadline := time.Now().Add(2 * time.Minute)
	for {
		got, err := s.ask()
		if err == nil {
			if got != s.want {
				return time.Since(t0), fmt.Errorf("%s: %w (sha256 %x, want %x)", s.name, errWrongReply, got[:6], s.want[:6])
			}
			return time.Since(t0), nil
		}
		if time.Now().After(deadline) || !alive(pid) {
			return time.Since(t0), fmt.Errorf("%s: no correct reply: %w", s.name, err)
		}
		time.Sleep(time.Millisecond)
	}
}

func alive(pid int) bool {
	st, err := readStat(pid)
	return err == nil && st.state != 'Z'
}

// redisDo sends commands in one connection and returns the raw replies.
func (s *server) redisDo(guard time.Duration, cmds ...[]string) ([]byte, error) {
	network, address := s.addr()
	c, err := net.DialTimeout(network, address, 5*time.Second)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(guard))
	var req bytes.Buffer
	for _, cmd := range cmds {
		fmt.Fprintf(&req, "*%d\r\n", len(cmd))
		for _, a := range cmd {
			fmt.Fprintf(&req, "$%d\r\n%s\r\n", len(a), a)
		}
	}
	if _, err := c.Write(req.Bytes()); err != nil {
		return nil, err
	}
	rd := bufio.NewReader(c)
	var out bytes.Buffer
	for range cmds {
		if err := readRESP(rd, &out); err != nil {
			return nil, err
		}
	}
	return out.Bytes(), nil
}

// readRESP copies one reply (simple string, error, integer or bulk
// string: all these commands return) to out.
func readRESP(rd *bufio.Reader, out *bytes.Buffer) error {
	line, err := rd.ReadString('\n')
	if err != nil {
		return err
	}
	out.WriteString(line)
	switch {
	case strings.HasPrefix(line, "-"):
		return fmt.Errorf("redis: %s", strings.TrimSpace(line))
	case strings.HasPrefix(line, "$"):
		n, err := strconv.Atoi(strings.TrimSpace(line[1:]))
		if err != nil {
			return fmt.Errorf("redis reply %q: %w", line, err)
		}
		if n < 0 {
			return nil
		}
		if n > 1<<20 {
			return fmt.Errorf("redis reply of %d bytes", n)
		}
		_, err = io.CopyN(out, rd, int64(n)+2)
		return err
	}
	return nil
}

// waitQuiet waits (at most five seconds) until the server holds no more
// fds than it did idle and no socket on its port is in a state other than
// listening or closed/TIME_WAIT, so that neither tool meets a connection
// of ours half closed: both refuse such sockets without options that are
// not the point here.
func (s *server) waitQuiet(pid int) {
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		b, err := os.ReadFile("/proc/net/tcp")
		if (err != nil || s.unix || portOnly(b, s.port, "0A", "06", "07")) && sessionFds(pid) <= s.baseFds {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// portOnly reads /proc/net/tcp: true when every socket with local port
// port is in one of states (hex, as there: LISTEN 0A, TIME_WAIT 06,
// CLOSE 07).
func portOnly(table []byte, port int, states ...string) bool {
	want := fmt.Sprintf(":%04X", port)
	for _, l := range strings.Split(string(table), "\n")[1:] {
		f := strings.Fields(l)
		if len(f) < 4 || !strings.HasSuffix(f[1], want) {
			continue
		}
		if !slices.Contains(states, f[3]) {
			return false
		}
	}
	return true
}
