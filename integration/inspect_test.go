package integration

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestInspectDiffMemory: `ckpt inspect diff` of two checkpoints of a
// running counter (its count in memory moves on between them) names the
// pages whose content differs, per mapping, with their address ranges; a
// checkpoint compared with itself shows no memory difference.
func TestInspectDiffMemory(t *testing.T) {
	tp, counter := startCounter(t)
	a, b := filepath.Join(tp.dir, "a"), filepath.Join(tp.dir, "b")
	checkpoint(t, tp.pid, a, true)
	waitGrowth(t, counter, lines(counter))
	checkpoint(t, tp.pid, b, true)
	out, stderr, err := runCkpt("inspect", "diff", a, b)
	if err != nil {
		t.Fatalf("ckpt inspect diff: %v\n%s", err, stderr)
	}
	re := regexp.MustCompile(fmt.Sprintf(`(?m)^~ task %d memory 0x[0-9a-f]+-0x[0-9a-f]+ .*: [0-9]+ (pages differ|page differs) \(0x[0-9a-f]+-0x[0-9a-f]+`, tp.pid))
	if !re.MatchString(out) {
		t.Errorf("ckpt inspect diff of two checkpoints of a counting process shows no page that differs:\n%s", out)
	}
	out, stderr, err = runCkpt("inspect", "diff", a, a)
	if err != nil {
		t.Fatalf("ckpt inspect diff: %v\n%s", err, stderr)
	}
	if strings.Contains(out, " memory ") {
		t.Errorf("a checkpoint compared with itself shows memory differences:\n%s", out)
	}
}
