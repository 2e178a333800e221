package checkpoint

import (
	"context"
	"errors"
	"io"
	"os"
	"testing"

	"github.com/ckpt/ckpt/checkpoint/image"
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
