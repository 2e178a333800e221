// Package zdtm is the Go twin of test/zdtm/lib/zdtmtst.{h,c}: the contract
// between a Go C/R test program and the runner.
//
// A program declares its own flags with the flag package, calls Init (which
// returns only in the daemon), sets up its state, calls Daemon once that
// state is in place, waits with WaitSig or loops on Go, checks its state and
// ends with Pass or Fail, then Exit.
//
// Go cannot fork, so Init re-executes the program as the daemon (marked by
// an environment variable) and waits on a pipe until the daemon calls Daemon.
// The daemon does all its output through raw fds so the Go runtime never
// creates its netpoll epoll and eventfd: those would be state the engine
// has to support just for the harness. (Go timers, time.Sleep included,
// still bring them: that is the program's state, not the harness's.) A main
// package should also set `//go:debug containermaxprocs=0` and
// `//go:debug updatemaxprocs=0`, or the runtime keeps cgroup files open.
//
// In the ns flavor (ZDTM_NEWNS=1, see zdtmtst.h) the daemon is started with
// CLONE_NEWPID|CLONE_NEWNS: it is pid 1 of a new pid namespace, and Init
// mounts /proc for it in its own mount namespace.
package zdtm

import (
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
)

const childEnv = "ZDTM_GO_CHILD"

// readyFd is the write end of the handshake pipe in the daemon (ExtraFiles[0]).
const readyFd = 3

var (
	pidfile  = flag.String("pidfile", "", "file the daemon's pid is written to")
	outfile  = flag.String("outfile", "", "file the daemon's stdout and stderr go to")
	dirname  = flag.String("dirname", ".", "directory the runner made for this test")
	stop     atomic.Bool
	termCh   = make(chan struct{})
	failed   atomic.Bool
	passed   atomic.Bool
	sabotage = os.Getenv("ZDTM_SABOTAGE") == "1"
	newns    = os.Getenv("ZDTM_NEWNS") == "1"
	termOnce sync.Once
)

// Init parses the command line and daemonizes: it returns only in the
// daemon, with stdin on /dev/null and stdout/stderr on the outfile.
func Init() {
	flag.Parse()
	if *pidfile == "" || *outfile == "" {
		fmt.Fprintln(os.Stderr, "zdtm: --pidfile and --outfile are required")
		os.Exit(2)
	}
	if os.Getenv(childEnv) != "1" {
		parent()
	}
	os.Unsetenv(childEnv)
	if newns {
		mountProc()
	}
	syscall.CloseOnExec(readyFd)
	fd, err := syscall.Open(*outfile, syscall.O_WRONLY|syscall.O_APPEND|syscall.O_CREAT|syscall.O_CLOEXEC, 0o644)
	if err != nil {
		os.Exit(1)
	}
	if syscall.Dup3(fd, 1, 0) != nil || syscall.Dup3(fd, 2, 0) != nil {
		os.Exit(1)
	}
	syscall.Close(fd)
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGTERM)
	go func() {
		<-ch
		stop.Store(true)
		termOnce.Do(func() { close(termCh) })
	}()
}

// parent starts the daemon and exits once it is ready, after writing its
// pid to the pidfile.
func parent() {
	// The daemon must start with no fd but the handshake pipe beyond stdio:
	// anything inherited from whoever started the test would be state
	// outside it.
	if ents, err := os.ReadDir("/proc/self/fd"); err == nil {
		for _, e := range ents {
			var fd int
			if _, err := fmt.Sscan(e.Name(), &fd); err == nil && fd > 2 {
				syscall.CloseOnExec(fd)
			}
		}
	}
	r, w, err := os.Pipe()
	if err != nil {
		fmt.Fprintln(os.Stderr, "zdtm: pipe:", err)
		os.Exit(1)
	}
	cmd := exec.Command("/proc/self/exe", os.Args[1:]...)
	cmd.Args[0] = os.Args[0]
	cmd.Env = append(os.Environ(), childEnv+"=1")
	cmd.ExtraFiles = []*os.File{w}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if newns {
		cmd.SysProcAttr.Cloneflags = syscall.CLONE_NEWPID | syscall.CLONE_NEWNS
	}
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "zdtm: start the daemon:", err)
		os.Exit(1)
	}
	w.Close()
	var b [1]byte
	n, _ := r.Read(b[:])
	if n == 1 {
		// Wait for EOF too: the daemon closes its end right after the
		// byte, and the runner must not see that pipe among its fds.
		io.Copy(io.Discard, r)
	}
	if n != 1 {
		err := cmd.Wait()
		fmt.Fprintf(os.Stderr, "zdtm: test died before Daemon (%v), see %s\n", err, *outfile)
		os.Exit(1)
	}
	tmp := *pidfile + ".tmp"
	if err := os.WriteFile(tmp, fmt.Appendf(nil, "%d\n", cmd.Process.Pid), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "zdtm: write pidfile:", err)
		cmd.Process.Kill()
		os.Exit(1)
	}
	if err := os.Rename(tmp, *pidfile); err != nil {
		fmt.Fprintln(os.Stderr, "zdtm: write pidfile:", err)
		cmd.Process.Kill()
		os.Exit(1)
	}
	os.Exit(0)
}

// mountProc gives the namespace's init its own /proc, as
// `unshare --mount-proc` does: private propagation first, or the mount
// would reach the host's mount namespace.
func mountProc() {
	if os.Getpid() != 1 {
		fmt.Fprintf(os.Stderr, "zdtm: the ns flavor's init is pid %d, not 1\n", os.Getpid())
		os.Exit(1)
	}
	if err := syscall.Mount("", "/", "", syscall.MS_REC|syscall.MS_PRIVATE, ""); err != nil {
		fmt.Fprintln(os.Stderr, "zdtm: make / private:", err)
		os.Exit(1)
	}
	if err := syscall.Mount("proc", "/proc", "proc", syscall.MS_NOSUID|syscall.MS_NODEV|syscall.MS_NOEXEC, ""); err != nil {
		fmt.Fprintln(os.Stderr, "zdtm: mount /proc:", err)
		os.Exit(1)
	}
}

// NewNS is true in the ns flavor: the daemon is pid 1 of its own pid
// namespace.
func NewNS() bool { return newns }

// Daemon tells the runner the state is in place.
func Daemon() {
	if _, err := syscall.Write(readyFd, []byte{'R'}); err != nil {
		Fail("tell the parent we are ready: %v", err)
	}
	syscall.Close(readyFd)
}

// WaitSig blocks until SIGTERM arrived.
func WaitSig() { <-termCh }

// Stopped is closed when SIGTERM arrived, for use in select.
func Stopped() <-chan struct{} { return termCh }

// Go is true until SIGTERM arrived.
func Go() bool { return !stop.Load() }

// Sabotage is true when the runner asks the test to break its own state
// (ZDTM_SABOTAGE=1): the test must then fail.
func Sabotage() bool { return sabotage }

// Dir is the directory the runner created for this test.
func Dir() string { return *dirname }

// Msg writes one line to the outfile.
func Msg(format string, args ...any) {
	syscall.Write(2, fmt.Appendf(nil, format+"\n", args...))
}

// Fail prints a FAIL line and makes the exit status non-zero.
func Fail(format string, args ...any) {
	failed.Store(true)
	Msg("FAIL: "+format, args...)
}

// Pass prints the PASS line, unless something failed.
func Pass() {
	if failed.Load() {
		Msg("FAIL: Pass() called after a failure")
		return
	}
	passed.Store(true)
	Msg("PASS")
}

// Exit ends the program: status 0 after Pass and no Fail, 1 otherwise.
func Exit() {
	if passed.Load() && !failed.Load() {
		os.Exit(0)
	}
	os.Exit(1)
}
