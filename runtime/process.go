package runtime

import (
	"fmt"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"time"

	"github.com/containerd/console"
	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runc/libcontainer/configs"
	"github.com/opencontainers/runc/libcontainer/utils"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

// IO says how a container process gets its standard streams.
type IO struct {
	// Detach: the caller does not wait; without a terminal the process
	// gets the caller's own stdio, as runc's detached mode does.
	Detach bool
	// ConsoleSocket is a unix socket path the terminal's master end is
	// sent to (SCM_RIGHTS) when the process has a terminal.
	ConsoleSocket string
	// ExtraFiles become the process's fds 3, 4, ... (--preserve-fds).
	ExtraFiles []*os.File
	// PidfdSocket is a unix socket path a pidfd of the process is sent to
	// (runc's --pidfd-socket), for a caller that signals it race-free.
	PidfdSocket string
}

// rlimitNames maps the spec's rlimit names to their numbers.
var rlimitNames = map[string]int{
	"RLIMIT_CPU": unix.RLIMIT_CPU, "RLIMIT_FSIZE": unix.RLIMIT_FSIZE, "RLIMIT_DATA": unix.RLIMIT_DATA,
	"RLIMIT_STACK": unix.RLIMIT_STACK, "RLIMIT_CORE": unix.RLIMIT_CORE, "RLIMIT_RSS": unix.RLIMIT_RSS,
	"RLIMIT_NPROC": unix.RLIMIT_NPROC, "RLIMIT_NOFILE": unix.RLIMIT_NOFILE, "RLIMIT_MEMLOCK": unix.RLIMIT_MEMLOCK,
	"RLIMIT_AS": unix.RLIMIT_AS, "RLIMIT_LOCKS": unix.RLIMIT_LOCKS, "RLIMIT_SIGPENDING": unix.RLIMIT_SIGPENDING,
	"RLIMIT_MSGQUEUE": unix.RLIMIT_MSGQUEUE, "RLIMIT_NICE": unix.RLIMIT_NICE, "RLIMIT_RTPRIO": unix.RLIMIT_RTPRIO,
	"RLIMIT_RTTIME": unix.RLIMIT_RTTIME,
}

// newProcess turns a spec process into libcontainer's.
func newProcess(p *specs.Process, init bool) (*libcontainer.Process, error) {
	lp := &libcontainer.Process{
		Args:            p.Args,
		Env:             p.Env,
		UID:             int(p.User.UID),
		GID:             int(p.User.GID),
		Cwd:             p.Cwd,
		Label:           p.SelinuxLabel,
		AppArmorProfile: p.ApparmorProfile,
		NoNewPrivileges: &p.NoNewPrivileges,
		Init:            init,
		Scheduler:       p.Scheduler,
		IOPriority:      p.IOPriority,
		// libcontainer's init and nsexec log to a pipe at this level, and
		// libcontainer forwards their lines to logrus (where --log and
		// --debug send them), as runc has it do.
		LogLevel: strconv.Itoa(int(logrus.GetLevel())),
	}
	if p.ConsoleSize != nil {
		lp.ConsoleWidth, lp.ConsoleHeight = uint16(p.ConsoleSize.Width), uint16(p.ConsoleSize.Height)
	}
	aff, err := configs.ConvertCPUAffinity(p.ExecCPUAffinity)
	if err != nil {
		return nil, err
	}
	lp.CPUAffinity = aff
	if len(p.Args) == 0 {
		return nil, fmt.Errorf("the process has no args")
	}
	if p.User.Username != "" {
		return nil, notSupported("process user %q by name: give a uid and gid", p.User.Username)
	}
	for _, g := range p.User.AdditionalGids {
		lp.AdditionalGroups = append(lp.AdditionalGroups, int(g))
	}
	if c := p.Capabilities; c != nil {
		lp.Capabilities = &configs.Capabilities{Bounding: c.Bounding, Effective: c.Effective,
			Inheritable: c.Inheritable, Permitted: c.Permitted, Ambient: c.Ambient}
	}
	for _, rl := range p.Rlimits {
		n, ok := rlimitNames[rl.Type]
		if !ok {
			return nil, fmt.Errorf("unknown rlimit %q", rl.Type)
		}
		lp.Rlimits = append(lp.Rlimits, configs.Rlimit{Type: n, Hard: rl.Hard, Soft: rl.Soft})
	}
	return lp, nil
}

// stdio connects a process to its streams before it starts; the returned
// function finishes the job once it has started (receive the terminal,
// copy it to ours) and the closer undoes everything.
type stdio struct {
	console  *os.File // our end of the socket the master arrives on
	conn     *os.File // the console socket given by the caller
	terminal bool
	detach   bool
	master   console.Console
	// copied is closed once all the terminal's output reached our
	// stdout (the master reads EIO when the last process holding the
	// terminal is gone).
	copied    chan struct{}
	restore   func()
	pidfdConn *os.File
}

// dialUnix connects to a unix socket and returns the connection as a
// file, for libcontainer to send on.
func dialUnix(path string) (*os.File, error) {
	conn, err := net.Dial("unix", path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	defer conn.Close()
	uc, ok := conn.(*net.UnixConn)
	if !ok {
		return nil, fmt.Errorf("%s is not a unix socket", path)
	}
	return uc.File()
}

func setupIO(p *libcontainer.Process, terminal bool, o IO) (*stdio, error) {
	s := &stdio{terminal: terminal, detach: o.Detach}
	p.ExtraFiles = append(p.ExtraFiles, o.ExtraFiles...)
	if o.PidfdSocket != "" {
		// libcontainer sends the pidfd from the new process itself.
		f, err := dialUnix(o.PidfdSocket)
		if err != nil {
			return nil, fmt.Errorf("pidfd socket: %w", err)
		}
		s.pidfdConn = f
		p.PidfdSocket = f
	}
	if !terminal {
		if o.ConsoleSocket != "" {
			return nil, fmt.Errorf("--console-socket is for a process with a terminal: the process has terminal false")
		}
		p.Stdin, p.Stdout, p.Stderr = os.Stdin, os.Stdout, os.Stderr
		return s, nil
	}
	if o.ConsoleSocket != "" {
		conn, err := net.Dial("unix", o.ConsoleSocket)
		if err != nil {
			return nil, fmt.Errorf("console socket %s: %w", o.ConsoleSocket, err)
		}
		uc, ok := conn.(*net.UnixConn)
		if !ok {
			conn.Close()
			return nil, fmt.Errorf("console socket %s is not a unix socket", o.ConsoleSocket)
		}
		f, err := uc.File()
		conn.Close()
		if err != nil {
			return nil, err
		}
		s.conn = f
		p.ConsoleSocket = f
		return s, nil
	}
	if o.Detach {
		return nil, fmt.Errorf("a detached process with a terminal needs --console-socket to hand the terminal to")
	}
	parent, child, err := utils.NewSockPair("console")
	if err != nil {
		return nil, err
	}
	s.console = parent
	s.conn = child
	p.ConsoleSocket = child
	return s, nil
}

// started runs once the process exists: with our own terminal socket, take
// the master and copy it to and from our stdio.
func (s *stdio) started() error {
	if s.conn != nil {
		s.conn.Close()
		s.conn = nil
	}
	if s.console == nil {
		return nil
	}
	// runc 1.5 deprecated RecvFile for its internal cmsg package, which we
	// cannot import; it is there until runc 1.6, when this moves with it.
	f, err := utils.RecvFile(s.console) //nolint:staticcheck // SA1019, see above
	if err != nil {
		return fmt.Errorf("receive the terminal: %w", err)
	}
	c, err := console.ConsoleFromFile(f)
	if err != nil {
		return err
	}
	// Copied to our stdout, the process's "\n" stays "\n", as with runc:
	// the terminal that shows it (ours, raw) does its own translation,
	// and a pipe or file gets the bytes the process wrote.
	if err := console.ClearONLCR(c.Fd()); err != nil {
		return fmt.Errorf("the terminal: %w", err)
	}
	s.master = c
	if cur, err := console.ConsoleFromFile(os.Stdin); err == nil {
		if err := cur.SetRaw(); err == nil {
			s.restore = func() { _ = cur.Reset() }
		}
		if ws, err := cur.Size(); err == nil {
			_ = c.Resize(ws)
		}
	}
	go func() { _, _ = copyTo(c, os.Stdin) }()
	s.copied = make(chan struct{})
	go func() {
		defer close(s.copied)
		_, _ = copyTo(os.Stdout, c)
	}()
	return nil
}

func copyTo(dst interface{ Write([]byte) (int, error) }, src interface{ Read([]byte) (int, error) }) (int64, error) {
	buf := make([]byte, 32*1024)
	var n int64
	for {
		r, err := src.Read(buf)
		if r > 0 {
			w, werr := dst.Write(buf[:r])
			n += int64(w)
			if werr != nil {
				return n, werr
			}
		}
		if err != nil {
			return n, err
		}
	}
}

func (s *stdio) close() {
	if s.restore != nil {
		s.restore()
	}
	if s.conn != nil {
		s.conn.Close()
	}
	if s.pidfdConn != nil {
		s.pidfdConn.Close()
	}
	if s.console != nil {
		s.console.Close()
	}
	if s.master != nil {
		// What the process wrote just before it exited is still in the
		// terminal: let it reach our stdout first, as runc does. A process
		// left holding the terminal must not keep us: bounded.
		if s.copied != nil && !s.detach {
			select {
			case <-s.copied:
			case <-time.After(2 * time.Second):
			}
		}
		s.master.Close()
	}
}

// forward passes the signals a foreground runtime receives on to the
// process, as runc does, and returns its exit code once it ends.
func forward(p *libcontainer.Process) (int, error) {
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, unix.SIGINT, unix.SIGTERM, unix.SIGHUP, unix.SIGQUIT, unix.SIGUSR1, unix.SIGUSR2, unix.SIGWINCH)
	defer signal.Stop(sigs)
	done := make(chan struct{})
	defer close(done)
	go func() {
		for {
			select {
			case s := <-sigs:
				_ = p.Signal(s)
			case <-done:
				return
			}
		}
	}()
	st, err := p.Wait()
	if st == nil {
		return 255, fmt.Errorf("wait: %w", err)
	}
	ws, ok := st.Sys().(unix.WaitStatus)
	if !ok {
		return st.ExitCode(), nil
	}
	return utils.ExitStatus(ws), nil
}

// ParseSignal accepts "KILL", "SIGKILL", "9" and "0".
func ParseSignal(s string) (unix.Signal, error) {
	if s == "" {
		return unix.SIGTERM, nil
	}
	var n int
	if _, err := fmt.Sscanf(s, "%d", &n); err == nil && fmt.Sprint(n) == s {
		// 0 checks that the container's init exists, as kill(2) does.
		if n < 0 || n > 64 {
			return 0, fmt.Errorf("signal %s out of range", s)
		}
		return unix.Signal(n), nil
	}
	name := strings.ToUpper(s)
	if !strings.HasPrefix(name, "SIG") {
		name = "SIG" + name
	}
	sig := unix.SignalNum(name)
	if sig == 0 {
		return 0, fmt.Errorf("unknown signal %q", s)
	}
	return sig, nil
}

// afterStart finishes a process libcontainer started: its stdio is
// connected and its pid written to pidFile (if any); on failure the
// process is killed and reaped, not left running unaccounted for.
func afterStart(p *libcontainer.Process, io *stdio, pidFile string) error {
	err := io.started()
	if err == nil && pidFile != "" {
		pid, _ := p.Pid()
		err = writePidFile(pidFile, pid)
	}
	if err != nil {
		_ = p.Signal(unix.SIGKILL)
		_, _ = p.Wait()
	}
	return err
}
