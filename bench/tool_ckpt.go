package bench

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Ckpt runs bin/ckpt. With -v it logs its own figures on stderr:
// msg="checkpoint done" ... freeze=... total=... and msg="restore done" ...
// elapsed=...
type Ckpt struct {
	launcher
	Path  string        // bin/ckpt in a checkout
	Guard time.Duration // hang guard per operation
	// copy is the binary actually run, and hash the start of its SHA-256.
	copy, hash string
	// pageServer is the `ckpt page-server` of RestoreLazyRemote.
	pageServer *exec.Cmd
}

func (c *Ckpt) Name() string { return "ckpt" }

// prepare copies the binary into the bench's own directory and runs that
// copy: bin/ckpt is rebuilt by anyone who runs make, and a bench that picked
// up a new binary halfway would mix two versions in one table.
func (c *Ckpt) prepare(binDir string) error {
	if err := c.launcher.prepare(binDir); err != nil {
		return err
	}
	b, err := os.ReadFile(c.Path)
	if err != nil {
		return fmt.Errorf("ckpt binary: %w", err)
	}
	c.copy = filepath.Join(binDir, "ckpt-under-test")
	if err := os.WriteFile(c.copy, b, 0o755); err != nil {
		return fmt.Errorf("ckpt binary: %w", err)
	}
	sum := sha256.Sum256(b)
	c.hash = hex.EncodeToString(sum[:6])
	return nil
}

// Version is the checkout's git description and the binary's hash. The
// description is read when the bench starts, the binary copied then too.
func (c *Ckpt) Version() string {
	v := "unknown"
	dir := filepath.Dir(filepath.Dir(c.Path))
	if out, err := exec.Command("git", "-C", dir, "describe", "--always", "--dirty").Output(); err == nil {
		v = strings.TrimSpace(string(out))
	}
	if c.hash != "" {
		v += " (binary sha256 " + c.hash + "…)"
	}
	return v
}

func (c *Ckpt) Commands() []string {
	return []string{
		"ckpt -v checkpoint --pid PID --image DIR/image.ckpt [--leave-running]",
		"ckpt -v restore --image DIR/image.ckpt --detach --pid-file FILE",
		"ckpt -v checkpoint --pid PID --image PRE/image.ckpt --pre-dump; ckpt -v checkpoint --pid PID --image DIR/image.ckpt --parent-path PRE (dirty workloads)",
		"ckpt -v restore --image DIR/image.ckpt --detach --pid-file FILE [--lazy --lazy-log FILE]",
		"ckpt page-server --image DIR/image.ckpt --address 127.0.0.1:PORT & ckpt -v restore --image DIR/image.ckpt --detach --pid-file FILE --lazy --lazy-log FILE --page-server 127.0.0.1:PORT (servers ending -lazy)",
	}
}

func (c *Ckpt) Checkpoint(ctx context.Context, pid int, imgDir, logPrefix string, leaveRunning bool) (*Op, error) {
	argv := []string{c.copy, "-v", "checkpoint", "--pid", strconv.Itoa(pid), "--image", filepath.Join(imgDir, "image.ckpt")}
	if leaveRunning {
		argv = append(argv, "--leave-running")
	}
	r, err := c.run(ctx, logPrefix, c.Guard, argv)
	if err != nil {
		return nil, fmt.Errorf("ckpt checkpoint of pid %d: %w", pid, err)
	}
	op := newOp(r)
	f, err := LogFields(r.Stderr, "checkpoint done")
	if err != nil {
		return nil, fmt.Errorf("ckpt checkpoint of pid %d: %w", pid, err)
	}
	freeze, err := DurationField(f, "freeze")
	if err != nil {
		return nil, fmt.Errorf("ckpt checkpoint of pid %d: %w", pid, err)
	}
	op.FreezeNs = freeze.Nanoseconds()
	if total, err := DurationField(f, "total"); err == nil {
		op.Internal["total_ns"] = total.Nanoseconds()
	}
	if pages, err := strconv.ParseInt(f["pages"], 10, 64); err == nil {
		op.Internal["pages"] = pages
	}
	return op, nil
}

func (c *Ckpt) Restore(ctx context.Context, imgDir, logPrefix string) (int, *Op, error) {
	return c.restore(ctx, imgDir, logPrefix)
}

// RestoreLazy restores with --lazy: it returns once the process runs, its
// memory still arriving from the page server (whose log is logPrefix.lazy.log).
func (c *Ckpt) RestoreLazy(ctx context.Context, imgDir, logPrefix string) (int, *Op, error) {
	return c.restore(ctx, imgDir, logPrefix, "--lazy", "--lazy-log", logPrefix+".lazy.log")
}

// RestoreLazyRemote restores with --lazy and the pages from a `ckpt
// page-server` it starts on the image, on a free loopback TCP port: the
// server's start is not in the figure. stopPageServer ends it.
func (c *Ckpt) RestoreLazyRemote(ctx context.Context, imgDir, logPrefix string) (int, *Op, error) {
	c.stopPageServer()
	port, err := freePort()
	if err != nil {
		return 0, nil, fmt.Errorf("ckpt page-server: %w", err)
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	log, err := os.Create(logPrefix + ".page-server.log")
	if err != nil {
		return 0, nil, err
	}
	defer log.Close()
	cmd := exec.Command(c.copy, "page-server", "--image", filepath.Join(imgDir, "image.ckpt"), "--address", addr)
	cmd.Stderr = log
	out, err := cmd.StdoutPipe()
	if err != nil {
		return 0, nil, err
	}
	if err := cmd.Start(); err != nil {
		return 0, nil, fmt.Errorf("ckpt page-server: %w", err)
	}
	c.pageServer = cmd
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "listening on ") {
		c.stopPageServer()
		if err == nil {
			err = errors.New("no listening line")
		}
		return 0, nil, fmt.Errorf("ckpt page-server did not start: %q: %w", line, err)
	}
	return c.restore(ctx, imgDir, logPrefix, "--lazy", "--lazy-log", logPrefix+".lazy.log", "--page-server", addr)
}

// stopPageServer ends the page-server of the last RestoreLazyRemote.
func (c *Ckpt) stopPageServer() {
	if c.pageServer == nil {
		return
	}
	_ = c.pageServer.Process.Kill()
	_ = c.pageServer.Wait()
	c.pageServer = nil
}

func (c *Ckpt) restore(ctx context.Context, imgDir, logPrefix string, extra ...string) (int, *Op, error) {
	pidFile := logPrefix + ".pid"
	argv := []string{c.copy, "-v", "restore", "--image", filepath.Join(imgDir, "image.ckpt"),
		"--detach", "--pid-file", pidFile}
	argv = append(argv, extra...)
	r, err := c.run(ctx, logPrefix, c.Guard, argv)
	if err != nil {
		return 0, nil, fmt.Errorf("ckpt restore: %w", err)
	}
	op := newOp(r)
	if f, err := LogFields(r.Stderr, "restore done"); err == nil {
		if d, err := DurationField(f, "elapsed"); err == nil {
			op.Internal["elapsed_ns"] = d.Nanoseconds()
		}
		if pages, err := strconv.ParseInt(f["pages"], 10, 64); err == nil {
			op.Internal["pages"] = pages
		}
	}
	pid, err := readPidFile(pidFile)
	if err != nil {
		return 0, op, fmt.Errorf("ckpt restore: %w", err)
	}
	return pid, op, nil
}
