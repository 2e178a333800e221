package integration

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

var (
	// repoRoot is the repository's top directory (it holds go.mod).
	repoRoot string
	// ckptBin is the ckpt binary under test.
	ckptBin string
	// workRoot holds one work directory per test run of a program; the
	// directories of failed tests are kept.
	workRoot string
	// skipReason, when set, skips every test: the suite cannot run here.
	skipReason string
	// ckptErr says why there is no ckpt binary; only tests that checkpoint
	// or restore fail on it (nocr runs do not need one).
	ckptErr error
)

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	if os.Geteuid() != 0 {
		skipReason = "the C/R suite must run as root: it ptraces, restores pids and reads other processes' /proc"
		return m.Run()
	}
	// Daemonized tests and restored tasks reparent to us instead of pid 1,
	// which reaps slowly here and would keep their pids taken.
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		fmt.Fprintln(os.Stderr, "integration: prctl(PR_SET_CHILD_SUBREAPER):", err)
		return 1
	}
	var err error
	if repoRoot, err = findRepoRoot(); err != nil {
		fmt.Fprintln(os.Stderr, "integration:", err)
		return 1
	}
	ckptBin, ckptErr = ensureCkpt()
	if workRoot, err = os.MkdirTemp("", "ckpt-integration-"); err != nil {
		fmt.Fprintln(os.Stderr, "integration:", err)
		return 1
	}
	if err := initBuilds(); err != nil {
		fmt.Fprintln(os.Stderr, "integration:", err)
		return 1
	}
	code := m.Run()
	builds.cleanup()
	// Only the kept directories of failed tests remain; drop the root if
	// there are none.
	if ents, err := os.ReadDir(workRoot); err == nil && len(ents) == 0 {
		os.Remove(workRoot)
	} else {
		fmt.Fprintf(os.Stderr, "integration: work directories kept under %s\n", workRoot)
	}
	return code
}

func requireRoot(t *testing.T) {
	t.Helper()
	if skipReason != "" {
		t.Skip(skipReason)
	}
}

// needCkpt fails the test when there is no ckpt binary to drive.
func needCkpt(t *testing.T) {
	t.Helper()
	if ckptErr != nil {
		t.Fatalf("no ckpt binary: %v", ckptErr)
	}
}

func findRepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		if d == filepath.Dir(d) {
			return "", fmt.Errorf("no go.mod above %s", dir)
		}
	}
}

// goTool finds the go command: on PATH, or where hack/deps.sh expects it.
func goTool() (string, error) {
	if p, err := exec.LookPath("go"); err == nil {
		return p, nil
	}
	if _, err := os.Stat("/usr/local/go/bin/go"); err == nil {
		return "/usr/local/go/bin/go", nil
	}
	return "", fmt.Errorf("no go command on PATH or at /usr/local/go/bin/go")
}

// ensureCkpt returns the binary under test, building bin/ckpt if it is
// missing. An existing binary is used as it is: `make test` builds it first.
func ensureCkpt() (string, error) {
	if p := os.Getenv("CKPT_BIN"); p != "" {
		return filepath.Abs(p)
	}
	bin := filepath.Join(repoRoot, "bin", "ckpt")
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	gocmd, err := goTool()
	if err != nil {
		return "", err
	}
	cmd := exec.Command(gocmd, "build", "-tags", "seccomp", "-o", bin, "./cmd/ckpt")
	cmd.Dir = repoRoot
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build -tags seccomp -o bin/ckpt ./cmd/ckpt: %w\n%s", err, out)
	}
	return bin, nil
}
