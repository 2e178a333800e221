package lockfile

import (
	"errors"
	"testing"
)

// TestBusy: a held lock refuses a second taker at once, and is free again
// once released.
func TestBusy(t *testing.T) {
	Dir = t.TempDir()
	a, err := Acquire("x", "thing x")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Acquire("x", "thing x"); !errors.Is(err, ErrBusy) {
		t.Fatalf("second Acquire: %v, want %v", err, ErrBusy)
	}
	a.Release()
	b, err := Acquire("x", "thing x")
	if err != nil {
		t.Fatalf("after Release: %v", err)
	}
	b.Release()
	if _, err := Acquire("../x", "bad"); err == nil {
		t.Fatal("a lock name with a slash was taken")
	}
}
