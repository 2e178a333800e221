package checkpoint

import (
	"context"
	"errors"
	"io"
	"os"
	"testing"

	"github.com/ckpt/ckpt/image"
	"github.com/ckpt/ckpt/internal/lockfile"
)

// TestTreeBusy: while a checkpoint holds a process tree's lock, another
// checkpoint of that tree fails at once, busy, before it seizes anything.
func TestTreeBusy(t *testing.T) {
	lockfile.Dir = t.TempDir()
	lk, err := lockTree(os.Getpid())
	if err != nil || lk == nil {
		t.Fatalf("lockTree: %v %v", lk, err)
	}
	defer lk.Release()
	_, err = Dump(context.Background(), os.Getpid(), io.Discard, Options{})
	if !errors.Is(err, image.ErrBusy) {
		t.Fatalf("Dump of a locked tree: %v, want %v", err, image.ErrBusy)
	}
}

// TestDumpCancelled: a checkpoint whose context is already cancelled stops
// before it touches the process: the tree is neither locked nor seized.
func TestDumpCancelled(t *testing.T) {
	lockfile.Dir = t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Dump(ctx, os.Getpid(), io.Discard, Options{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Dump with a cancelled context: %v, want %v", err, context.Canceled)
	}
	lk, err := lockTree(os.Getpid())
	if err != nil || lk == nil {
		t.Fatalf("the tree stayed locked after a cancelled Dump: %v", err)
	}
	lk.Release()
}
