package bench

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func testLauncher(t *testing.T) *launcher {
	t.Helper()
	l := &launcher{}
	if err := l.prepare(testBin(t)); err != nil {
		t.Fatal(err)
	}
	return l
}

// The tool's peak RSS must be its own, not the size of the process that
// started it (see runwait.c).
func TestLauncherMeasuresTheToolAlone(t *testing.T) {
	l := testLauncher(t)
	ballast := make([]byte, 256<<20)
	for i := range ballast {
		ballast[i] = 1
	}
	r, err := l.run(context.Background(), filepath.Join(t.TempDir(), "true"), time.Minute, []string{"true"})
	if err != nil {
		t.Fatal(err)
	}
	if r.MaxRSSKiB <= 0 || r.MaxRSSKiB > 64<<10 {
		t.Errorf("true's peak RSS = %d KiB; the bench holds 256 MiB, true needs a few", r.MaxRSSKiB)
	}
	if r.Wall <= 0 || r.MinFlt <= 0 {
		t.Errorf("wall %v, minor faults %d: not measured", r.Wall, r.MinFlt)
	}
	ballast[0] = 2 // keep the ballast alive past the run
}

func TestLauncherReportsFailure(t *testing.T) {
	l := testLauncher(t)
	prefix := filepath.Join(t.TempDir(), "fail")
	r, err := l.run(context.Background(), prefix, time.Minute, []string{"sh", "-c", "echo oops >&2; exit 3"})
	if err == nil || !strings.Contains(err.Error(), "exit status 3") || !strings.Contains(err.Error(), "oops") {
		t.Errorf("error %v, want exit status 3 and the tool's stderr", err)
	}
	if r.Wall <= 0 {
		t.Error("a failed run still has its wall time")
	}
}

func TestLauncherHangGuard(t *testing.T) {
	l := testLauncher(t)
	_, err := l.run(context.Background(), filepath.Join(t.TempDir(), "hang"), 200*time.Millisecond,
		[]string{"sleep", "600"})
	if err == nil || !strings.Contains(err.Error(), "hang guard") {
		t.Errorf("error %v, want the hang guard to stop it", err)
	}
}
