package checkpoint

import "testing"

// TestFaultPhasesUnique: every phase names one point, so CKPT_FAULT stops
// at exactly one.
func TestFaultPhasesUnique(t *testing.T) {
	seen := map[string]bool{}
	for _, p := range FaultPhases() {
		if seen[p] {
			t.Errorf("phase %q twice", p)
		}
		seen[p] = true
	}
	for _, p := range []string{faultFrozen, faultTcpRepair, "checkpoint/seize", "checkpoint/kill"} {
		if !seen[p] {
			t.Errorf("phase %q not listed", p)
		}
	}
}
