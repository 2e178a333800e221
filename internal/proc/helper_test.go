package proc

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// The test binary doubles as the child processes the tests inspect: with
// CKPT_PROC_HELPER set it sets up the state named there, prints one
// "ready key=value ..." line, and waits for stdin to close.
const helperEnv = "CKPT_PROC_HELPER"

func TestMain(m *testing.M) {
	if mode := os.Getenv(helperEnv); mode != "" {
		runHelper(mode, os.Getenv(helperEnv+"_ARG"))
		return
	}
	os.Exit(m.Run())
}

// Geometry of the "mem" helper's anonymous mapping: which pages it
// writes, which it only reads (and so maps the zero page), and which it
// leaves alone.
const memPages = 16384

func memWritten(i int) bool { return i%3 == 0 || (i >= 100 && i < 300) }
func memRead(i int) bool    { return !memWritten(i) && i%7 == 1 }

func runHelper(mode, arg string) {
	fail := func(err error) {
		fmt.Fprintf(os.Stderr, "helper %s: %v\n", mode, err)
		os.Exit(2)
	}
	var info []string
	switch mode {
	case "idle":
	case "comm":
		if err := os.WriteFile("/proc/self/comm", []byte(arg), 0); err != nil {
			fail(err)
		}
	case "mem":
		mem, err := unix.Mmap(-1, 0, memPages*pageSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
		if err != nil {
			fail(err)
		}
		for i := range memPages {
			switch {
			case memWritten(i):
				mem[i*pageSize] = byte(i) | 1
			case memRead(i):
				readFault(mem[i*pageSize:])
			}
		}
		info = append(info, fmt.Sprintf("anon=%x", readFault(mem)))
		// A private file mapping with a few pages read: page cache pages,
		// and one written: a private copy.
		f, err := os.Open("/proc/self/exe")
		if err != nil {
			fail(err)
		}
		fm, err := unix.Mmap(int(f.Fd()), 0, 16*pageSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE)
		if err != nil {
			fail(err)
		}
		for _, i := range []int{0, 1, 2, 5} {
			readFault(fm[i*pageSize:])
		}
		fm[2*pageSize] ^= 0xff
		info = append(info, fmt.Sprintf("file=%x", readFault(fm)))
	case "secure":
		signal.Ignore(syscall.SIGUSR2)
		unix.Umask(0o027)
		if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
			fail(err)
		}
		if err := installAllowFilter(); err != nil {
			fail(err)
		}
	default:
		fail(fmt.Errorf("unknown mode"))
	}
	fmt.Printf("ready %s\n", strings.Join(info, " "))
	io.Copy(io.Discard, os.Stdin)
	os.Exit(0)
}

// helper is a running child started by startHelper.
type helper struct {
	pid   int
	info  map[string]string
	cmd   *exec.Cmd
	stdin io.WriteCloser
}

// startHelper runs the test binary in the given helper mode and waits for
// it to be ready. The child is stopped when the test ends.
func startHelper(t *testing.T, mode, arg string, attr *syscall.SysProcAttr) *helper {
	t.Helper()
	cmd := exec.Command("/proc/self/exe", "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+mode, helperEnv+"_ARG="+arg)
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = attr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start helper %s: %v", mode, err)
	}
	h := &helper{pid: cmd.Process.Pid, cmd: cmd, stdin: stdin, info: map[string]string{}}
	t.Cleanup(h.stop)
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("helper %s: no ready line: %v", mode, err)
	}
	fields := strings.Fields(line)
	if len(fields) == 0 || fields[0] != "ready" {
		t.Fatalf("helper %s: bad ready line %q", mode, line)
	}
	for _, kv := range fields[1:] {
		k, v, _ := strings.Cut(kv, "=")
		h.info[k] = v
	}
	return h
}

// addr returns a hex address the helper reported.
func (h *helper) addr(t *testing.T, key string) uint64 {
	t.Helper()
	v, err := strconv.ParseUint(h.info[key], 16, 64)
	if err != nil {
		t.Fatalf("helper info %s=%q: %v", key, h.info[key], err)
	}
	return v
}

// stop ends the child and reaps it. It may be called more than once.
func (h *helper) stop() {
	if h.stdin == nil {
		return
	}
	h.stdin.Close()
	h.stdin = nil
	h.cmd.Wait()
}

// startSleep runs sleep(1): a single-threaded C program whose maps do not
// change while it waits, unlike a Go program's.
func startSleep(t *testing.T) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("sleep", "1000")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	// Wait until it has exec'd: before that its maps are the Go parent's.
	for {
		exe, err := Exe(cmd.Process.Pid)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(exe, "/sleep") {
			break
		}
		runtime.Gosched()
	}
	// It is running; wait for it to block in its sleep.
	for {
		st, err := ReadStat(cmd.Process.Pid)
		if err != nil {
			t.Fatal(err)
		}
		if st.State == 'S' {
			return cmd
		}
	}
}
