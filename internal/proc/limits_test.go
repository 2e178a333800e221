package proc

import (
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

func TestLimitsMatchGetrlimit(t *testing.T) {
	got, err := Limits(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 16 {
		t.Fatalf("got %d limits, want 16 (RLIM_NLIMITS)", len(got))
	}
	for res := range got {
		var want unix.Rlimit
		if err := unix.Getrlimit(res, &want); err != nil {
			t.Fatal(err)
		}
		if got[res].Cur != want.Cur || got[res].Max != want.Max {
			t.Errorf("resource %d: /proc says %+v, getrlimit says %+v", res, got[res], want)
		}
	}
}
