package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// runCkpt runs bin/ckpt with args and returns its stdout, stderr and error
// (an *exec.ExitError for a non-zero exit).
func runCkpt(args ...string) (string, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), ckptTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, ckptBin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		err = fmt.Errorf("ckpt %s: no answer within %v: %w", strings.Join(args, " "), ckptTimeout, err)
	}
	return stdout.String(), stderr.String(), err
}

// checkpoint runs `ckpt checkpoint` into imgDir and fails the test if it
// does not succeed.
func checkpoint(t *testing.T, pid int, imgDir string, leaveRunning bool) {
	t.Helper()
	if _, stderr, err := tryCheckpoint(pid, imgDir, leaveRunning); err != nil {
		t.Fatalf("ckpt checkpoint --pid %d: %v\n%s", pid, err, stderr)
	}
}

func tryCheckpoint(pid int, imgDir string, leaveRunning bool, extra ...string) (string, string, error) {
	args := append([]string{"checkpoint", "--pid", strconv.Itoa(pid), "--image-path", imgDir}, extra...)
	if leaveRunning {
		args = append(args, "--leave-running")
	}
	return runCkpt(args...)
}

// restoreDetached runs `ckpt restore --detach` from imgDir and returns the
// pid it wrote to its pid file.
func restoreDetached(t *testing.T, imgDir, pidFile string, extra ...string) int {
	t.Helper()
	_, stderr, err := runCkpt(append([]string{"restore", "--image-path", imgDir, "--detach", "--pid-file", pidFile}, extra...)...)
	if err != nil {
		t.Fatalf("ckpt restore --image-path %s: %v\n%s", imgDir, err, stderr)
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatalf("ckpt restore --detach wrote no pid file: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatalf("ckpt restore pid file %s: %v", pidFile, err)
	}
	return pid
}

// record is one record of `ckpt inspect --json`.
type record struct {
	Offset int64                      `json:"offset"`
	Type   string                     `json:"type"`
	Len    int64                      `json:"len"`
	Fields map[string]json.RawMessage `json:"fields"`
}

// uint returns a numeric field (0 if absent).
func (r record) uint(name string) uint64 {
	var v uint64
	json.Unmarshal(r.Fields[name], &v)
	return v
}

func (r record) str(name string) string {
	var s string
	json.Unmarshal(r.Fields[name], &s)
	return s
}

// inspect runs `ckpt inspect --json` on an image and returns its records.
func inspect(image string) ([]record, string, error) {
	// Flag first: urfave/cli stops parsing flags at the first argument.
	// TestCheckpointKills checks the contract's order (IMAGE --json) too.
	stdout, stderr, err := runCkpt("inspect", "--json", image)
	if err != nil {
		return nil, stderr, err
	}
	var doc struct {
		Records []record `json:"records"`
	}
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		return nil, stderr, fmt.Errorf("ckpt inspect --json output: %w", err)
	}
	return doc.Records, stderr, nil
}

func ofType(recs []record, typ string) []record {
	var out []record
	for _, r := range recs {
		if r.Type == typ {
			out = append(out, r)
		}
	}
	return out
}

// jsonField decodes one field of a record into v.
func jsonField(r record, name string, v any) error {
	raw, ok := r.Fields[name]
	if !ok {
		return fmt.Errorf("%s record has no field %s", r.Type, name)
	}
	return json.Unmarshal(raw, v)
}
