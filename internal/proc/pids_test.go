package proc

import (
	"os"
	"slices"
	"testing"
)

func TestPids(t *testing.T) {
	pids, err := Pids()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(pids, os.Getpid()) {
		t.Errorf("Pids() does not list this process (%d): %v", os.Getpid(), pids)
	}
	if !slices.IsSorted(pids) {
		t.Errorf("Pids() is not sorted: %v", pids)
	}
	for _, p := range pids {
		if p <= 0 {
			t.Errorf("Pids() lists %d", p)
		}
	}
}
