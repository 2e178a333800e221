package bench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// CRIU runs criu (4.1.1, installed as criu-anchor). Logs and stats go to a
// work directory (-W) apart from the images, so the image size counts
// images only. Workloads run in their own session with no terminal, so
// --shell-job is not needed; -v1 logs errors only, as cheap as -v0 but a
// failure says why. CRIU logs "Can't setup RLIMIT_NOFILE" on every run
// here (no CAP_SYS_RESOURCE); it is not fatal.
type CRIU struct {
	launcher
	Path  string
	Guard time.Duration
	// lazy is the lazy-pages daemon of the last RestoreLazyPages, until
	// stopLazyPages.
	lazy *exec.Cmd
}

func (c *CRIU) Name() string { return "criu" }

func (c *CRIU) Version() string {
	out, err := exec.Command(c.Path, "--version").Output()
	if err != nil {
		return "unknown"
	}
	for _, l := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), "Version:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return strings.TrimSpace(string(out))
}

func (c *CRIU) Commands() []string {
	return []string{
		"criu-anchor dump -t PID -D DIR -W WORKDIR -o dump.log -v1 [--leave-running]",
		"criu-anchor restore -D DIR -W WORKDIR -o restore.log -v1 -d --pidfile FILE",
		"criu-anchor lazy-pages -D DIR -W WORKDIR -o lazy-pages.log -v1 & criu-anchor restore --lazy-pages -D DIR -W WORKDIR -o restore.log -v1 -d --pidfile FILE (servers)",
	}
}

func (c *CRIU) workDir(logPrefix string) (string, error) {
	dir := logPrefix + ".criu"
	if err := os.RemoveAll(dir); err != nil {
		return "", err
	}
	return dir, os.MkdirAll(dir, 0o755)
}

func (c *CRIU) Checkpoint(ctx context.Context, pid int, imgDir, logPrefix string, leaveRunning bool) (*Op, error) {
	work, err := c.workDir(logPrefix)
	if err != nil {
		return nil, fmt.Errorf("criu dump of pid %d: %w", pid, err)
	}
	argv := []string{c.Path, "dump", "-t", strconv.Itoa(pid), "-D", imgDir, "-W", work, "-o", "dump.log", "-v1"}
	if leaveRunning {
		argv = append(argv, "--leave-running")
	}
	r, err := c.run(ctx, logPrefix, c.Guard, argv)
	if err != nil {
		return nil, fmt.Errorf("criu dump of pid %d: %w; log ends %q", pid, err, logTail(work, "dump.log"))
	}
	op := newOp(r)
	b, err := os.ReadFile(filepath.Join(work, "stats-dump"))
	if err != nil {
		return nil, fmt.Errorf("criu dump of pid %d: %w", pid, err)
	}
	st, err := ParseCRIUDumpStats(b)
	if err != nil {
		return nil, fmt.Errorf("criu dump of pid %d: %w", pid, err)
	}
	op.FreezeNs = st.Frozen.Nanoseconds()
	op.Internal["freezing_ns"] = st.Freezing.Nanoseconds()
	op.Internal["memdump_ns"] = st.MemDump.Nanoseconds()
	op.Internal["memwrite_ns"] = st.MemWrite.Nanoseconds()
	op.Internal["pages"] = int64(st.PagesWritten)
	return op, nil
}

func (c *CRIU) Restore(ctx context.Context, imgDir, logPrefix string) (int, *Op, error) {
	work, err := c.workDir(logPrefix)
	if err != nil {
		return 0, nil, fmt.Errorf("criu restore: %w", err)
	}
	return c.restore(ctx, imgDir, logPrefix, work)
}

// RestoreLazyPages starts CRIU's lazy-pages daemon on the image (it serves
// pages from the image files through userfaultfd, and streams the rest in
// the background) and restores with --lazy-pages. The daemon's start is
// not in the figure: the restore is timed from its own start.
func (c *CRIU) RestoreLazyPages(ctx context.Context, imgDir, logPrefix string) (int, *Op, error) {
	work, err := c.workDir(logPrefix)
	if err != nil {
		return 0, nil, fmt.Errorf("criu lazy-pages: %w", err)
	}
	c.stopLazyPages()
	c.lazy = exec.Command(c.Path, "lazy-pages", "-D", imgDir, "-W", work, "-o", "lazy-pages.log", "-v1")
	if err := c.lazy.Start(); err != nil {
		c.lazy = nil
		return 0, nil, fmt.Errorf("criu lazy-pages: %w", err)
	}
	// restore --lazy-pages connects to the daemon's socket in the work
	// directory: wait for it (a hang guard; not measured).
	sock := filepath.Join(work, "lazy-pages.socket")
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(2 * time.Millisecond) {
		if _, err := os.Stat(sock); err == nil {
			break
		}
		if time.Now().After(deadline) {
			return 0, nil, fmt.Errorf("criu lazy-pages: no %s after 30s; log ends %q", sock, logTail(work, "lazy-pages.log"))
		}
	}
	return c.restore(ctx, imgDir, logPrefix, work, "--lazy-pages")
}

// stopLazyPages kills the lazy-pages daemon if it is still there (it
// exits by itself once every page is delivered).
func (c *CRIU) stopLazyPages() {
	if c.lazy == nil {
		return
	}
	_ = c.lazy.Process.Kill()
	_ = c.lazy.Wait()
	c.lazy = nil
}

func (c *CRIU) restore(ctx context.Context, imgDir, logPrefix, work string, extra ...string) (int, *Op, error) {
	pidFile := filepath.Join(work, "pid")
	argv := []string{c.Path, "restore", "-D", imgDir, "-W", work, "-o", "restore.log", "-v1", "-d", "--pidfile", pidFile}
	argv = append(argv, extra...)
	r, err := c.run(ctx, logPrefix, c.Guard, argv)
	if err != nil {
		return 0, nil, fmt.Errorf("criu restore: %w; log ends %q", err, logTail(work, "restore.log"))
	}
	op := newOp(r)
	if b, err := os.ReadFile(filepath.Join(work, "stats-restore")); err == nil {
		if st, err := ParseCRIURestoreStats(b); err == nil {
			op.Internal["restore_ns"] = st.Restore.Nanoseconds()
			op.Internal["forking_ns"] = st.Forking.Nanoseconds()
			op.Internal["pages"] = int64(st.PagesRestored)
		}
	}
	pid, err := readPidFile(pidFile)
	if err != nil {
		return 0, op, fmt.Errorf("criu restore: %w", err)
	}
	return pid, op, nil
}

func logTail(dir, name string) string {
	b, _ := os.ReadFile(filepath.Join(dir, name))
	return tail(b, 600)
}
